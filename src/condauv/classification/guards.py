"""Mixes of managers that break environments even when both resolutions succeed."""

from __future__ import annotations

import fnmatch
from collections.abc import Collection

from condauv.errors import ConflictError

__all__ = ["check_cuda_family"]

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
