"""What an archive of a prefix would carry beyond its packages.

conda-pack walks the prefix once (``CondaEnv.files``): the files conda-meta lists are its
managed files, and it packs every other file too, as it is ("unmanaged"). uv's installs are among
those; so is anything copied in by hand, which ``condauv check`` cannot see (it hashes what the
records list, nothing else). conda-pack also keeps a symbolic link as a link (a folder link in a
``.zip`` is followed: its whole target goes in). So, from conda-pack's own list: the files that
neither conda-meta nor a dist-info RECORD owns (a note), and the links that leave the prefix or
name an absolute path (refused: unpacked elsewhere, they point back at this machine).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

__all__ = ["leaving_links", "unowned_files"]

#: what rattler and condauv write themselves: rattler's CACHEDIR.TAG, and in conda-meta the
#: marker, the synced lock and manifest, the sync lock, a sync's journal and its stamp (which
#: an unpacked copy, at another path, never matches: it syncs in full once)
_OWN = frozenset(
    {
        "CACHEDIR.TAG",
        "conda-meta/condauv",
        "conda-meta/condauv-lock.toml",
        "conda-meta/condauv-manifest.toml",
        "conda-meta/condauv-journal",
        "conda-meta/condauv-stamp",
        "conda-meta/.condauv-sync.lock",
    }
)


def unowned_files(prefix: Path, unmanaged: Iterable[str]) -> list[str]:
    """The prefix-relative ``unmanaged`` paths (conda-pack's files that conda-meta does not list)
    that no dist-info RECORD owns, nor condauv or rattler, sorted; a ``.pyc`` goes with its source
    and an empty folder is no file."""
    owned = _record_owned(prefix)
    found = []
    for path in unmanaged:
        if path in _OWN or path in owned or _pyc_source(path) in owned:
            continue
        full = prefix / path
        if full.is_dir() and not full.is_symlink():
            continue  # an empty folder conda-pack keeps
        found.append(path)
    return sorted(found)


def leaving_links(prefix: Path, paths: Iterable[str]) -> list[tuple[str, str]]:
    """The links among the prefix-relative ``paths`` whose target is absolute or resolves outside
    ``prefix``, as (path, target), sorted."""
    root = prefix.resolve()
    found = []
    for path in paths:
        full = prefix / path
        try:
            if not full.is_symlink():
                continue
            target = full.readlink()
            inside = not target.is_absolute() and full.resolve().is_relative_to(root)
        except (OSError, RuntimeError):  # RuntimeError: a loop of links, which leads nowhere
            continue
        if not inside:
            found.append((path, str(target)))
    return sorted(found)


def _record_owned(prefix: Path) -> set[str]:
    """Every prefix-relative path a dist-info RECORD in site-packages lists with a hash (what
    ``check`` verifies), and each RECORD itself. A line without one (a ``.pyc``, say) owns nothing:
    bytecode goes with its source, and anything else check cannot vouch for either."""
    from condauv.conda.prefix import installed_conda
    from condauv.health.dists import read_record
    from condauv.pypi.site import installed_distributions, site_packages

    python = installed_conda(prefix).get("python")
    site = site_packages(prefix, python.version if python else None)
    if site is None:
        return set()
    owned = set()
    for dist in installed_distributions(site):
        owned.add(os.path.relpath(dist.path / "RECORD", prefix))
        for entry in read_record(dist.path) or ():
            if entry.digest is not None:
                owned.add(os.path.relpath(os.path.normpath(f"{site}/{entry.path}"), prefix))
    return owned


def _pyc_source(path: str) -> str | None:
    """``a/__pycache__/m.cpython-311.pyc`` and ``a/m.pyc`` -> ``a/m.py``; ``None`` for any other path."""
    if not path.endswith(".pyc"):
        return None
    folder, _, name = path.rpartition("/")
    stem = name.removesuffix(".pyc")
    if folder.endswith("__pycache__"):
        folder = folder.removesuffix("__pycache__").rstrip("/")
        stem = stem.partition(".")[0]
    return f"{folder}/{stem}.py" if folder else f"{stem}.py"
