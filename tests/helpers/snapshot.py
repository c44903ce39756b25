"""Snapshots of folders, to prove that a refused command changed nothing (inside or outside)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["tree"]


def tree(folder: Path, *, inodes: bool = False) -> dict[str, str]:
    """Every path under ``folder`` -> what it is: a link's target, a file's sha256 (and inode with
    ``inodes``: a file replaced by an identical copy shows), or ``dir``."""
    seen: dict[str, str] = {}
    for root, dirs, names in os.walk(folder):
        for item in (*dirs, *names):
            path = Path(root) / item
            key = path.relative_to(folder).as_posix()
            if path.is_symlink():
                seen[key] = "-> " + str(path.readlink())
            elif path.is_file():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                seen[key] = f"{digest} {path.stat().st_ino}" if inodes else digest
            else:
                seen[key] = "dir"
    return seen
