"""Writes that never leave a half-written file behind, locks between processes, and temporary
folders that a killed process does not leave behind for good."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import glob
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

__all__ = [
    "atomic_write_bytes",
    "atomic_write_many",
    "atomic_write_text",
    "exclusive_lock",
    "holds_lock",
    "is_stale_temp_dir",
    "remove_stale_temp_dirs",
    "remove_stale_temp_files",
    "report_waits",
    "scratch_dir",
    "shared_lock",
]

#: Called with a line saying whom a process waits for, when a lock is held by another process.
WaitReporter = Callable[[str], None]
_wait_reporter: WaitReporter | None = None
#: Locks this process holds, with their depth: a nested ``exclusive_lock`` on one path is free
#: (``add`` locks, then syncs, under one project lock; a second flock would wait on itself).
_held: dict[Path, int] = {}


#: In the name of every temp file condauv writes beside a file (``.condauv.toml.condauv-XXXX.tmp``):
#: the cleanup after a kill removes those and never a user's own ``.condauv.toml.notes.tmp``.
_TEMP_MARK = "condauv-"


def _write_temp(path: Path, text: str | bytes, *, durable: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.{_TEMP_MARK}", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:  # text: utf-8, newlines as written
            handle.write(text.encode("utf-8") if isinstance(text, str) else text)
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


def atomic_write_bytes(path: Path, data: bytes, *, durable: bool = True) -> None:
    """:func:`atomic_write_text` for bytes (images, archives)."""
    _write_temp(path, data, durable=durable).replace(path)


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


def report_waits(reporter: WaitReporter | None) -> None:
    """Where a process that must wait for another's lock says so (the CLI prints it on stderr)."""
    global _wait_reporter  # noqa: PLW0603 - one process-wide sink, set once by the CLI
    _wait_reporter = reporter


def holds_lock(path: Path) -> bool:
    """Whether this process holds the lock on ``path`` already."""
    return _held.get(path.absolute(), 0) > 0


@contextlib.contextmanager
def exclusive_lock(
    path: Path, *, holder: str | None = None, what: str = "the lock", note: Path | None = None
) -> Iterator[None]:
    """Hold an advisory lock on ``path`` (a file, created if missing, or a folder), re-entrant
    within this process. The kernel drops it when its holder dies, even by SIGKILL.

    ``holder`` (who holds it: pid and command) is written into ``note`` (default: the locked
    file itself) while the lock is held, so that a process that has to wait can say whom it
    waits for (through :func:`report_waits`). A folder is locked without writing into it.
    """
    with _flock(path, fcntl.LOCK_EX, holder=holder, what=what, note=note):
        yield


@contextlib.contextmanager
def shared_lock(path: Path, *, what: str = "the lock") -> Iterator[None]:
    """Hold a shared advisory lock on the file ``path``: any number of holders at once, none
    while an :func:`exclusive_lock` on it is held (and the reverse). Re-entrant in this process
    like :func:`exclusive_lock`; a holder waiting for an exclusive one is told whom it waits for
    (the exclusive holder's note in the file)."""
    with _flock(path, fcntl.LOCK_SH, holder=None, what=what, note=None):
        yield


@contextlib.contextmanager
def _flock(path: Path, mode: int, *, holder: str | None, what: str, note: Path | None) -> Iterator[None]:
    key = path.absolute()
    if _held.get(key, 0) > 0:
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    if path.is_dir():
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = _open_lock_file(path)
        note = note or path
    try:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            if _wait_reporter is not None:
                who = _read_note(note) or "another condauv process"
                _wait_reporter(f"waiting for {what} ({path}), held by {who}")
            fcntl.flock(fd, mode)
        _held[key] = 1
        try:
            if holder is not None and note is not None:
                _write_note(note, holder + "\n")
            yield
        finally:
            _held.pop(key, None)
            if holder is not None and note is not None:
                _write_note(note, "")
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _open_lock_file(path: Path) -> int:
    """The lock file, never through a link (``O_NOFOLLOW``: a link in its place is an error, not
    a file created wherever it points); read-only where it exists on a read-only file system
    (flock works on any descriptor), so that a sync with nothing to do still works there."""
    flags = os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | flags, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            from condauv.errors import UserError

            raise UserError(
                f"{path} is a symbolic link; condauv's lock file must be a file",
                hint="remove the link, then run the command again",
            ) from None
        if exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise
        return os.open(path, os.O_RDONLY | flags)


def _read_note(note: Path | None) -> str:
    if note is None:
        return ""
    try:
        with note.open(encoding="utf-8", errors="replace") as handle:
            return _one_line(handle.read(200))
    except OSError:
        return ""


def _write_note(note: Path, text: str) -> None:
    """In place (never replaced: a locked file must keep its inode); a note that cannot be
    written only costs the waiting process the holder's name."""
    with contextlib.suppress(OSError):
        note.parent.mkdir(parents=True, exist_ok=True)
        with note.open("a+", encoding="utf-8") as handle:
            handle.seek(0)
            handle.truncate()
            handle.write(text)


def _one_line(text: str) -> str:
    return " ".join(text.split())[:160]


# -- temporary files and folders ---------------------------------------------------------------

_HOST = re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname())[:64] or "host"


def _temp_root(*, package_cache: bool = False) -> Path:
    """Where this host's condauv processes keep their temp folders: the cache's ``tmp/``, or a
    folder inside the package cache (an archive extracted there moves into the cache in one
    rename, which needs one file system)."""
    from condauv import paths

    return paths.conda_pkgs_dir() / ".condauv-tmp" if package_cache else paths.cache_dir() / "tmp"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _process_temp_dir(*, package_cache: bool = False) -> Path:
    """This process's folder under condauv's cache (``tmp/<host>-<pid>``): a killed process's
    folder is found and removed by the next command (see :func:`remove_stale_temp_dirs`)."""
    folder = _temp_root(package_cache=package_cache) / f"{_HOST}-{os.getpid()}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextlib.contextmanager
def scratch_dir(prefix: str, *, package_cache: bool = False) -> Iterator[Path]:
    """A temporary folder condauv owns (not in ``/tmp``; with ``package_cache``, inside the
    package cache), removed afterwards; after a kill, by the next writing command."""
    parent = _process_temp_dir(package_cache=package_cache)
    try:
        with tempfile.TemporaryDirectory(prefix=prefix, dir=parent) as tmp:
            yield Path(tmp)
    finally:
        with contextlib.suppress(OSError):  # still in use by an outer scratch folder: kept
            parent.rmdir()


def remove_stale_temp_dirs() -> list[Path]:
    """Remove the temporary folders of condauv processes of this host that are gone."""
    removed = []
    entries: list[Path] = []
    for root in (_temp_root(), _temp_root(package_cache=True)):
        with contextlib.suppress(OSError):
            entries += root.iterdir()
    for entry in entries:
        if not is_stale_temp_dir(entry):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def is_stale_temp_dir(entry: Path) -> bool:
    """Whether ``entry`` (in a temp root) is the folder of a condauv process of this host that
    is gone: never another host's (its processes cannot be seen from here) nor a running one's."""
    host, _, pid = entry.name.rpartition("-")
    return host == _HOST and pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid))


def remove_stale_temp_files(paths: Sequence[Path]) -> list[Path]:
    """Remove the temporary files a killed writer of ``paths`` left beside them
    (``.<name>.condauv-*.tmp``, never a user's file of a similar name). Call it only while holding
    the lock every writer of ``paths`` holds."""
    removed = []
    for path in paths:
        with contextlib.suppress(OSError):
            for stale in path.parent.glob(f".{glob.escape(path.name)}.{_TEMP_MARK}*.tmp"):
                stale.unlink(missing_ok=True)
                removed.append(stale)
    return removed
