"""Pieces the benchmarks share: timing commands side by side, and the two engines called directly.

The direct baseline is what condauv would cost if it added nothing: py-rattler's ``install``
of the locked conda records in one Python process (which imports rattler and nothing of
condauv), then ``uv pip install`` of the locked PyPI set (hashed direct URLs, no resolving)
in another. Its inputs are written from ``condauv.lock`` beforehand, outside the timing.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DirectInputs",
    "Samples",
    "Timed",
    "bench_cache",
    "direct_inputs",
    "direct_install",
    "median",
    "side_by_side",
    "user_env",
    "uv_binary",
]

#: a measured step: what it runs, and what it resets first (outside the timing)
Timed = tuple[Callable[[], object], Callable[[], object] | None]

#: py-rattler's install of records read from JSON; ``os._exit`` because py-rattler can crash the
#: interpreter at exit after ``asyncio.run`` (FACTS.md), which would fail the measurement.
DIRECT_CONDA = r"""
import asyncio, json, os, sys
import rattler
from rattler import BuildString, PackageRecord, RepoDataRecord

def record(p):
    package = PackageRecord(
        name=p["name"], version=p["version"], build=BuildString.new_unchecked(p["build"]),
        build_number=p["build_number"], subdir=p["subdir"], noarch=p["noarch"],
        depends=p["depends"], constrains=p["constrains"], sha256=bytes.fromhex(p["sha256"]),
        md5=bytes.fromhex(p["md5"]) if p["md5"] else None, size=p["size"],
        python_site_packages_path=p["python_site_packages_path"],
    )
    return RepoDataRecord(package, p["url"].rsplit("/", 1)[-1], p["url"], p["channel"])

with open(sys.argv[1], encoding="utf-8") as handle:
    records = [record(p) for p in json.load(handle)]
asyncio.run(rattler.install(records, target_prefix=sys.argv[2], cache_dir=sys.argv[3],
                            show_progress=False, execute_link_scripts=False))
sys.stdout.flush()
os._exit(0)
"""


@dataclass(frozen=True, slots=True)
class DirectInputs:
    conda: Path  # the locked conda records of this platform, as JSON
    pypi: Path  # the locked PyPI set as hashed requirement lines (``name @ url --hash=...``)
    pypi_count: int


def direct_inputs(lock_path: Path, folder: Path) -> DirectInputs:
    """Write the direct baseline's inputs for this platform from ``lock_path`` into ``folder``."""
    from condauv.lock.model import load_lock
    from condauv.platforms import current_subdir

    lock = load_lock(lock_path)
    assert lock is not None, lock_path
    platform = current_subdir()
    folder.mkdir(parents=True, exist_ok=True)
    conda = folder / "conda-records.json"
    fields = ("name", "version", "build", "build_number", "subdir", "noarch", "md5", "size", "url")
    records = [
        {
            **{key: getattr(p, key) for key in fields},
            "channel": p.channel,
            "sha256": p.sha256,
            "depends": list(p.depends),
            "constrains": list(p.constrains),
            "python_site_packages_path": p.python_site_packages_path,
        }
        for p in lock.conda_for(platform)
    ]
    conda.write_text(json.dumps(records), encoding="utf-8")
    pypi = folder / "pypi-requirements.txt"
    lines = [f"{p.name} @ {p.url} --hash=sha256:{p.sha256}" for p in lock.pypi_for(platform)]
    pypi.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return DirectInputs(conda, pypi, len(lines))


def uv_binary() -> str:
    """The uv binary condauv runs."""
    from condauv.pypi.uv import find_uv

    return find_uv()


def direct_install(inputs: DirectInputs, prefix: Path, pkgs_dir: Path, env: Mapping[str, str]) -> None:
    """The two engines, each in its own process: py-rattler's install (with ``pkgs_dir`` as its
    package cache, condauv's), then uv's."""
    run = [sys.executable, "-c", DIRECT_CONDA, str(inputs.conda), str(prefix), str(pkgs_dir)]
    subprocess.run(run, check=True, env=dict(env))
    if inputs.pypi_count:
        subprocess.run(
            [
                uv_binary(),
                "pip",
                "install",
                "--python",
                str(prefix / "bin" / "python"),
                "--no-deps",
                "--require-hashes",
                "--no-index",
                "-q",
                "-r",
                str(inputs.pypi),
            ],
            check=True,
            env=dict(env),
        )


@dataclass(frozen=True, slots=True)
class Samples:
    wall: dict[str, list[float]]  # seconds, per step
    cpu: dict[str, list[float]]  # user + system seconds of the step's child processes


def side_by_side(steps: Mapping[str, Timed], repeat: int) -> Samples:
    """Wall times of every step, ``repeat`` rounds, the steps interleaved within each round so
    that the machine's noise hits them alike; each step's reset runs before it, untimed. The
    CPU time its child processes used is kept too: on a loaded machine it moves less."""
    wall: dict[str, list[float]] = {name: [] for name in steps}
    cpu: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeat):
        for name, (action, reset) in steps.items():
            if reset is not None:
                reset()
            used = _children_cpu()
            start = time.perf_counter()
            action()
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(_children_cpu() - used)
    return Samples(wall, cpu)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench_cache() -> Path:
    """Where the benchmarks keep what outlives a run (channels, bytecode): ``$CONDAUV_BENCH_CACHE``,
    else ``$XDG_CACHE_HOME/condauv-bench``, else ``~/.cache/condauv-bench``."""
    explicit = os.environ.get("CONDAUV_BENCH_CACHE")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "condauv-bench"


def user_env(pycache: Path) -> dict[str, str]:
    """This process's environment as a user's shell has it: bytecode cached (here in ``pycache``,
    so that nothing is written into the source tree), as a ``pip install`` leaves it. Without
    it (``PYTHONDONTWRITEBYTECODE=1``) every start compiles each condauv module again."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def median(values: Sequence[float]) -> float:
    return statistics.median(values)
