"""PNG charts of a bench report, drawn with matplotlib.

matplotlib is imported here only, and only when a chart is drawn (``condauv bench --output``):
no other command pays for it. Figures are made with ``matplotlib.figure.Figure`` on the Agg
canvas, never through pyplot, so no display, no GUI backend and no global figure state is
involved. Sizes, fonts sizes and metadata are fixed: one report draws the same bytes.
matplotlib's own cache (its font list) goes under condauv's cache unless ``MPLCONFIGDIR`` is set.

Each function returns the PNG's bytes, or ``None`` when the report holds nothing to draw.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from condauv.bench.model import CACHES, BenchReport, Timing

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["imports_chart", "install_chart", "pip_uv_chart"]

_SIZE = (8.0, 4.5)  # inches
_DPI = 100
_COLOURS = ("#4C72B0", "#DD8452", "#55A868", "#C44E52")


def _figure(height: float = _SIZE[1]) -> Figure:
    os.environ.setdefault("MPLCONFIGDIR", str(_matplotlib_cache()))
    # -vv sets condauv's root logger to DEBUG: matplotlib's font_manager would log hundreds of lines
    logging.getLogger("matplotlib").setLevel(logging.WARNING)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(_SIZE[0], height), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _matplotlib_cache() -> os.PathLike[str]:
    from condauv import paths

    return paths.cache_dir() / "matplotlib"


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
    return buffer.getvalue()


def _errors(timings: Sequence[Timing], scale: float) -> tuple[list[float], list[list[float]]]:
    """Medians and the min-max distances below and above each median, times ``scale``."""
    medians = [t.median * scale for t in timings]
    below = [(t.median - t.min) * scale for t in timings]
    above = [(t.max - t.median) * scale for t in timings]
    return medians, [below, above]


def _grouped_bars(
    axes: Axes,
    groups: Sequence[str],
    series: Sequence[tuple[str, Sequence[Timing | None]]],
    *,
    horizontal: bool = False,
    scale: float = 1.0,
) -> None:
    """One group of bars per label in ``groups``, one bar per series; missing ones left out."""
    width = 0.8 / max(1, len(series))
    for index, (label, timings) in enumerate(series):
        offsets = [g + (index - (len(series) - 1) / 2) * width for g in range(len(groups))]
        present = [(offsets[i], t) for i, t in enumerate(timings) if t is not None]
        medians, errors = _errors([t for _, t in present], scale)
        positions = [position for position, _ in present]
        colour = _COLOURS[index % len(_COLOURS)]
        if horizontal:
            axes.barh(positions, medians, height=width, xerr=errors, label=label, color=colour, capsize=3)
        else:
            axes.bar(positions, medians, width=width, yerr=errors, label=label, color=colour, capsize=3)
    if horizontal:
        axes.set_yticks(range(len(groups)), groups)
        axes.invert_yaxis()
        axes.grid(axis="x", alpha=0.3)
    else:
        axes.set_xticks(range(len(groups)), groups)
        axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    axes.legend(loc="best", fontsize=9)


def install_chart(report: BenchReport) -> bytes | None:
    """Install time per strategy, cold and warm: median bars, min-max error bars."""
    strategies = [s for s in report.strategies if s.install]
    if not strategies:
        return None
    figure = _figure()
    axes = figure.add_subplot()
    series = [(cache, [s.install.get(cache) for s in strategies]) for cache in CACHES]
    series = [(cache, timings) for cache, timings in series if any(timings)]
    _grouped_bars(axes, [s.name for s in strategies], series)
    axes.set_ylabel("seconds (median, min-max)")
    axes.set_title(f"Install time into a fresh prefix ({report.runs} runs each)")
    return _png(figure)


def imports_chart(report: BenchReport) -> bytes | None:
    """Import time per distribution (fresh interpreter each), one bar per strategy."""
    names = sorted({i.distribution for s in report.strategies for i in s.imports if i.time is not None})
    if not names:
        return None
    strategies = [s for s in report.strategies if any(i.time is not None for i in s.imports)]
    series = []
    for strategy in strategies:
        by_name = {i.distribution: i.time for i in strategy.imports}
        series.append((strategy.name, [by_name.get(name) for name in names]))
    figure = _figure(height=max(2.5, min(12.0, 1.2 + 0.35 * len(names) * len(series))))
    axes = figure.add_subplot()
    _grouped_bars(axes, names, series, horizontal=True, scale=1000.0)
    axes.set_xlabel("milliseconds (median, min-max)")
    axes.set_title("Import time per distribution, fresh interpreter each")
    return _png(figure)


def pip_uv_chart(report: BenchReport) -> bytes | None:
    """pip against uv into the same prefix, per mode and cache, with pip/uv written above."""
    rows = [p for p in report.pip_vs_uv if p.pip is not None and p.uv is not None]
    if not rows:
        return None
    figure = _figure()
    axes = figure.add_subplot()
    groups = [f"{p.mode}, {p.cache}" for p in rows]
    _grouped_bars(axes, groups, [("pip", [p.pip for p in rows]), ("uv", [p.uv for p in rows])])
    for index, row in enumerate(rows):
        ratio = row.ratio
        if ratio is not None and row.pip is not None:
            axes.annotate(
                f"pip/uv {ratio:.1f}x",
                (index, row.pip.max),
                textcoords="offset points",
                xytext=(0, 6),
                ha="center",
                fontsize=9,
            )
    axes.set_ylabel("seconds (median, min-max)")
    axes.set_title("pip vs uv, the same PyPI set into the same conda-made prefix")
    axes.margins(y=0.15)
    return _png(figure)
