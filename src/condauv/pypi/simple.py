"""A small client of the PEP 691 JSON simple API: find one wheel for a target and download it.

condauv needs single wheels (numpy for the demo channel) for a target it names itself (a
Python version and a conda subdir), which is not what uv's resolver is for. Downloads are
verified against the index's sha256 and land atomically, so the download folder is a cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import Version

from condauv.errors import CondauvError, UserError
from condauv.platforms import wheel_platform_tags

__all__ = ["DEFAULT_INDEX_URL", "cached_wheel", "fetch_wheel"]

DEFAULT_INDEX_URL = "https://pypi.org/simple/"
TIMEOUT_S = 30
_ACCEPT = "application/vnd.pypi.simple.v1+json"


@dataclass(frozen=True, slots=True)
class _Candidate:
    filename: str
    version: Version
    rank: int  # position of the best matching tag: lower is better
    info: Mapping[str, Any]


def _target_tags(python_version: tuple[int, int], subdir: str) -> dict[Tag, int]:
    platforms = wheel_platform_tags(subdir)
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


def _candidates(
    project: str,
    files: Iterable[Mapping[str, Any]],
    specifier: SpecifierSet,
    python_version: tuple[int, int],
    subdir: str,
) -> list[_Candidate]:
    """Wheels of ``project`` in ``files`` that match the specifier and install on the target."""
    ranks = _target_tags(python_version, subdir)
    python = "{}.{}".format(*python_version)
    found: list[_Candidate] = []
    for info in files:
        filename = str(info.get("filename", ""))
        if not filename.endswith(".whl") or info.get("yanked"):
            continue
        try:
            name, version, _, tags = parse_wheel_filename(filename)
        except InvalidWheelFilename:
            continue
        requires_python = info.get("requires-python")
        with contextlib.suppress(InvalidSpecifier):
            if requires_python and not SpecifierSet(requires_python).contains(python, prereleases=True):
                continue
        matching = [ranks[tag] for tag in tags if tag in ranks]
        if name == canonicalize_name(project) and matching and specifier.contains(version):
            found.append(_Candidate(filename, version, min(matching), info))
    return found


def _best(candidates: list[_Candidate]) -> _Candidate | None:
    """The newest version; for it, the wheel with the most specific tag."""
    return max(candidates, key=lambda c: (c.version, -c.rank), default=None)


def _get_json(url: str) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"Accept": _ACCEPT})  # noqa: S310 (http(s) index URLs)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310
            data: dict[str, Any] = json.load(response)
            return data
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise UserError(f"no such project on the index: {url}", hint="check the project name") from exc
        raise CondauvError(f"the index answered {exc.code} for {url}", hint="try again later") from exc
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CondauvError(
            f"cannot read {url}: {reason}", hint="check the network, or give another index URL"
        ) from exc


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download(url: str, dest: Path, sha256: str) -> None:
    """Download ``url`` to ``dest`` through a temporary file, refusing content of another hash."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    temp = Path(name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:  # noqa: S310
            for chunk in iter(lambda: response.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256:
            raise CondauvError(
                f"sha256 mismatch for {dest.name}: expected {sha256}, got {digest.hexdigest()}",
                hint="the index or a proxy served other content; try again or use another index",
            )
        temp.chmod(0o644)  # mkstemp makes it private; a cache is shared
        temp.replace(dest)
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise CondauvError(f"cannot download {url}: {getattr(exc, 'reason', exc)}", hint="try again") from exc
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
    page_url = urljoin(
        index_url if index_url.endswith("/") else f"{index_url}/", f"{canonicalize_name(project)}/"
    )
    page = _get_json(page_url)
    best = _best(_candidates(project, page.get("files", []), spec, python_version, subdir))
    if best is None:
        raise UserError(
            f"no wheel of {project} {specifier or '(any version)'} for Python "
            f"{python_version[0]}.{python_version[1]} on {subdir} at {index_url}",
            hint="relax the version specifier, or pick another Python version",
        )
    sha256 = str(best.info.get("hashes", {}).get("sha256", ""))
    if not sha256:
        raise CondauvError(f"the index gives no sha256 for {best.filename}", hint="use an index that does")
    dest = dest_dir / best.filename
    if dest.is_file() and _sha256(dest) == sha256:
        return dest
    url = urljoin(page_url, str(best.info["url"]))
    if urlparse(url).scheme not in ("https", "http", "file"):
        raise CondauvError(f"unsupported download URL {url}", hint="use an http(s) index")
    _download(url, dest, sha256)
    return dest


def cached_wheel(
    project: str, specifier: str, dest_dir: Path, *, python_version: tuple[int, int], subdir: str
) -> Path | None:
    """The best wheel :func:`fetch_wheel` already left in ``dest_dir``, found without the network."""
    spec = _specifier(project, specifier)
    files = [{"filename": path.name} for path in sorted(dest_dir.glob("*.whl"))]
    best = _best(_candidates(project, files, spec, python_version, subdir))
    return dest_dir / best.filename if best else None
