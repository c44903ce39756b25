"""``condauv bench``'s documents: the terminal table's rows, report.md, report.json and the charts.

Every cell says what was measured or, where nothing was, ``n/a`` with the reason: a missing
measurement never reads as a zero. Charts come from :mod:`condauv.cli.render.charts`, which
alone imports matplotlib, and only when :func:`write_report` draws them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from condauv import _fs
from condauv.bench.model import (
    BenchReport,
    Footprint,
    Functionality,
    ImportTime,
    PipUv,
    StrategyResult,
    Timing,
)

__all__ = ["COLUMNS", "import_rows", "markdown", "pip_uv_rows", "table_rows", "write_report"]

COLUMNS = [
    "strategy",
    "cold install",
    "warm install",
    "lock",
    "disk",
    "RSS",
    "imports",
    "numpy matmul",
    "torch",
]
NA = "n/a"

#: file name, title, and what it means that there is nothing to draw.
CHARTS = (
    ("install-time.png", "Install time per strategy", "no install was timed"),
    ("import-time.png", "Import time per distribution", "no import was timed"),
    ("pip-vs-uv.png", "pip vs uv", "no install was timed on both sides"),
)

BYTECODE = (
    "uv does not compile bytecode by default and pip does: at `defaults` pip does more work "
    "(every `.py` compiled to `.pyc`), and the first import after a uv install pays for what uv "
    "skipped (the *first* import times show it). The `bytecode` rows compile on both sides "
    "(`uv pip install --compile-bytecode`, pip as it is): the like-for-like comparison."
)


# -- cells -------------------------------------------------------------------------------------


def _na(reason: str | None) -> str:
    return f"{NA} ({reason})" if reason else NA


def _seconds(value: float) -> str:
    return f"{value:.2f} s"


def _timing(timing: Timing | None) -> str:
    """``4.10 s (3.90-4.40)``: median, then min-max when there is more than one sample."""
    if timing is None:
        return NA
    if len(timing.samples) == 1:
        return _seconds(timing.median)
    return f"{timing.median:.2f} s ({timing.min:.2f}-{timing.max:.2f})"


def _milliseconds(seconds: float) -> str:
    """``81``, or ``0.3`` below 10 ms (a small module imports in a fraction of one)."""
    return f"{seconds * 1000:.0f}" if seconds >= 0.01 else f"{seconds * 1000:.1f}"


def _ms(timing: Timing) -> str:
    if len(timing.samples) == 1:
        return f"{_milliseconds(timing.median)} ms"
    return f"{_milliseconds(timing.median)} ms ({_milliseconds(timing.min)}-{_milliseconds(timing.max)})"


def _size(count: int) -> str:
    mib = count / 2**20
    return f"{mib / 1024:.2f} GiB" if mib >= 1024 else f"{mib:.1f} MiB"


def _disk(footprint: Footprint | None) -> str:
    if footprint is None:
        return NA
    cell = f"{_size(footprint.disk_bytes)}, {footprint.files} files"
    if footprint.shared_bytes:
        cell += f" ({_size(footprint.shared_bytes)} linked from the caches)"
    return cell


def _rss(footprint: Footprint | None) -> str:
    if footprint is None:
        return NA
    return _size(footprint.rss_bytes) if footprint.rss_bytes is not None else _na(footprint.rss_error)


def _imports(imports: Sequence[ImportTime]) -> str:
    """The sum of each distribution's median, and how many of them imported."""
    if not imports:
        return NA
    timed = [i.time for i in imports if i.time is not None]
    failed = [i for i in imports if i.time is None]
    count = f"{len(timed)} of {len(imports)}"
    if failed:
        count += f"; {failed[0].distribution}: {failed[0].error or 'not measured'}"
        count += f" (+{len(failed) - 1} more)" if len(failed) > 1 else ""
    if not timed:
        return _na(count)
    return f"{_milliseconds(sum(t.median for t in timed))} ms ({count})"


def _numpy(functionality: Functionality | None) -> str:
    if functionality is None:
        return NA
    matmul = functionality.numpy
    if matmul is None:
        return "not installed"
    if matmul.gflops is None:
        return _na(matmul.error or "not measured")
    cell = f"{matmul.gflops:.1f} GFLOP/s, {matmul.blas or 'BLAS unknown'}"
    if matmul.ok:
        return cell
    return f"WRONG RESULT: {cell}" + (f" ({matmul.error})" if matmul.error else "")


def _torch(functionality: Functionality | None, *, version: bool = True) -> str:
    if functionality is None:
        return NA
    torch = functionality.torch
    if torch is None:
        return "not installed"
    if not torch.cuda_available:
        reason = torch.reason or "no CUDA"
        return f"{torch.version}: {reason}" if torch.version and version else reason
    device = torch.device or "CUDA device"
    speed = f"{torch.gflops:.0f} GFLOP/s, " if torch.gflops is not None else ""
    if torch.ok is None:
        return f"{device}: {speed}{_na(torch.reason or 'not checked')}"
    if torch.ok:
        return f"{device}: {speed}matches the CPU"
    diff = f" (max |diff| {torch.max_abs_diff:.2g})" if torch.max_abs_diff is not None else ""
    return f"{device}: {speed}GPU RESULT DIFFERS from the CPU{diff}"


def _strategy_row(strategy: StrategyResult) -> list[str]:
    if strategy.error:
        return [strategy.name, f"failed: {strategy.error}", *[NA] * (len(COLUMNS) - 2)]
    return [
        strategy.name,
        _timing(strategy.install.get("cold")),
        _timing(strategy.install.get("warm")),
        NA if strategy.lock_s is None else _seconds(strategy.lock_s),
        _disk(strategy.footprint),
        _rss(strategy.footprint),
        _imports(strategy.imports),
        _numpy(strategy.functionality),
        _torch(strategy.functionality),
    ]


# -- tables ------------------------------------------------------------------------------------


def table_rows(report: BenchReport) -> tuple[list[str], list[list[str]]]:
    """The terminal table: one row per strategy (install, lock, footprint, imports, functionality)."""
    return list(COLUMNS), [_strategy_row(s) for s in report.strategies]


def _ratio(row: PipUv) -> str:
    ratio = row.ratio
    if ratio is None:
        return _na(row.error or "not measured")
    return f"{ratio:.1f}x"


def pip_uv_rows(report: BenchReport) -> tuple[list[str], list[list[str]]]:
    """pip against uv into the same prefix: one row per mode and cache; ``pip / uv`` is pip's
    median over uv's (how many times faster uv was)."""
    columns = ["mode", "cache", "distributions", "pip", "uv", "pip / uv"]
    rows = [
        [p.mode, p.cache, str(p.distributions), _timing(p.pip), _timing(p.uv), _ratio(p)]
        for p in report.pip_vs_uv
    ]
    return columns, rows


def import_rows(report: BenchReport) -> tuple[list[str], list[list[str]]]:
    """Import time per distribution (rows) and strategy (columns): median (min-max) of the
    timed imports, then the first import after the install."""
    strategies = [s for s in report.strategies if s.imports]
    names = sorted({i.distribution for s in strategies for i in s.imports})
    rows = []
    for name in names:
        row = [name]
        for strategy in strategies:
            found = next((i for i in strategy.imports if i.distribution == name), None)
            if found is None:
                row.append("not installed")
            elif found.time is None:
                row.append(_na(found.error))
            else:
                first = "" if found.first_s is None else f", first {_milliseconds(found.first_s)} ms"
                row.append(_ms(found.time) + first)
        rows.append(row)
    return ["distribution", *(s.name for s in strategies)], rows


# -- report.md ---------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _md_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(_cell(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _pip_uv_lines(report: BenchReport) -> list[str]:
    lines = []
    for row in report.pip_vs_uv:
        ratio = row.ratio
        if ratio is None or row.pip is None or row.uv is None:
            lines.append(f"- {row.mode}, {row.cache}: {_na(row.error or 'not measured')}")
            continue
        faster = f"uv {ratio:.1f}x faster" if ratio >= 1 else f"uv {1 / ratio:.1f}x slower"
        lines.append(
            f"- {row.mode}, {row.cache}: pip {_seconds(row.pip.median)}, uv {_seconds(row.uv.median)}: "
            f"{faster} ({row.distributions} distributions)"
        )
    ratios = [r.ratio for r in report.pip_vs_uv if r.ratio is not None]
    if ratios:
        lines += [
            "",
            f"The strategy claims uv is 3-5x faster for pure-Python packages; measured here: "
            f"{min(ratios):.1f}x to {max(ratios):.1f}x.",
        ]
    return lines


def _functionality_lines(strategy: StrategyResult) -> list[str]:
    functionality = strategy.functionality
    if functionality is None:
        return [f"- {strategy.name}: {NA}"]
    matmul = functionality.numpy
    if matmul is None:
        numpy = "numpy not installed"
    else:
        check = "result checked: ok" if matmul.ok else "result checked: WRONG"
        version = f"numpy {matmul.numpy}" if matmul.numpy else "numpy"
        numpy = f"{version}, float64 matmul n={matmul.size}: {_numpy(functionality)}"
        numpy += "" if matmul.gflops is None else f" ({check})"
    lines = [f"- {strategy.name}: {numpy}"]
    if functionality.torch is not None:
        lines.append(
            f"  - torch {functionality.torch.version or '?'}: {_torch(functionality, version=False)}"
        )
    return lines


def markdown(report: BenchReport, charts: dict[str, str | None]) -> str:
    """report.md; ``charts`` maps each chart's file name to ``None`` (drawn) or why it is not."""
    machine = report.machine
    versions = ", ".join(f"{name} {version}" for name, version in sorted(machine.versions.items()))
    lines = [f"# condauv bench: {_cell(report.project)}", ""]
    if report.interrupted:
        lines += ["> **Interrupted (Ctrl-C)**: what is here is what finished; the rest was not measured.", ""]
    lines += [
        f"Measured {machine.when} on {machine.platform}, {machine.cpus} CPUs, Python {machine.python}; "
        f"{versions}. {report.runs} run(s) per measurement, caches: {', '.join(report.caches) or 'none'}. "
        "How each figure is taken: docs/bench.md.",
        "",
        "## Strategies",
        "",
        *_md_table(*table_rows(report)),
        "",
    ]
    lines += [f"- {s.name}: {_cell(s.engine)}, {len(s.packages)} packages" for s in report.strategies]

    def chart(name: str) -> list[str]:
        title = next(t for n, t, _ in CHARTS if n == name)
        why = charts.get(name, "not drawn")
        return ["", f"![{title}]({name})" if why is None else f"No {name.removesuffix('.png')} chart: {why}."]

    lines += chart("install-time.png")
    lines += ["", "## Import time per distribution", "", "Fresh interpreter each run (`python -I`)."]
    import_table = import_rows(report)
    lines += ["", *_md_table(*import_table)] if import_table[1] else ["", "No import was measured."]
    lines += chart("import-time.png")
    lines += ["", "## pip vs uv", ""]
    if report.pip_vs_uv:
        lines += [*_md_table(*pip_uv_rows(report)), "", *_pip_uv_lines(report)]
    else:
        lines.append("pip vs uv was not measured.")
    lines += ["", BYTECODE]
    lines += chart("pip-vs-uv.png")
    lines += ["", "## Functionality", ""]
    lines += [line for s in report.strategies for line in _functionality_lines(s)] or ["Not measured."]
    unavailable = [
        f"- {s.name}: {_cell(u.name)} ({_cell(u.reason)})" for s in report.strategies for u in s.unavailable
    ]
    lines += [
        "",
        "## Unavailable packages",
        "",
        *(unavailable or ["Every strategy installed every package."]),
    ]
    failed = [f"- {s.name}: {_cell(s.error)}" for s in report.strategies if s.error]
    if failed:
        lines += ["", "## Strategies that could not be measured", "", *failed]
    if report.notes:
        lines += ["", "## Notes", "", *(f"- {_cell(note)}" for note in report.notes)]
    return "\n".join(lines) + "\n"


# -- the folder --------------------------------------------------------------------------------


def _draw(report: BenchReport) -> dict[str, tuple[bytes | None, str | None]]:
    """Each chart's PNG, or why there is none (nothing to draw; matplotlib failed)."""
    from condauv.cli.render import charts

    drawers: dict[str, Callable[[BenchReport], bytes | None]] = {
        "install-time.png": charts.install_chart,
        "import-time.png": charts.imports_chart,
        "pip-vs-uv.png": charts.pip_uv_chart,
    }
    drawn: dict[str, tuple[bytes | None, str | None]] = {}
    for name, _, empty in CHARTS:
        try:
            png = drawers[name](report)
        except Exception as exc:  # a chart is a convenience: the report is written without it
            drawn[name] = (None, f"drawing it failed ({type(exc).__name__}: {exc})")
            continue
        drawn[name] = (png, None if png is not None else empty)
    return drawn


def write_report(report: BenchReport, folder: Path) -> list[Path]:
    """report.json, the charts, then report.md (which names them) into ``folder``, each file
    written atomically; a chart of ours left by an earlier report and not drawn now is removed."""
    written = []
    path = folder / "report.json"
    _fs.atomic_write_text(path, json.dumps(report.to_dict(), indent=2) + "\n")
    written.append(path)
    reasons: dict[str, str | None] = {}
    for name, (png, why) in _draw(report).items():
        reasons[name] = why
        if png is None:
            (folder / name).unlink(missing_ok=True)
            continue
        _fs.atomic_write_bytes(folder / name, png)
        written.append(folder / name)
    path = folder / "report.md"
    _fs.atomic_write_text(path, markdown(report, reasons))
    written.append(path)
    return written
