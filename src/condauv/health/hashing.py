"""Hashing a prefix's files against their records, fast: in parallel, and remembering the files
that hashed right (by inode, size, mtime and ctime) so that a second check reads almost nothing.

Only regular files are read: a recorded file that is now a link (maybe pointing out of the
prefix), a FIFO or a device counts as changed, never as something to open; so does a recorded
path with a NUL or one that leaves the prefix (``..``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from stat import S_ISREG

from condauv.health.dists import record_digest

__all__ = ["CHANGED", "MISSING", "OK", "verify_files"]

#: The states of one file.
OK, MISSING, CHANGED = 0, 1, 2
#: files up to this size are hashed from one read; larger ones in chunks.
_SMALL = 1 << 20
#: The stat cache's format.
_SCHEMA = 1


def verify_files(jobs: Sequence[tuple[str, str | None, int | None, bool]], prefix: Path) -> list[int]:
    """The state of every (path, expected digest, size, presence only) job.

    A file whose inode, size, mtime and ctime are those it had when it last hashed right is
    not read again (git's index does the same): ctime cannot be set back by a user, and an
    edit through a hard link changes it too. Files changed in the last seconds are never
    remembered, so an edit in the same clock tick as the hashing cannot hide.
    """
    if not jobs:
        return []
    cache = _StatCache.load(prefix)
    workers = min(4, os.cpu_count() or 2)
    chunk = max(1, -(-len(jobs) // (workers * 4)))
    pieces = [jobs[i : i + chunk] for i in range(0, len(jobs), chunk)]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="condauv-check") as pool:
        states = [state for part in pool.map(cache.verify_some, pieces) for state in part]
    cache.save()
    return states


class _StatCache:
    """Files known good: path -> (inode, size, mtime_ns, ctime_ns, digest), per prefix, in condauv's cache."""

    def __init__(self, prefix: Path, path: Path | None, known: dict[str, list[object]]) -> None:
        self.prefix = prefix
        self.path = path
        self.known = known
        self.seen: dict[str, list[object]] = {}
        self.horizon = time.time_ns() - 2_000_000_000
        self.root = os.path.normpath(prefix).rstrip(os.sep) + os.sep

    @classmethod
    def load(cls, prefix: Path) -> _StatCache:
        from condauv import paths

        key = hashlib.sha256(str(prefix).encode()).hexdigest()[:24]
        path = paths.cache_dir() / "check" / f"{key}.json"
        try:
            raw = json.loads(path.read_bytes())
            known = raw["files"] if raw.get("schema") == _SCHEMA and raw.get("prefix") == str(prefix) else {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            known = {}
        return cls(prefix, path, known if isinstance(known, dict) else {})

    def save(self) -> None:
        if self.path is None or self.seen == self.known:
            return
        from condauv import _fs

        with contextlib.suppress(OSError):  # a read-only cache only makes the next check slower
            _fs.atomic_write_text(
                self.path, json.dumps({"schema": _SCHEMA, "prefix": str(self.prefix), "files": self.seen})
            )

    def verify_some(self, jobs: Iterable[tuple[str, str | None, int | None, bool]]) -> list[int]:
        return [self.verify(*job) for job in jobs]

    def verify(self, path: str, expected: str | None, size: int | None, presence_only: bool) -> int:
        if "\x00" in path or not os.path.normpath(path).startswith(self.root):
            return CHANGED  # a record's path that is no path, or leaves the prefix: never opened
        if presence_only:
            return OK if os.path.lexists(path) else MISSING
        try:
            stat = os.lstat(path)
            if not S_ISREG(stat.st_mode):
                return CHANGED
            if size is not None and stat.st_size != size:
                return CHANGED
            if expected is None:
                return OK
            key = [stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, expected]
            if self.known.get(path) == key:
                self.seen[path] = key
                return OK
            with open(path, "rb") as handle:  # noqa: PTH123 - the hot loop of check: no Path objects
                if stat.st_size <= _SMALL:
                    digest = hashlib.sha256(handle.read())
                else:
                    digest = hashlib.file_digest(handle, "sha256")
        except FileNotFoundError:
            return MISSING
        except OSError:
            return CHANGED
        actual = digest.hexdigest() if len(expected) == 64 else record_digest(digest.digest())
        if actual != expected:
            return CHANGED
        if max(stat.st_mtime_ns, stat.st_ctime_ns) < self.horizon:
            self.seen[path] = key
        return OK
