"""A small client of the PEP 691 JSON simple API: find one wheel for a target and download it.

condauv needs single wheels (numpy for the demo channel) for a target it names itself (a
Python version and a conda subdir), which is not what uv's resolver is for. Downloads are
verified against the index's sha256 and land atomically, so the download folder is a cache.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import Version

from condauv.errors import CondauvError, UserError
from condauv.platforms import wheel_platform_tags
from condauv.pypi.auth import remember, split_credentials
from condauv.pypi.index import DEFAULT_INDEX_URL, ProjectFile, read_project_page

__all__ = [
    "DEFAULT_INDEX_URL",
    "best_wheel",
    "cached_wheel",
    "download_verified",
    "fetch_wheel",
    "python_admits",
    "target_tags",
    "wheel_candidates",
]


@dataclass(frozen=True, slots=True)
class _Candidate:
    file: ProjectFile
    version: Version
    rank: int  # position of the best matching tag: lower is better


@functools.lru_cache(maxsize=32)
def target_tags(python_version: tuple[int, int], subdir: str, glibc: str | None = None) -> dict[Tag, int]:
    """The wheel tags CPython ``python_version`` on ``subdir`` installs (on linux, with ``glibc``:
    ``[system-requirements]``), ranked (lower is better). Cached: a few hundred tags each, asked
    for once per project (do not mutate the answer)."""
    platforms = wheel_platform_tags(subdir, glibc=glibc)
    tags = [*cpython_tags(python_version, platforms=platforms)]
    tags += compatible_tags(
        python_version, interpreter=f"cp{python_version[0]}{python_version[1]}", platforms=platforms
    )
    return {tag: rank for rank, tag in reversed(list(enumerate(tags)))}


def _specifier(project: str, specifier: str) -> SpecifierSet:
    try:
        return SpecifierSet(specifier)
    except InvalidSpecifier as exc:
        raise UserError(
            f"invalid version specifier for {project}: {specifier!r}", hint="e.g. '>=2,<3'"
        ) from exc


def python_admits(requires_python: str, python_version: tuple[int, int]) -> bool:
    """Whether a file's ``Requires-Python`` admits ``X.Y`` (checked as ``X.Y.0``; unreadable admits)."""
    if not requires_python:
        return True
    try:
        return SpecifierSet(requires_python).contains("{}.{}".format(*python_version), prereleases=True)
    except InvalidSpecifier:
        return True


def wheel_candidates(
    project: str,
    files: Iterable[ProjectFile],
    specifier: SpecifierSet,
    python_version: tuple[int, int],
    subdir: str,
) -> list[_Candidate]:
    """Wheels of ``project`` in ``files`` that match the specifier and install on the target."""
    ranks = target_tags(python_version, subdir)
    found: list[_Candidate] = []
    for info in files:
        if not info.filename.endswith(".whl") or info.yanked:
            continue
        try:
            name, version, _, tags = parse_wheel_filename(info.filename)
        except InvalidWheelFilename:
            continue
        if not python_admits(info.requires_python, python_version):
            continue
        matching = [ranks[tag] for tag in tags if tag in ranks]
        if name == canonicalize_name(project) and matching and specifier.contains(version):
            found.append(_Candidate(info, version, min(matching)))
    return found


def best_wheel(candidates: Iterable[_Candidate]) -> _Candidate | None:
    """The newest version; for it, the wheel with the most specific tag."""
    return max(candidates, key=lambda c: (c.version, -c.rank), default=None)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_verified(url: str, dest: Path, sha256: str) -> None:
    """Download ``url`` to ``dest`` through a temporary file, refusing content of another hash."""
    from condauv.pypi.http import HttpError, stream

    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    temp = Path(name)
    shown = split_credentials(url)[0]
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, stream(url) as chunks:
            for chunk in chunks:
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256:
            raise CondauvError(
                f"sha256 mismatch for {dest.name}: expected {sha256}, got {digest.hexdigest()}",
                hint="the index or a proxy served other content; try again or use another index",
            )
        temp.chmod(0o644)  # mkstemp makes it private; a cache is shared
        temp.replace(dest)
    except (HttpError, OSError) as exc:
        raise CondauvError(f"cannot download {shown}: {exc}", hint="try again") from None
    finally:
        temp.unlink(missing_ok=True)


def fetch_wheel(
    project: str,
    specifier: str,
    dest_dir: Path,
    *,
    python_version: tuple[int, int],
    subdir: str,
    index_url: str = DEFAULT_INDEX_URL,
) -> Path:
    """Download the newest wheel of ``project`` matching ``specifier`` for CPython ``python_version``
    on ``subdir`` into ``dest_dir`` (a file already there with the right sha256 is reused).

    Yanked files are skipped; ``Requires-Python`` is checked against ``X.Y.0``.
    """
    spec = _specifier(project, specifier)
    index_url = remember(index_url)  # credentials stay with the requests, out of the messages
    files = read_project_page(index_url, project).files
    if files is None:
        raise UserError(f"no such project on {index_url}: {project}", hint="check the project name")
    best = best_wheel(wheel_candidates(project, files, spec, python_version, subdir))
    if best is None:
        raise UserError(
            f"no wheel of {project} {specifier or '(any version)'} for Python "
            f"{python_version[0]}.{python_version[1]} on {subdir} at {index_url}",
            hint="relax the version specifier, or pick another Python version",
        )
    sha256 = best.file.sha256
    if not sha256:
        raise CondauvError(
            f"the index gives no sha256 for {best.file.filename}", hint="use an index that does"
        )
    dest = dest_dir / best.file.filename
    if dest.is_file() and _sha256(dest) == sha256:
        return dest
    url = best.file.url
    if urlparse(url).scheme not in ("https", "http", "file"):
        raise CondauvError(f"unsupported download URL {url}", hint="use an http(s) index")
    download_verified(url, dest, sha256)
    return dest


def cached_wheel(
    project: str, specifier: str, dest_dir: Path, *, python_version: tuple[int, int], subdir: str
) -> Path | None:
    """The best wheel :func:`fetch_wheel` already left in ``dest_dir``, found without the network."""
    spec = _specifier(project, specifier)
    files = [ProjectFile(path.name, path.as_uri()) for path in sorted(dest_dir.glob("*.whl"))]
    best = best_wheel(wheel_candidates(project, files, spec, python_version, subdir))
    return dest_dir / best.file.filename if best else None
