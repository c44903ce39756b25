"""Interrupted work: a sync killed part-way is finished by the next plain `condauv sync`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from condauv import paths
from condauv.sync import journal
from tests.clirunner import CLI
from tests.helpers.wheels import write_wheel
from tests.integration.conftest import MakeProject

pytestmark = pytest.mark.slow

ENV = Path(".condauv") / "env"
#: a distribution of many files, so that a kill can land while uv installs it
MANY = 3000


def _site(folder: Path) -> Path:
    return next((folder / ENV / "lib").glob("python3.*/site-packages"))


def _with_wheels(make_project: MakeProject, tmp_path: Path, files: int) -> Path:
    """A project whose find-links also hold ``manyfiles`` 1.0 with ``files`` modules."""
    wheels = tmp_path / "more-wheels"
    write_wheel(
        wheels,
        "manyfiles",
        "1.0",
        files={f"manyfiles/part{i:04d}.py": f"VALUE = {i}\n".encode() for i in range(files)},
    )
    folder = make_project()
    manifest = folder / "condauv.toml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace('find-links = ["', f'find-links = ["{wheels}", "'), encoding="utf-8")
    return folder


def _parts(folder: Path) -> list[Path]:
    return sorted((_site(folder) / "manyfiles").glob("part*.py"))


def test_sync_finishes_a_pypi_install_the_journal_names(
    cli: CLI, make_project: MakeProject, tmp_path: Path
) -> None:
    folder = _with_wheels(make_project, tmp_path, 40)
    assert cli("add", "--pypi", "manyfiles", cwd=folder).exit_code == 0
    parts = _parts(folder)
    assert len(parts) == 40
    # what a sync killed while uv installed leaves: the dist-info, half of the files, the journal
    journal.begin(folder / ENV, conda=[], pypi=["manyfiles"])
    for part in parts[::2]:
        part.unlink()
    result = cli("sync", cwd=folder)
    assert result.exit_code == 0, result.stderr
    assert "in sync" not in result.stderr
    assert len(_parts(folder)) == 40
    assert journal.pending(folder / ENV) is None
    assert cli("check", cwd=folder).exit_code == 0


def test_sync_relinks_a_conda_package_the_journal_names(cli: CLI, make_project: MakeProject) -> None:
    folder = make_project()
    assert cli("add", "--conda", "six", cwd=folder).exit_code == 0
    six = _site(folder) / "six" / "__init__.py"
    assert six.is_file()
    journal.begin(folder / ENV, conda=["six"], pypi=[])
    six.unlink()
    result = cli("sync", cwd=folder)
    assert result.exit_code == 0, result.stderr
    assert six.is_file()
    assert journal.pending(folder / ENV) is None


def test_a_garbled_journal_still_makes_sync_verify(
    cli: CLI, make_project: MakeProject, tmp_path: Path
) -> None:
    folder = _with_wheels(make_project, tmp_path, 10)
    assert cli("add", "--pypi", "manyfiles", cwd=folder).exit_code == 0
    (folder / ENV / "conda-meta" / journal.JOURNAL).write_bytes(b'{"schema": 1, "pid"')  # cut short
    _parts(folder)[0].unlink()
    assert cli("sync", cwd=folder).exit_code == 0
    assert len(_parts(folder)) == 10


def _kill_while_uv_installs(folder: Path, how: signal.Signals = signal.SIGKILL) -> tuple[int, int, str]:
    """Start `condauv sync`, send ``how`` to its process group (condauv and the uv it runs; a
    terminal's Ctrl-C is SIGINT to the group) once some but not all of manyfiles' files are in
    place; how many were, the sync's exit status, and what it said on stderr."""
    process = subprocess.Popen(
        [sys.executable, "-m", "condauv", "sync"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and process.poll() is None:
            target = list((folder / ENV / "lib").glob("python3.*/site-packages/manyfiles"))
            if target:
                count = sum(1 for _ in os.scandir(target[0]))
                if 0 < count < MANY:
                    os.killpg(process.pid, how)
                    stderr = process.communicate(timeout=60)[1]
                    return count, process.returncode, stderr
            time.sleep(0.001)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    pytest.fail("the sync ended before the signal could land in uv's install")


def test_sigkill_during_uv_install_is_recovered_by_plain_sync(
    cli: CLI, make_project: MakeProject, tmp_path: Path
) -> None:
    folder = _with_wheels(make_project, tmp_path, MANY)
    assert cli("add", "--pypi", "manyfiles", "--no-sync", cwd=folder).exit_code == 0
    installed, _, _ = _kill_while_uv_installs(folder)
    assert 0 < installed < MANY
    assert journal.pending(folder / ENV) is not None
    result = cli("sync", cwd=folder)
    assert result.exit_code == 0, result.stderr
    assert len(_parts(folder)) == MANY
    assert cli("check", cwd=folder).exit_code == 0
    assert journal.pending(folder / ENV) is None
    # the killed process's temp folders are gone, and no condauv temp folder is left in /tmp
    leftovers = [p.name for p in (paths.cache_dir() / "tmp").glob("*") if any(p.iterdir())]
    assert leftovers == []


def test_ctrl_c_while_uv_installs_beside_rattler_is_one_line_and_recovered(
    cli: CLI, make_project: MakeProject, tmp_path: Path
) -> None:
    """A new prefix links python first, then uv installs beside rattler (condauv.sync.overlap):
    Ctrl-C there (SIGINT to the process group, as a terminal sends it) ends both with
    ``error: interrupted`` and 130, no traceback; a plain sync finishes the work."""
    folder = _with_wheels(make_project, tmp_path, MANY)
    assert cli("add", "six", "--no-sync", cwd=folder).exit_code == 0  # conda, beside python
    assert cli("add", "--pypi", "manyfiles", "--no-sync", cwd=folder).exit_code == 0
    _, code, stderr = _kill_while_uv_installs(folder, signal.SIGINT)
    assert code == 130, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1] == "error: interrupted"
    result = cli("sync", cwd=folder)
    assert result.exit_code == 0, result.stderr
    assert len(_parts(folder)) == MANY
    assert cli("check", cwd=folder).exit_code == 0
    assert journal.pending(folder / ENV) is None


def test_check_reports_a_lock_older_than_the_manifest(cli: CLI, make_project: MakeProject) -> None:
    folder = make_project()
    assert cli("add", "--pypi", "six", cwd=folder).exit_code == 0
    manifest = folder / "condauv.toml"
    # a kill between the manifest edit and the lock write leaves this
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('six = "*"', 'six = "==1.16.0"'))
    result = cli("check", "--json", cwd=folder)
    assert result.exit_code == 1
    assert '"stale-lock"' in result.stdout
    assert cli("sync", cwd=folder).exit_code == 0
    assert cli("check", cwd=folder).exit_code == 0


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``root`` (``root`` too) with its mtime and inode: a write shows."""
    return {
        str(p.relative_to(root)): (p.lstat().st_mtime_ns, p.lstat().st_ino) for p in (root, *root.rglob("*"))
    }


def test_a_no_op_sync_writes_nothing_into_the_prefix(cli: CLI, make_project: MakeProject) -> None:
    folder = make_project()
    assert cli("add", "six", cwd=folder).exit_code == 0
    meta = folder / ENV / "conda-meta"
    before = _tree(meta)
    result = cli("sync", cwd=folder)
    assert result.exit_code == 0, result.stderr
    assert "in sync" in result.stderr
    assert _tree(meta) == before  # no journal written and removed, no copy rewritten
    assert journal.pending(folder / ENV) is None
