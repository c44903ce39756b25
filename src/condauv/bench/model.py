"""What ``condauv bench`` measures, as data: the report's model and its JSON form.

The JSON form (``BenchReport.to_dict``) is documented in docs/bench.md; ``SCHEMA_VERSION`` moves
when a field changes meaning or goes away (a new field does not move it). Times are seconds,
sizes bytes. A measurement that could not be taken is ``None`` with the reason next to it, never
a zero.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "CACHES",
    "SCHEMA_VERSION",
    "STRATEGIES",
    "BenchReport",
    "Cache",
    "Footprint",
    "Functionality",
    "ImportTime",
    "Machine",
    "Matmul",
    "OnStep",
    "PipUv",
    "Step",
    "StrategyName",
    "StrategyResult",
    "Timing",
    "TorchCheck",
    "Unavailable",
]

SCHEMA_VERSION = 1

StrategyName = Literal["conda-only", "uv-only", "hybrid"]
STRATEGIES: tuple[StrategyName, ...] = ("conda-only", "uv-only", "hybrid")
Cache = Literal["cold", "warm"]
CACHES: tuple[Cache, ...] = ("cold", "warm")


@dataclass(frozen=True, slots=True)
class Timing:
    """Wall-clock samples of one measurement, in seconds, in the order they were taken."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def max(self) -> float:
        return max(self.samples)

    def to_dict(self) -> dict[str, Any]:
        return {
            "median_s": round(self.median, 4),
            "min_s": round(self.min, 4),
            "max_s": round(self.max, 4),
            "samples_s": [round(s, 4) for s in self.samples],
        }


def _timing(value: Timing | None) -> dict[str, Any] | None:
    return None if value is None else value.to_dict()


@dataclass(frozen=True, slots=True)
class Unavailable:
    """A manifest entry a strategy cannot install, and why (e.g. no conda channel holds it)."""

    name: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Footprint:
    """Size on disk of a finished environment (each inode counted once) and the resident
    memory of a fresh interpreter after importing the set's top-level modules."""

    disk_bytes: int
    files: int
    rss_bytes: int | None = None
    rss_error: str | None = None
    #: of ``disk_bytes``, files also linked from outside the prefix (the package caches): on
    #: disk once for every environment that links them.
    shared_bytes: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "disk_bytes": self.disk_bytes,
            "shared_bytes": self.shared_bytes,
            "files": self.files,
            "rss_bytes": self.rss_bytes,
            "rss_error": self.rss_error,
        }


@dataclass(frozen=True, slots=True)
class ImportTime:
    """Importing one distribution's top-level modules in a fresh interpreter, ``runs`` times.

    ``first_s`` is the first import after the install, which compiles the bytecode the installer
    did not write (uv writes none by default); ``time`` holds the later ones, bytecode in place."""

    distribution: str
    modules: tuple[str, ...]
    time: Timing | None
    error: str | None = None
    first_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "distribution": self.distribution,
            "modules": list(self.modules),
            "time": _timing(self.time),
            "first_s": None if self.first_s is None else round(self.first_s, 4),
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class Matmul:
    """numpy's float64 matmul throughput, the BLAS that ran it, and whether the result was right."""

    size: int
    gflops: float | None
    blas: str | None  # e.g. "openblas 0.3.29 (pthreads, 2 threads)", from threadpoolctl
    ok: bool
    numpy: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "gflops": None if self.gflops is None else round(self.gflops, 2),
            "blas": self.blas,
            "ok": self.ok,
            "numpy": self.numpy,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class TorchCheck:
    """torch on CUDA: the device, a GPU matmul checked against the CPU, or why there is none."""

    version: str | None
    cuda_available: bool
    device: str | None = None
    gflops: float | None = None
    max_abs_diff: float | None = None
    ok: bool | None = None
    reason: str | None = None  # "no CUDA: ..." or the error

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "cuda_available": self.cuda_available,
            "device": self.device,
            "gflops": None if self.gflops is None else round(self.gflops, 2),
            "max_abs_diff": self.max_abs_diff,
            "ok": self.ok,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Functionality:
    numpy: Matmul | None = None  # None: numpy is not in the environment
    torch: TorchCheck | None = None  # None: torch is not in the environment

    def to_dict(self) -> dict[str, Any]:
        return {
            "numpy": None if self.numpy is None else self.numpy.to_dict(),
            "torch": None if self.torch is None else self.torch.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class StrategyResult:
    """One way of building the environment: what it installed, how fast, how big."""

    name: StrategyName
    engine: str  # what did the work, with versions: "py-rattler 0.28.0", "uv 0.13.9", ...
    packages: dict[str, str] = field(default_factory=dict)  # installed: name -> version
    unavailable: tuple[Unavailable, ...] = ()
    lock_s: float | None = None  # resolving the set once, before the timed installs
    install: dict[Cache, Timing] = field(default_factory=dict)
    footprint: Footprint | None = None
    imports: tuple[ImportTime, ...] = ()
    functionality: Functionality | None = None
    error: str | None = None  # the strategy could not be measured at all, and why

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "engine": self.engine,
            "packages": dict(sorted(self.packages.items())),
            "unavailable": [u.to_dict() for u in self.unavailable],
            "lock_s": None if self.lock_s is None else round(self.lock_s, 4),
            "install": {cache: t.to_dict() for cache, t in self.install.items()},
            "footprint": None if self.footprint is None else self.footprint.to_dict(),
            "imports": [i.to_dict() for i in self.imports],
            "functionality": None if self.functionality is None else self.functionality.to_dict(),
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class PipUv:
    """pip against uv installing the same hashed PyPI set into the same conda-made prefix."""

    mode: Literal["defaults", "bytecode"]  # defaults: pip compiles .pyc, uv does not; bytecode: both do
    cache: Cache
    distributions: int
    pip: Timing | None
    uv: Timing | None
    pip_version: str | None = None
    error: str | None = None

    @property
    def ratio(self) -> float | None:
        """pip's median over uv's: how many times faster uv is."""
        if self.pip is None or self.uv is None or self.uv.median <= 0:
            return None
        return self.pip.median / self.uv.median

    def to_dict(self) -> dict[str, Any]:
        ratio = self.ratio
        return {
            "mode": self.mode,
            "cache": self.cache,
            "distributions": self.distributions,
            "pip": _timing(self.pip),
            "uv": _timing(self.uv),
            "ratio": None if ratio is None else round(ratio, 2),
            "pip_version": self.pip_version,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class Machine:
    platform: str  # conda subdir, e.g. linux-64
    cpus: int
    python: str  # the environment's Python version
    versions: dict[str, str]  # condauv, py-rattler, uv, pip, ...
    when: str  # ISO 8601, UTC

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "cpus": self.cpus,
            "python": self.python,
            "versions": dict(self.versions),
            "when": self.when,
        }


@dataclass(frozen=True, slots=True)
class BenchReport:
    machine: Machine
    project: str  # the manifest's path
    runs: int
    caches: tuple[Cache, ...]
    strategies: tuple[StrategyResult, ...] = ()
    pip_vs_uv: tuple[PipUv, ...] = ()
    interrupted: bool = False  # Ctrl-C: what is here is what finished
    notes: tuple[str, ...] = ()
    schema: int = SCHEMA_VERSION

    def strategy(self, name: StrategyName) -> StrategyResult | None:
        return next((s for s in self.strategies if s.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "machine": self.machine.to_dict(),
            "project": self.project,
            "runs": self.runs,
            "caches": list(self.caches),
            "interrupted": self.interrupted,
            "strategies": [s.to_dict() for s in self.strategies],
            "pip_vs_uv": [p.to_dict() for p in self.pip_vs_uv],
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class Step:
    """Progress: step ``index`` of ``total`` (1-based) is starting; ``label`` says what it is."""

    index: int
    total: int
    label: str


OnStep = Callable[[Step], None]
