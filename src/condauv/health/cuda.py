"""CUDA as the environment will meet it: the driver (``__cuda``), ``nvidia-smi``, and what needs CUDA.

The driver's CUDA version comes from py-rattler's virtual-package detection, the same number the
solver used, so ``CONDA_OVERRIDE_CUDA`` means here what it means to ``condauv lock``. What the
environment *requires* is read from the prefix itself (conda-meta and dist-info names), so a
prefix without a manifest can be checked too.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from condauv import _process
from condauv.conda.prefix import InstalledConda

__all__ = [
    "CudaRequirement",
    "DriverCuda",
    "NvidiaSmi",
    "cuda_dependencies",
    "cuda_requirement",
    "detect_driver_cuda",
    "major_minor",
    "newer_than",
    "parse_nvidia_smi",
    "query_nvidia_smi",
]

#: conda packages whose presence means the environment wants a CUDA driver.
_CONDA_CUDA_NAMES = frozenset({"pytorch-cuda", "cudatoolkit"})
#: conda packages whose version says which CUDA the environment was built for, strongest first.
_VERSION_SOURCES = ("pytorch-cuda", "cuda-version", "cudatoolkit")
#: PyPI wheels of NVIDIA's CUDA libraries: nvidia-cublas-cu12, nvidia-cudnn-cu11, ...
_NVIDIA_WHEEL = re.compile(r"^nvidia-[a-z0-9-]+-cu\d+$")


@dataclass(frozen=True, slots=True)
class DriverCuda:
    """The ``__cuda`` virtual package: the newest CUDA the driver supports, or None (no CUDA)."""

    version: str | None
    source: str  # "override" (CONDA_OVERRIDE_CUDA) or "detected"


@dataclass(frozen=True, slots=True)
class NvidiaSmi:
    driver_version: str | None = None
    cuda_version: str | None = None
    gpus: tuple[str, ...] = ()
    error: str | None = None  # nvidia-smi is there but failed (no device, driver mismatch)

    def to_dict(self) -> dict[str, object]:
        return {
            "driver_version": self.driver_version,
            "cuda_version": self.cuda_version,
            "gpus": list(self.gpus),
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class CudaRequirement:
    """Why the environment needs CUDA (empty: it does not) and the CUDA version it was built for."""

    reasons: tuple[str, ...] = ()
    version: str | None = None
    version_from: str | None = None  # "cudatoolkit 12.1.0"
    #: (lowest CUDA, package) of each conda record that depends on ``__cuda``
    floors: tuple[tuple[str | None, str], ...] = ()

    @property
    def required(self) -> bool:
        return bool(self.reasons)


def detect_driver_cuda() -> DriverCuda:
    """``__cuda`` as the solver sees it, honouring ``CONDA_OVERRIDE_CUDA`` (empty: no CUDA).

    One source of virtual packages for ``lock``, ``check`` and ``doctor``:
    :func:`condauv.conda.engine.virtual_packages`.
    """
    from condauv.conda.engine import virtual_packages
    from condauv.platforms import current_subdir

    source = "override" if "CONDA_OVERRIDE_CUDA" in os.environ else "detected"
    for generic in virtual_packages(current_subdir()):
        if generic.name.normalized == "__cuda":
            return DriverCuda(str(generic.version), source)
    return DriverCuda(None, source)


def major_minor(version: str | None) -> tuple[int, int] | None:
    """``"12.1.0"`` -> ``(12, 1)``; ``"12"`` -> ``(12, 0)``; None for anything else."""
    if not version:
        return None
    match = re.match(r"^\s*(\d+)(?:\.(\d+))?", version)
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2) or 0)


def newer_than(required: str | None, available: str | None) -> bool:
    """True when ``required`` (major.minor) is newer than ``available``: the driver is too old."""
    need, have = major_minor(required), major_minor(available)
    return need is not None and have is not None and need > have


def cuda_requirement(
    conda: Mapping[str, InstalledConda],
    pypi_names: Iterable[str],
    cuda_depends: Iterable[tuple[str, str]] = (),
) -> CudaRequirement:
    """What in the prefix needs a CUDA driver: conda's CUDA packages, a CUDA build of pytorch,
    a conda record that depends on ``__cuda`` (``cuda_depends``: (package label, spec), the way
    conda-forge's CUDA builds say it), or NVIDIA's ``nvidia-*-cu1x`` wheels; and the CUDA
    version the conda side was built for."""
    depends = list(cuda_depends)
    floors = tuple((_floor(spec), label) for label, spec in depends)
    reasons = [f"{label}: {spec}" for label, spec in depends]
    for name, package in sorted(conda.items()):
        cuda_package = name in _CONDA_CUDA_NAMES or name.startswith("cuda-")
        if cuda_package or (name == "pytorch" and "cuda" in package.build):
            reasons.append(f"{name} {package.version} ({package.build})")
    reasons += [f"{name} (PyPI)" for name in sorted(set(pypi_names)) if _NVIDIA_WHEEL.match(name)]
    for name in _VERSION_SOURCES:
        if name in conda:
            version = conda[name].version
            return CudaRequirement(tuple(reasons), version, f"{name} {version}", floors)
    return CudaRequirement(tuple(reasons), floors=floors)


def cuda_dependencies(depends: Mapping[str, Iterable[str]]) -> list[tuple[str, str]]:
    """(package label, spec) of every ``__cuda`` spec among the records' ``depends`` (label -> specs)."""
    found = []
    for label, specs in depends.items():
        for spec in specs:
            if spec.strip().partition(" ")[0] == "__cuda":
                found.append((label, spec.strip()))
    return found


def _floor(spec: str) -> str | None:
    """The lowest CUDA a ``__cuda`` spec admits, as major.minor: ``__cuda >=12`` -> ``12.0``."""
    lowest = None
    for part in re.split(r"[,|]", spec.partition(" ")[2]):
        match = re.match(r"^\s*(?:>=|==|=)?\s*(\d+(?:\.\d+)?)(?:\.\*)?\s*$", part)
        parsed = major_minor(match.group(1)) if match else None
        if parsed is not None and (lowest is None or parsed > lowest):
            lowest = parsed
    return f"{lowest[0]}.{lowest[1]}" if lowest else None


_DRIVER = re.compile(r"Driver Version:\s*([\d.]+)")
_CUDA = re.compile(r"CUDA Version:\s*([\d.]+)")
_GPU = re.compile(r"^GPU \d+:\s*(.+?)(?:\s+\(UUID:.*\))?\s*$")


def parse_nvidia_smi(summary: str, listing: str) -> NvidiaSmi:
    """Read ``nvidia-smi``'s header (driver and CUDA versions) and ``nvidia-smi -L`` (the GPUs)."""
    driver, cuda = _DRIVER.search(summary), _CUDA.search(summary)
    gpus = tuple(m.group(1) for line in listing.splitlines() if (m := _GPU.match(line.strip())))
    return NvidiaSmi(
        driver_version=driver.group(1) if driver else None,
        cuda_version=cuda.group(1) if cuda else None,
        gpus=gpus,
    )


def query_nvidia_smi(env: Mapping[str, str], *, timeout: float = 20) -> NvidiaSmi | None:
    """``nvidia-smi``'s view, or None when it is not on PATH (no NVIDIA driver installed)."""
    program = shutil.which("nvidia-smi", path=env.get("PATH"))
    if program is None:
        return None
    summary = _process.run(
        [program], what="nvidia-smi", env=env, inherit_env=False, check=False, timeout=timeout
    )
    if summary.timed_out or summary.returncode != 0:
        reason = f"timed out after {timeout:g} s" if summary.timed_out else f"exit {summary.returncode}"
        return NvidiaSmi(error=f"{reason}: {_process.last_line(summary.stdout + summary.stderr)}")
    listing = _process.run(
        [program, "-L"], what="nvidia-smi -L", env=env, inherit_env=False, check=False, timeout=timeout
    )
    return parse_nvidia_smi(summary.stdout, listing.stdout if listing.returncode == 0 else "")
