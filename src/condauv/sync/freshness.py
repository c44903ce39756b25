"""Is the lock still the lock of this manifest? One explicit answer, used by lock and sync."""

from __future__ import annotations

import enum

from condauv.lock.model import Lock
from condauv.manifest.model import Manifest
from condauv.platforms import current_subdir

__all__ = ["Freshness", "freshness", "missing_platform_hint"]


class Freshness(enum.Enum):
    MISSING = "missing"
    STALE = "stale"  # the manifest changed since the lock was written
    NO_PLATFORM = "no-platform"  # the lock holds nothing for this machine's platform
    FRESH = "fresh"

    def describe(self) -> str:
        return {
            Freshness.MISSING: "there is no condauv.lock",
            Freshness.STALE: "condauv.lock is out of date with condauv.toml",
            Freshness.NO_PLATFORM: f"condauv.lock has no packages for this platform ({current_subdir()})",
            Freshness.FRESH: "condauv.lock is up to date",
        }[self]


def missing_platform_hint(then: str = "run `condauv lock`") -> str:
    """The way out of :attr:`Freshness.NO_PLATFORM`: locking alone locks the manifest's platforms."""
    return f'add "{current_subdir()}" to [environment] platforms in condauv.toml, then {then}'


def freshness(manifest: Manifest, lock: Lock | None) -> Freshness:
    if lock is None:
        return Freshness.MISSING
    if lock.content_hash != manifest.content_hash():
        return Freshness.STALE
    if current_subdir() not in lock.platforms:
        return Freshness.NO_PLATFORM
    return Freshness.FRESH
