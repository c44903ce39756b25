"""Reading a conda prefix without rattler: conda-meta file names are enough for a quick diff."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MARKER", "InstalledConda", "installed_conda", "is_managed", "mark_managed"]

#: condauv's mark in conda-meta: the prefix is managed by a condauv project. Not ``*.json``:
#: conda and rattler read every ``conda-meta/*.json`` as a package record.
MARKER = "condauv"


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
