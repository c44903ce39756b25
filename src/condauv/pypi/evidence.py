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
import time
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import astuple, dataclass, field
from email.parser import HeaderParser
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse
from urllib.request import url2pathname

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from condauv import _fs, progress
from condauv.manifest.model import PypiOptions
from condauv.paths import cache_dir
from condauv.pypi.auth import remember
from condauv.pypi.index import (
    DEFAULT_INDEX_URL,
    ProjectFile,
    fetch_bytes,
    files_in_folder,
    read_project_page,
    split_filename,
)
from condauv.pypi.simple import target_tags

__all__ = [
    "FRESH_S",
    "KEEP_VERSIONS",
    "PlatformEvidence",
    "PypiEvidence",
    "PypiSources",
    "WheelKind",
    "gather_evidence",
]

log = logging.getLogger("condauv.evidence")

WheelKind = Literal["pure", "platform", "no-wheel", "sdist-only", "not-on-pypi"]
_WORST_FIRST: tuple[WheelKind, ...] = ("not-on-pypi", "sdist-only", "no-wheel", "platform", "pure")

#: Releases of a project kept in the on-disk cache, newest first.
KEEP_VERSIONS = 4
#: A cached page younger than this is used online without asking the index again.
FRESH_S = 600.0
_WORKERS = 8


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
        """The manifest's sources; index credentials go to :mod:`condauv.pypi.auth`, and the URLs
        kept here (shown, cache keys) have none."""
        indexes: tuple[str, ...] = ()
        if not options.no_index:
            indexes = tuple(
                remember(i) for i in (options.index_url or DEFAULT_INDEX_URL, *options.extra_index_urls)
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


def _select(filenames: Sequence[str], specifier: SpecifierSet) -> set[str]:
    """The files of the newest :data:`KEEP_VERSIONS` final releases in ``specifier`` (all of the
    newest releases when none is in it): the only ones evidence and the cache look at."""
    by_version: dict[str, list[str]] = {}
    for name in filenames:
        by_version.setdefault(split_filename(name)[1], []).append(name)
    versions = sorted(
        ((v, text) for text in by_version if text and (v := _parse_version(text)) is not None), reverse=True
    )
    matching = [(v, t) for v, t in versions if specifier.contains(v, prereleases=True)] or versions
    finals = [(v, t) for v, t in matching if not v.is_prerelease] or matching
    return {name for _, text in finals[:KEEP_VERSIONS] for name in by_version[text]}


def _releases(files: Iterable[ProjectFile]) -> list[tuple[Version, list[ProjectFile]]]:
    """Files grouped by release, newest first; yanked files and unreadable names left out."""
    groups: dict[str, list[ProjectFile]] = {}
    for info in files:
        if not info.yanked:
            groups.setdefault(split_filename(info.filename)[1], []).append(info)
    parsed = [(_parse_version(text), group) for text, group in groups.items() if text]
    return sorted(((v, g) for v, g in parsed if v is not None), key=lambda item: item[0], reverse=True)


def _evaluate(
    files: Sequence[ProjectFile],
    specifier: SpecifierSet,
    python: tuple[int, int],
    subdir: str,
    glibc: str | None = None,
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
    ranks = target_tags(python, subdir, glibc)
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


@dataclass(frozen=True, slots=True)
class _Cache:
    """Pages (the newest releases' files), verdicts (what one target made of a page) and
    ``Requires-Dist`` lists, under ``<cache>/pypi-simple``. A verdict file is tied to the page it
    was made from by the page's fetch time; offline runs read verdicts alone (a few hundred bytes)."""

    root: Path

    def _folder(self, index_url: str) -> Path:
        return self.root / "pypi-simple" / hashlib.sha256(index_url.encode()).hexdigest()[:16]

    def _read(self, path: Path) -> dict[str, Any] | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _write(self, path: Path, data: object) -> None:
        with contextlib.suppress(OSError):  # a cache that cannot be written only costs speed
            _fs.atomic_write_text(path, json.dumps(data, separators=(",", ":")), durable=False)

    def page(self, index_url: str, project: str) -> _Page | None:
        raw = self._read(self._folder(index_url) / f"{project}.json")
        if raw is None:
            return None
        try:
            rows = raw["files"]
            files = None if rows is None else [ProjectFile.from_row(r) for r in rows]
            return _Page(files, index_url, str(raw.get("etag", "")), float(raw["fetched"]))
        except (KeyError, TypeError, IndexError, ValueError):
            return None

    def save_page(self, index_url: str, project: str, page: _Page) -> None:
        files = None if page.files is None else [f.to_row() for f in page.files]
        data = {"fetched": page.fetched, "etag": page.etag, "files": files}
        self._write(self._folder(index_url) / f"{project}.json", data)

    def verdicts(self, index_url: str, project: str) -> dict[str, Any]:
        return self._read(self._folder(index_url) / f"{project}.verdicts.json") or {}

    def save_verdict(self, index_url: str, project: str, fetched: float, key: str, value: object) -> None:
        verdicts = self.verdicts(index_url, project)
        if verdicts.get("fetched") != fetched:
            verdicts = {"fetched": fetched}
        verdicts[key] = value
        self._write(self._folder(index_url) / f"{project}.verdicts.json", verdicts)

    def requires(self, filename: str) -> tuple[str, ...] | None:
        raw = self._read(self.root / "pypi-metadata" / f"{filename}.json")
        found = raw.get("requires-dist") if raw else None
        return tuple(str(r) for r in found) if isinstance(found, list) else None

    def save_requires(self, filename: str, requires: Sequence[str]) -> None:
        self._write(self.root / "pypi-metadata" / f"{filename}.json", {"requires-dist": list(requires)})


def _index_page(
    cache: _Cache, index_url: str, project: str, specifier: SpecifierSet, *, offline: bool
) -> _Page | None:
    cached = cache.page(index_url, project)
    if cached and (offline or time.time() - cached.fetched < FRESH_S):
        cached.source = f"{index_url} (cached {_age(cached.fetched)} ago)"
        return cached
    if offline:
        return None
    answer = read_project_page(
        index_url,
        project,
        etag=cached.etag if cached else "",
        select=lambda names: _select(names, specifier),
    )
    if answer.not_modified and cached:
        page = _Page(cached.files, index_url, cached.etag)
    else:
        page = _Page(list(answer.files) if answer.files is not None else None, index_url, answer.etag)
    cache.save_page(index_url, project, page)
    return page


def _age(fetched: float) -> str:
    seconds = max(0, int(time.time() - fetched))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


# --- metadata (for the transitive view) -----------------------------------------------------------------


def _requires_dist(cache: _Cache, wheel: ProjectFile, *, offline: bool) -> tuple[str, ...] | None:
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
    cached = cache.requires(wheel.filename)
    if cached is not None or offline:
        return cached
    # pages do not always advertise ``.metadata`` (PEP 714), though the files are served
    data = fetch_bytes(f"{wheel.url}.metadata")
    if data is None:
        return None
    requires = _parse_requires(data.decode("utf-8", errors="replace"))
    cache.save_requires(wheel.filename, requires)
    return requires


def _parse_requires(text: str) -> tuple[str, ...]:
    return tuple(HeaderParser().parsestr(text).get_all("Requires-Dist") or ())


# --- putting it together ------------------------------------------------------------------------------


def _from_verdict(
    cache: _Cache, index_url: str, project: str, key: str, *, with_requires: bool, offline: bool
) -> PypiEvidence | None:
    """The evidence an earlier run made of the cached page for the same target, if any (online,
    only while the page is fresh)."""
    verdicts = cache.verdicts(index_url, project)
    found = verdicts.get(key)
    fetched = float(verdicts.get("fetched", 0))
    if not isinstance(found, dict) or (not offline and time.time() - fetched >= FRESH_S):
        return None
    try:
        platforms = tuple(PlatformEvidence(*row) for row in found["platforms"])
        requires = None if found.get("requires") is None else tuple(found["requires"])
    except (KeyError, TypeError):
        return None
    if with_requires and not found.get("requires-read"):
        return None  # made without reading Requires-Dist: the slow path reads them
    source = f"{index_url} (cached {_age(fetched)} ago)"
    return PypiEvidence(project, platforms, source, requires)


def _project_evidence(
    cache: _Cache,
    project: str,
    specifier: str,
    sources: PypiSources,
    python: tuple[int, int],
    subdirs: Sequence[str],
    *,
    offline: bool,
    with_requires: bool,
    glibc: str | None,
) -> PypiEvidence | None:
    try:
        spec = SpecifierSet(specifier)
    except InvalidSpecifier:
        spec = SpecifierSet()
    key = f"{python[0]}.{python[1]}|{','.join(subdirs)}|{spec}"
    if glibc is not None:  # a verdict is for one target glibc (older cache keys stay valid)
        key += f"|glibc {glibc}"
    single = sources.index_urls[0] if len(sources.index_urls) == 1 and not sources.folders else None
    if single:
        quick = _from_verdict(cache, single, project, key, with_requires=with_requires, offline=offline)
        if quick is not None:
            return quick
    files: list[ProjectFile] = []
    where = [str(folder) for folder in sources.folders]
    for folder in sources.folders:
        files += files_in_folder(folder, project)
    unread = 0
    fetched = 0.0
    for index_url in sources.index_urls:
        page = _index_page(cache, index_url, project, spec, offline=offline)
        if page is None:  # offline, and not in the cache
            unread += 1
            continue
        files += page.files or []
        where.append(page.source)
        fetched = page.fetched
    if unread and not files:
        return None  # a source was not consulted: absence is not evidence
    platforms = tuple(_evaluate(files, spec, python, subdir, glibc) for subdir in subdirs)
    requires = None
    if with_requires:
        chosen = next((p.wheel for p in platforms if p.wheel), "")
        wheel = next((f for f in files if f.filename == chosen), None)
        requires = _requires_dist(cache, wheel, offline=offline) if wheel else None
    if single and not unread:
        verdict = {
            "platforms": [list(astuple(p)) for p in platforms],
            "requires": requires,
            "requires-read": with_requires,
        }
        cache.save_verdict(single, project, fetched, key, verdict)
    return PypiEvidence(canonicalize_name(project), platforms, "; ".join(where), requires)


def gather_evidence(
    projects: Mapping[str, str],
    *,
    sources: PypiSources,
    python: tuple[int, int],
    subdirs: Sequence[str],
    offline: bool,
    with_requires: Iterable[str] = (),
    glibc: str | None = None,
) -> dict[str, PypiEvidence]:
    """Evidence for each project (PyPI name -> version specifier), asked in parallel; on linux,
    for the target ``glibc`` (``[system-requirements]``; ``None``: the default target).

    A project missing from the answer was not consulted (offline and not cached). Network
    failures raise :class:`~condauv.errors.CondauvError` naming the index.
    """
    wanted = set(map(canonicalize_name, with_requires))
    names = sorted({canonicalize_name(p): s for p, s in projects.items()}.items())
    if not names:
        return {}

    cache = _Cache(cache_dir())

    def one(item: tuple[str, str]) -> PypiEvidence | None:
        name, spec = item
        return _project_evidence(
            cache,
            name,
            spec,
            sources,
            python,
            subdirs,
            offline=offline,
            with_requires=name in wanted,
            glibc=glibc,
        )

    if offline:  # reading small files of the index cache: no threads, no progress
        results = [one(item) for item in names]
    else:
        several = f"{len(names)} project{'s' if len(names) != 1 else ''}"
        with progress.task(f"asking the package index about {several}", len(names)) as update:
            advance = progress.counter(update, len(names))

            def counted(item: tuple[str, str]) -> PypiEvidence | None:
                try:
                    return one(item)
                finally:
                    advance(1)

            workers = min(_WORKERS, len(names))
            if workers <= 1:
                results = [counted(item) for item in names]
            else:
                with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="condauv-pypi") as pool:
                    results = list(pool.map(counted, names))
    return {name: ev for (name, _), ev in zip(names, results, strict=True) if ev is not None}
