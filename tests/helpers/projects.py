"""Small helpers over project folders in tests."""

from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ["clone_project"]


def clone_project(folder: Path, name: str) -> Path:
    """The project's manifest and lock in a fresh folder beside it: a clone elsewhere, no prefix yet."""
    other = folder.parent / name
    other.mkdir()
    for file in ("condauv.toml", "condauv.lock"):
        shutil.copy2(folder / file, other / file)
    return other
