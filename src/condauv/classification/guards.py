"""Mixes of managers that break environments even when both resolutions succeed."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Collection, Mapping

from condauv.errors import ConflictError
from condauv.platforms import torch_backend_for_cuda

__all__ = ["check_cuda_family", "check_cuda_line"]

_CONDA_CUDA = ("cudatoolkit", "cuda-toolkit", "cudnn", "nccl", "cuda-cudart", "cuda-runtime", "libcublas")
_PYPI_CUDA = ("nvidia-*-cu1*", "nvidia-*-cu2*", "nvidia-cudnn*", "nvidia-nccl*")


def check_cuda_family(conda: Collection[str], pypi: Collection[str], subdir: str) -> None:
    """Refuse CUDA libraries from both sides: conda's cudatoolkit/cudnn beside PyPI's nvidia-*
    wheels load two copies of libcudart/libcudnn, and which one wins depends on import order."""
    from_conda = sorted(n for n in conda if n in _CONDA_CUDA)
    from_pypi = sorted(n for n in pypi if any(fnmatch.fnmatchcase(n, p) for p in _PYPI_CUDA))
    if from_conda and from_pypi:
        raise ConflictError(
            f"CUDA libraries from both managers on {subdir}: conda {', '.join(from_conda)} "
            f"and PyPI {', '.join(from_pypi)}",
            hint=(
                "take CUDA from one side: keep conda's (add the package that pulls the nvidia-* "
                'wheels with --conda, e.g. pytorch) or add [classify] "nvidia-*" = "pypi" and drop '
                "cudatoolkit/cudnn from the manifest"
            ),
        )


_NVIDIA_LINE = re.compile(r"^nvidia-[a-z0-9-]+-cu([0-9]+)$")


def check_cuda_line(
    conda: Mapping[str, str],
    pypi: Collection[str],
    torch_backend: str | None,
    subdir: str,
    *,
    driver: str | None = None,
) -> None:
    """Refuse two CUDA lines in one environment: conda's ``cuda-version`` (``conda``: name ->
    version), the PyPI torch backend (``cu126``: CUDA 12) and ``nvidia-*-cu11`` wheels must
    name one CUDA major version; ``auto`` and ``cpu`` name none. With ``driver`` (the target's
    ``[system-requirements] cuda``), no PyPI line may be newer than that driver's major version:
    conda's packages say so to the solver through ``__cuda``, PyPI's wheels cannot; nor may the
    backend be ``auto``, which uv picks from the LOCKING machine's driver (or ``cpu`` without one)."""
    if torch_backend == "auto" and driver:
        line = torch_backend_for_cuda(driver)
        way_out = (
            f'set torch-backend = "{line}" (the backend of that line)'
            if line
            else f"uv has no torch backend of CUDA {driver}"
        )
        raise ConflictError(
            "[pypi-options] torch-backend = \"auto\" picks PyTorch's index by the locking machine's "
            f'driver, not by the target\'s ([system-requirements] cuda = "{driver}") on {subdir}',
            hint=f'{way_out}, or torch-backend = "cpu" for CPU-only wheels',
        )
    pypi_lines: list[tuple[int, str]] = []
    backend = re.fullmatch(r"cu([0-9]+)([0-9])", torch_backend or "")
    if backend:
        pypi_lines.append((int(backend.group(1)), f'[pypi-options] torch-backend = "{torch_backend}"'))
    for name in sorted(pypi):
        wheel = _NVIDIA_LINE.match(name)
        if wheel:
            pypi_lines.append((int(wheel.group(1)), f"the PyPI wheel {name}"))
    lines = list(pypi_lines)
    if conda.get("cuda-version"):
        lines.insert(
            0, (int(conda["cuda-version"].split(".")[0]), f"conda's cuda-version {conda['cuda-version']}")
        )
    driver_major = int(driver.split(".")[0]) if driver and driver.split(".")[0].isdigit() else None
    newer = [(major, what) for major, what in pypi_lines if driver_major is not None and major > driver_major]
    if newer:
        raise ConflictError(
            f'the target\'s CUDA driver ([system-requirements] cuda = "{driver}") cannot run '
            f"{newer[0][1]} (CUDA {newer[0][0]}) on {subdir}",
            hint=f"raise cuda in [system-requirements] to the line the PyPI side needs, or pick a "
            f"torch backend and nvidia-* wheels of CUDA {driver_major} or older",
        )
    majors = {major for major, _ in lines}
    if len(majors) < 2:
        return
    named = "; ".join(f"{what} (CUDA {major})" for major, what in lines)
    way_out = (
        f'set torch-backend = "cu{conda["cuda-version"].replace(".", "")[:3]}" (a backend of that line)'
        if conda.get("cuda-version") and backend
        else "pin cuda-version in [conda-dependencies] to the line the PyPI side uses"
    )
    raise ConflictError(
        f"two CUDA lines in one environment on {subdir}: {named}",
        hint=f"make both sides name one CUDA line: {way_out}, or change cuda-version to match",
    )
