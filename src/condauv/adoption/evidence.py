"""What an existing prefix says about itself: conda-meta history, dependency graphs, dist-info folders.

Pure reading and graph logic, no rattler and no uv: which packages the user asked for is
a question of evidence, and every answer names the evidence it came from. The records
themselves are :mod:`condauv.conda.records`.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from condauv.conda.records import spec_name
from condauv.health.dists import metadata_headers

__all__ = [
    "DistInfo",
    "Origin",
    "leaves",
    "origin_of",
    "parse_history",
    "pep508_line",
    "read_dist_info",
    "requested_subset",
    "unreached_leaves",
]

_SPEC_LINE = re.compile(r"^#\s*(update|remove|install|neutered) specs:\s*(.*)$")


def _spec_list(text: str) -> list[str]:
    """``['a', "b>=1"]`` (conda, mamba, micromamba) or ``a,b`` (conda before 4.4)."""
    text = text.strip()
    if text.startswith("["):
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return []
        return [str(item) for item in value] if isinstance(value, list | tuple) else []
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_history(text: str) -> dict[str, str]:
    """The specs the user asked for, replayed from ``conda-meta/history``: name -> last spec.

    conda, mamba and micromamba write ``# update specs: [...]`` for create/install/update and
    ``# remove specs: [...]`` for remove; a later spec for a name replaces the earlier one.
    pixi and rattler write no spec lines: the result is then empty.
    """
    specs: dict[str, str] = {}
    for line in text.splitlines():
        match = _SPEC_LINE.match(line.strip())
        if not match or match.group(1) == "neutered":
            continue
        for spec in _spec_list(match.group(2)):
            name = spec_name(spec)
            if not name:
                continue
            if match.group(1) == "remove":
                specs.pop(name, None)
            else:
                specs.pop(name, None)  # re-insert: the order is the order of the last request
                specs[name] = spec.strip()
    return specs


def leaves(depends: Mapping[str, Iterable[str]]) -> set[str]:
    """Names no other package depends on (``depends`` maps a name to its dependencies' names)."""
    needed = {dep for name, deps in depends.items() for dep in deps if dep != name}
    return {name for name in depends if name not in needed}


def unreached_leaves(depends: Mapping[str, Iterable[str]], roots: Iterable[str]) -> set[str]:
    """Leaves of what ``roots`` do not pull in: installed, asked for by no recorded request.

    Keeping them as requested means a later re-lock does not silently drop them.
    """
    reached: set[str] = set()
    frontier = [r for r in roots if r in depends]
    while frontier:
        name = frontier.pop()
        if name in reached:
            continue
        reached.add(name)
        frontier.extend(d for d in depends.get(name, ()) if d in depends and d not in reached)
    rest = {
        name: [d for d in deps if d not in reached] for name, deps in depends.items() if name not in reached
    }
    return leaves(rest)


@dataclass(frozen=True, slots=True, kw_only=True)
class DistInfo:
    """One installed Python distribution, with what it says about its origin."""

    name: str  # normalised
    version: str
    path: Path
    installer: str  # "" when there is no INSTALLER file
    requested: bool  # a REQUESTED file is there
    requires: tuple[str, ...]  # normalised names from Requires-Dist, extras-only ones left out
    direct_url: Mapping[str, Any] | None


def read_dist_info(path: Path, name: str, version: str, installer: str) -> DistInfo:
    """Read METADATA (version, Requires-Dist), REQUESTED and direct_url.json of one folder."""
    requires: list[str] = []
    headers = metadata_headers(path)
    if headers is not None:
        version = headers.get("Version", version) or version
        for line in headers.get_all("Requires-Dist") or []:
            try:
                req = Requirement(line)
            except InvalidRequirement:
                continue
            if req.marker is None or "extra" not in str(req.marker):
                requires.append(canonicalize_name(req.name))
    direct: Mapping[str, Any] | None = None
    direct_file = path / "direct_url.json"
    if direct_file.is_file():
        try:
            loaded = json.loads(direct_file.read_text(encoding="utf-8"))
        except (ValueError, OSError):
            loaded = {"url": "", "unreadable": True}
        direct = loaded if isinstance(loaded, dict) else {"url": ""}
    return DistInfo(
        name=name,
        version=version,
        path=path,
        installer=installer,
        requested=(path / "REQUESTED").is_file(),
        requires=tuple(dict.fromkeys(requires)),
        direct_url=direct,
    )


#: Where an installed distribution came from, as far as adopt can tell.
Origin = Literal["conda", "index", "archive-url", "editable", "local-dir", "vcs", "shadowing", "unknown"]


def origin_of(dist: DistInfo, *, in_conda_record: bool, conda_provides_name: bool) -> Origin:
    """Sort a distribution: conda's, uv's/pip's from an index or a URL, or one adopt cannot redo."""
    if in_conda_record:
        return "conda"
    if conda_provides_name:
        return "shadowing"  # uv/pip installed it over a conda package's copy
    direct = dist.direct_url
    if direct is not None:
        if "vcs_info" in direct:
            return "vcs"
        dir_info = direct.get("dir_info")
        if isinstance(dir_info, dict):
            return "editable" if dir_info.get("editable") else "local-dir"
        if "archive_info" in direct and str(direct.get("url", "")):
            return "archive-url"
        return "unknown"
    if dist.installer in ("", "conda"):
        return "unknown"  # no INSTALLER (setup.py, distutils), or conda's mark with no record
    return "index"


def pep508_line(dist: DistInfo) -> str:
    """The requirement that reproduces ``dist``: its URL when it came from one, else ``==version``."""
    if dist.direct_url is not None and "archive_info" in dist.direct_url:
        return f"{dist.name} @ {dist.direct_url['url']}"
    return f"{dist.name}=={dist.version}"


def requested_subset(flags: Sequence[tuple[str, bool]]) -> set[str] | None:
    """Names with a REQUESTED file, or ``None`` when the files do not discriminate.

    uv writes REQUESTED on every distribution it installs, so all-or-none says nothing.
    """
    marked = {name for name, requested in flags if requested}
    if not marked or len(marked) == len(flags):
        return None
    return marked
