"""Reading a conda prefix without rattler: conda-meta file names are enough for a quick diff."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "LOCK_COPY",
    "MANIFEST_COPY",
    "MARKER",
    "InstalledConda",
    "installed_conda",
    "is_managed",
    "mark_managed",
    "read_synced_copy",
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
    meta.mkdir(parents=True, exist_ok=True)
    (meta / MARKER).write_text(json.dumps({"manifest": str(manifest)}) + "\n", encoding="utf-8")


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
