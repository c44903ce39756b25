"""pip against uv: the hybrid lock's PyPI side, one hashed requirements file, into fresh
prefixes that hold only the lock's conda side, cold and warm caches, at defaults (pip compiles
``.pyc``, uv does not) and with bytecode compiled on both sides (``uv --compile-bytecode``).

pip is never installed into a measured prefix: it runs from condauv's own interpreter
(``python -m pip --python TARGET``, pip >= 22.3), else from the wheel ensurepip bundles
(``TARGET/bin/python pip.whl/pip``).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from condauv import _fs, _process
from condauv.bench.model import Cache, PipUv, Timing
from condauv.bench.strategies import Caches, Context, in_turn
from condauv.errors import CondauvError
from condauv.manifest.model import Manifest

__all__ = ["Tool", "conda_side", "pip_command", "pip_index_env", "run_pip_vs_uv"]

Tool = Literal["pip", "uv", "uv-bytecode"]
TOOLS: tuple[Tool, ...] = ("pip", "uv", "uv-bytecode")

#: Installs a lock's conda side into each prefix named (a subprocess: its own package cache,
#: and py-rattler's runtime cannot crash condauv's interpreter at exit).
_CONDA_SIDE = """
import os, sys
from pathlib import Path
from condauv.conda import engine
from condauv.lock.model import load_lock
from condauv.platforms import current_subdir
lock = load_lock(Path(sys.argv[1]))
for prefix in sys.argv[2:]:
    engine.install(lock.conda_for(current_subdir()), Path(prefix))
sys.stdout.flush()
os._exit(0)
"""


def pip_command(target: Path) -> tuple[list[str], str]:
    """How to run pip for ``target``'s interpreter without installing it there, and pip's version."""
    if importlib.util.find_spec("pip") is not None:
        from importlib import metadata

        version = metadata.version("pip")
        if tuple(int(p) for p in version.split(".")[:2] if p.isdigit()) >= (22, 3):
            return [sys.executable, "-m", "pip", "--python", str(target)], version
    import ensurepip

    wheel = next(iter(sorted((Path(ensurepip.__file__).parent / "_bundled").glob("pip-*.whl"))), None)
    if wheel is None:
        raise CondauvError("no pip to compare uv with", hint="install pip into condauv's environment")
    return [str(target), str(wheel / "pip")], wheel.name.split("-")[1]


def conda_side(ctx: Context, lock_file: Path, prefixes: Sequence[Path], conda_cache: Path) -> None:
    """Install the lock's conda side into ``prefixes`` (untimed), from ``conda_cache``."""
    _process.run(
        [sys.executable, "-c", _CONDA_SIDE, lock_file, *prefixes],
        what="installing the conda side for pip vs uv",
        env={"CONDAUV_CACHE_DIR": str(conda_cache)},
        own_group=True,
    )


@dataclass(frozen=True, slots=True)
class _Setup:
    ctx: Context
    requirements: Path
    lock_file: Path
    conda_cache: Path
    pip_requirements: (
        Path  # the same file, its index lines in pip_env (with credentials) where they have some
    )
    pip_env: dict[str, str]

    def _pip(self, prefix: Path, caches: Caches) -> Callable[[], object]:
        pip, _ = pip_command(prefix / "bin" / "python")
        flags = ["--disable-pip-version-check", "--no-input", "--cache-dir", str(caches.pip), "-q"]
        argv = [*pip, "install", *flags, "--no-deps", "--require-hashes", "-r", str(self.pip_requirements)]
        env = {**caches.env(), "PIP_CONFIG_FILE": os.devnull, **self.pip_env}
        what = "pip installs the PyPI side (pip vs uv)"
        return functools.partial(_process.run, argv, what=what, env=env, own_group=True)

    def _uv(self, prefix: Path, caches: Caches, *, compile_bytecode: bool) -> Callable[[], object]:
        from condauv.pypi.uv import Uv

        # indexes and find-links: the file's own lines; their credentials: uv's environment
        index_args = self.ctx.project.manifest.pypi_options.uv_args()
        uv = Uv(index_args=index_args, env=caches.env(), own_group=True)
        return functools.partial(
            uv.install,
            prefix / "bin" / "python",
            self.requirements,
            reinstall=False,  # a fresh prefix: nothing to replace (and --reinstall implies --refresh)
            compile_bytecode=compile_bytecode,
            file_indexes=True,
        )

    def fresh(self, folder: Path, count: int) -> list[Path]:
        prefixes = [folder / f"p{i}" for i in range(count)]
        conda_side(self.ctx, self.lock_file, prefixes, self.conda_cache)
        return prefixes

    def install(self, tool: Tool, prefix: Path, caches: Caches) -> float:
        from condauv.bench.run import flush_writes

        # the command made (and the caches' folders) before the clock starts
        command = (
            self._pip(prefix, caches)
            if tool == "pip"
            else self._uv(prefix, caches, compile_bytecode=tool == "uv-bytecode")
        )
        flush_writes()
        start = time.perf_counter()
        command()
        return time.perf_counter() - start


def run_pip_vs_uv(
    ctx: Context,
    *,
    lock_file: Path,
    conda_cache: Path,
    runs: int,
    caches: Sequence[Cache],
    step: Callable[[str], None],
) -> tuple[tuple[PipUv, ...], list[str], bool]:
    """The pip-vs-uv entries (defaults and bytecode, per cache), notes, and whether Ctrl-C
    stopped it (the entries then hold the runs that finished); ``step`` is called before each
    timed install."""
    packages = ctx.lock.pypi_for(ctx.platform)
    notes: list[str] = []
    if not packages:
        return (), ["pip vs uv: skipped, the lock's PyPI side is empty"], False
    folder = ctx.scratch / "pip-vs-uv"
    folder.mkdir(parents=True, exist_ok=True)
    from condauv.export.requirements import requirements_txt

    # the strategy's requirements-uv.txt, as `condauv export --format requirements` writes it
    requirements = folder / "requirements-uv.txt"
    text = requirements_txt(ctx.lock, ctx.project.manifest, ctx.platform)[0]
    _fs.atomic_write_text(requirements, text)
    pip_env, pip_requirements = pip_index_env(ctx.project.manifest), requirements
    if pip_env:  # a file's index lines would replace the credentials pip is given (pip 23-25)
        pip_requirements = folder / "requirements-pip.txt"
        lines = text.splitlines(keepends=True)
        _fs.atomic_write_text(
            pip_requirements,
            "".join(line for line in lines if not line.startswith(("--index-url ", "--extra-index-url "))),
        )
    setup = _Setup(ctx, requirements, lock_file, conda_cache, pip_requirements, pip_env)
    _, pip_version = pip_command(Path(sys.executable))
    samples: dict[tuple[Cache, Tool], list[float]] = {(c, t): [] for c in caches for t in TOOLS}
    error: str | None = None
    interrupted = False
    try:
        warm = Caches(folder / "warm-cache")
        if "warm" in caches:  # primed by one untimed install of each tool
            primers: tuple[Tool, ...] = ("pip", "uv")
            for tool, prefix in zip(primers, setup.fresh(folder / "prime", 2), strict=True):
                setup.install(tool, prefix, warm)
        for run in range(runs):
            for cache in caches:
                order = in_turn(TOOLS, run)
                batch = folder / f"{cache}-{run}"
                for tool, prefix in zip(order, setup.fresh(batch, len(order)), strict=True):
                    step(f"pip vs uv: {tool} ({cache}, run {run + 1}/{runs})")
                    own = warm if cache == "warm" else Caches(batch / f"cache-{tool}")
                    samples[cache, tool].append(setup.install(tool, prefix, own))
                shutil.rmtree(batch, ignore_errors=True)
    except CondauvError as exc:  # a failed install, an artifact pip cannot fetch
        error = exc.message
    except KeyboardInterrupt:
        interrupted = True
    notes.append(
        f"pip vs uv: {len(packages)} distributions from one hashed requirements file (`condauv export "
        "--format requirements`), "
        "--no-deps --require-hashes, into prefixes holding only the conda side; pip compiles .pyc by "
        "default, so its figures serve both modes"
    )
    results = []
    for cache in caches:
        pip = _timing(samples[cache, "pip"])
        modes: tuple[tuple[Literal["defaults", "bytecode"], Tool], ...] = (
            ("defaults", "uv"),
            ("bytecode", "uv-bytecode"),
        )
        for mode, tool in modes:
            uv = _timing(samples[cache, tool])
            failed = error if pip is None or uv is None else None
            results.append(
                PipUv(
                    mode=mode,
                    cache=cache,
                    distributions=len(packages),
                    pip=pip,
                    uv=uv,
                    pip_version=pip_version,
                    error=failed,
                )
            )
    return tuple(results), notes, interrupted


def pip_index_env(manifest: Manifest) -> dict[str, str]:
    """pip's ``PIP_INDEX_URL`` / ``PIP_EXTRA_INDEX_URL`` with the credentials uv gets (from the
    URL, ``UV_INDEX_<NAME>_*``, netrc): the requirements file names the indexes without them,
    and pip finds a URL's credentials among the indexes it was configured with. In the
    environment, never on a command line."""
    from condauv.pypi.auth import Index, credentials_for, remember

    urls = []
    for index in manifest.pypi_options.indexes():
        remember(index.for_uv())
        found = credentials_for(index.url)
        user, password = found if found is not None else (None, None)
        urls.append(Index(index.url, None, user, password).for_uv())
    env = {}
    if manifest.pypi_options.index_url and urls:
        env["PIP_INDEX_URL"] = urls.pop(0)
    if urls:
        env["PIP_EXTRA_INDEX_URL"] = " ".join(urls)
    return env


def _timing(samples: Sequence[float]) -> Timing | None:
    return Timing(tuple(samples)) if samples else None
