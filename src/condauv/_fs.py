"""Writes that never leave a half-written file behind, and a project-wide lock."""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

__all__ = ["atomic_write_many", "atomic_write_text", "exclusive_lock"]


def _write_temp(path: Path, text: str, *, durable: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        if path.exists():
            Path(name).chmod(path.stat().st_mode & 0o777)
        else:
            Path(name).chmod(0o644)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def atomic_write_text(path: Path, text: str, *, durable: bool = True) -> None:
    """Replace ``path`` with ``text`` in one step: readers see the old file or the new one.
    ``durable=False`` skips the fsync: for caches, where a lost write only costs a refetch."""
    _write_temp(path, text, durable=durable).replace(path)


def atomic_write_many(files: Sequence[tuple[Path, str]]) -> None:
    """Write several files, all staged before any is replaced, so a failed write changes none."""
    staged: list[tuple[Path, Path]] = []
    try:
        for path, text in files:
            staged.append((_write_temp(path, text), path))
    except BaseException:
        for temp, _ in staged:
            temp.unlink(missing_ok=True)
        raise
    for temp, path in staged:
        temp.replace(path)


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an advisory lock on ``path`` so that two condauv processes never sync one prefix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
