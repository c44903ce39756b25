"""`condauv bench` end to end: real rattler, uv and pip, offline (the session's local channel,
the wheelhouse, numpy's wheel for uv-only), one warm run, shared by the tests of this module."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from condauv.__main__ import main
from tests.clirunner import CLI, chdir
from tests.conftest import numpy_wheel

pytestmark = pytest.mark.slow


def _manifest(folder: Path, channel: Path, wheelhouse: Path) -> Path:
    folder.mkdir(parents=True)
    with chdir(folder):
        assert main(["init", "--channel", channel.as_uri(), "-q"]) == 0
    manifest = folder / "condauv.toml"
    text = manifest.read_text(encoding="utf-8")
    text = text.replace("[pypi-dependencies]", '[pypi-dependencies]\nclick = "*"\ntqdm = "*"')
    text = text.replace("[dependencies]", '[dependencies]\nnumpy = "*"')
    links = json.dumps([str(wheelhouse), str(numpy_wheel().parent)])  # uv-only's numpy: its wheel
    manifest.write_text(text + f"\n[pypi-options]\nfind-links = {links}\nno-index = true\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, conda_channel: Path, wheelhouse: Path) -> Path:
    return _manifest(tmp_path_factory.mktemp("bench") / "proj", conda_channel, wheelhouse)


def _project_files(folder: Path) -> dict[str, int]:
    return {
        str(p.relative_to(folder)): p.stat().st_mtime_ns
        for p in folder.rglob("*")
        if p.is_file() and ".condauv" not in p.parts
    }


@pytest.fixture(scope="module")
def bench(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[dict[str, Any], Path, str]]:
    """One `condauv bench --runs 1 --warm --json --output DIR` on the project."""
    output = tmp_path_factory.mktemp("report") / "out"
    with chdir(project):
        assert main(["lock", "-q"]) == 0
    before = _project_files(project)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "condauv",
            "bench",
            "--runs",
            "1",
            "--warm",
            "--json",
            "--output",
            str(output),
        ],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert _project_files(project) == before  # the project's manifest and lock only read
    yield json.loads(result.stdout), output, result.stderr


def _cache_tmp() -> Path:
    return Path(os.environ["CONDAUV_CACHE_DIR"]) / "tmp"


def test_bench_times_all_three_strategies(bench: tuple[dict[str, Any], Path, str]) -> None:
    report, _, _ = bench
    assert report["runs"] == 1 and report["caches"] == ["warm"] and not report["interrupted"]
    strategies = {s["name"]: s for s in report["strategies"]}
    assert set(strategies) == {"conda-only", "uv-only", "hybrid"}
    for name, strategy in strategies.items():
        assert strategy["error"] is None, (name, strategy["error"])
        assert len(strategy["install"]["warm"]["samples_s"]) == 1, name
        assert strategy["footprint"]["disk_bytes"] > 0, name
    hybrid, conda, uv = strategies["hybrid"], strategies["conda-only"], strategies["uv-only"]
    assert {"python", "numpy", "click", "tqdm"} <= hybrid["packages"].keys()
    # conda-only: numpy from the channel, at the hybrid lock's version; the rest listed, not dropped
    assert conda["packages"]["numpy"] == hybrid["packages"]["numpy"]
    assert {u["name"]: u["reason"] for u in conda["unavailable"]} == {
        "click": "no channel of the manifest holds it",
        "tqdm": "no channel of the manifest holds it",
    }
    assert conda["lock_s"] > 0 and "py-rattler" in conda["engine"]
    # uv-only: everything from PyPI's spelling, numpy from its wheel at the same version
    assert uv["packages"] == {"numpy": hybrid["packages"]["numpy"], "click": "8.1.7", "tqdm": "4.66.5"}
    assert uv["unavailable"] == [] and uv["lock_s"] > 0
    assert {i["distribution"] for i in uv["imports"]} == {"numpy", "click", "tqdm"}
    assert all(i["error"] is None for s in strategies.values() for i in s["imports"])
    assert any("wrote nothing in the project" in note for note in report["notes"])


def test_bench_compares_pip_with_uv(bench: tuple[dict[str, Any], Path, str]) -> None:
    report, _, _ = bench
    entries = {(p["mode"], p["cache"]): p for p in report["pip_vs_uv"]}
    assert set(entries) == {("defaults", "warm"), ("bytecode", "warm")}
    for entry in entries.values():
        assert entry["error"] is None, entry["error"]
        assert entry["distributions"] == 2
        assert entry["ratio"] > 0 and entry["pip_version"]
    assert report["machine"]["versions"]["pip"] == entries["defaults", "warm"]["pip_version"]


def test_bench_writes_its_report_folder_and_leaves_no_scratch(
    bench: tuple[dict[str, Any], Path, str],
) -> None:
    report, output, stderr = bench
    names = {p.name for p in output.iterdir()}
    assert {"report.md", "report.json"} <= names
    assert any(name.endswith(".png") for name in names), names
    assert (
        json.loads((output / "report.json").read_text(encoding="utf-8"))["strategies"] == report["strategies"]
    )
    assert not list(_cache_tmp().glob("*/bench-*"))
    assert "Traceback" not in stderr


def test_ctrl_c_leaves_no_scratch_folder_and_exits_130(project: Path, tmp_path: Path) -> None:
    output = tmp_path / "partial"
    process = subprocess.Popen(
        [sys.executable, "-m", "condauv", "bench", "--runs", "1", "--warm", "--output", str(output)],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    seen = ""
    deadline = time.monotonic() + 120
    while "[2/" not in seen and time.monotonic() < deadline:  # the first step is under way
        line = process.stderr.readline()
        if not line:
            break
        seen += line
    assert "[2/" in seen, seen
    scratch = list(_cache_tmp().glob(f"*-{process.pid}/bench-*"))
    assert scratch, "the bench's scratch folder is under condauv's cache"
    process.send_signal(signal.SIGINT)
    _, rest = process.communicate(timeout=120)
    assert process.returncode == 130, seen + rest
    assert "interrupted" in rest
    assert not any(p.exists() for p in scratch)
    assert json.loads((output / "report.json").read_text(encoding="utf-8"))["interrupted"] is True


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--runs", "0"], "out of range"),
        (["--runs", "x"], "not a whole number"),
        (["--strategies", "hybrid,conda"], "unknown strategy 'conda'"),
        (["--cold", "--warm"], "not allowed with"),
    ],
)
def test_bad_flags_exit_2_and_write_nothing(
    cli: CLI, project: Path, tmp_path: Path, flags: list[str], message: str
) -> None:
    before = _project_files(project)
    result = cli("bench", *flags, "--output", tmp_path / "out", cwd=project)
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr and "hint:" in result.stderr
    assert not (tmp_path / "out").exists()
    assert _project_files(project) == before


def test_output_pointing_at_a_file_is_refused(cli: CLI, project: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    target.write_text("mine\n", encoding="utf-8")
    result = cli("bench", "--runs", "1", "--output", target, cwd=project)
    assert result.exit_code == 2
    assert "is not a folder" in result.stderr and "hint:" in result.stderr
    assert target.read_text(encoding="utf-8") == "mine\n"


_NUM = (int, float)
#: every field docs/bench.md lists, with its type (a tuple: any of them; None: may be null)
_DOC_TOP = {
    "schema": int,
    "machine": dict,
    "project": str,
    "runs": int,
    "caches": list,
    "interrupted": bool,
    "strategies": list,
    "pip_vs_uv": list,
    "notes": list,
}
_DOC_MACHINE = {"platform": str, "cpus": int, "python": str, "versions": dict, "when": str}
_DOC_STRATEGY = {
    "name": str,
    "engine": str,
    "packages": dict,
    "unavailable": list,
    "lock_s": (*_NUM, type(None)),
    "install": dict,
    "footprint": (dict, type(None)),
    "imports": list,
    "functionality": (dict, type(None)),
    "error": (str, type(None)),
}
_DOC_TIMING = {"median_s": _NUM, "min_s": _NUM, "max_s": _NUM, "samples_s": list}
_DOC_FOOTPRINT = {
    "disk_bytes": int,
    "shared_bytes": (int, type(None)),
    "files": int,
    "rss_bytes": (int, type(None)),
    "rss_error": (str, type(None)),
}
_DOC_IMPORT = {
    "distribution": str,
    "modules": list,
    "time": (dict, type(None)),
    "first_s": (*_NUM, type(None)),
    "error": (str, type(None)),
}
_DOC_MATMUL = {
    "size": int,
    "gflops": (*_NUM, type(None)),
    "blas": (str, type(None)),
    "ok": bool,
    "numpy": (str, type(None)),
    "error": (str, type(None)),
}
_DOC_PIP_UV = {
    "mode": str,
    "cache": str,
    "distributions": int,
    "pip": (dict, type(None)),
    "uv": (dict, type(None)),
    "ratio": (*_NUM, type(None)),
    "pip_version": (str, type(None)),
    "error": (str, type(None)),
}


def _has(value: dict[str, Any], fields: dict[str, Any], where: str) -> None:
    for name, kind in fields.items():
        assert name in value, f"{where}.{name} missing"
        assert isinstance(value[name], kind), (where, name, value[name])


def test_json_has_every_field_the_doc_lists(bench: tuple[dict[str, Any], Path, str]) -> None:
    report, _, _ = bench
    _has(report, _DOC_TOP, "report")
    _has(report["machine"], _DOC_MACHINE, "machine")
    assert report["schema"] == 1 and set(report["caches"]) <= {"cold", "warm"}
    for strategy in report["strategies"]:
        _has(strategy, _DOC_STRATEGY, strategy["name"])
        for missing in strategy["unavailable"]:
            _has(missing, {"name": str, "reason": str}, "unavailable")
        for timing in strategy["install"].values():
            _has(timing, _DOC_TIMING, "timing")
        _has(strategy["footprint"], _DOC_FOOTPRINT, "footprint")
        for entry in strategy["imports"]:
            _has(entry, _DOC_IMPORT, "import")
            if entry["time"] is not None:
                _has(entry["time"], _DOC_TIMING, "import.time")
        functionality = strategy["functionality"]
        assert set(functionality) >= {"numpy", "torch"}
        _has(functionality["numpy"], _DOC_MATMUL, "numpy")
    for entry in report["pip_vs_uv"]:
        _has(entry, _DOC_PIP_UV, "pip_vs_uv")
        assert entry["mode"] in {"defaults", "bytecode"}


def _run_bench(project: Path, *flags: str, stderr: Any = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "condauv", "bench", *flags, "--json"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        check=False,
        timeout=600,
    )


@pytest.fixture(scope="module")
def locked(project: Path) -> Path:
    with chdir(project):
        assert main(["lock", "-q"]) == 0
    return project


def test_pip_vs_uv_alone(locked: Path) -> None:
    """Seen: "unexpected ZeroDivisionError: integer modulo by zero" (no install strategy to
    take turns); pip vs uv still needs the untimed hybrid install's interpreter and caches."""
    result = _run_bench(locked, "--runs", "1", "--warm", "--strategies", "pip-vs-uv")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["strategies"] == []
    assert {(p["mode"], p["cache"]) for p in report["pip_vs_uv"]} == {
        ("defaults", "warm"),
        ("bytecode", "warm"),
    }
    for entry in report["pip_vs_uv"]:
        assert entry["error"] is None and entry["ratio"] > 0, entry


def test_two_runs_of_hybrid_alone_cold_and_warm(locked: Path, tmp_path: Path) -> None:
    """Two samples a cache, their median, min and max; the hybrid's lock timed like the
    others'. Seen too: `condauv bench -vv 2> err.txt` in the project reported "changed the
    project: .../err.txt", and printed hundreds of matplotlib font_manager debug lines."""
    err = locked / "err.txt"
    output = tmp_path / "out"
    try:
        with err.open("w", encoding="utf-8") as handle:
            flags = ("-vv", "--runs", "2", "--both", "--strategies", "hybrid", "--output", str(output))
            result = _run_bench(locked, *flags, stderr=handle)
        stderr = err.read_text(encoding="utf-8")
    finally:
        err.unlink(missing_ok=True)
    assert result.returncode == 0, stderr[-4000:]
    report = json.loads(result.stdout)
    (hybrid,) = report["strategies"]
    assert hybrid["name"] == "hybrid" and hybrid["error"] is None
    assert report["caches"] == ["cold", "warm"] and report["pip_vs_uv"] == []
    for cache in ("cold", "warm"):
        timing = hybrid["install"][cache]
        samples = timing["samples_s"]
        assert len(samples) == 2 and all(s > 0 for s in samples)
        assert timing["min_s"] == min(samples) and timing["max_s"] == max(samples)
        assert timing["median_s"] == pytest.approx(sum(samples) / 2, abs=1e-3)
    assert hybrid["lock_s"] is not None and hybrid["lock_s"] > 0
    assert any("wrote nothing in the project" in note for note in report["notes"]), report["notes"]
    assert "font_manager" not in stderr
    assert any(p.suffix == ".png" for p in output.iterdir())


def test_output_with_a_control_character_is_refused(cli: CLI, project: Path, tmp_path: Path) -> None:
    result = cli("bench", "--runs", "1", "--output", tmp_path / "out\nx", cwd=project)
    assert result.exit_code == 2, result.stderr
    assert "control character" in result.stderr and "hint:" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("inside", ["state", "prefix"])
def test_output_inside_the_environment_or_the_state_folder_is_refused(
    cli: CLI, project: Path, tmp_path: Path, inside: str
) -> None:
    before = _project_files(project)
    prefix = tmp_path / "env"
    folder = project / ".condauv" / "report" if inside == "state" else prefix / "report"
    result = cli("bench", "--runs", "1", "--prefix", prefix, "--output", folder, cwd=project)
    assert result.exit_code == 2, result.stderr
    assert "--output" in result.stderr and "hint:" in result.stderr
    assert not folder.exists() and not prefix.exists()
    assert _project_files(project) == before
