"""The proof that a sync has nothing to do: ``conda-meta/condauv-stamp``.

A no-op ``condauv sync`` (and the sync that ``condauv run`` starts with) was mostly start-up: the
imports, the lock parsed and checked, the prefix listed. A sync that leaves the prefix with
nothing more to do writes, last, a digest of everything that decision rests on; the next one
computes the digest again (the manifest's and the lock's bytes, a listing of conda-meta and of
site-packages' metadata folders, a few ``stat`` calls) and, when it matches, is done: neither
file is parsed, none of the sync's modules is imported. Any difference, a stamp missing or not
readable, a journal (an interrupted sync), or a sync or lock holding the project: the full sync
runs, and writes the stamp again when it leaves nothing to do.

The digest covers:

- condauv's version, the operating system and the CPU (they pick the platform);
- the manifest's path and bytes, the lock's path and bytes, the prefix's path;
- every entry of conda-meta but the stamp (name, type, inode, size, mtime and ctime): the
  records, condauv's marker, the lock's and manifest's copies, rattler's history;
- site-packages' ``*.dist-info`` and ``*.egg-info`` folders (name, type, inode) and each one's
  ``INSTALLER`` (inode, size, mtime: not ctime, which moves when another prefix hard-links the
  same cached file), and the links in site-packages;
- the folders the links-out check reads (the prefix, ``bin``, ``lib``: inode and mtime, so an
  entry added or replaced shows; ``lib/pythonX.Y`` and site-packages: type, inode, a link's target);
- where ``[system-requirements]`` apply here (the machine is checked then): every
  ``CONDA_OVERRIDE_*`` variable, ``CUDA_VISIBLE_DEVICES`` and ``LD_LIBRARY_PATH``, the kernel
  (``uname``) and this boot, the NVIDIA driver's version and the C library's.

Not covered, as a full no-op sync would see them: a link deeper in the prefix that now makes an
existing link lead out (nothing is written on a no-op, so nothing is written through it), and
the folders of the manifest's local sources (a no-op fetches nothing from them).

This module runs before the CLI sets up anything: it imports only cheap parts of the standard
library (``tomllib`` only for a manifest that sets ``[environment] prefix``).
"""

# strings and os.path, not pathlib: this runs first, on every no-op sync and run
# ruff: noqa: PTH108, PTH109, PTH111, PTH113, PTH115, PTH116, PTH118, PTH120

from __future__ import annotations

import contextlib
import os
import stat
import sys

from condauv._digest import sha256

TYPE_CHECKING = False  # typing's, without importing typing (see condauv/__init__.py)
if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from condauv.lock.model import Lock
    from condauv.project import Project

__all__ = ["STAMP", "Located", "clear", "digest", "in_sync", "locate", "record", "write"]

STAMP = "condauv-stamp"  # not ``*.json``: conda and rattler read those as package records
_FORMAT = "condauv-stamp 1"
_MANIFEST = "condauv.toml"  # condauv.manifest.model.MANIFEST_NAME
_LOCK = "condauv.lock"  # condauv.lock.validate.LOCK_NAME
_DEFAULT_PREFIX = (".condauv", "env")  # condauv.project.DEFAULT_PREFIX
_JOURNAL = "condauv-journal"  # condauv.sync.journal.JOURNAL
_MARKER = "condauv"  # condauv.conda.prefix.MARKER
_SYNC_LOCK = ".condauv-sync.lock"  # the prefix's sync lock (condauv.sync.apply)
_BOM = b"\xef\xbb\xbf"
_MACHINE_VARIABLES = ("CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH")
_MACHINE_FILES = ("/proc/sys/kernel/random/boot_id", "/proc/driver/nvidia/version")


class Located:
    """A project's manifest, lock and prefix, found as :meth:`condauv.project.Project.load`
    finds them (absolute paths, as strings), and the manifest's bytes read on the way."""

    __slots__ = ("lock", "manifest", "manifest_bytes", "prefix")

    def __init__(self, manifest: str, manifest_bytes: bytes, prefix: str) -> None:
        self.manifest = manifest
        self.manifest_bytes = manifest_bytes
        self.lock = os.path.join(os.path.dirname(manifest), _LOCK)
        self.prefix = prefix


def locate(manifest: str | Path | None, prefix: str | Path | None) -> Located | None:
    """The project of ``--manifest`` and ``--prefix`` (each optional), or ``None`` where it is
    not plain to see (no manifest, a path with a control character, an unreadable file)."""
    if manifest is not None:
        given = os.fspath(manifest)
        if _odd(given):
            return None
        path: str | None = os.path.realpath(given)
    else:
        path = _find_manifest(os.getcwd())
    if path is None or not os.path.isfile(path):
        return None
    raw = _read(path)
    if raw is None:
        return None
    if prefix is not None:
        chosen = os.fspath(prefix)
        if _odd(chosen) or _unexpanded(chosen):
            return None
        where: str | None = os.path.realpath(os.path.expanduser(chosen))
    else:
        where = _manifest_prefix(path, raw)
    return Located(path, raw, where) if where is not None and not _odd(where) else None


def in_sync(manifest: str | Path | None, prefix: str | Path | None) -> str | None:
    """The prefix, when its stamp proves that syncing it to the project's lock changes nothing;
    otherwise ``None`` (then sync as usual). Never raises for what it finds on disk."""
    try:
        return _in_sync(manifest, prefix)
    except (OSError, ValueError, UnicodeError):
        return None


def _in_sync(manifest: str | Path | None, prefix: str | Path | None) -> str | None:
    located = locate(manifest, prefix)
    if located is None:
        return None
    meta = os.path.join(located.prefix, "conda-meta")
    header = _read_stamp(os.path.join(meta, STAMP))
    if header is None or os.path.lexists(os.path.join(meta, _JOURNAL)):
        return None
    site, machine, recorded = header
    # a sync or a lock of this project, or a sync of another into this prefix, is under way: wait
    # for it as the full sync does (what it finds then is what it finds)
    with _shared(os.path.realpath(os.path.dirname(located.manifest))) as free:
        if not free:
            return None
        with _shared(os.path.join(meta, _SYNC_LOCK)) as idle:
            if not idle:
                return None
            manifest_bytes = _read(located.manifest)
            lock_bytes = _read(located.lock)
            if manifest_bytes != located.manifest_bytes or lock_bytes is None:
                return None
            found = digest(
                prefix=located.prefix,
                manifest=located.manifest,
                manifest_bytes=manifest_bytes,
                lock=located.lock,
                lock_bytes=lock_bytes,
                site=site,
                machine=machine,
            )
    return located.prefix if found == recorded else None


def digest(
    *,
    prefix: str,
    manifest: str,
    manifest_bytes: bytes,
    lock: str,
    lock_bytes: bytes,
    site: str,
    machine: bool,
) -> str:
    """The digest of everything a no-op sync of ``prefix`` rests on (see the module's text)."""
    parts: list[object] = [
        _FORMAT,
        _version(),
        sys.platform,
        os.uname().machine,
        manifest,
        _sha256(manifest_bytes),
        lock,
        _sha256(lock_bytes),
        prefix,
        site,
    ]
    meta = os.path.join(prefix, "conda-meta")
    with os.scandir(meta) as entries:
        parts.append(
            sorted((e.name, _lstat(e.path)) for e in entries if not e.name.startswith((STAMP, f".{STAMP}.")))
        )
    for relative in ("", "bin", "lib"):
        parts.append((relative, _folder(os.path.join(prefix, relative), mtime=True)))
    site_dir = os.path.join(prefix, site)
    parts.append(("python", _folder(os.path.dirname(site_dir), mtime=False)))
    parts.append(("site", _folder(site_dir, mtime=False)))
    parts.append(sorted(_site_entries(site_dir)))
    if machine:
        parts.append(_machine())
    return sha256(repr(parts).encode("utf-8", "surrogateescape")).hexdigest()


def write(
    *,
    prefix: str,
    manifest: str,
    manifest_bytes: bytes,
    lock: str,
    lock_bytes: bytes,
    site: str,
    machine: bool,
) -> None:
    """Stamp ``prefix`` (atomically, replacing any stamp): call it last, from a sync that left
    nothing to do, with the manifest's and lock's bytes that sync read."""
    from pathlib import Path

    from condauv import _fs

    value = digest(
        prefix=prefix,
        manifest=manifest,
        manifest_bytes=manifest_bytes,
        lock=lock,
        lock_bytes=lock_bytes,
        site=site,
        machine=machine,
    )
    text = f"{_FORMAT}\nsite {site}\nmachine {int(machine)}\ndigest {value}\n"
    path = Path(prefix) / "conda-meta" / STAMP
    if _read(str(path)) != text.encode():
        _fs.atomic_write_text(path, text, durable=False)  # lost in a crash: one full sync, no harm


def record(project: Project, lock: Lock, lock_text: str | None, python_version: str) -> None:
    """Stamp ``project.prefix``, which a sync to ``lock`` just left with nothing more to do, for
    the manifest and lock on disk, if they are what that sync read: the manifest's text gives the
    same manifest, the lock's is ``lock_text`` (``None``: the sync wrote it, then its text gives
    ``lock``). A hand edit while it ran, or copies in conda-meta that differ: no stamp. A prefix
    that cannot be written keeps none."""
    from condauv import validation
    from condauv._process import strip_credentials
    from condauv.conda.prefix import read_synced_copy
    from condauv.errors import UserError
    from condauv.lock.model import parse_lock
    from condauv.manifest.model import parse_manifest
    from condauv.platforms import applicable_requirements, current_subdir
    from condauv.pypi.site import site_packages

    prefix, manifest = project.prefix, project.manifest
    try:
        manifest_text = validation.read_text(manifest.path, what="the manifest", error=UserError, hint="")
        lock_on_disk = validation.read_text(project.lock_path, what=_LOCK, error=UserError, hint="")
        if parse_manifest(manifest_text, manifest.path) != manifest:
            return
        if lock_on_disk != lock_text and (lock_text is not None or parse_lock(lock_on_disk) != lock):
            return
    except (UserError, OSError):
        return
    site = site_packages(prefix, python_version)
    copies = (_universal(lock_on_disk), strip_credentials(_universal(manifest_text)))  # as the sync reads
    if site is None or read_synced_copy(prefix) != copies:
        return  # the next sync would write the copies again
    subdir = current_subdir()
    machine = bool(
        applicable_requirements(manifest.system_requirements, subdir)
        or applicable_requirements(dict(lock.system_requirements), subdir)
    )
    try:
        write(
            prefix=str(prefix),
            manifest=str(manifest.path),
            manifest_bytes=manifest_text.encode(),
            lock=str(project.lock_path),
            lock_bytes=lock_on_disk.encode(),
            site=site.relative_to(prefix).as_posix(),
            machine=machine,
        )
    except OSError:  # a read-only prefix: every sync is a full one there
        return


def clear(prefix: str | Path) -> None:
    """Remove ``prefix``'s stamp: before a sync's first change."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(prefix, "conda-meta", STAMP))


# -- helpers -------------------------------------------------------------------------------------


def _version() -> str:
    import condauv

    return condauv.__version__


def _universal(text: str) -> str:
    """``text`` with its newlines as ``Path.read_text`` gives them."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _odd(path: str) -> bool:
    """A path the CLI would refuse (a NUL or control character): left to it."""
    return any(ord(c) < 32 or ord(c) == 127 for c in path)


def _unexpanded(path: str) -> bool:
    """``~`` that cannot be expanded: pathlib refuses it where os.path leaves it as it is."""
    return path.startswith("~") and os.path.expanduser(path.split("/", 1)[0]).startswith("~")


def _find_manifest(start: str) -> str | None:
    """:func:`condauv.project.find_manifest`, with strings."""
    folder = start
    while True:
        candidate = os.path.join(folder, _MANIFEST)
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _manifest_prefix(manifest: str, raw: bytes) -> str | None:
    """Where the manifest's environment is, as :func:`condauv.project.resolve_prefix` says:
    ``[environment] prefix`` beside the manifest, else ``.condauv/env``. A manifest that does
    not spell ``prefix`` (nor a ``\\u`` escape, which could) is not parsed."""
    root = os.path.dirname(manifest)
    if b"prefix" in raw or b"\\u" in raw or b"\\U" in raw:
        import tomllib

        try:
            data = tomllib.loads(raw.decode("utf-8").removeprefix("\ufeff"))
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None
        environment = data.get("environment", {})
        value = environment.get("prefix") if isinstance(environment, dict) else None
        if value is not None:
            if not isinstance(value, str) or _odd(value) or _unexpanded(value):
                return None
            return os.path.realpath(os.path.join(root, os.path.expanduser(value)))
    return os.path.realpath(os.path.join(root, *_DEFAULT_PREFIX))


def _read(path: str, limit: int = 64 * 2**20) -> bytes | None:
    """A regular file's bytes (never waiting on a FIFO), or ``None``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        chunks = []
        size = 0
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                return None
        return b"".join(chunks)
    finally:
        os.close(fd)


def _read_stamp(path: str) -> tuple[str, bool, str] | None:
    """(site-packages, machine-bound, digest) of a stamp, or ``None`` for anything else."""
    raw = _read(path, limit=4096)
    if raw is None:
        return None
    lines = raw.decode("ascii", "replace").split("\n")
    if len(lines) != 5 or lines[0] != _FORMAT or lines[4]:
        return None
    site, machine, value = (line.partition(" ") for line in lines[1:4])
    parts = site[2].split("/")
    if (site[0], machine[0], value[0]) != ("site", "machine", "digest") or machine[2] not in ("0", "1"):
        return None
    if (
        len(parts) != 3
        or parts[0] != "lib"
        or not parts[1].startswith("python")
        or parts[2] != "site-packages"
    ):
        return None
    return site[2], machine[2] == "1", value[2]


class _shared:  # used as a function: ``with _shared(path) as free``
    """A shared ``flock`` on ``path`` (a folder or a file), taken without waiting; ``free`` is
    false when someone holds it exclusively (or it cannot be opened)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd: int | None = None

    def __enter__(self) -> bool:
        import fcntl

        try:
            self.fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
            fcntl.flock(self.fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return False
        return True

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.close(self.fd)  # releases the lock


def _sha256(data: bytes) -> str:
    return sha256(data.removeprefix(_BOM)).hexdigest()


def _lstat(path: str) -> tuple[int, ...] | None:
    try:
        s = os.lstat(path)
    except OSError:
        return None
    return (s.st_mode, s.st_ino, s.st_size, s.st_mtime_ns, s.st_ctime_ns)


def _folder(path: str, *, mtime: bool) -> tuple[object, ...] | None:
    try:
        s = os.lstat(path)
    except OSError:
        return None
    target = os.readlink(path) if stat.S_ISLNK(s.st_mode) else None
    return (s.st_mode, s.st_ino, s.st_mtime_ns if mtime else None, target)


def _site_entries(site: str) -> Iterator[tuple[object, ...]]:
    """Each metadata folder with its INSTALLER's ``stat`` (followed, as the sync reads it), and
    each link with its target."""
    try:
        entries = list(os.scandir(site))
    except OSError:
        return
    for entry in entries:
        name = entry.name
        if name.endswith((".dist-info", ".egg-info")):
            s = entry.stat(follow_symlinks=False)
            try:
                i = os.stat(os.path.join(entry.path, "INSTALLER"))
                # no ctime: a conda package's INSTALLER is a hard link into the package cache,
                # whose link count (and so ctime) moves whenever another prefix links it
                installer: tuple[int, ...] | None = (i.st_mode, i.st_ino, i.st_size, i.st_mtime_ns)
            except OSError:
                installer = None
            yield (name, s.st_mode, s.st_ino, installer)
        elif entry.is_symlink():
            yield (name, "link", os.readlink(entry.path))


def _machine() -> tuple[object, ...]:
    """What this machine's virtual packages come from, for a lock with [system-requirements]."""
    variables = sorted(
        (k, v) for k, v in os.environ.items() if k.startswith("CONDA_OVERRIDE_") or k in _MACHINE_VARIABLES
    )
    files = tuple(_read(path, limit=4096) for path in _MACHINE_FILES)
    libc = os.confstr("CS_GNU_LIBC_VERSION") if "CS_GNU_LIBC_VERSION" in os.confstr_names else None
    return (tuple(variables), tuple(os.uname()), files, libc)
