"""What the package index says about a project, for classification: which wheels exist for the targets.

For each project and target (a Python minor version on a conda subdir), the newest release
that admits that Python is looked at, and sorted into one :data:`WheelKind`:

- ``pure``: a wheel every platform installs (``py3-none-any``): uv's job;
- ``platform``: a binary wheel for the target, self-contained by the manylinux/macOS wheel
  rules (the strategy's scikit-learn, xgboost, lightgbm): uv's job too;
- ``no-wheel``: wheels exist, none for the target; ``sdist-only``: no wheels at all; in both
  cases uv would have to build it, so a conda channel that has it should install it;
- ``not-on-pypi``: the index does not know the project.

Pages are fetched in parallel (the work is network-bound) and kept on disk in a compact form:
the newest :data:`KEEP_VERSIONS` releases only, so that an offline run reads a few KB per
project. ``offline`` reads that cache alone, however old.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import re
import time
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.parser import HeaderParser
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse
from urllib.request import url2pathname

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from condauv import _fs
from condauv.manifest.model import PypiOptions
from condauv.paths import cache_dir
from condauv.pypi.index import DEFAULT_INDEX_URL, ProjectFile, files_in_folder, read_project_page
from condauv.pypi.simple import target_tags

__all__ = [
    "FRESH_S",
    "KEEP_VERSIONS",
    "PlatformEvidence",
    "PypiEvidence",
    "PypiSources",
    "WheelKind",
    "gather_evidence",
    "python_minor",
]

log = logging.getLogger("condauv.evidence")

WheelKind = Literal["pure", "platform", "no-wheel", "sdist-only", "not-on-pypi"]
_WORST_FIRST: tuple[WheelKind, ...] = ("not-on-pypi", "sdist-only", "no-wheel", "platform", "pure")

#: Releases of a project kept in the on-disk cache, newest first.
KEEP_VERSIONS = 12
#: A cached page younger than this is used online without asking the index again.
FRESH_S = 600.0
_WORKERS = 24


@dataclass(frozen=True, slots=True)
class PlatformEvidence:
    subdir: str
    kind: WheelKind
    version: str = ""  # the release looked at
    wheel: str = ""  # the wheel uv would pick, when there is one

    def describe(self) -> str:
        return {
            "pure": f"pure-Python wheel {self.wheel}",
            "platform": f"self-contained binary wheel {self.wheel}",
            "no-wheel": f"{self.version} has no wheel for this target: uv would build it from source",
            "sdist-only": f"{self.version} has only a source distribution: uv would build it",
            "not-on-pypi": "not on the index",
        }[self.kind]


@dataclass(frozen=True, slots=True)
class PypiEvidence:
    """What the index says about one project, per target platform."""

    project: str
    platforms: tuple[PlatformEvidence, ...]
    source: str  # the index (or folder) and whether the answer came from the cache
    requires_dist: tuple[str, ...] | None = None  # of the wheel for the first target, when read

    @property
    def kind(self) -> WheelKind:
        """The worst kind over the targets: one platform without a wheel is enough to build."""
        kinds = {p.kind for p in self.platforms}
        return next((k for k in _WORST_FIRST if k in kinds), "not-on-pypi")

    @property
    def version(self) -> str:
        return next((p.version for p in self.platforms if p.version), "")

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "kind": self.kind,
            "version": self.version,
            "source": self.source,
            "platforms": {p.subdir: {"kind": p.kind, "wheel": p.wheel or None} for p in self.platforms},
        }
        if self.requires_dist is not None:
            data["requires-dist"] = list(self.requires_dist)
        return data


@dataclass(frozen=True, slots=True)
class PypiSources:
    """Where uv would look: index URLs and ``--find-links`` folders (other find-links are skipped)."""

    index_urls: tuple[str, ...] = (DEFAULT_INDEX_URL,)
    folders: tuple[Path, ...] = ()

    @classmethod
    def from_options(cls, options: PypiOptions, root: Path) -> PypiSources:
        indexes = (
            () if options.no_index else (options.index_url or DEFAULT_INDEX_URL, *options.extra_index_urls)
        )
        folders = []
        for link in options.find_links:
            scheme = urlparse(link).scheme
            if scheme == "file":
                folders.append(Path(url2pathname(urlparse(link).path)))
            elif not scheme:
                folders.append(root / link)
        return cls(tuple(indexes), tuple(folders))

    def describe(self) -> str:
        return ", ".join([*self.index_urls, *(str(f) for f in self.folders)]) or "no index"


@dataclass(slots=True)
class _Page:
    files: list[ProjectFile] | None  # None: the index does not know the project
    source: str
    etag: str = ""
    fetched: float = field(default_factory=time.time)


# --- sorting releases and wheels --------------------------------------------------------------------


def _version_of(filename: str) -> str:
    """The version part of a wheel or sdist name, by string splitting alone (pages hold thousands)."""
    if filename.endswith(".whl"):
        parts = filename.split("-")
        return parts[1] if len(parts) >= 5 else ""
    stem = filename.removesuffix(".tar.gz").removesuffix(".zip").removesuffix(".tar.bz2")
    return stem.rsplit("-", 1)[1] if "-" in stem and stem != filename else ""


@functools.lru_cache(maxsize=4096)
def _parse_version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


@functools.lru_cache(maxsize=4096)
def _admits(requires_python: str, python: str) -> bool:
    if not requires_python:
        return True
    try:
        return SpecifierSet(requires_python).contains(python, prereleases=True)
    except InvalidSpecifier:
        return True


def _releases(files: Iterable[ProjectFile]) -> list[tuple[Version, list[ProjectFile]]]:
    """Files grouped by release, newest first; yanked files and unreadable names left out."""
    groups: dict[str, list[ProjectFile]] = {}
    for info in files:
        if not info.yanked:
            groups.setdefault(_version_of(info.filename), []).append(info)
    parsed = [(_parse_version(text), group) for text, group in groups.items() if text]
    return sorted(((v, g) for v, g in parsed if v is not None), key=lambda item: item[0], reverse=True)


def _evaluate(
    files: Sequence[ProjectFile], specifier: SpecifierSet, python: tuple[int, int], subdir: str
) -> PlatformEvidence:
    """The evidence for one target: the newest admissible release and the wheel uv would pick."""
    python_text = "{}.{}".format(*python)
    releases = _releases(files)
    if not releases:
        return PlatformEvidence(subdir, "not-on-pypi")
    # no release in the specifier (or in the cache's newest ones): judge the project by its newest
    candidates = [(v, g) for v, g in releases if specifier.contains(v, prereleases=True)] or releases
    finals = [(v, g) for v, g in candidates if not v.is_prerelease] or candidates
    release = next(
        ((v, g) for v, g in finals if any(_admits(f.requires_python, python_text) for f in g)), None
    )
    if release is None:
        return PlatformEvidence(subdir, "no-wheel", str(finals[0][0]) if finals else "")
    version, group = release
    wheels = [f for f in group if f.filename.endswith(".whl") and _admits(f.requires_python, python_text)]
    if not wheels:
        return PlatformEvidence(subdir, "sdist-only", str(version))
    ranks = target_tags(python, subdir)
    best: tuple[int, ProjectFile, bool] | None = None
    for wheel in wheels:
        with contextlib.suppress(InvalidWheelFilename):
            tags = parse_wheel_filename(wheel.filename)[3]
            matching = [(ranks[t], t.platform == "any") for t in tags if t in ranks]
            if matching:
                rank, pure = min(matching)
                if best is None or rank < best[0]:
                    best = (rank, wheel, pure)
    if best is None:
        return PlatformEvidence(subdir, "no-wheel", str(version))
    return PlatformEvidence(subdir, "pure" if best[2] else "platform", str(version), best[1].filename)


# --- the on-disk cache --------------------------------------------------------------------------------


def _cache_path(index_url: str, project: str) -> Path:
    key = hashlib.sha256(index_url.encode()).hexdigest()[:16]
    return cache_dir() / "pypi-simple" / key / f"{canonicalize_name(project)}.json"


def _read_cache(index_url: str, project: str) -> _Page | None:
    try:
        raw = json.loads(_cache_path(index_url, project).read_text(encoding="utf-8"))
        files = None if raw["files"] is None else [ProjectFile.from_row(r) for r in raw["files"]]
        return _Page(files, index_url, str(raw.get("etag", "")), float(raw["fetched"]))
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def _write_cache(index_url: str, project: str, page: _Page) -> None:
    files = None
    if page.files is not None:
        kept = _releases(page.files)[:KEEP_VERSIONS]
        files = [f.to_row() for _, group in kept for f in group]
    data = {"fetched": page.fetched, "etag": page.etag, "files": files}
    with contextlib.suppress(OSError):  # a cache that cannot be written only costs speed
        _fs.atomic_write_text(_cache_path(index_url, project), json.dumps(data, separators=(",", ":")))


def _index_page(index_url: str, project: str, *, offline: bool) -> _Page | None:
    cached = _read_cache(index_url, project)
    if offline:
        if cached:
            cached.source = f"{index_url} (cached {_age(cached.fetched)} ago)"
        return cached
    if cached and time.time() - cached.fetched < FRESH_S:
        cached.source = f"{index_url} (cached {_age(cached.fetched)} ago)"
        return cached
    answer = read_project_page(index_url, project, etag=cached.etag if cached else "")
    if answer.not_modified and cached:
        page = _Page(cached.files, index_url, cached.etag)
    else:
        page = _Page(list(answer.files) if answer.files is not None else None, index_url, answer.etag)
    _write_cache(index_url, project, page)
    return page


def _age(fetched: float) -> str:
    seconds = max(0, int(time.time() - fetched))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


# --- metadata (for the transitive view) -----------------------------------------------------------------


def _requires_dist(wheel: ProjectFile, *, offline: bool) -> tuple[str, ...] | None:
    """``Requires-Dist`` of a wheel: from its local file, else the index's ``.metadata`` (cached)."""
    parsed = urlparse(wheel.url)
    if parsed.scheme == "file":
        try:
            with zipfile.ZipFile(url2pathname(parsed.path)) as archive:
                name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
                text = archive.read(name).decode("utf-8", errors="replace")
        except (OSError, zipfile.BadZipFile, StopIteration):
            return None
        return _parse_requires(text)
    cache = cache_dir() / "pypi-metadata" / f"{wheel.filename}.metadata"
    if cache.is_file():
        return _parse_requires(cache.read_text(encoding="utf-8", errors="replace"))
    if offline:  # pages do not always advertise ``.metadata`` (PEP 714) though the files are served
        return None
    import urllib.request

    try:
        with urllib.request.urlopen(f"{wheel.url}.metadata", timeout=30) as response:  # noqa: S310
            text = response.read().decode("utf-8", errors="replace")
    except OSError:
        return None
    with contextlib.suppress(OSError):
        _fs.atomic_write_text(cache, text)
    return _parse_requires(text)


def _parse_requires(text: str) -> tuple[str, ...]:
    return tuple(HeaderParser().parsestr(text).get_all("Requires-Dist") or ())


# --- putting it together ------------------------------------------------------------------------------


def _project_evidence(
    project: str,
    specifier: str,
    sources: PypiSources,
    python: tuple[int, int],
    subdirs: Sequence[str],
    *,
    offline: bool,
    with_requires: bool,
) -> PypiEvidence | None:
    files: list[ProjectFile] = []
    where = [str(folder) for folder in sources.folders]
    for folder in sources.folders:
        files += files_in_folder(folder, project)
    unread = 0
    for index_url in sources.index_urls:
        page = _index_page(index_url, project, offline=offline)
        if page is None:  # offline, and not in the cache
            unread += 1
            continue
        files += page.files or []
        where.append(page.source)
    if unread and not files:
        return None  # a source was not consulted: absence is not evidence
    try:
        spec = SpecifierSet(specifier)
    except InvalidSpecifier:
        spec = SpecifierSet()
    platforms = tuple(_evaluate(files, spec, python, subdir) for subdir in subdirs)
    requires = None
    if with_requires:
        chosen = next((p.wheel for p in platforms if p.wheel), "")
        wheel = next((f for f in files if f.filename == chosen), None)
        requires = _requires_dist(wheel, offline=offline) if wheel else None
    return PypiEvidence(canonicalize_name(project), platforms, "; ".join(where), requires)


def gather_evidence(
    projects: Mapping[str, str],
    *,
    sources: PypiSources,
    python: tuple[int, int],
    subdirs: Sequence[str],
    offline: bool,
    with_requires: Iterable[str] = (),
) -> dict[str, PypiEvidence]:
    """Evidence for each project (PyPI name -> version specifier), asked in parallel.

    A project missing from the answer was not consulted (offline and not cached). Network
    failures raise :class:`~condauv.errors.CondauvError` naming the index.
    """
    wanted = set(map(canonicalize_name, with_requires))
    names = sorted({canonicalize_name(p): s for p, s in projects.items()}.items())
    if not names:
        return {}

    def one(item: tuple[str, str]) -> PypiEvidence | None:
        name, spec = item
        return _project_evidence(
            name, spec, sources, python, subdirs, offline=offline, with_requires=name in wanted
        )

    workers = min(_WORKERS, len(names), (os.cpu_count() or 1) * 8)
    if workers <= 1:
        results = [one(item) for item in names]
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="condauv-pypi") as pool:
            results = list(pool.map(one, names))
    return {name: ev for (name, _), ev in zip(names, results, strict=True) if ev is not None}


def python_minor(spec: str, default: tuple[int, int]) -> tuple[int, int]:
    """The ``X.Y`` a conda Python spec pins (``3.11.*``, ``>=3.10``, ``3.12``), else ``default``."""
    match = re.search(r"(\d+)\.(\d+)", spec)
    return (int(match[1]), int(match[2])) if match else default
