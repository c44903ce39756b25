"""Hashing a prefix's files against their records, fast: on every core, and remembering the files
that hashed right (by inode, size, mtime and ctime) so that a second check reads almost nothing.

Only regular files are read: a recorded file that is now a link (maybe pointing out of the
prefix), a FIFO or a device counts as changed, never as something to open; so does a recorded
path with a NUL or one that leaves the prefix (``..``). Files are opened without following a
link and without waiting, so one swapped in after its ``lstat`` is not followed or waited on
either.

Hashing is GIL-bound for small files (the open, read and close around each one), so threads do
not help there: a large check is split between forked processes, each hashing its share and
sending back one byte per file. A process with other threads (py-rattler's runtime, in a sync)
never forks: the child would inherit their locks held and never released. It hashes large files
in a thread (hashlib and the reads release the GIL) and small ones in the calling thread.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import itertools
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from stat import S_IFREG
from typing import TypeVar

from condauv.health.dists import record_digest

__all__ = ["CHANGED", "MISSING", "OK", "verify_files"]

#: The states of one file.
OK, MISSING, CHANGED = 0, 1, 2
#: files up to this size are hashed from one read; larger ones in chunks.
_SMALL = 1 << 20
_CHUNK = 1 << 20
#: Files changed this recently (ns) are never remembered: an edit in the same clock tick as the
#: hashing would keep the stat that was remembered.
_SETTLE_NS = 2_000_000_000
#: The stat cache's first field: its format. The file is NUL-separated UTF-8: this, the prefix,
#: then pairs of (path, "inode:size:mtime_ns:ctime_ns:expected digest").
_FORMAT = "condauv-stat-cache 2"
#: What one file costs beyond its bytes (open, read, close, compare), in bytes hashed meanwhile.
_FILE_COST = 12 << 10
#: Below this cost (bytes, plus _FILE_COST a file) one process hashes everything: a fork and
#: the results' way back cost more than they save.
_PARALLEL_COST = 48 << 20
#: What one file costs when its stat says it is known good (lstat, compare), in bytes hashed.
_STAT_COST = 6 << 10
#: From this many files on, a process with no other thread verifies them in forked processes.
_PARALLEL_JOBS = 8000
#: ``st_mode``'s file type bits (``stat.S_IFMT`` without its call).
_S_IFMT = 0o170000
#: Never hash a symlink's target, never wait on a FIFO, never leak the descriptor to a child.
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC

#: (job index, path to open: relative to the prefix's descriptor, expected digest, size, cache
#: value, whether it may be remembered)
_Pending = tuple[int, str, str, int, str, bool]
#: (path to open, expected digest, size)
_Share = Sequence[tuple[str, str, int]]
_T = TypeVar("_T")


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
    try:
        root: int | None = os.open(cache.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        root = None  # paths stay absolute: each lstat fails as it would have
    try:
        workers = _workers() if len(jobs) >= _PARALLEL_JOBS else 1
        if workers > 1 and _single_threaded():
            states = _verify_forked(cache, jobs, root, workers)
        else:
            states = cache.verify(jobs, root)
    finally:
        if root is not None:
            os.close(root)
    cache.save()
    return states


class _StatCache:
    """Files known good: path -> "inode:size:mtime_ns:ctime_ns:digest", per prefix, in condauv's cache."""

    def __init__(self, prefix: Path, path: Path | None, known: dict[str, str]) -> None:
        self.prefix = prefix
        self.path = path
        self.known = known
        self.seen: dict[str, str] = {}
        self.changed = False  # whether a file was hashed: what the file says changes
        #: how many entries were found good again, when ``seen`` does not hold them all (forked)
        self.remembered: int | None = None
        self.horizon = time.time_ns() - _SETTLE_NS
        self.root = os.path.normpath(prefix).rstrip(os.sep) + os.sep

    @classmethod
    def load(cls, prefix: Path) -> _StatCache:
        from condauv import paths

        key = hashlib.sha256(str(prefix).encode()).hexdigest()[:24]
        path = paths.cache_dir() / "check" / f"{key}.stat"
        try:
            fields = path.read_bytes().decode("utf-8", "surrogatepass").split("\x00")
        except (OSError, ValueError):  # missing, unreadable, or no UTF-8: damaged
            fields = []
        known: dict[str, str] = {}
        if len(fields) % 2 == 0 and fields[:2] == [_FORMAT, str(prefix)]:
            known = dict(zip(fields[2::2], fields[3::2], strict=True))
        return cls(prefix, path, known)

    def verify(
        self,
        jobs: Sequence[tuple[str, str | None, int | None, bool]],
        root: int | None,
        *,
        parallel: bool = True,
    ) -> list[int]:
        """Every job's state; the files that hashed right are remembered in ``seen``."""
        states, pending = self.sweep(jobs, root)
        if not pending:
            return states
        self.changed = True
        share = [(target, expected, size) for _, target, expected, size, _, _ in pending]
        found = _hash_pending(root, share) if parallel else _hash_share(root, share)
        for (index, _, _, _, value, settled), state in zip(pending, found, strict=True):
            states[index] = state
            if state == OK and settled:
                self.seen[jobs[index][0]] = value
        return states

    def sweep(
        self, jobs: Sequence[tuple[str, str | None, int | None, bool]], root: int | None
    ) -> tuple[list[int], list[_Pending]]:
        """Every job's state from its ``lstat`` alone, and those whose content must be hashed.

        Tens of thousands of jobs: the states start as :data:`OK` (0) and only the others are
        written; the file type is tested without a call.
        """
        states = bytearray(len(jobs))
        pending: list[_Pending] = []
        prefix, cut = self.root, len(self.root) if root is not None else 0
        start = len(prefix) - 1  # the prefix's last "/"
        seen, horizon, lstat, remembered = self.seen, self.horizon, os.lstat, self.known.get
        index = -1
        for path, expected, size, presence_only in jobs:
            index += 1
            # the common case, decided without normpath: inside the prefix, no "." or ".." part
            # below it (the prefix itself may have one: ``.condauv/env``)
            if path.startswith(prefix) and path.find("/.", start) < 0 and "\x00" not in path:
                target = path[cut:]
            else:
                normal = os.path.normpath(path) if "\x00" not in path else ""
                if not normal.startswith(prefix):
                    states[index] = CHANGED  # a record's path that is no path, or leaves the prefix
                    continue
                target = normal[cut:]
            if not target or target == prefix:
                states[index] = CHANGED  # the prefix itself
                continue
            try:
                stat = lstat(target, dir_fd=root)
            except FileNotFoundError:
                states[index] = MISSING
                continue
            except OSError:
                states[index] = MISSING if presence_only else CHANGED
                continue
            if presence_only:
                continue
            if stat.st_mode & _S_IFMT != S_IFREG or (size is not None and stat.st_size != size):
                states[index] = CHANGED
                continue
            if expected is None:
                continue  # a regular file of its size: all a record without a digest says
            value = f"{stat.st_ino}:{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}:{expected}"
            if remembered(path) == value:
                seen[path] = value
                continue
            settled = max(stat.st_mtime_ns, stat.st_ctime_ns) < horizon
            pending.append((index, target, expected, stat.st_size, value, settled))
            states[index] = CHANGED  # until hashed
        return list(states), pending

    def save(self) -> None:
        remembered = len(self.seen) if self.remembered is None else self.remembered
        if self.path is None or (not self.changed and remembered == len(self.known)):
            return  # every entry read back as it was: the file already says this
        from condauv import _fs

        fields = [_FORMAT, str(self.prefix)]
        for path, value in self.seen.items():
            if "\x00" not in value:  # a record's digest with a NUL: not remembered, hashed each time
                fields += (path, value)
        # surrogatepass: a file name that is no UTF-8 (os.fsdecode's surrogates) round-trips too
        data = "\x00".join(fields).encode("utf-8", "surrogatepass")
        with contextlib.suppress(OSError):  # a read-only cache only makes the next check slower
            _fs.atomic_write_bytes(self.path, data, durable=False)
            self.path.with_suffix(".json").unlink(missing_ok=True)  # the format before this one


def _hash_one(root: int | None, target: str, expected: str, size: int) -> int:
    """One file's state from its content; ``size`` is its ``lstat``'s, which the file may have
    outgrown since: it is read to its end either way."""
    try:
        fd = os.open(target, _OPEN_FLAGS, dir_fd=root)
    except FileNotFoundError:
        return MISSING
    except OSError:
        return CHANGED  # a link swapped in (ELOOP), a permission denied
    try:
        if size <= _SMALL:
            data = os.read(fd, size + 1)  # one read: the size, and a byte more to see it ended
            digest = hashlib.sha256(data)
            if len(data) != size:  # it changed since its lstat: read on to the end
                while data:
                    data = os.read(fd, _CHUNK)
                    digest.update(data)
        else:
            digest = hashlib.sha256()
            buffer = bytearray(_CHUNK)
            view = memoryview(buffer)
            while count := os.readv(fd, [buffer]):
                digest.update(view[:count])
    except OSError:
        return CHANGED  # a folder swapped in (EISDIR), an I/O error
    finally:
        os.close(fd)
    actual = digest.hexdigest() if len(expected) == 64 else record_digest(digest.digest())
    return OK if actual == expected else CHANGED


def _hash_share(root: int | None, share: _Share) -> bytes:
    return bytes(_hash_one(root, target, expected, size) for target, expected, size in share)


def _hash_pending(root: int | None, share: _Share) -> bytes:
    """The states of ``share``'s files, hashed on every core when it is worth it."""
    workers = _workers()
    if workers < 2 or sum(size for _, _, size in share) + _FILE_COST * len(share) < _PARALLEL_COST:
        return _hash_share(root, share)
    if _single_threaded():
        return _hash_forked(root, share, workers)
    return _hash_threaded(root, share)


def _workers() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS has no affinity
        cores = os.cpu_count() or 1
    return min(4, cores)


def _single_threaded() -> bool:
    """Whether this process has no thread but the calling one, native threads included (Linux)."""
    if threading.active_count() != 1 or not sys.platform.startswith("linux"):
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1  # noqa: PTH208 - one call, no Path objects
    except OSError:
        return False


def _verify_forked(
    cache: _StatCache,
    jobs: Sequence[tuple[str, str | None, int | None, bool]],
    root: int | None,
    workers: int,
) -> list[int]:
    """:meth:`_StatCache.verify`, ``jobs`` cut in ``workers`` runs of about the same cost: the
    last ones in forked children, the first here. A run whose child failed (or could not start)
    is verified here."""
    known = cache.known
    costs = [
        _STAT_COST if path in known else _STAT_COST + _FILE_COST + (size or 0) for path, _, size, _ in jobs
    ]
    runs = _runs(costs, workers)
    states, answers = _in_children(
        [partial(_verify_run, cache, jobs[run], root) for run in runs[1:]],
        lambda: cache.verify(jobs[runs[0]], root, parallel=False),
    )
    parsed = [_parse_run(answer, run.stop - run.start) for answer, run in zip(answers, runs[1:], strict=True)]
    remembered = len(cache.seen) + sum(p[1] for p in parsed if p is not None)
    rewrite = cache.changed or any(p is None or p[0] for p in parsed) or remembered != len(known)
    for run, answer in zip(runs[1:], parsed, strict=True):
        if answer is None:
            states += cache.verify(jobs[run], root, parallel=False)
            continue
        changed, _, run_states, values = answer
        states += run_states
        cache.changed |= changed
        if rewrite:  # the cache file is written again, all of it: what the children found good too
            paths = (path for path, _, _, _ in jobs[run])
            texts = values.decode("utf-8", "surrogatepass").split("\x00")
            cache.seen.update((p, v) for p, v in zip(paths, texts, strict=True) if v)
    if not rewrite:
        cache.remembered = remembered
    return states


def _parse_run(answer: bytes | None, count: int) -> tuple[bool, int, bytes, bytes] | None:
    """A child's :func:`_verify_run` answer as (changed, entries remembered, states, values)."""
    header, _, rest = (answer or b"").partition(b"\n")
    changed, _, remembered = header.partition(b" ")
    if answer is None or changed not in (b"0", b"1") or not remembered.isdigit() or len(rest) < count:
        return None
    return changed == b"1", int(remembered), rest[:count], rest[count:]


def _verify_run(
    cache: _StatCache, jobs: Sequence[tuple[str, str | None, int | None, bool]], root: int | None
) -> bytes:
    """A child's answer for its run: "changed count" on a line, one state byte a job, then the
    value remembered for each job ("" for none), NUL-separated."""
    states = cache.verify(jobs, root, parallel=False)
    seen = cache.seen
    values = [seen.get(path, "") for path, _, _, _ in jobs]
    header = f"{int(cache.changed)} {len(seen)}\n".encode()
    return header + bytes(states) + "\x00".join(values).encode("utf-8", "surrogatepass")


def _hash_forked(root: int | None, share: _Share, workers: int) -> bytes:
    """``share`` cut in ``workers`` runs of about the same cost: the last ones hashed by forked
    children, the first here. A run whose child failed (or could not start) is hashed here."""
    runs = _runs([size + _FILE_COST for _, _, size in share], workers)
    mine, answers = _in_children(
        [partial(_hash_share, root, share[run]) for run in runs[1:]],
        lambda: _hash_share(root, share[runs[0]]),
    )
    states = bytearray(mine)
    for run, answer in zip(runs[1:], answers, strict=True):
        ok = answer is not None and len(answer) == run.stop - run.start
        states += answer if answer is not None and ok else _hash_share(root, share[run])
    return bytes(states)


def _in_children(
    works: Sequence[Callable[[], bytes]], here: Callable[[], _T]
) -> tuple[_T, list[bytes | None]]:
    """``here()``'s result, and each of ``works``' as a forked child sent it (``None``: the child
    failed or could not start). No child outlives the call, interrupted or not."""
    children: list[tuple[int, int] | None] = []
    answers: list[bytes | None] = []
    try:
        children.extend(_fork(work) for work in works)
        mine = here()
    except BaseException:
        for child in children:
            if child is not None:
                _abandon(*child)
        raise
    for position, child in enumerate(children):
        try:
            answers.append(None if child is None else _collect(*child))
        except BaseException:
            for other in children[position + 1 :]:
                if other is not None:
                    _abandon(*other)
            raise
    return mine, answers


def _fork(work: Callable[[], bytes]) -> tuple[int, int] | None:
    """A child process doing ``work`` and sending its bytes down a pipe: (pid, read end)."""
    read, write = os.pipe()
    try:
        pid = os.fork()
    except OSError:  # no process to spare: the caller does the work itself
        os.close(read)
        os.close(write)
        return None
    if pid == 0:  # the child: work, send, and exit without the parent's cleanups
        code = 1
        try:
            os.close(read)
            view = memoryview(work())
            while view:
                view = view[os.write(write, view) :]
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    return pid, read


def _collect(pid: int, read: int) -> bytes | None:
    """What child ``pid`` sent, or ``None`` when it failed; it is waited for either way."""
    chunks = []
    try:
        while chunk := os.read(read, 1 << 16):
            chunks.append(chunk)
    except BaseException:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        raise
    finally:
        os.close(read)
        _, status = os.waitpid(pid, 0)
    return b"".join(chunks) if os.waitstatus_to_exitcode(status) == 0 else None


def _abandon(pid: int, read: int) -> None:
    with contextlib.suppress(OSError):
        os.close(read)
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def _runs(costs: Sequence[int], count: int) -> list[slice]:
    """Indices of ``costs`` cut in ``count`` consecutive runs of about the same total: the
    ``k``-th run ends at the first index whose running total reaches ``k / count`` of it."""
    totals = list(itertools.accumulate(costs))
    total = totals[-1] if totals else 0
    runs: list[slice] = []
    start = 0
    for k in range(1, count):
        # the first index at or after ``start`` whose running total times ``count`` reaches
        # ``total * k`` (integers: ceil of the division); one index a run at least
        end = max(bisect.bisect_left(totals, -(-total * k // count), start), start)
        if end >= len(totals):
            break
        runs.append(slice(start, end + 1))
        start = end + 1
    runs.append(slice(start, len(costs)))
    return runs


def _hash_threaded(root: int | None, share: _Share) -> bytes:
    """Large files in a thread (their reads and hashing release the GIL), small ones here."""
    large = [i for i, (_, _, size) in enumerate(share) if size > _SMALL]
    if not large:
        return _hash_share(root, share)
    found: list[bytes] = []
    worker = threading.Thread(
        target=lambda: found.append(_hash_share(root, [share[i] for i in large])),
        name="condauv-check",
        daemon=True,
    )
    worker.start()
    small = [i for i, (_, _, size) in enumerate(share) if size <= _SMALL]
    states = bytearray(len(share))
    for i, state in zip(small, _hash_share(root, [share[i] for i in small]), strict=True):
        states[i] = state
    worker.join()
    for i, state in zip(
        large, found[0] if found else _hash_share(root, [share[i] for i in large]), strict=True
    ):
        states[i] = state
    return bytes(states)
