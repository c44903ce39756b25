"""conda-meta records: what each conda package put in a prefix, as conda, mamba, micromamba, pixi
or rattler wrote it.

:mod:`condauv.conda.prefix` reads only the file names of conda-meta (fast, for diffs); ``check``
needs the records themselves (every file's expected sha256, ``depends``) and ``adopt`` what it
takes to lock them again (url, sha256, channel, requested specs). One parser serves both, over
every format those tools wrote. Plain ``json``: no rattler import, so ``check`` starts fast.

Parsing 300 records (10 MB of JSON, 40,000 files) costs a check more than its imports, so
``read_records(cache=True)`` remembers each parsed record in condauv's cache by its file's inode,
size, mtime and ctime, as check remembers hashed files: a record rewritten is parsed again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import marshal
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from condauv.errors import UserError
from condauv.platforms import python_site_packages
from condauv.pypi.site import split_metadata_folder

if TYPE_CHECKING:
    from condauv.lock.model import CondaPackage

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
    search = _DIST_FOLDER.search
    for path in paths:
        match = search(path) if "-info" in path else None  # most paths: no regex run at all
        parsed = split_metadata_folder(match.group(1)) if match else None
        if match and parsed:
            found[match.group(1)] = parsed
    return found


class CondaFile(NamedTuple):
    """One path a conda package linked into the prefix, and the content it must have there.

    A named tuple, not a dataclass: a prefix has tens of thousands, made at every check.
    """

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
    #: :func:`dist_folders` of ``files``, as (folder, distribution, version): found once, with the record
    metadata_folders: tuple[tuple[str, str, str], ...]

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
        return {dist: version for _, dist, version in self.metadata_folders}

    def to_package(self, platform: str, *, requested: str | None, reason: str) -> CondaPackage:
        """The lock's entry for this installed package, exactly as it is installed."""
        from condauv.lock.model import CondaPackage

        provides = sorted(f"{dist}=={version}" for _, dist, version in self.metadata_folders)
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
        files = _files(raw, str(noarch) if noarch else None, site_packages)
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
            files=files,
            requested_specs=tuple(str(s) for s in requested),
            metadata_folders=tuple(
                (folder, dist, version)
                for folder, (dist, version) in dist_folders(f.path for f in files).items()
            ),
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
    files: list[tuple[str, Any, int | None, bool, bool]] = []
    add, file_types = files.append, _FILE_TYPES
    for entry in entries:  # tens of thousands in a prefix: no Python call but the dict's
        path_type = entry.get("path_type", "hardlink")
        if path_type == "directory":
            continue
        path = str(entry["_path"])
        in_prefix_sha = entry.get("sha256_in_prefix")
        size = entry.get("size_in_bytes") if in_prefix_sha is None else None
        add(
            (
                in_prefix(path) if places else path,
                in_prefix_sha or entry.get("sha256"),
                size if isinstance(size, int) else None,
                path_type not in file_types,
                path_type == "pyc_file" or path.endswith(_BYTECODE),
            )
        )
    return tuple(map(_new_file, repeat(CondaFile), files))


_BYTECODE = (".pyc", ".pyo")


def _bytecode(path: str) -> bool:
    return path.endswith(_BYTECODE)


def read_records(
    prefix: Path, *, on_error: Callable[[Path, Exception], None] | None = None, cache: bool = False
) -> list[CondaRecord]:
    """Every ``conda-meta/*.json`` record of ``prefix``, sorted by name.

    An unreadable record is a :class:`UserError`, or, with ``on_error``, handed to it and left out.
    ``cache``: take the records whose file did not change from condauv's cache, and remember
    the others there.
    """

    def failed(path: Path, exc: Exception) -> None:
        if on_error is None:
            raise UserError(
                f"{path} is not a readable conda record ({type(exc).__name__}: {exc})",
                hint="restore it from a backup, or recreate the environment "
                "(`condauv sync` into a new prefix)",
            ) from None
        on_error(path, exc)

    meta = prefix / "conda-meta"
    try:
        names = sorted(entry.name for entry in os.scandir(meta) if entry.name.endswith(".json"))
    except OSError:  # no conda-meta (or none to read): no records, as a glob finds none
        names = []
    store = _RecordCache.load(prefix) if cache else None
    # (path, its file's stat, the cached entry, the parsed JSON): one of the last two
    read: list[tuple[Path, tuple[int, int, int, int] | None, _Entry | None, Any]] = []
    for name in names:
        path = meta / name
        stat = _stat(path) if store is not None else None
        entry = store.get(name, stat) if store is not None and stat is not None else None
        if entry is not None:
            read.append((path, stat, entry, None))
            continue
        try:
            read.append((path, stat, None, json.loads(path.read_bytes())))
        except _RECORD_ERRORS as exc:
            failed(path, exc)
    site = next(
        (
            where
            for _, _, entry, raw in read
            if (where := entry[_CONTRIBUTES] if entry is not None else _site_of(raw)) is not None
        ),
        None,
    )
    records = []
    for path, stat, entry, parsed in read:
        if entry is not None and (entry[_SITE] == site or entry[_FIELDS][_NOARCH] != "python"):
            records.append(_from_entry(entry, path))
            continue
        try:
            # None: remembered for another python, where its noarch paths were elsewhere
            raw = json.loads(path.read_bytes()) if parsed is None else parsed
            record = CondaRecord.from_json(raw, path, site_packages=site)
        except _RECORD_ERRORS as exc:
            failed(path, exc)
            continue
        records.append(record)
        if store is not None and stat is not None:
            store.put(path.name, stat, _site_of(raw), site, record)
    if store is not None:
        store.save(names)
    return sorted(records, key=lambda r: r.name)


def _site_of(raw: Any) -> str | None:
    """The site-packages a conda python's record says its prefix has (``None``: no python record)."""
    if isinstance(raw, dict) and raw.get("name") == "python" and isinstance(raw.get("version"), str):
        declared = raw.get("python_site_packages_path")  # CEP 17: free-threaded builds
        if isinstance(declared, str) and declared:
            return declared
        return python_site_packages(raw["version"])
    return None


#: Records changed this recently (ns) are never remembered: a rewrite in the same clock tick
#: would keep the stat that was remembered.
_SETTLE_NS = 2_000_000_000
#: The records cache's format: a sha256 of the payload, then marshal of (this, the prefix,
#: {record file name: entry}). The checksum finds damage; every entry is type-checked besides,
#: so a file condauv did not write costs a parse, never a wrong record.
_CACHE_FORMAT = "condauv-records 1"
#: An entry: (stat of the record file, the site-packages it says the prefix has if it is a
#: python, the site-packages it was parsed for, the record's fields as plain tuples).
_Entry = tuple[Any, ...]
_CONTRIBUTES, _SITE, _FIELDS = 1, 2, 3
_NOARCH = 10  # in the fields: only a noarch: python record's paths depend on the site


def _stat(path: Path) -> tuple[int, int, int, int] | None:
    try:
        stat = path.stat()  # the record as read_bytes reads it: through a link
    except OSError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns


class _RecordCache:
    def __init__(self, path: Path, prefix: str, entries: dict[str, _Entry]) -> None:
        self.path = path
        self.prefix = prefix
        self.entries = entries
        self.changed = False
        self.horizon = time.time_ns() - _SETTLE_NS

    @classmethod
    def load(cls, prefix: Path) -> _RecordCache:
        from condauv import paths

        key = hashlib.sha256(str(prefix).encode()).hexdigest()[:24]
        path = paths.cache_dir() / "check" / f"{key}.records"
        entries: dict[str, _Entry] = {}
        with contextlib.suppress(Exception):  # anything amiss: an empty cache, every record parsed
            data = path.read_bytes()
            if hashlib.sha256(data[32:]).digest() == data[:32]:
                loaded = marshal.loads(data[32:])  # noqa: S302 - our own file, checksummed, type-checked
                if type(loaded) is tuple and loaded[:2] == (_CACHE_FORMAT, str(prefix)):
                    entries = loaded[2] if type(loaded[2]) is dict else {}
        return cls(path, str(prefix), entries)

    def get(self, name: str, stat: tuple[int, int, int, int]) -> _Entry | None:
        entry = self.entries.get(name)
        if entry is None or not _valid(entry) or entry[0] != stat:
            return None
        return entry

    def put(
        self,
        name: str,
        stat: tuple[int, int, int, int],
        contributes: str | None,
        site: str | None,
        record: CondaRecord,
    ) -> None:
        if max(stat[2], stat[3]) >= self.horizon:
            return
        files = record.files
        fields = (
            record.name, record.version, record.build, record.build_number, record.subdir, record.url,
            record.channel, record.sha256, record.md5, record.size, record.noarch, record.depends,
            record.constrains, record.python_site_packages_path, record.requested_specs,
            record.metadata_folders,
            # the files by column: one tuple each, a type check each (tens of thousands of files)
            tuple(f.path for f in files), tuple(f.sha256 for f in files), tuple(f.size for f in files),
            tuple(f.presence_only for f in files), tuple(f.optional for f in files),
        )  # fmt: skip
        entry = (stat, contributes, site, fields)
        if _valid(entry):  # a record with a field of an odd type is parsed every time instead
            self.entries[name] = entry
            self.changed = True

    def save(self, names: Iterable[str]) -> None:
        kept = set(names)
        if len(kept) != len(self.entries) or not kept.issuperset(self.entries):
            self.entries = {name: entry for name, entry in self.entries.items() if name in kept}
            self.changed = True
        if not self.changed:
            return
        from condauv import _fs

        data = marshal.dumps((_CACHE_FORMAT, self.prefix, self.entries), 4)
        with contextlib.suppress(OSError):  # a read-only cache only makes the next read slower
            _fs.atomic_write_bytes(self.path, hashlib.sha256(data).digest() + data, durable=False)


_STR = {str}
_STR_OR_NONE = {str, type(None)}
_INT_OR_NONE = {int, type(None)}
_BOOL = {bool}


def _valid(entry: Any) -> bool:
    """Whether ``entry`` has the shape :meth:`_RecordCache.put` gives one, every field its type."""
    try:
        stat, contributes, site, fields = entry
        (name, version, build, build_number, subdir, url, channel, sha256, md5, size, noarch,
         depends, constrains, site_path, requested, folders, paths, digests, sizes, links,
         bytecode) = fields  # fmt: skip
        columns = (paths, digests, sizes, links, bytecode)
        return (
            type(entry) is type(stat) is type(fields) is tuple
            and len(stat) == 4
            and set(map(type, stat)) <= {int}
            and set(map(type, (contributes, site, md5, noarch, site_path))) <= _STR_OR_NONE
            and set(map(type, (name, version, build, subdir, url, channel, sha256))) <= _STR
            and type(build_number) is int
            and type(size) in _INT_OR_NONE
            and all(
                type(group) is tuple and set(map(type, group)) <= _STR
                for group in (depends, constrains, requested)
            )
            and type(folders) is tuple
            and all(type(f) is tuple and len(f) == 3 and set(map(type, f)) <= _STR for f in folders)
            and all(type(column) is tuple and len(column) == len(paths) for column in columns)
            and set(map(type, paths)) <= _STR
            and set(map(type, digests)) <= _STR_OR_NONE
            and set(map(type, sizes)) <= _INT_OR_NONE
            and set(map(type, links)) <= _BOOL
            and set(map(type, bytecode)) <= _BOOL
        )
    except (TypeError, ValueError):
        return False


def _from_entry(entry: _Entry, path: Path) -> CondaRecord:
    (name, version, build, build_number, subdir, url, channel, sha256, md5, size, noarch, depends,
     constrains, site_path, requested, folders, *columns) = entry[_FIELDS]  # fmt: skip
    return CondaRecord(
        record_path=path,
        name=name,
        version=version,
        build=build,
        build_number=build_number,
        subdir=subdir,
        url=url,
        channel=channel,
        sha256=sha256,
        md5=md5,
        size=size,
        noarch=noarch,
        depends=depends,
        constrains=constrains,
        python_site_packages_path=site_path,
        files=tuple(map(_new_file, repeat(CondaFile), zip(*columns, strict=True))),
        requested_specs=requested,
        metadata_folders=folders,
    )


#: ``CondaFile`` from a plain tuple without a Python call: ``_make`` costs a check 10 ms.
_new_file: Callable[[type[CondaFile], Iterable[Any]], CondaFile] = tuple.__new__
