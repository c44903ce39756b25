"""Removing a stray distribution that uv or pip installed over conda's files (sync's repairs)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["remove_distribution"]


def remove_distribution(prefix: Path, folder: Path, *, keep: set[str]) -> None:
    """Delete a dist-info folder and the files its RECORD lists, except prefix paths in ``keep``.

    Used on strays that uv or pip installed over conda's files: uninstalling them by name
    would pick either copy, and RECORD-less ones cannot be uninstalled by an installer.
    A RECORD is untrusted input: each entry's folder is resolved (symlinks followed) and the
    entry deleted only when that folder lies inside the prefix; a symlink listed is removed,
    never what it points to; entries that make no sense are skipped, never an error.
    """
    import contextlib
    import shutil

    from condauv.health.dists import read_record
    from condauv.validation import contained

    real_prefix = Path(os.path.realpath(prefix))
    real_folder = Path(os.path.realpath(folder))
    site = Path(os.path.realpath(folder.parent))
    if not contained(prefix, folder.parent) or folder.is_symlink():
        return
    parents: set[Path] = set()
    for entry in read_record(folder) or ():
        if not entry.path or "\x00" in entry.path:
            continue
        lexical = Path(os.path.normpath(site / entry.path))
        parent = Path(os.path.realpath(lexical.parent))
        target = parent / lexical.name
        if not parent.is_relative_to(real_prefix) or target.is_relative_to(real_folder):
            continue
        if {target.relative_to(real_prefix).as_posix(), _prefix_relative(lexical, real_prefix)} & keep:
            continue
        with contextlib.suppress(OSError):
            if target.is_symlink() or target.is_file():
                target.unlink()
                parents.add(parent)
    shutil.rmtree(folder, ignore_errors=True)
    _remove_empty_folders(parents, site)


def _remove_empty_folders(parents: set[Path], site: Path) -> None:
    """Remove the folders that deleting files emptied, up to ``site`` (never through a link)."""
    for parent in sorted(parents, key=lambda p: len(p.parts), reverse=True):
        for empty in (parent, *parent.parents):
            if empty == site or not empty.is_relative_to(site) or empty.is_symlink():
                break
            if not empty.is_dir():
                continue  # removed already, with a deeper folder that emptied it
            try:
                if any(empty.iterdir()):
                    break
                empty.rmdir()
            except OSError:
                break


def _prefix_relative(path: Path, real_prefix: Path) -> str:
    return path.relative_to(real_prefix).as_posix() if path.is_relative_to(real_prefix) else ""
