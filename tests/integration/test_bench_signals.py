"""`condauv bench` interrupted while a child is running (real rattler, uv and pip, offline):
``kill -INT`` to bench alone (the children do not get it, as they do from a terminal) and
SIGTERM. Each time: the children and theirs are gone, no scratch folder is left in condauv's
cache, the report says ``interrupted``, the project is untouched."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from condauv.__main__ import main
from tests.clirunner import chdir
from tests.integration.test_bench import _cache_tmp, _manifest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, conda_channel: Path, wheelhouse: Path) -> Path:
    folder = _manifest(tmp_path_factory.mktemp("bench-signals") / "proj", conda_channel, wheelhouse)
    with chdir(folder):
        assert main(["lock", "-q"]) == 0
    return folder


def _processes_using(path: Path) -> list[str]:
    """Command lines of the running processes that name ``path`` (zombies have none)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(path) in text:
            found.append(text)
    return found


def _interrupt_at(project: Path, output: Path, marker: str, sig: signal.Signals) -> tuple[int, str, Path]:
    """Start a cold one-run bench, send ``sig`` to bench alone once ``marker``'s step is under
    way (its child running), and return its exit code, stderr and scratch folder."""
    before = {p.name: p.read_bytes() for p in project.glob("condauv.*")}
    process = subprocess.Popen(
        [sys.executable, "-m", "condauv", "bench", "--runs", "1", "--cold", "--output", str(output)],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    seen = ""
    deadline = time.monotonic() + 120
    while marker not in seen and time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        seen += line
    assert marker in seen, seen
    time.sleep(0.3)  # the step's command is running
    (scratch,) = _cache_tmp().glob(f"*-{process.pid}/bench-*")
    process.send_signal(sig)
    _, rest = process.communicate(timeout=120)
    time.sleep(0.5)  # a grandchild killed with its group is gone by now
    assert {p.name: p.read_bytes() for p in project.glob("condauv.*")} == before
    return process.returncode, seen + rest, scratch


@pytest.mark.parametrize("marker", ["pip vs uv: pip (cold", "hybrid: cold install"])
def test_sigint_to_bench_alone_stops_its_children_and_cleans_up(
    project: Path, tmp_path: Path, marker: str
) -> None:
    """Seen: pip (``python -m pip --python`` runs a second interpreter) kept writing into the
    scratch folder after bench gave up on it: `OSError: Directory not empty`, exit 1, the
    scratch folder left behind and no report."""
    output = tmp_path / "out"
    code, stderr, scratch = _interrupt_at(project, output, marker, signal.SIGINT)
    assert code == 130, stderr
    assert "Traceback" not in stderr and "unexpected" not in stderr, stderr
    assert not scratch.exists()
    assert _processes_using(scratch) == []
    assert json.loads((output / "report.json").read_text(encoding="utf-8"))["interrupted"] is True


def test_sigterm_cleans_up_like_ctrl_c(project: Path, tmp_path: Path) -> None:
    """Seen: SIGTERM killed bench at once (-15): its child sync and its scratch folder stayed."""
    output = tmp_path / "out"
    code, stderr, scratch = _interrupt_at(project, output, "hybrid: cold install", signal.SIGTERM)
    assert code == 128 + signal.SIGTERM, stderr
    assert not scratch.exists()
    assert _processes_using(scratch) == []
    report = json.loads((output / "report.json").read_text(encoding="utf-8"))
    assert report["interrupted"] is True
    assert not list(output.glob(".*.tmp"))
