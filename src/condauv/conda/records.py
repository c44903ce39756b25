"""conda-meta records: what each conda package put in a prefix, as conda, mamba, micromamba, pixi
or rattler wrote it.

:mod:`condauv.conda.prefix` reads only the file names of conda-meta (fast, for diffs); ``check``
needs the records themselves (every file's expected sha256, ``depends``) and ``adopt`` what it
takes to lock them again (url, sha256, channel, requested specs). One parser serves both, over
every format those tools wrote. Plain ``json``: no rattler import, so ``check`` starts fast.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from condauv.errors import UserError
from condauv.lock.model import CondaPackage
from condauv.platforms import python_site_packages
from condauv.pypi.site import split_metadata_folder

__all__ = ["CondaFile", "CondaRecord", "dist_folders", "read_records", "spec_name"]

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SPEC_NAME = re.compile(r"^\s*([A-Za-z0-9_][A-Za-z0-9_.\-]*)")
_DIST_FOLDER = re.compile(r"(?:^|/)site-packages/([^/]+\.(?:dist-info|egg-info))(?:/|$)")
#: site-packages as a prefix path: ``lib/python3.11/site-packages`` (``3.13t`` too), ``Lib/site-packages``.
_PREFIX_SITE = re.compile(r"^((?:lib/python\d[^/]*|Lib)/site-packages)/")

#: ``path_type`` values whose content is a regular file with a recorded hash.
_FILE_TYPES = frozenset({"hardlink", "pyc_file", "unix_python_entry_point", "windows_python_entry_point_exe"})

#: What goes wrong reading a record: an unreadable file, bad JSON, a missing or mistyped field.
_RECORD_ERRORS = (OSError, ValueError, KeyError, TypeError, AttributeError)


def spec_name(spec: str) -> str:
    """The package name of a conda match spec: ``conda-forge::numpy>=1.26`` -> ``numpy``."""
    text = spec.strip().strip("\"'")
    if "::" in text:
        text = text.split("::", 1)[1]
    match = _SPEC_NAME.match(text)
    return match.group(1).lower() if match else ""


def dist_folders(paths: Iterable[str]) -> dict[str, tuple[str, str]]:
    """The dist-info/egg-info folders among a package's files: folder name -> (distribution, version).

    ``numpy-2.0.dist-info`` -> ``("numpy", "2.0")``; ``old_thing-1.0-py3.11.egg-info`` ->
    ``("old-thing", "1.0")``. A folder whose name carries no version is left out.
    """
    found: dict[str, tuple[str, str]] = {}
    for path in paths:
        match = _DIST_FOLDER.search(path)
        parsed = split_metadata_folder(match.group(1)) if match else None
        if match and parsed:
            found[match.group(1)] = parsed
    return found


@dataclass(frozen=True, slots=True)
class CondaFile:
    """One path a conda package linked into the prefix, and the content it must have there."""

    path: str  # prefix-relative, POSIX
    sha256: str | None  # expected in the prefix: ``sha256_in_prefix``, else ``sha256``
    size: int | None  # expected size when known (only when the content was not rewritten)
    presence_only: bool  # a symbolic link or an unknown kind: its presence is checked, not its content
    #: bytecode (``.pyc``/``.pyo``, conda's ``pyc_file``): Python writes it again when it is gone or
    #: stale, so its absence is no damage (``conda doctor`` leaves it out too)
    optional: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CondaRecord:
    """One ``conda-meta/*.json`` record."""

    record_path: Path
    name: str
    version: str
    build: str
    build_number: int
    subdir: str  # from the URL when the record has none
    url: str  # "" when the tool recorded none: not lockable
    channel: str
    sha256: str  # "" when the tool recorded none (older conda wrote only md5)
    md5: str | None
    size: int | None
    noarch: str | None  # "python", "generic" or None, whichever way the tool spelled it
    depends: tuple[str, ...]
    constrains: tuple[str, ...]
    python_site_packages_path: str | None
    files: tuple[CondaFile, ...]  # from ``paths_data`` (with hashes) or, in old records, ``files``
    requested_specs: tuple[str, ...]  # rattler: ``requested_specs``; conda: ``requested_spec``

    @property
    def label(self) -> str:
        return f"{self.name} {self.version} ({self.build})"

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(f.path for f in self.files)

    @property
    def dependency_names(self) -> tuple[str, ...]:
        return tuple(n for n in (spec_name(d) for d in self.depends) if n)

    @property
    def channel_url(self) -> str:
        """The channel's base URL, from the artifact URL (``<channel>/<subdir>/<file>``)."""
        if self.url.count("/") >= 3:
            return self.url.rsplit("/", 2)[0]
        return self.channel.rstrip("/")

    @property
    def lockable(self) -> bool:
        """The lock installs only verified artifacts: it needs the URL and the sha256."""
        return bool(self.url) and bool(_SHA256.match(self.sha256))

    def provided_distributions(self) -> dict[str, str]:
        """PyPI name -> version of the dist-info/egg-info folders among the package's files."""
        return dict(dist_folders(self.paths).values())

    def to_package(self, platform: str, *, requested: str | None, reason: str) -> CondaPackage:
        """The lock's entry for this installed package, exactly as it is installed."""
        provides = sorted(f"{dist}=={version}" for dist, version in dist_folders(self.paths).values())
        return CondaPackage(
            platform=platform,
            name=self.name,
            version=self.version,
            build=self.build,
            build_number=self.build_number,
            subdir=self.subdir,
            channel=self.channel or self.channel_url,
            url=self.url,
            sha256=self.sha256,
            md5=self.md5,
            size=self.size,
            noarch=self.noarch,
            depends=self.depends,
            constrains=self.constrains,
            python_site_packages_path=self.python_site_packages_path,
            requested=requested,
            reason=reason,
            provides=tuple(provides),
        )

    @classmethod
    def from_json(
        cls, raw: Mapping[str, Any], record_path: Path, *, site_packages: str | None = None
    ) -> CondaRecord:
        """Raises ``KeyError``/``TypeError``/``ValueError``/``AttributeError`` for a malformed record.

        ``site_packages`` (``lib/python3.11/site-packages``): the prefix's, for a ``noarch: python``
        record that does not say where its files went.
        """
        noarch = raw.get("noarch")
        if isinstance(noarch, dict):  # old conda: {"type": "python"}
            noarch = noarch.get("type")
        if noarch is None and raw.get("package_type") in ("noarch_python", "noarch_generic"):
            noarch = str(raw["package_type"]).removeprefix("noarch_")
        requested = raw.get("requested_specs")
        if requested is None:  # conda: one ``requested_spec``, "None" when there was none
            single = raw.get("requested_spec")
            requested = [single] if isinstance(single, str) and single not in ("", "None") else []
        url = str(raw.get("url") or "")
        return cls(
            record_path=record_path,
            name=str(raw["name"]).lower(),
            version=str(raw["version"]),
            build=str(raw["build"]),
            build_number=int(raw.get("build_number") or 0),
            subdir=str(raw.get("subdir") or (url.rsplit("/", 2)[-2] if url.count("/") >= 2 else "")),
            url=url,
            channel=str(raw.get("channel") or ""),
            sha256=str(raw.get("sha256") or "").lower(),
            md5=str(raw["md5"]) if raw.get("md5") else None,
            size=int(raw["size"]) if raw.get("size") else None,
            noarch=str(noarch) if noarch else None,
            depends=tuple(str(d) for d in raw.get("depends") or ()),
            constrains=tuple(str(c) for c in raw.get("constrains") or ()),
            python_site_packages_path=raw.get("python_site_packages_path"),
            files=_files(raw, str(noarch) if noarch else None, site_packages),
            requested_specs=tuple(str(s) for s in requested),
        )


def _noarch_python_places(raw: Mapping[str, Any], site_packages: str | None) -> tuple[str, str] | None:
    """Where a ``noarch: python`` package's ``site-packages/`` and ``python-scripts/`` went.

    conda writes the package paths (``site-packages/six.py``) in ``paths_data`` and the prefix
    paths in ``files``; rattler writes prefix paths in both. The record's own ``files`` names the
    folder (its python at install time); else the prefix's python (``site_packages``).
    """
    for path in raw.get("files") or ():
        match = _PREFIX_SITE.match(str(path))
        if match:
            site_packages = match.group(1)
            break
    if site_packages is None:
        return None
    return site_packages, "Scripts" if site_packages.startswith("Lib/") else "bin"


def _files(raw: Mapping[str, Any], noarch: str | None, site_packages: str | None) -> tuple[CondaFile, ...]:
    places = _noarch_python_places(raw, site_packages) if noarch == "python" else None

    def in_prefix(path: str) -> str:
        head, slash, rest = path.partition("/")
        if places is None or not slash:
            return path
        if head == "site-packages":
            return f"{places[0]}/{rest}"
        return f"{places[1]}/{rest}" if head == "python-scripts" else path

    paths_data = raw.get("paths_data")
    entries = paths_data.get("paths") if isinstance(paths_data, dict) else None
    if not isinstance(entries, list):  # an old record: names only, nothing to compare with
        return tuple(
            CondaFile(in_prefix(str(p)), None, None, presence_only=False, optional=_bytecode(str(p)))
            for p in raw.get("files") or ()
        )
    files = []
    for entry in entries:
        path_type = entry.get("path_type", "hardlink")
        if path_type == "directory":
            continue
        in_prefix_sha = entry.get("sha256_in_prefix")
        size = entry.get("size_in_bytes") if in_prefix_sha is None else None
        files.append(
            CondaFile(
                in_prefix(str(entry["_path"])),
                in_prefix_sha or entry.get("sha256"),
                size if isinstance(size, int) else None,
                presence_only=path_type not in _FILE_TYPES,
                optional=path_type == "pyc_file" or _bytecode(str(entry["_path"])),
            )
        )
    return tuple(files)


def _bytecode(path: str) -> bool:
    return path.endswith((".pyc", ".pyo"))


def read_records(
    prefix: Path, *, on_error: Callable[[Path, Exception], None] | None = None
) -> list[CondaRecord]:
    """Every ``conda-meta/*.json`` record of ``prefix``, sorted by name.

    An unreadable record is a :class:`UserError`, or, with ``on_error``, handed to it and left out.
    """

    def failed(path: Path, exc: Exception) -> None:
        if on_error is None:
            raise UserError(
                f"{path} is not a readable conda record ({type(exc).__name__}: {exc})",
                hint="restore it from a backup, or recreate the environment "
                "(`condauv sync` into a new prefix)",
            ) from None
        on_error(path, exc)

    raws: list[tuple[Path, Any]] = []
    for path in sorted((prefix / "conda-meta").glob("*.json")):
        try:
            raws.append((path, json.loads(path.read_bytes())))
        except _RECORD_ERRORS as exc:
            failed(path, exc)
    site = _python_site_packages(raw for _, raw in raws)
    records = []
    for path, raw in raws:
        try:
            records.append(CondaRecord.from_json(raw, path, site_packages=site))
        except _RECORD_ERRORS as exc:
            failed(path, exc)
    return sorted(records, key=lambda r: r.name)


def _python_site_packages(raws: Iterable[Any]) -> str | None:
    """The site-packages of the prefix's conda python, from its record (``None``: no python)."""
    for raw in raws:
        if isinstance(raw, dict) and raw.get("name") == "python" and isinstance(raw.get("version"), str):
            declared = raw.get("python_site_packages_path")  # CEP 17: free-threaded builds
            if isinstance(declared, str) and declared:
                return declared
            return python_site_packages(raw["version"])
    return None
