"""Conda and PyPI spell some packages differently; the built-in table says how.

The ground truth is the dist-info inside a conda artifact (read at lock time); this table is
the first guess before an artifact has been read, and routes names a user writes.
"""

from __future__ import annotations

from condauv.classification.knowledge import knowledge

__all__ = ["conda_name_for", "pypi_names_for"]


def pypi_names_for(conda_name: str) -> tuple[str, ...]:
    """The PyPI distributions a conda package is expected to provide (first guess)."""
    return knowledge().pypi_names_for(conda_name)


def conda_name_for(name: str) -> str:
    """The conda spelling of a name a user may have written in PyPI's spelling."""
    return knowledge().conda_name_for(name)
