"""What changed between two locks, package by package: what ``condauv lock`` reports."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Literal

from condauv.lock.model import Lock

__all__ = ["Side", "VersionChange", "version_changes"]

Side = Literal["conda", "pypi"]


@dataclass(frozen=True, slots=True)
class VersionChange:
    """One package added (``before`` is None), removed (``after`` is None) or moved to another
    version (or, on the conda side, another build of it), on ``platforms``."""

    side: Side
    name: str
    before: str | None
    after: str | None
    platforms: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return asdict(self) | {"platforms": list(self.platforms)}


def _conda(lock: Lock) -> dict[tuple[str, str], tuple[str, str]]:
    return {(p.platform, p.name): (p.version, p.build) for p in lock.conda}


def _pypi(lock: Lock) -> dict[tuple[str, str], tuple[str, str]]:
    return {(p.platform, p.name): (p.version, "") for p in lock.pypi}


def _label(version: tuple[str, str] | None, other: tuple[str, str] | None) -> str | None:
    """The version, with the build when only the build differs from ``other``'s."""
    if version is None:
        return None
    number, build = version
    same_number = other is not None and other[0] == number
    return f"{number} ({build})" if same_number and build else number


def _changes(
    side: Side, old: dict[tuple[str, str], tuple[str, str]], new: dict[tuple[str, str], tuple[str, str]]
) -> Iterable[VersionChange]:
    platforms: dict[tuple[str, str | None, str | None], list[str]] = defaultdict(list)
    for platform, name in sorted(old.keys() | new.keys()):
        was, now = old.get((platform, name)), new.get((platform, name))
        if was != now:
            platforms[(name, _label(was, now), _label(now, was))].append(platform)
    for (name, before, after), where in sorted(
        platforms.items(), key=lambda item: (item[0][0], item[0][1] or "", item[0][2] or "")
    ):
        yield VersionChange(side, name, before, after, tuple(where))


def version_changes(old: Lock, new: Lock) -> list[VersionChange]:
    """Every package whose version differs between ``old`` and ``new``: conda first, then PyPI,
    by name; one entry for the platforms that changed alike."""
    return [*_changes("conda", _conda(old), _conda(new)), *_changes("pypi", _pypi(old), _pypi(new))]
