"""Conda and PyPI spell some packages differently; this first-guess table says how.

The ground truth is the dist-info inside a conda artifact (see :mod:`condauv.conda.owned`);
this table is used before an artifact has been read, and to route names a user writes.
"""

from __future__ import annotations

from packaging.utils import canonicalize_name

__all__ = ["CONDA_TO_PYPI", "conda_name_for", "pypi_names_for"]

#: conda name -> the PyPI distributions it provides ("" = none: not a Python distribution).
CONDA_TO_PYPI: dict[str, tuple[str, ...]] = {
    "pytorch": ("torch",),
    "pytorch-cpu": ("torch",),
    "pytorch-gpu": ("torch",),
    "pytorch-cuda": (),
    "cudatoolkit": (),
    "cuda-toolkit": (),
    "cudnn": (),
    "opencv": ("opencv-python",),
    "py-opencv": ("opencv-python",),
    "matplotlib-base": ("matplotlib",),
    "python": (),
    "pip": ("pip",),
}

_PYPI_TO_CONDA = {"torch": "pytorch", "opencv-python": "opencv", "opencv-python-headless": "opencv"}


def pypi_names_for(conda_name: str) -> tuple[str, ...]:
    """The PyPI distributions a conda package is expected to provide (first guess)."""
    return CONDA_TO_PYPI.get(conda_name, (canonicalize_name(conda_name),))


def conda_name_for(name: str) -> str:
    """The conda spelling of a name a user may have written in PyPI's spelling."""
    return _PYPI_TO_CONDA.get(canonicalize_name(name), canonicalize_name(name))
