"""``condauv bench``'s orchestration: lock, prepare each strategy, time N runs of each in
turn (round-robin, cold and warm caches), pip against uv, then measure each strategy's last
environment. Everything lives in one scratch folder under condauv's cache, removed at the
end and on Ctrl-C (the report then holds what finished, ``interrupted=True``). The project's
own prefix, lock and manifest are only read (the lock is written first when it is missing or
stale, as ``condauv sync`` does, unless ``frozen``).
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from condauv import _fs
from condauv.bench.model import (
    CACHES,
    STRATEGIES,
    BenchReport,
    Cache,
    Footprint,
    Functionality,
    ImportTime,
    Machine,
    OnStep,
    PipUv,
    Step,
    StrategyName,
    StrategyResult,
    Timing,
)
from condauv.bench.strategies import Caches, Context, Strategy, in_turn, make_strategy, versions
from condauv.errors import CondauvError, LockfileError
from condauv.project import Project

__all__ = ["BenchOptions", "run_bench"]

log = logging.getLogger("condauv.bench")


@dataclass(frozen=True, slots=True, kw_only=True)
class BenchOptions:
    runs: int = 3
    caches: tuple[Cache, ...] = CACHES
    strategies: tuple[StrategyName, ...] = STRATEGIES
    pip_vs_uv: bool = True
    frozen: bool = False  # never lock: a missing or stale lock is an error


@dataclass(slots=True)
class _Steps:
    on_step: OnStep | None
    total: int
    index: int = 0

    def __call__(self, label: str) -> None:
        self.index += 1
        self.total = max(self.total, self.index)
        if self.on_step is not None:
            self.on_step(Step(self.index, self.total, label))


@dataclass(slots=True)
class _Measured:
    footprint: Footprint | None = None
    imports: tuple[ImportTime, ...] = ()
    functionality: Functionality | None = None


@dataclass(slots=True)
class _State:
    """What the bench found so far: the report is made from it, finished or interrupted."""

    strategies: dict[StrategyName, Strategy] = field(default_factory=dict)
    errors: dict[StrategyName, str] = field(default_factory=dict)
    samples: dict[tuple[StrategyName, Cache], list[float]] = field(default_factory=dict)
    kept: dict[StrategyName, Path] = field(default_factory=dict)  # each one's last environment
    measured: dict[StrategyName, _Measured] = field(default_factory=dict)
    pip_vs_uv: tuple[PipUv, ...] = ()
    notes: list[str] = field(default_factory=list)
    pip_version: str | None = None


def run_bench(project: Project, options: BenchOptions, on_step: OnStep | None = None) -> BenchReport:
    """Measure the strategies on ``project``'s package set (see the module docstring)."""
    from condauv.platforms import current_subdir
    from condauv.sync.apply import current_lock

    with project.locked() as current:  # released before the strategies run: hybrid's sync takes it
        lock, relocked = current_lock(current, frozen=options.frozen, offline=False)
        project = current
    platform = current_subdir()
    python_version = lock.python_version(platform)
    if python_version is None:
        raise LockfileError(f"condauv.lock has no python for {platform}", hint="run `condauv lock` again")
    state = _State()
    if relocked:
        state.notes.append("condauv.lock was missing or stale: it was locked first")
    interrupted = False
    scratch_dir = _fs.scratch_dir("bench-")
    scratch = scratch_dir.__enter__()
    try:
        ctx = Context(project, lock, platform, python_version, scratch)
        _bench(ctx, options, state, _Steps(on_step, _total_steps(options)))
    except KeyboardInterrupt:
        interrupted = True
    finally:  # not a `with`: a second Ctrl-C must not cut the folder's removal short
        with deferred_signals() as seen:
            scratch_dir.__exit__(None, None, None)
        interrupted = interrupted or bool(seen)
    if interrupted:
        state.notes.append("interrupted (Ctrl-C): the report holds what finished")
    return _report(project, options, python_version, state, interrupted=interrupted)


@contextlib.contextmanager
def deferred_signals() -> Iterator[list[int]]:
    """SIGINT and SIGTERM recorded, not acted on, inside the block (in the main thread): for
    the steps that must not stop half-way (removing the scratch folder, writing the report).
    The block's value lists the signals that came."""
    import signal
    import threading

    seen: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield seen
        return

    def record(signum: int, frame: object) -> None:
        del frame
        seen.append(signum)

    previous = {s: signal.signal(s, record) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield seen
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _total_steps(options: BenchOptions) -> int:
    names = options.strategies
    primes = len([n for n in names if n != "hybrid"]) if "warm" in options.caches else 0
    timed = options.runs * len(options.caches) * len(names)
    pip_uv = 1 + options.runs * len(options.caches) * 3 if options.pip_vs_uv else 0
    return 1 + 2 * len(names) + primes + timed + pip_uv


def _bench(ctx: Context, options: BenchOptions, state: _State, step: _Steps) -> None:
    lock_file = ctx.scratch / "hybrid.lock"
    _fs.atomic_write_text(lock_file, ctx.lock.to_toml())
    warm = {name: Caches(ctx.scratch / "warm" / name) for name in STRATEGIES}
    before = _snapshot(ctx.project)
    ctx = _prepare(ctx, options, state, step, warm)
    for run in range(options.runs):
        for cache in options.caches:
            for name in in_turn(options.strategies, run):
                step(f"{name}: {cache} install, run {run + 1}/{options.runs}")
                if name not in state.errors:
                    _timed_run(ctx, state, state.strategies[name], cache, run, warm[name])
    changed = _changes(before, _snapshot(ctx.project))
    if changed:
        state.notes.append(
            "hybrid: `condauv sync --frozen --prefix` into another prefix changed the project: "
            + ", ".join(changed[:10])
        )
    else:
        state.notes.append("hybrid: a frozen sync into another prefix wrote nothing in the project (checked)")
    if options.pip_vs_uv:
        _pip_vs_uv(ctx, options, state, step, lock_file, warm["hybrid"])
    for name in options.strategies:
        step(f"{name}: measuring (disk, memory, imports, functionality)")
        if name in state.kept:
            state.measured[name] = _measure(state.strategies[name], state.kept[name], options.runs, state)


def _prepare(
    ctx: Context, options: BenchOptions, state: _State, step: _Steps, warm: dict[StrategyName, Caches]
) -> Context:
    """The untimed part: one hybrid install (its warm cache primed, and an interpreter of the
    lock's version for uv-only's venv and pip vs uv), then each strategy's preparation and warm
    priming. Hybrid's preparation comes first: its timed lock needs its caches still empty."""
    if "hybrid" in options.strategies:
        _prepare_one(ctx, "hybrid", options, state, step, warm["hybrid"])
    step("preparing: an untimed hybrid install (warm caches, and the Python uv-only's venv is made of)")
    base = ctx.scratch / "base"
    try:
        make_strategy("hybrid", ctx).install(base, warm["hybrid"])
        ctx = Context(
            ctx.project, ctx.lock, ctx.platform, ctx.python_version, ctx.scratch, _interpreter(base)
        )
    except CondauvError as exc:
        state.notes.append(f"the untimed hybrid install failed: {exc.message}")
        if "hybrid" in options.strategies:
            state.errors["hybrid"] = exc.message
    for name in options.strategies:
        if name != "hybrid":
            _prepare_one(ctx, name, options, state, step, warm[name])
    return ctx


def _prepare_one(
    ctx: Context, name: StrategyName, options: BenchOptions, state: _State, step: _Steps, warm: Caches
) -> None:
    step(f"{name}: preparing")
    strategy = make_strategy(name, ctx)
    state.strategies[name] = strategy
    try:
        strategy.prepare(warm)
    except CondauvError as exc:
        state.errors[name] = exc.message
        return
    if "warm" in options.caches and name != "hybrid":  # hybrid's is the untimed install
        step(f"{name}: priming the warm cache (untimed)")
        prime = ctx.scratch / "prime" / name
        try:
            strategy.install(prime, warm)
        except CondauvError as exc:
            state.errors[name] = exc.message
        shutil.rmtree(prime, ignore_errors=True)


def flush_writes() -> None:
    """Write out what earlier runs left in the page cache (untimed), so that a timed install
    does not pay for the previous one's writes (a cold conda install writes ~100 MB)."""
    if hasattr(os, "sync"):
        os.sync()


def _interpreter(prefix: Path) -> Path:
    """The real interpreter file of a prefix (``bin/python`` may be a link to ``python3.X``)."""
    return (prefix / "bin" / "python").resolve()


def _timed_run(ctx: Context, state: _State, strategy: Strategy, cache: Cache, run: int, warm: Caches) -> None:
    import time

    prefix = ctx.scratch / "envs" / f"{strategy.name}-{cache}-{run}"
    caches = warm if cache == "warm" else Caches(ctx.scratch / "cold" / f"{strategy.name}-{run}")
    flush_writes()
    start = time.perf_counter()
    try:
        strategy.install(prefix, caches)
        elapsed = time.perf_counter() - start
    except CondauvError as exc:
        state.errors[strategy.name] = exc.message
        shutil.rmtree(prefix, ignore_errors=True)
        return
    finally:
        if cache == "cold":
            shutil.rmtree(caches.root, ignore_errors=True)
    state.samples.setdefault((strategy.name, cache), []).append(elapsed)
    previous = state.kept.get(strategy.name)
    state.kept[strategy.name] = prefix
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)


def _pip_vs_uv(
    ctx: Context, options: BenchOptions, state: _State, step: _Steps, lock_file: Path, conda: Caches
) -> None:
    from condauv.bench.pipuv import pip_command, run_pip_vs_uv

    step("pip vs uv: preparing")
    try:
        state.pip_version = pip_command(Path(os.devnull))[1]
    except CondauvError as exc:
        state.notes.append(f"pip vs uv: {exc.message}")
        return
    if ctx.base_python is None:
        state.notes.append("pip vs uv: skipped, the lock's conda side could not be installed")
        return
    results, notes, interrupted = run_pip_vs_uv(
        ctx, lock_file=lock_file, conda_cache=conda.conda, runs=options.runs, caches=options.caches, step=step
    )
    state.pip_vs_uv = results
    state.notes += notes
    if interrupted:
        raise KeyboardInterrupt


def _measure(strategy: Strategy, prefix: Path, runs: int, state: _State) -> _Measured:
    """M's measurements of one finished environment; one that fails is a note, not the end."""
    from condauv.bench import measure

    python = strategy.python(prefix)
    measured = _Measured()
    try:  # the footprint first: the first imports write the bytecode an installer did not
        modules = measure.top_level_modules(prefix, strategy.distributions)
        measured.footprint = measure.footprint(prefix, python, modules)
        measured.imports = measure.import_times(python, prefix, strategy.distributions, runs)
        measured.functionality = measure.functionality(python, prefix)
    except CondauvError as exc:
        state.notes.append(f"{strategy.name}: measuring failed: {exc.message}")
    return measured


def _snapshot(project: Project) -> dict[str, tuple[int, int]]:
    """(mtime, size) of what a lock or a sync of the project writes: the manifest, condauv.lock,
    the state folder's entries, the prefix's and its conda-meta's: a file written, replaced,
    added or removed there shows (a folder's mtime moves with its entries). Other files of the
    project folder are the user's (`condauv bench 2> err.txt` writes one), not bench's."""
    seen: dict[str, tuple[int, int]] = {}
    for path in (project.manifest.path, project.lock_path):
        with contextlib.suppress(OSError):
            stat = path.stat()
            seen[str(path)] = (stat.st_mtime_ns, stat.st_size)
    for folder in (project.state_dir, project.prefix, project.prefix / "conda-meta"):
        try:
            stat = folder.stat()
            seen[str(folder)] = (stat.st_mtime_ns, 0)
            with os.scandir(folder) as entries:
                for entry in entries:
                    info = entry.stat(follow_symlinks=False)
                    seen[entry.path] = (info.st_mtime_ns, info.st_size)
        except OSError:
            continue
    return seen


def _changes(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> list[str]:
    return sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))


def _report(
    project: Project, options: BenchOptions, python_version: str, state: _State, *, interrupted: bool
) -> BenchReport:
    from condauv.platforms import current_subdir

    results = []
    for name in options.strategies:
        strategy = state.strategies.get(name)
        if strategy is None:
            continue  # interrupted before it was prepared
        measured = state.measured.get(name, _Measured())
        install = {
            cache: Timing(tuple(state.samples[name, cache]))
            for cache in options.caches
            if state.samples.get((name, cache))
        }
        results.append(
            StrategyResult(
                name=name,
                engine=strategy.engine,
                packages=dict(strategy.packages),
                unavailable=tuple(strategy.unavailable),
                lock_s=strategy.lock_s,
                install=install,
                footprint=measured.footprint,
                imports=measured.imports,
                functionality=measured.functionality,
                error=state.errors.get(name),
            )
        )
    tools = dict(versions())
    if state.pip_version:
        tools["pip"] = state.pip_version
    machine = Machine(
        platform=current_subdir(),
        cpus=os.cpu_count() or 1,
        python=python_version,
        versions=tools,
        when=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    )
    return BenchReport(
        machine=machine,
        project=str(project.manifest.path),
        runs=options.runs,
        caches=tuple(options.caches),
        strategies=tuple(results),
        pip_vs_uv=state.pip_vs_uv,
        interrupted=interrupted,
        notes=tuple(state.notes),
    )


def parse_strategies(text: str) -> tuple[tuple[StrategyName, ...], bool]:
    """``--strategies hybrid,uv-only,pip-vs-uv``: the strategies, and whether pip vs uv runs."""
    from condauv.errors import UserError

    items = [item.strip() for item in text.split(",") if item.strip()]
    known: Sequence[str] = (*STRATEGIES, "pip-vs-uv")
    unknown = [item for item in items if item not in known]
    if unknown or not items:
        raise UserError(
            f"unknown strategy {unknown[0]!r:.40}" if unknown else "--strategies is empty",
            hint=f"give a comma-separated list of: {', '.join(known)}",
        )
    names = tuple(n for n in STRATEGIES if n in items)
    return names, "pip-vs-uv" in items
