"""Reading a conda prefix without rattler: conda-meta file names are enough for a quick diff."""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from condauv.errors import UserError

__all__ = [
    "LOCK_COPY",
    "MANIFEST_COPY",
    "MARKER",
    "InstalledConda",
    "PrefixState",
    "installed_conda",
    "is_managed",
    "mark_managed",
    "outside_paths",
    "prefix_state",
    "read_synced_copy",
    "refuse_links_out",
    "remove_files",
    "write_synced_copy",
]

#: condauv's mark in conda-meta: the prefix is managed by a condauv project. Not ``*.json``:
#: conda and rattler read every ``conda-meta/*.json`` as a package record.
MARKER = "condauv"
#: The lock and manifest a sync last made the prefix match, kept in conda-meta so that the prefix
#: explains itself (``adopt``, ``check`` and a packed copy read them). Not ``*.json`` either.
LOCK_COPY = "condauv-lock.toml"
MANIFEST_COPY = "condauv-manifest.toml"


@dataclass(frozen=True, slots=True)
class InstalledConda:
    name: str
    version: str
    build: str


def installed_conda(prefix: Path) -> dict[str, InstalledConda]:
    """Conda packages in ``prefix`` by name, from ``conda-meta/<name>-<version>-<build>.json``."""
    meta = prefix / "conda-meta"
    if not meta.is_dir():
        return {}
    found = {}
    for entry in meta.glob("*.json"):
        parts = entry.name.removesuffix(".json").rsplit("-", 2)
        if len(parts) == 3:
            found[parts[0]] = InstalledConda(*parts)
    return found


def is_managed(prefix: Path) -> bool:
    return (prefix / "conda-meta" / MARKER).is_file()


def mark_managed(prefix: Path, manifest: Path) -> None:
    """Record which manifest manages ``prefix`` (a new prefix, or one the user pointed us at)."""
    meta = prefix / "conda-meta"
    refuse_links_out(prefix, site_packages=None, doing="marking it as condauv's")
    meta.mkdir(parents=True, exist_ok=True)
    from condauv import _fs

    # replaced, never written through: a link in its place is replaced by the file
    _fs.atomic_write_text(meta / MARKER, json.dumps({"manifest": str(manifest)}) + "\n")


class PrefixState(enum.Enum):
    """What condauv may do to a prefix: see :func:`prefix_state`."""

    NEW = "new"  # missing or empty: condauv makes it, and marks it as its own
    MANAGED = "managed"  # condauv made it or adopted it in place: it is made to match the lock
    FOREIGN = "foreign"  # another tool's conda prefix: condauv adds to it, removes nothing without --force


_PREFIX_HINT = (
    "condauv installs into a new or empty folder or a conda prefix: set [environment] prefix "
    "(or --prefix) to one, or leave it out for .condauv/env beside condauv.toml"
)


def prefix_state(prefix: Path) -> PrefixState:
    """Whether and how condauv may write ``prefix``; any other folder is a :class:`UserError`.

    Every command that writes a prefix asks this before it writes anything (the lock too): a
    non-empty folder without ``conda-meta/`` (a venv, ``~/.local``, a home or project folder)
    is never installed into. A prefix whose ``conda-meta`` holds no record and that holds
    nothing else (a sync killed before it linked anything) is still new.
    """
    from condauv.validation import check_text

    check_text(str(prefix), what="the prefix path", error=UserError, hint=_PREFIX_HINT)
    meta = prefix / "conda-meta"
    try:
        if meta.is_dir():
            if (meta / MARKER).is_file():
                return PrefixState.MANAGED
            if [p.name for p in prefix.iterdir()] == ["conda-meta"] and not any(meta.glob("*.json")):
                return PrefixState.NEW
            return PrefixState.FOREIGN
        if not prefix.exists():
            return PrefixState.NEW
        if not prefix.is_dir():
            raise UserError(f"the prefix {prefix} is a file, not a folder", hint=_PREFIX_HINT)
        entries = sorted(p.name for p in prefix.iterdir())
    except OSError as exc:
        message = f"cannot read the prefix {prefix}: {exc.strerror or exc}"
        raise UserError(message, hint=_PREFIX_HINT) from None
    if not entries:
        return PrefixState.NEW
    if "pyvenv.cfg" in entries:
        what = "a Python virtual environment (pyvenv.cfg)"
    else:
        shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
        what = f"{len(entries)} {'entry' if len(entries) == 1 else 'entries'}: {shown}"
    raise UserError(
        f"the prefix {prefix} is not empty and not a conda prefix (no conda-meta/); it holds {what}",
        hint=_PREFIX_HINT,
    )


def _inside(prefix: Path, value: str, folders: dict[Path, bool] | None = None) -> Path | None:
    """``prefix / value`` when that stays inside ``prefix``, its folder's links resolved; else ``None``.
    ``folders`` remembers each folder's answer across calls (one resolution per folder)."""
    from condauv.validation import contained, relative_path

    try:
        target = prefix / relative_path(value, what="a record's path", error=UserError, hint="")
    except UserError:
        return None
    if folders is None:
        return target if contained(prefix, target.parent) else None
    inside = folders.get(target.parent)
    if inside is None:
        inside = folders[target.parent] = contained(prefix, target.parent)
    return target if inside else None


def outside_paths(prefix: Path, paths: Iterable[str]) -> list[str]:
    """The prefix-relative ``paths`` that leave ``prefix``: absolute, ``..``, or behind a link out."""
    folders: dict[Path, bool] = {}
    return [value for value in paths if _inside(prefix, value, folders) is None]


def links_out(prefix: Path, folders: Iterable[str], paths: Iterable[str] = ()) -> list[tuple[str, str]]:
    """The links in ``prefix`` that lead out of it, as (prefix path, target): each of ``folders``
    (prefix-relative; ``""`` is the prefix) and the entries directly in it, and every folder on
    the way to where ``paths`` (prefix-relative, checked already) would be written. One listing
    per folder; each folder on the way is looked at once (``lstat``), and only links are
    resolved; a link to a sibling (a name without ``/``) is the sibling's."""
    import os
    import stat

    base = os.fspath(prefix) + os.sep  # plain strings: this runs once per folder on the way
    real_root = os.path.realpath(prefix)
    root_slash = real_root.rstrip(os.sep) + os.sep
    found: dict[str, str] = {}

    def leaves(relative: str) -> bool:
        real = os.path.realpath(base + relative)
        return real != real_root and not real.startswith(root_slash)

    looked: dict[str, bool] = {}  # folder on the way -> it is a link out, or lies behind one

    def walk(folder: str) -> None:
        """Look at each folder from the prefix down to ``folder``; note the first link out."""
        parts = folder.split("/")
        for depth in range(1, len(parts) + 1):
            relative = "/".join(parts[:depth])
            known = looked.get(relative)
            if known is None:
                try:
                    is_link = stat.S_ISLNK(os.lstat(base + relative).st_mode)
                except OSError:
                    is_link = False  # missing: rattler creates it, a real folder
                known = looked[relative] = is_link and leaves(relative)
                if known:
                    found[relative] = os.readlink(base + relative)  # noqa: PTH115 - a str
            if known:
                for deeper in range(depth + 1, len(parts) + 1):
                    looked["/".join(parts[:deeper])] = True
                return

    for folder in folders:
        if folder:
            walk(folder)
            if looked.get(folder):
                continue
        try:
            with os.scandir(prefix / folder if folder else prefix) as items:
                links = [(item.name, Path(item.path)) for item in items if item.is_symlink()]
        except OSError:
            continue  # missing: nothing to write through
        for name, path in links:
            where = str(path.readlink())
            relative = f"{folder}/{name}" if folder else name
            if ("/" in where or where in ("", ".", "..")) and leaves(relative):
                found[relative] = where
    for parent in sorted({p.rpartition("/")[0] for p in paths} - {""}):
        walk(parent)
    return sorted(found.items())


def refuse_links_out(
    prefix: Path, *, site_packages: str | None, paths: Iterable[str] = (), doing: str = "syncing"
) -> None:
    """Refuse to write ``prefix`` when a folder condauv or uv writes in is a link out of it
    (``bin``, ``lib``, site-packages or its packages' folders, any top-level folder, the folders
    of ``paths``): rattler and uv would write, and later delete, through it."""
    # conda-meta too: the sync lock, the marker and rattler's history are written there
    folders = ["", "conda-meta", "bin", "lib", *([site_packages] if site_packages else [])]
    found = links_out(prefix, folders, paths)
    if found:
        link, where = found[0]
        raise UserError(
            f"{prefix} holds a link that leads out of it: {link!r} -> {where!r}; "
            f"{doing} would write through it",
            hint="condauv writes only inside the prefix: replace the link with a real folder, "
            "or sync into a new prefix",
        )


def remove_files(prefix: Path, paths: Iterable[str], *, keep: Iterable[str] = ()) -> list[str]:
    """Delete the prefix-relative ``paths`` (files and links), then the folders that emptied.

    The paths come from records, which are untrusted: one that is absolute, holds ``..``, is in
    ``keep``, or lies behind a link that leaves the prefix is left alone. A link is removed,
    never followed. Returns the paths removed.
    """
    kept = set(keep)
    removed: list[str] = []
    parents: set[Path] = set()
    for value in paths:
        target = None if value in kept else _inside(prefix, value)
        if target is None:
            continue
        if target.is_symlink() or target.is_file():
            target.unlink()
            removed.append(value)
            parents.add(target.parent)
    for parent in sorted(parents, key=lambda p: len(p.parts), reverse=True):
        for folder in (parent, *parent.parents):
            if folder == prefix or not folder.is_relative_to(prefix):
                break
            if folder.is_symlink() or not folder.is_dir():
                break  # removed already (a deeper folder emptied it), or not ours to prune
            try:
                folder.rmdir()
            except OSError:
                break  # not empty
    return removed


def write_synced_copy(prefix: Path, *, lock_text: str, manifest_text: str) -> None:
    """Keep the lock and manifest a sync just made ``prefix`` match (atomically, each)."""
    from condauv import _fs

    meta = prefix / "conda-meta"
    _fs.atomic_write_many([(meta / LOCK_COPY, lock_text), (meta / MANIFEST_COPY, manifest_text)])


def read_synced_copy(prefix: Path) -> tuple[str, str] | None:
    """``(lock_text, manifest_text)`` of the last sync into ``prefix``, or ``None``.

    The texts are untrusted like any file in a prefix: parse them with the lock's and the
    manifest's own readers.
    """
    meta = prefix / "conda-meta"
    try:
        return (
            (meta / LOCK_COPY).read_text(encoding="utf-8"),
            (meta / MANIFEST_COPY).read_text(encoding="utf-8"),
        )
    except (OSError, UnicodeDecodeError):
        return None
