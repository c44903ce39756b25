"""condauv's caches: where each lies, how much it holds, what a clean frees, and the clean.

A conda environment's files are hard links to the extracted packages in ``pkgs/`` (uv links
its installs to its cache the same way): removing the cache removes one link of each, and a
file still linked from an environment stays on disk. Sizes count each inode once, and what a
clean frees is the bytes of the files whose every link is in what it removes.

Commands that fill the cache hold it shared (:func:`in_use`, taken with every project lock);
``clean`` holds it exclusively, so it never removes a package a sync is linking.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from condauv import _fs, paths
from condauv.errors import UserError

__all__ = [
    "CLEANED",
    "CacheSize",
    "CleanReport",
    "PartSize",
    "clean",
    "in_use",
    "size",
]

#: The parts ``condauv cache clean`` removes, with what each holds.
CLEANED = {
    "conda": "conda packages (archives, extracted)",
    "repodata": "conda channels' repodata",
    "pypi-simple": "package-index pages for classification",
    "uv": "uv's cache (wheels, built sdists)",
    "tmp": "temporary folders of condauv commands that are gone",
}
#: Where each part lies under the cache root (uv's is wherever uv keeps it).
_FOLDERS = {"conda": "pkgs", "repodata": "repodata", "pypi-simple": "pypi-simple", "tmp": "tmp"}
#: Every name condauv writes in its cache root: a root holding anything else is not one of
#: condauv's caches (``CONDAUV_CACHE_DIR`` pointed at a home or a project), and is never cleaned.
KNOWN_ENTRIES = frozenset(
    {*_FOLDERS.values(), "locks", "check", "channels", "wheels", "matplotlib", "CACHEDIR.TAG", ".DS_Store"}
    | {"stubs", "provides"}  # the lock's stub wheels and the distributions in conda archives
    | {"activation"}  # the activation scripts rattler wrote (condauv.conda.activation)
    | {"parsed-locks"}  # locks' documents, kept as JSON (condauv.lock.model.PARSED_FOLDER)
)
#: The package cache's folder for the temporary folders of commands (see ``condauv._fs``).
_PKGS_TEMP = ".condauv-tmp"


def _lock_path() -> Path:
    return paths.cache_dir() / "locks" / "cache.lock"


@contextlib.contextmanager
def in_use() -> Iterator[None]:
    """Hold condauv's cache shared while a command reads and fills it: a ``cache clean``
    waits for the holders, and they for it. A cache where the lock cannot be made (read-only)
    is used without it: nothing can clean it either."""
    with contextlib.ExitStack() as stack:
        with contextlib.suppress(OSError):
            stack.enter_context(_fs.shared_lock(_lock_path(), what="condauv's cache"))
        yield


@dataclass(frozen=True, slots=True)
class PartSize:
    """One part of the cache: ``size`` bytes in ``files`` files (each inode once), of which a
    clean frees ``frees`` (the rest is linked from environments, or not removed)."""

    name: str
    path: Path | None
    size: int
    files: int
    frees: int
    cleaned: bool
    note: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "path": str(self.path) if self.path else None,
            "bytes": self.size,
            "files": self.files,
            "frees": self.frees,
            "cleaned": self.cleaned,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class CacheSize:
    root: Path
    parts: tuple[PartSize, ...]

    @property
    def size(self) -> int:
        return sum(p.size for p in self.parts)

    @property
    def frees(self) -> int:
        return sum(p.frees for p in self.parts)

    def to_dict(self) -> dict[str, object]:
        return {
            "root": str(self.root),
            "parts": [p.to_dict() for p in self.parts],
            "bytes": self.size,
            "frees": self.frees,
        }


@dataclass(slots=True)
class CleanReport:
    """What ``clean`` removed (with ``dry_run``: would remove), per part."""

    root: Path
    dry_run: bool
    removed: dict[str, list[Path]] = field(default_factory=dict)
    frees: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # part -> why it was left alone
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "root": str(self.root),
            "dry_run": self.dry_run,
            "parts": [
                {"name": name, "removed": [str(p) for p in items], "frees": self.frees.get(name, 0)}
                for name, items in self.removed.items()
            ],
            "skipped": dict(self.skipped),
            "frees": sum(self.frees.values()),
            "errors": list(self.errors),
        }


# -- what each part holds ------------------------------------------------------------------------


def _uv_cache() -> Path | None:
    from condauv.errors import CondauvError
    from condauv.pypi.uv import Uv

    try:
        return Uv().cache_dir()
    except CondauvError:
        return None


def _part_path(name: str, root: Path, uv_cache: Path | None) -> Path | None:
    return uv_cache if name == "uv" else root / _FOLDERS[name]


def _removable(name: str, folder: Path) -> tuple[list[Path], list[Path]]:
    """(the entries of ``folder`` a clean removes, those it keeps): every entry, except the
    temporary folders of commands still running (``tmp/`` and the package cache's own)."""
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return [], []
    if name == "conda":
        temp = folder / _PKGS_TEMP
        removable = [e for e in entries if e != temp]
        gone, alive = _temp_folders(temp)
        return removable + gone, alive
    if name == "tmp":
        return _temp_folders(folder)
    return entries, []


def _temp_folders(folder: Path) -> tuple[list[Path], list[Path]]:
    """(the temporary folders of condauv processes of this host that are gone, the others):
    a folder of another host, or of a process still running, is kept."""
    gone: list[Path] = []
    alive: list[Path] = []
    with contextlib.suppress(OSError):
        for entry in sorted(folder.iterdir()):
            (gone if _fs.is_stale_temp_dir(entry) else alive).append(entry)
    return gone, alive


class _Census:
    """Each inode once: its size, its link count, and the links seen in removable entries."""

    def __init__(self) -> None:
        self.inodes: dict[tuple[int, int], list[int]] = {}  # (dev, ino) -> [size, nlink, removable links]
        self.owner: dict[tuple[int, int], str] = {}

    def add(self, part: str, top: Path, *, removable: bool) -> None:
        for stat in _walk(top):
            key = (stat.st_dev, stat.st_ino)
            entry = self.inodes.get(key)
            if entry is None:
                entry = self.inodes[key] = [stat.st_size, stat.st_nlink, 0]
                self.owner[key] = part
            if removable:
                entry[2] += 1

    def totals(self) -> dict[str, tuple[int, int, int]]:
        """part -> (bytes, files, bytes freed)."""
        out: dict[str, list[int]] = {}
        for key, (size, nlink, removable) in self.inodes.items():
            row = out.setdefault(self.owner[key], [0, 0, 0])
            row[0] += size
            row[1] += 1
            row[2] += size if removable >= nlink else 0
        return {k: (v[0], v[1], v[2]) for k, v in out.items()}


def _walk(top: Path) -> Iterator[os.stat_result]:
    """The lstat of every file and link under ``top`` (``top`` too when it is one); links
    are never followed, folders themselves are not counted."""
    try:
        stat = top.lstat()
    except OSError:
        return
    if not top.is_dir() or top.is_symlink():
        yield stat
        return
    stack = [os.fspath(top)]
    while stack:
        with contextlib.suppress(OSError), os.scandir(stack.pop()) as it:
            for entry in it:
                with contextlib.suppress(OSError):
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    else:
                        yield entry.stat(follow_symlinks=False)


def _link_note(path: Path | None) -> str:
    if path is not None and path.is_symlink():
        return f"a link to {path.readlink()}: not followed, not cleaned"
    return ""


def size() -> CacheSize:
    """What each part of condauv's cache holds, and what ``clean`` would free of it."""
    root = paths.cache_dir()
    uv_cache = _uv_cache()
    census = _Census()
    notes: dict[str, str] = {}
    for name in CLEANED:
        folder = _part_path(name, root, uv_cache)
        notes[name] = _link_note(folder) or ("" if folder is not None else "uv cannot be run")
        if folder is None or notes[name]:
            continue
        removable, kept = _removable(name, folder)
        for entry in removable:
            census.add(name, entry, removable=True)
        for entry in kept:
            census.add(name, entry, removable=False)
    with contextlib.suppress(OSError):
        for entry in sorted(root.iterdir()):
            if entry.name not in _FOLDERS.values() and not (uv_cache and entry == uv_cache):
                census.add("other", entry, removable=False)
    totals = census.totals()
    parts = [
        PartSize(name, _part_path(name, root, uv_cache), *totals.get(name, (0, 0, 0)), True, notes[name])
        for name in CLEANED
    ]
    others = (
        "demo channels and wheels, check's hashes, lock notes, stub wheels, archives' contents, "
        "activations, parsed locks: kept"
    )
    parts.append(PartSize("other", root, *totals.get("other", (0, 0, 0)), False, others))
    return CacheSize(root, tuple(parts))


# -- cleaning ---------------------------------------------------------------------------------


def check_root(root: Path, uv_cache: Path | None = None) -> None:
    """Refuse a cache root that is not condauv's own cache: ``/``, the home folder or one above
    it, or a folder holding anything condauv does not write there (uv's cache may lie in it)."""
    home = Path.home().resolve()
    if root == Path(root.anchor) or home.is_relative_to(root):
        raise UserError(
            f"refusing to clean {root}: it is not a cache folder",
            hint="point CONDAUV_CACHE_DIR at condauv's own cache folder (default: ~/.cache/condauv)",
        )
    try:
        names = sorted(e.name for e in root.iterdir())
    except FileNotFoundError:
        return
    except OSError as exc:
        raise UserError(
            f"cannot read the cache folder {root}: {exc.strerror}", hint="check its permissions"
        ) from None
    own = {uv_cache.name} if uv_cache is not None and uv_cache.parent == root else set()
    unknown = [n for n in names if n not in KNOWN_ENTRIES | own]
    if unknown:
        shown = ", ".join(repr(n) for n in unknown[:3]) + (", ..." if len(unknown) > 3 else "")
        raise UserError(
            f"refusing to clean {root}: it holds {shown}, which condauv never writes there",
            hint="CONDAUV_CACHE_DIR must name a folder of condauv's own (default: ~/.cache/condauv)",
        )


def clean(parts: Sequence[str] = (), *, dry_run: bool = False) -> CleanReport:
    """Remove the named parts of condauv's cache (all of :data:`CLEANED` when none is named),
    or with ``dry_run`` only say what would go. Nothing outside the parts' folders is touched:
    entries are removed one by one, links never followed; uv's cache is cleaned by uv."""
    chosen = [name for name in CLEANED if not parts or name in parts]
    root = paths.cache_dir()
    uv_cache = _uv_cache()
    check_root(root, uv_cache)
    report = CleanReport(root, dry_run)
    holding = contextlib.nullcontext() if dry_run else _holding_exclusively()
    with holding:
        census = _Census()
        plan: dict[str, list[Path]] = {}
        for name in chosen:
            folder = _part_path(name, root, uv_cache)
            why = _skip_reason(name, folder)
            if why or folder is None:
                report.skipped[name] = why or "uv cannot be run"
                continue
            removable, kept = _removable(name, folder)
            plan[name] = removable
            for entry in removable:
                census.add(name, entry, removable=True)
            for entry in kept:
                census.add(name, entry, removable=False)
        totals = census.totals()
        for name, entries in plan.items():
            report.removed[name] = [uv_cache] if name == "uv" and uv_cache and entries else entries
            report.frees[name] = totals.get(name, (0, 0, 0))[2]
            if not dry_run:
                report.errors += _remove(name, entries)
    return report


@contextlib.contextmanager
def _holding_exclusively() -> Iterator[None]:
    path = _lock_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(
            f"cannot lock condauv's cache {path}: {exc.strerror}", hint="check its permissions"
        ) from None
    with _fs.exclusive_lock(
        path,
        holder=f"pid {os.getpid()} (condauv cache clean)",
        what="condauv's cache (in use by a sync or a lock)",
    ):
        yield


def _skip_reason(name: str, folder: Path | None) -> str:
    if folder is None:
        return "uv cannot be run"
    if name == "uv" and os.environ.get("UV_LINK_MODE", "").strip().lower() == "symlink":
        return "UV_LINK_MODE=symlink: environments link into uv's cache"
    if name == "uv" and (folder == Path(folder.anchor) or Path.home().resolve().is_relative_to(folder)):
        return f"uv's cache is {folder}: not a cache folder"
    return _link_note(folder)


def _remove(name: str, entries: Sequence[Path]) -> list[str]:
    """Remove ``entries`` (uv's cache through ``uv cache clean``); the failures, as lines."""
    if name == "uv":
        if not entries:
            return []
        from condauv.errors import CondauvError
        from condauv.pypi.uv import Uv

        try:
            Uv().cache_clean()
        except CondauvError as exc:
            return [exc.message]
        return []
    errors: list[str] = []

    def failed(_function: object, path: str, exc: BaseException) -> None:
        errors.append(f"{path}: {getattr(exc, 'strerror', None) or exc}")

    for entry in entries:
        if entry.is_dir() and not entry.is_symlink():
            if sys.version_info >= (3, 12):
                shutil.rmtree(entry, onexc=failed)
            else:  # pragma: no cover - 3.11: onerror, deprecated since 3.12
                shutil.rmtree(entry, onerror=lambda f, p, info: failed(f, p, info[1]))
        else:
            try:
                entry.unlink(missing_ok=True)
            except OSError as exc:
                errors.append(f"{entry}: {exc.strerror}")
    return errors
