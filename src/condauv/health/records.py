"""Full conda-meta records: what each conda package put in the prefix, with the hash of every file.

:mod:`condauv.conda.prefix` reads only the file names of conda-meta (fast, for diffs); a health
check needs the records themselves: ``paths_data`` (``sha256``, ``sha256_in_prefix``, sizes),
``files`` and ``depends``. Plain ``json``: no rattler import, so ``check`` starts fast.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from condauv.errors import UserError

__all__ = ["CondaFile", "CondaRecord", "distributions_in_files", "read_records"]

#: ``path_type`` values whose content is a regular file with a recorded hash.
_FILE_TYPES = frozenset({"hardlink", "pyc_file", "unix_python_entry_point", "windows_python_entry_point_exe"})

_DIST_DIR = re.compile(r"(?:^|/)site-packages/([^/]+)\.(?:dist-info|egg-info)(?:/|$)")


@dataclass(frozen=True, slots=True)
class CondaFile:
    """One path a conda package linked into the prefix, and the content it must have there."""

    path: str  # prefix-relative, POSIX
    sha256: str | None  # expected in the prefix: ``sha256_in_prefix``, else ``sha256``
    size: int | None  # expected size when known (only when the content was not rewritten)
    presence_only: bool  # a symbolic link or an unknown kind: its presence is checked, not its content


@dataclass(frozen=True, slots=True, kw_only=True)
class CondaRecord:
    name: str
    version: str
    build: str
    depends: tuple[str, ...]
    files: tuple[CondaFile, ...]
    record_path: Path
    subdir: str = ""
    build_number: int = 0

    @property
    def label(self) -> str:
        return f"{self.name} {self.version} ({self.build})"

    def provided_distributions(self) -> dict[str, str]:
        """PyPI name -> version of the dist-info/egg-info folders among the package's files."""
        return distributions_in_files(f.path for f in self.files)


def distributions_in_files(paths: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for path in paths:
        match = _DIST_DIR.search(path)
        if match is None or "-" not in match.group(1):
            continue
        name, version = match.group(1).split("-", 1)
        found[canonicalize_name(name)] = version.split("-", 1)[0]
    return found


def _files(raw: dict[str, Any]) -> tuple[CondaFile, ...]:
    paths_data = raw.get("paths_data")
    entries = paths_data.get("paths") if isinstance(paths_data, dict) else None
    if not isinstance(entries, list):  # an old record: names only, nothing to compare with
        return tuple(CondaFile(str(p), None, None, presence_only=False) for p in raw.get("files") or ())
    files = []
    for entry in entries:
        path_type = entry.get("path_type", "hardlink")
        if path_type == "directory":
            continue
        in_prefix = entry.get("sha256_in_prefix")
        size = entry.get("size_in_bytes") if in_prefix is None else None
        files.append(
            CondaFile(
                entry["_path"],
                in_prefix or entry.get("sha256"),
                size if isinstance(size, int) else None,
                presence_only=path_type not in _FILE_TYPES,
            )
        )
    return tuple(files)


def _record(path: Path) -> CondaRecord:
    try:
        raw = json.loads(path.read_bytes())
        return CondaRecord(
            name=raw["name"],
            version=str(raw["version"]),
            build=str(raw["build"]),
            build_number=int(raw.get("build_number") or 0),
            subdir=str(raw.get("subdir") or ""),
            depends=tuple(raw.get("depends") or ()),
            files=_files(raw),
            record_path=path,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UserError(
            f"{path} is not a readable conda record ({type(exc).__name__}: {exc})",
            hint="restore it from a backup, or recreate the environment (`condauv sync` into a new prefix)",
        ) from None


def read_records(prefix: Path) -> list[CondaRecord]:
    """Every ``conda-meta/*.json`` record of ``prefix``, sorted by name."""
    meta = prefix / "conda-meta"
    return sorted((_record(p) for p in meta.glob("*.json")), key=lambda r: r.name)
