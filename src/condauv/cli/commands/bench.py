from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from condauv.cli.output import Output

if TYPE_CHECKING:
    from condauv.bench.model import BenchReport, OnStep
    from condauv.project import Project

HELP = (
    "measure conda-only, uv-only and hybrid installs of the project's packages (time, disk, memory, "
    "imports, numpy/torch), and pip against uv"
)

_MAX_RUNS = 100


def _runs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r:.40} is not a whole number") from None
    if not 1 <= value <= _MAX_RUNS:
        raise argparse.ArgumentTypeError(f"{value} is out of range (1 to {_MAX_RUNS})")
    return value


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--runs", type=_runs, default=3, metavar="N", help="runs of each install (default: 3)"
    )
    caches = parser.add_mutually_exclusive_group()
    caches.add_argument(
        "--cold", action="store_const", const=("cold",), dest="caches", help="empty caches only"
    )
    caches.add_argument(
        "--warm", action="store_const", const=("warm",), dest="caches", help="primed caches only"
    )
    caches.add_argument(
        "--both", action="store_const", const=("cold", "warm"), dest="caches", help="cold and warm (default)"
    )
    parser.add_argument(
        "--strategies",
        default="conda-only,uv-only,hybrid,pip-vs-uv",
        metavar="LIST",
        help="comma-separated: conda-only, uv-only, hybrid, pip-vs-uv (default: all)",
    )
    parser.add_argument(
        "--output", type=Path, metavar="DIR", help="write report.md, report.json and PNG charts into DIR"
    )
    parser.add_argument(
        "--frozen", action="store_true", help="never lock; fail if condauv.lock is missing or stale"
    )


def _check_output(folder: Path) -> None:
    """DIR may exist (its files are replaced) but neither it nor a folder above it is a file."""
    from condauv.errors import UserError

    for candidate in (folder, *folder.parents):
        if candidate.exists():
            if not candidate.is_dir():
                raise UserError(
                    f"--output {folder} is not a folder ({candidate} is a file)",
                    hint="give a folder for the report: a new one, or one whose report files may be replaced",
                )
            return


def _refuse_own_folders(project: Project, folder: Path) -> None:
    """No report inside the environment or condauv's state folder (a later sync may replace or
    remove either): :meth:`~condauv.project.Project.owned_folder`."""
    from condauv.errors import UserError

    what = project.owned_folder(folder)
    if what is not None:
        raise UserError(
            f"--output {folder} is inside {what}",
            hint="write the report elsewhere, e.g. --output bench-report beside condauv.toml",
        )


def handle(args: argparse.Namespace, out: Output) -> int:
    from condauv.bench.run import BenchOptions, deferred_signals, parse_strategies, run_bench
    from condauv.cli.commands._shared import load_project

    names, pip_vs_uv = parse_strategies(args.strategies)
    output = args.output.expanduser().absolute() if args.output else None
    if output is not None:
        _check_output(output)
    project = load_project(args)  # a bad manifest: refused before anything is built
    if output is not None:
        _refuse_own_folders(project, output)
    options = BenchOptions(
        runs=args.runs,
        caches=args.caches or ("cold", "warm"),
        strategies=names,
        pip_vs_uv=pip_vs_uv,
        frozen=args.frozen,
    )
    with _terminate_as_interrupt() as signals, _progress(out) as on_step:
        report = run_bench(project, options, on_step)
    with deferred_signals() as late:  # the report's files all come from this one report
        written = _write(report, output) if output is not None else []
    signals += late
    if out.json_mode:
        out.data(report.to_dict())
    else:
        _show(out, report)
    for path in written:
        out.info(f"wrote {path}")
    if report.interrupted:
        where = f"; what finished is in {output}" if output is not None else ""
        out.error(f"interrupted{where}", None)
        return 128 + (signal.SIGTERM if signal.SIGTERM in signals else signal.SIGINT)
    failed = [s for s in report.strategies if s.error]
    return 1 if report.strategies and len(failed) == len(report.strategies) else 0


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[list[int]]:
    """SIGTERM stops the bench as Ctrl-C does (children stopped, scratch removed, the report
    of what finished written) instead of killing it where it stands; the block's value lists
    the signals that came (for the exit code: 128 + the signal)."""
    import threading

    seen: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield seen
        return

    def terminate(signum: int, frame: object) -> None:
        del frame
        seen.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGTERM, previous)


def _write(report: BenchReport, output: Path) -> list[Path]:
    from condauv.cli.render.bench import write_report

    output.mkdir(parents=True, exist_ok=True)
    return write_report(report, output)


def _show(out: Output, report: BenchReport) -> None:
    from condauv.cli.render.bench import pip_uv_rows, table_rows

    columns, rows = table_rows(report)
    out.table(f"condauv bench: {report.project}", columns, rows)
    if report.pip_vs_uv:
        columns, rows = pip_uv_rows(report)
        out.table("pip vs uv: the lock's PyPI side into its conda side", columns, rows)
    for strategy in report.strategies:
        if strategy.error:
            out.info(f"{strategy.name}: not measured: {strategy.error}")
        for missing in strategy.unavailable:
            out.info(f"{strategy.name}: {missing.name} unavailable: {missing.reason}")
    for note in report.notes:
        out.info(f"note: {note}")


@contextlib.contextmanager
def _progress(out: Output) -> Iterator[OnStep | None]:
    """A rich progress bar on a terminal (:meth:`Output.display`); otherwise one plain line a step."""
    from condauv.bench.model import Step

    if out.quiet or out.json_mode:
        yield None
        return
    if out.display() is None:  # stdout or stderr is not a terminal

        def plain(step: Step) -> None:
            out.info(f"[{step.index}/{step.total}] {step.label}")
            sys.stderr.flush()

        yield plain
        return
    with out.progress("bench") as update:
        yield None if update is None else lambda step: update(step.index - 1, step.total, step.label)
