"""Installed PyPI distributions, read the way installers wrote them: RECORD, METADATA, INSTALLER.

Markers of ``Requires-Dist`` are evaluated for the prefix's interpreter without running it: the
Python version comes from conda-meta, the platform from the conda subdir.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

# email's parser and packaging's markers are imported where they are used: a check of an
# unchanged prefix (its verdicts remembered) parses no METADATA, and their import cost 30 ms
if TYPE_CHECKING:
    import email.message

    from packaging.requirements import Requirement

    from condauv.pypi.site import InstalledDistribution

__all__ = [
    "RecordEntry",
    "read_record",
    "record_digest",
    "requirements",
    "unmet_requirement",
]


class RecordEntry(NamedTuple):
    """One line of a RECORD: a file relative to site-packages and its urlsafe-base64 sha256.

    A named tuple, not a dataclass: every check makes one per file of every PyPI distribution.
    """

    path: str
    digest: str | None  # None: RECORD itself, or a file written after install (.pyc)
    size: int | None


def record_digest(sha256: bytes) -> str:
    """RECORD's spelling of a sha256 (urlsafe base64 without padding)."""
    return base64.urlsafe_b64encode(sha256).rstrip(b"=").decode("ascii")


def read_record(folder: Path) -> list[RecordEntry] | None:
    """The RECORD of a dist-info ``folder``, or ``None`` when it has none (conda-forge strips them)."""
    record = os.path.join(folder, "RECORD")  # noqa: PTH118 - str paths: every check, every distribution
    try:
        with open(record, encoding="utf-8", errors="replace") as handle:  # noqa: PTH123
            text = handle.read()
    except OSError:
        return None
    entries = []
    for line in text.splitlines():
        path, _, rest = line.partition(",")
        if not path:
            continue
        if path.startswith('"') and path.endswith('"'):
            path = path[1:-1]
        hash_field, _, size_field = rest.partition(",")
        algorithm, _, digest = hash_field.partition("=")
        entries.append(
            RecordEntry(
                path,
                digest if algorithm == "sha256" and digest else None,
                int(size_field) if size_field.strip().isdigit() else None,
            )
        )
    return entries


def metadata_headers(folder: Path) -> email.message.Message | None:
    """The headers of a dist-info's METADATA (an egg-info's PKG-INFO), without the body (which
    can be long); ``None`` when there is no readable file."""
    metadata = folder / ("METADATA" if folder.suffix == ".dist-info" else "PKG-INFO")
    try:
        with metadata.open(encoding="utf-8", errors="replace") as handle:
            header_lines = []
            for line in handle:
                if not line.strip():
                    break
                header_lines.append(line)
    except OSError:
        return None
    import email.parser

    return email.parser.HeaderParser().parsestr("".join(header_lines))


def requirements(dist: InstalledDistribution) -> list[Requirement]:
    """``Requires-Dist`` of ``dist``, unreadable lines left out."""
    from packaging.requirements import InvalidRequirement, Requirement

    headers = metadata_headers(dist.path)
    if headers is None:
        return []
    found = []
    for value in headers.get_all("Requires-Dist") or ():
        try:
            found.append(Requirement(str(value)))
        except InvalidRequirement:
            continue  # an installer accepted it; a check has nothing better to say about it
    return found


def unmet_requirement(
    requirement: Requirement, environment: dict[str, str], versions: dict[str, list[str]]
) -> str | None:
    """Why ``requirement`` is not met by the installed ``versions`` (name -> versions), or ``None``."""
    from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName
    from packaging.utils import canonicalize_name

    if requirement.marker is not None:
        try:
            if not requirement.marker.evaluate(environment):
                return None
        except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
            return None
    name = canonicalize_name(requirement.name)
    have = versions.get(name)
    if not have:
        return f"{requirement} is not installed"
    if not requirement.specifier or any(_contains(requirement, v) for v in have):
        return None
    return f"{requirement} is not met by {name} {', '.join(have)}"


def _contains(requirement: Requirement, version: str) -> bool:
    from packaging.version import InvalidVersion

    try:
        return requirement.specifier.contains(version, prereleases=True)
    except InvalidVersion:
        return True  # a legacy version no specifier can judge: not reported
