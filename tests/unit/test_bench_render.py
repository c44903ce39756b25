"""``condauv bench``'s documents from a report built by hand: the terminal table, report.md,
report.json and the PNG charts, with every measurement present, and with measurements missing."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from condauv.bench.model import (
    BenchReport,
    Footprint,
    Functionality,
    ImportTime,
    Machine,
    Matmul,
    PipUv,
    StrategyResult,
    Timing,
    TorchCheck,
    Unavailable,
)
from condauv.cli.render.bench import pip_uv_rows, table_rows, write_report

MACHINE = Machine(
    platform="linux-64",
    cpus=2,
    python="3.11.2",
    versions={"condauv": "0.1.0", "py-rattler": "0.28.0", "uv": "0.9.5", "pip": "24.3.1"},
    when="2026-12-01T23:50:00Z",
)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module", autouse=True)
def _matplotlib_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """matplotlib's font cache in a temporary folder, not the user's cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MPLCONFIGDIR", str(tmp_path_factory.mktemp("matplotlib")))
        yield


def _numpy(gflops: float = 84.25) -> Functionality:
    blas = "openblas 0.3.29 (pthreads, 2 threads)"
    return Functionality(numpy=Matmul(size=1024, gflops=gflops, blas=blas, ok=True, numpy="2.4.6"))


def _imports(numpy_s: float, six_s: float) -> tuple[ImportTime, ...]:
    return (
        ImportTime("numpy", ("numpy",), Timing((numpy_s, numpy_s * 1.1, numpy_s * 0.9)), first_s=numpy_s * 3),
        ImportTime("six", ("six",), Timing((six_s, six_s, six_s * 1.2)), first_s=six_s * 2),
    )


def full_report() -> BenchReport:
    conda = StrategyResult(
        name="conda-only",
        engine="py-rattler 0.28.0",
        packages={"python": "3.11.2", "numpy": "2.4.6", "six": "1.16.0"},
        unavailable=(Unavailable("tqdm", "no conda channel of the manifest holds tqdm"),),
        lock_s=0.52,
        install={"cold": Timing((4.1, 3.9, 4.4)), "warm": Timing((1.2, 1.1, 1.3))},
        footprint=Footprint(disk_bytes=180 * 2**20, files=4321, rss_bytes=31 * 2**20),
        imports=_imports(0.081, 0.004),
        functionality=_numpy(),
    )
    uv = StrategyResult(
        name="uv-only",
        engine="uv 0.9.5",
        packages={"numpy": "2.4.6", "six": "1.16.0", "tqdm": "4.66.5"},
        lock_s=0.21,
        install={"cold": Timing((2.0, 2.2, 1.9)), "warm": Timing((0.3, 0.35, 0.31))},
        footprint=Footprint(disk_bytes=60 * 2**20, files=1500, rss_bytes=30 * 2**20),
        imports=_imports(0.079, 0.003),
        functionality=Functionality(
            numpy=_numpy(80.0).numpy,
            torch=TorchCheck(version="2.5.1", cuda_available=False, reason="no CUDA: no driver found"),
        ),
    )
    hybrid = StrategyResult(
        name="hybrid",
        engine="py-rattler 0.28.0 + uv 0.9.5",
        packages={"python": "3.11.2", "numpy": "2.4.6", "six": "1.16.0", "tqdm": "4.66.5"},
        lock_s=0.9,
        install={"cold": Timing((3.0, 3.3, 2.8)), "warm": Timing((0.9, 1.0, 0.8))},
        footprint=Footprint(disk_bytes=150 * 2**20, files=4000, rss_bytes=31 * 2**20),
        imports=_imports(0.08, 0.0035),
        functionality=Functionality(
            numpy=_numpy(83.0).numpy,
            torch=TorchCheck(
                version="2.5.1+cu124",
                cuda_available=True,
                device="NVIDIA H200",
                gflops=48123.4,
                max_abs_diff=2.3e-5,
                ok=True,
            ),
        ),
    )
    pip_uv = (
        PipUv("defaults", "cold", 3, Timing((2.4, 2.5, 2.6)), Timing((0.6, 0.62, 0.58)), "24.3.1"),
        PipUv("defaults", "warm", 3, Timing((1.6, 1.5, 1.7)), Timing((0.2, 0.21, 0.19)), "24.3.1"),
        PipUv("bytecode", "cold", 3, Timing((2.5, 2.6, 2.7)), Timing((0.9, 0.92, 0.88)), "24.3.1"),
        PipUv("bytecode", "warm", 3, Timing((1.7, 1.6, 1.8)), Timing((0.5, 0.52, 0.49)), "24.3.1"),
    )
    return BenchReport(
        machine=MACHINE,
        project="/home/me/proj/condauv.toml",
        runs=3,
        caches=("cold", "warm"),
        strategies=(conda, uv, hybrid),
        pip_vs_uv=pip_uv,
        notes=("conda-only runs on py-rattler: conda itself is not installed here",),
    )


def sparse_report() -> BenchReport:
    """Measurements missing, failed or wrong: every one must read "n/a" with the reason."""
    conda = StrategyResult(
        name="conda-only", engine="py-rattler 0.28.0", error="solve failed: nothing provides foo"
    )
    uv = StrategyResult(
        name="uv-only",
        engine="uv 0.9.5",
        install={"cold": Timing((2.0,))},
        footprint=Footprint(disk_bytes=10 * 2**20, files=10, rss_error="numpy: ImportError: libfoo.so"),
        imports=(ImportTime("numpy", ("numpy",), None, error="ImportError: libfoo.so"),),
        functionality=Functionality(
            numpy=Matmul(size=1024, gflops=None, blas=None, ok=False, error="ImportError: libfoo.so")
        ),
    )
    hybrid = StrategyResult(
        name="hybrid",
        engine="py-rattler 0.28.0 + uv 0.9.5",
        install={"cold": Timing((3.0,))},
        functionality=Functionality(
            numpy=Matmul(size=1024, gflops=12.0, blas=None, ok=False, numpy="2.4.6"),
        ),
    )
    pip_uv = (PipUv("defaults", "cold", 0, None, None, error="the project has no PyPI side"),)
    return BenchReport(
        machine=MACHINE,
        project="/p/condauv.toml",
        runs=1,
        caches=("cold",),
        strategies=(conda, uv, hybrid),
        pip_vs_uv=pip_uv,
        interrupted=True,
    )


def test_table_rows_show_every_measurement() -> None:
    columns, rows = table_rows(full_report())
    assert columns[0] == "strategy" and len(columns) == 9
    assert [row[0] for row in rows] == ["conda-only", "uv-only", "hybrid"]
    assert all(len(row) == len(columns) for row in rows)
    conda = dict(zip(columns, rows[0], strict=True))
    assert conda["cold install"] == "4.10 s (3.90-4.40)"
    assert conda["warm install"] == "1.20 s (1.10-1.30)"
    assert conda["lock"] == "0.52 s"
    assert conda["disk"] == "180.0 MiB, 4321 files"
    assert conda["RSS"] == "31.0 MiB"
    assert conda["imports"] == "85 ms (2 of 2)"
    assert conda["numpy matmul"] == "84.2 GFLOP/s, openblas 0.3.29 (pthreads, 2 threads)"
    assert conda["torch"] == "not installed"
    uv = dict(zip(columns, rows[1], strict=True))
    assert uv["torch"] == "2.5.1: no CUDA: no driver found"
    hybrid = dict(zip(columns, rows[2], strict=True))
    assert hybrid["torch"] == "NVIDIA H200: 48123 GFLOP/s, matches the CPU"


def test_table_rows_say_na_and_why() -> None:
    columns, rows = table_rows(sparse_report())
    conda, uv, hybrid = (dict(zip(columns, row, strict=True)) for row in rows)
    assert conda["cold install"] == "failed: solve failed: nothing provides foo"
    assert {conda[c] for c in columns[2:]} == {"n/a"}
    assert uv["warm install"] == "n/a" and uv["lock"] == "n/a"
    assert uv["cold install"] == "2.00 s"  # one sample: no range
    assert uv["RSS"] == "n/a (numpy: ImportError: libfoo.so)"
    assert uv["imports"] == "n/a (0 of 1; numpy: ImportError: libfoo.so)"
    assert uv["numpy matmul"] == "n/a (ImportError: libfoo.so)"
    assert hybrid["numpy matmul"] == "WRONG RESULT: 12.0 GFLOP/s, BLAS unknown"
    assert hybrid["disk"] == "n/a" and hybrid["imports"] == "n/a"


def test_pip_uv_rows_give_the_ratio() -> None:
    columns, rows = pip_uv_rows(full_report())
    assert columns == ["mode", "cache", "distributions", "pip", "uv", "pip / uv"]
    assert rows[0] == ["defaults", "cold", "3", "2.50 s (2.40-2.60)", "0.60 s (0.58-0.62)", "4.2x"]
    _, sparse = pip_uv_rows(sparse_report())
    assert sparse == [["defaults", "cold", "0", "n/a", "n/a", "n/a (the project has no PyPI side)"]]


def _is_png(path: Path) -> bool:
    data = path.read_bytes()
    return data.startswith(PNG_MAGIC) and len(data) > 5000


def test_write_report_writes_json_markdown_and_charts(tmp_path: Path) -> None:
    report = full_report()
    folder = tmp_path / "out" / "bench"
    written = write_report(report, folder)
    names = sorted(p.name for p in written)
    assert names == ["import-time.png", "install-time.png", "pip-vs-uv.png", "report.json", "report.md"]
    assert all(p.parent == folder for p in written)
    assert json.loads((folder / "report.json").read_text()) == json.loads(json.dumps(report.to_dict()))
    for png in ("install-time.png", "import-time.png", "pip-vs-uv.png"):
        assert _is_png(folder / png), png
    md = (folder / "report.md").read_text()
    for png in ("install-time.png", "import-time.png", "pip-vs-uv.png"):
        assert f"]({png})" in md
    assert "Interrupted" not in md
    assert "linux-64" in md and "py-rattler 0.28.0" in md and "uv 0.9.5" in md
    assert "| strategy |" in md and "| conda-only |" in md
    assert "4.10 s (3.90-4.40)" in md
    assert "uv does not compile bytecode by default" in md  # the honest sentence
    assert "4.2x" in md
    assert "- conda-only: tqdm (no conda channel of the manifest holds tqdm)" in md
    assert "conda-only runs on py-rattler" in md
    # import times per distribution and strategy, with the first import beside them
    assert "| numpy | 81 ms (73-89), first 243 ms |" in md
    assert "| six | 4.0 ms (4.0-4.8), first 8.0 ms |" in md  # below 10 ms: a decimal
    assert not list(folder.glob(".*tmp"))  # nothing half-written left beside them
    # deterministic sizes: the same report draws the same bytes
    again = write_report(report, tmp_path / "again")
    for path in written:
        if path.suffix == ".png":
            assert path.read_bytes() == (tmp_path / "again" / path.name).read_bytes()
    assert len(again) == len(written)


def test_a_sparse_interrupted_report_renders_with_reasons(tmp_path: Path) -> None:
    written = write_report(sparse_report(), tmp_path)
    names = sorted(p.name for p in written)
    assert "report.md" in names and "report.json" in names
    assert "install-time.png" in names  # two installs were timed
    assert "pip-vs-uv.png" not in names and "import-time.png" not in names
    md = (tmp_path / "report.md").read_text()
    assert "Interrupted (Ctrl-C)" in md
    assert "No pip-vs-uv chart: no install was timed on both sides." in md
    assert "No import-time chart: no import was timed." in md
    assert "conda-only: solve failed: nothing provides foo" in md
    assert "n/a (ImportError: libfoo.so)" in md
    assert "WRONG RESULT" in md


def test_markdown_cells_cannot_break_the_table(tmp_path: Path) -> None:
    report = sparse_report()
    bad = StrategyResult(name="hybrid", engine="x", error="a | b\nc")
    report = BenchReport(machine=MACHINE, project="p", runs=1, caches=("cold",), strategies=(bad,))
    write_report(report, tmp_path)
    md = (tmp_path / "report.md").read_text()
    assert "failed: a \\| b c |" in md


def test_help_does_not_load_matplotlib() -> None:
    code = (
        "import sys, contextlib, io\n"
        "import condauv.cli.app\n"
        "from condauv.__main__ import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['bench', '--help'])\n"
        "sys.exit(3 if 'matplotlib' in sys.modules else 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
