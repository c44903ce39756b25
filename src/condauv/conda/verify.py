"""Trust in conda artifacts: what enters condauv's package cache, and what may be linked from it.

rattler checks an archive's sha256 only when it downloads it over HTTP; a ``file://`` archive is
extracted unchecked, and the cache entry is then recorded under the lock's hash whatever it
holds. rattler also links an entry's paths and symlinks as ``info/paths.json`` says, ``../x``
and links out of the prefix included. So condauv fills the cache itself (``engine.install``):
each archive is copied (or downloaded) into a private folder while it is hashed, the copy's
sha256 must be the lock's, the copy is extracted, every path and link target of the result is
checked, and only then is the entry moved into the cache with a stamp naming the sha256 it came
from. An entry without a stamp equal to the lock's sha256 is removed and made again, so rattler
only ever links stamped entries and never reads an archive itself.

A stamp is read, not the tree hashed: a cache hit costs one small read per package. What a
stamp does not cover (a file altered inside the cache after it was stamped) is what
``condauv check`` finds and ``condauv sync --repair`` undoes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath

from condauv import validation
from condauv.errors import ArchiveError
from condauv.lock.model import CondaPackage

__all__ = [
    "STAMP",
    "TooLarge",
    "cache_entry",
    "check_entry",
    "copy_hashing",
    "is_verified",
    "linked_path",
    "linked_paths",
    "place_entry",
    "remove_entry",
    "resolve",
    "unverified",
]

#: Inside an entry, next to rattler's ``info/paths.json``: never linked (not in paths.json).
STAMP = "info/condauv-verified"
#: Raised when the checks an entry passed grow: older stamps then no longer count.
STAMP_VERSION = 1

_HINT_PATH = "the archive is damaged or hostile: nothing was linked; remove it from the channel"
_CHUNK = 1 << 20


def label(package: CondaPackage) -> str:
    return f"{package.name} {package.version} ({package.build})"


def cache_entry(cache: Path, package: CondaPackage) -> Path:
    """The folder rattler uses for ``package`` in ``cache``: ``<name>-<version>-<build>``."""
    name = f"{package.name}-{package.version}-{package.build}"
    if "/" in name or "\x00" in name or name.startswith("."):
        raise ArchiveError(
            f"conda package {label(package)} has a name that is no folder name: {name!r:.80}",
            hint="the lock was edited by hand or by another tool: run `condauv lock` again",
        )
    return cache / name


def read_stamp(entry: Path) -> str | None:
    """The archive sha256 ``entry`` was verified against, or ``None`` (no stamp, or an old one)."""
    try:
        data = json.loads((entry / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != STAMP_VERSION:
        return None
    sha = data.get("sha256")
    return sha if isinstance(sha, str) else None


def is_verified(entry: Path, sha256: str) -> bool:
    return read_stamp(entry) == sha256


class TooLarge(OSError):
    """An archive grew past the size its lock entry gives."""


def copy_hashing(source: Path, target: Path, *, limit: int | None = None) -> str:
    """Copy ``source`` to ``target`` and return the sha256 of the bytes copied.

    The copy, not the source, is extracted afterwards: a file swapped between the hash and the
    extraction cannot slip in, since the bytes hashed are the bytes extracted. With ``limit``
    (the lock's size), a source that gives more bytes (``/dev/zero``, a huge file) stops there.
    """
    digest = hashlib.sha256()
    copied = 0
    with source.open("rb") as reader, target.open("xb") as writer:
        while chunk := reader.read(_CHUNK):
            copied += len(chunk)
            if limit is not None and copied > limit:
                raise TooLarge(f"{source} holds more than the {limit} bytes condauv.lock gives")
            digest.update(chunk)
            writer.write(chunk)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as reader:
        while chunk := reader.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def resolve(path: str, links: Mapping[str, str], *, max_hops: int = 40) -> str | None:
    """Where prefix path ``path`` leads once ``links`` (prefix path -> symlink target) are
    followed, or ``None`` when it leaves the prefix: through ``..``, an absolute target, a NUL,
    or more than ``max_hops`` links (a loop). Pure: the file system is never asked."""
    pending = list(reversed(PurePosixPath(path).parts))
    done: list[str] = []
    hops = 0
    while pending:
        part = pending.pop()
        if part == ".":
            continue
        if part == "..":
            if not done:
                return None
            done.pop()
            continue
        if part.startswith("/") or "\x00" in part:
            return None
        done.append(part)
        target = links.get("/".join(done))
        if target is not None:
            hops += 1
            if hops > max_hops or not target or target.startswith("/") or "\x00" in target:
                return None
            done.pop()
            pending.extend(reversed(PurePosixPath(target).parts))
    return "/".join(done)


def linked_path(path: str, *, noarch_python: bool, site_packages: str | None) -> str:
    """Where a package path is linked in the prefix: ``noarch: python`` packages keep
    ``site-packages/`` and ``python-scripts/`` paths that the interpreter's layout places."""
    if noarch_python:
        if site_packages and (path == "site-packages" or path.startswith("site-packages/")):
            return site_packages + path.removeprefix("site-packages")
        if path == "python-scripts" or path.startswith("python-scripts/"):
            return "bin" + path.removeprefix("python-scripts")
    return path


def package_paths(entry: Path, package: CondaPackage) -> list[str]:
    """The paths an extracted entry links: ``info/paths.json``, else the old ``info/files``."""
    where = f"conda package {label(package)}"
    paths_json = entry / "info" / "paths.json"
    if paths_json.is_file():
        text = validation.read_text(
            paths_json, what=f"{where}'s paths.json", error=ArchiveError, hint=_HINT_PATH
        )
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            raise ArchiveError(f"{where} has a paths.json that is not JSON", hint=_HINT_PATH) from None
        entries = data.get("paths") if isinstance(data, dict) else None
        if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("_path"), str) for e in entries
        ):
            raise ArchiveError(f"{where} has a paths.json without a list of paths", hint=_HINT_PATH)
        return [e["_path"] for e in entries]
    files = entry / "info" / "files"
    if files.is_file():
        text = validation.read_text(files, what=f"{where}'s info/files", error=ArchiveError, hint=_HINT_PATH)
        return [line for line in text.splitlines() if line]
    raise ArchiveError(f"{where} has neither info/paths.json nor info/files", hint=_HINT_PATH)


def linked_paths(cache: Path, package: CondaPackage, *, site_packages: str | None) -> list[str]:
    """The prefix paths a verified cache entry links (``noarch: python`` paths placed)."""
    noarch_python = package.noarch == "python"
    return [
        linked_path(p, noarch_python=noarch_python, site_packages=site_packages)
        for p in package_paths(cache_entry(cache, package), package)
    ]


def check_entry(entry: Path, package: CondaPackage, *, site_packages: str | None) -> None:
    """Refuse an extracted package one of whose paths or link targets would leave the prefix.

    The tree first (:func:`_entry_tree`): no FIFO, device or socket, no link in ``info/`` (the
    stamp and ``paths.json`` are never read or written through one), no link that ``paths.json``
    does not list (rattler would link a listed file through it: a hard link to a file outside),
    and every listed path present (else rattler links half and fails). Then every path:
    relative, no ``..``, no NUL or control character (:func:`validation.relative_path`). Every
    path, with the package's own symlinks followed from where they will be linked
    (``site_packages``: the prefix's, for ``noarch: python``), stays inside (:func:`resolve`).
    """
    where = f"conda package {label(package)}"
    present, entry_links = _entry_tree(entry, where)
    in_info = sorted(link for link in entry_links if link == "info" or link.startswith("info/"))
    if in_info:
        raise ArchiveError(f"{where} holds a link in info/: {in_info[0]!r}", hint=_HINT_PATH)
    listed = package_paths(entry, package)
    noarch_python = package.noarch == "python"
    for path in listed:
        validation.relative_path(
            path,
            what=f"{where} would write outside the prefix: the path",
            error=ArchiveError,
            hint=_HINT_PATH,
        )
    normal = {PurePosixPath(p).as_posix() for p in listed}
    unlisted = sorted(entry_links - normal)
    if unlisted:
        raise ArchiveError(
            f"{where} holds a link its paths.json does not list: {unlisted[0]!r}", hint=_HINT_PATH
        )
    missing = sorted(normal - present)
    if missing:
        raise ArchiveError(
            f"{where} lists {missing[0]!r} in its paths.json, and the archive lacks it", hint=_HINT_PATH
        )
    links = {
        linked_path(p, noarch_python=noarch_python, site_packages=site_packages): str((entry / p).readlink())
        for p in listed
        if (entry / p).is_symlink()
    }
    for path in listed:
        where_linked = linked_path(path, noarch_python=noarch_python, site_packages=site_packages)
        if resolve(where_linked, links) is None:
            if where_linked in links:
                problem = f"its link {path!r} points to {links[where_linked]!r}"
            else:
                problem = f"{path!r} lies under a link that leads out"
            raise ArchiveError(f"{where} would write outside the prefix: {problem}", hint=_HINT_PATH)


def _entry_tree(entry: Path, where: str) -> tuple[set[str], set[str]]:
    """Every path in an extracted entry (relative, POSIX) and the links among them; links are
    never followed. A FIFO, device or socket is an :class:`ArchiveError`."""
    present: set[str] = set()
    links: set[str] = set()
    start = len(str(entry)) + 1
    pending = [str(entry)]
    while pending:
        with os.scandir(pending.pop()) as items:
            for item in items:
                path = item.path[start:].replace(os.sep, "/")
                present.add(path)
                if item.is_symlink():
                    links.add(path)
                elif item.is_dir(follow_symlinks=False):
                    pending.append(item.path)
                elif not item.is_file(follow_symlinks=False):
                    raise ArchiveError(
                        f"{where} holds {path!r}, which is no file, folder or link", hint=_HINT_PATH
                    )
    return present, links


def remove_entry(cache: Path, entry: Path) -> None:
    """Delete a cache entry (prefixes keep their hard links) and rattler's record of its hash."""
    shutil.rmtree(entry, ignore_errors=True)
    _forget_rattler_hash(cache, entry)


def _forget_rattler_hash(cache: Path, entry: Path) -> None:
    # rattler's <entry>.lock holds a revision and the sha256 it was told, not the one it read;
    # one that names another sha256 makes rattler extract the archive again, unchecked. An empty
    # lock file (the one rattler itself leaves when it finds an entry in place) names none.
    lock = cache / f"{entry.name}.lock"
    with contextlib.suppress(FileNotFoundError), lock.open("r+b") as handle:
        handle.truncate(0)


def place_entry(cache: Path, extracted: Path, entry: Path, sha256: str, *, replace: bool = False) -> None:
    """Stamp a verified extraction and move it into the cache as ``entry``.

    If another process placed a verified entry first, that one is kept (it may be linking from
    it right now: replacing it would take files away mid-link), unless ``replace`` (a repair's
    fresh copy, for an entry whose files may have been altered).
    """
    if not replace and is_verified(entry, sha256):
        shutil.rmtree(extracted, ignore_errors=True)
        return
    stamp = extracted / STAMP
    if stamp.parent.is_symlink():
        raise ArchiveError(f"the extracted package {entry.name} has a link for info/", hint=_HINT_PATH)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    if stamp.is_dir() and not stamp.is_symlink():
        shutil.rmtree(stamp)
    stamp.unlink(missing_ok=True)  # what the archive put there, a link included: never written through
    fd = os.open(stamp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps({"version": STAMP_VERSION, "sha256": sha256}) + "\n")
    if entry.exists() or entry.is_symlink():
        remove_entry(cache, entry)
    try:
        extracted.rename(entry)
    except OSError:
        if not is_verified(entry, sha256):
            raise
        shutil.rmtree(extracted, ignore_errors=True)
    _forget_rattler_hash(cache, entry)


def unverified(cache: Path, packages: Iterable[CondaPackage]) -> list[CondaPackage]:
    """The packages whose cache entry is missing or not stamped with the lock's sha256."""
    return [p for p in packages if not is_verified(cache_entry(cache, p), p.sha256)]


def archive_path(url: str) -> Path | None:
    """The local file of a ``file://`` URL, ``None`` for any other scheme."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    if parts.scheme != "file":
        return None
    return Path(unquote(parts.path))
