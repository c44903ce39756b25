"""What a prefix condauv synced says about itself: the copy of the lock and manifest in conda-meta.

``condauv sync`` keeps the lock and manifest it made the prefix match
(:func:`condauv.conda.prefix.write_synced_copy`). For ``adopt`` they are better evidence than
leaves and REQUESTED files: they name what the user asked for (a dependency too), in which
table, and which wheel each PyPI distribution came from. They are untrusted like anything in a
prefix: read by the lock's and the manifest's own parsers, and ignored, with the reason, when
those refuse them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from condauv.adoption.evidence import DistInfo
from condauv.conda.prefix import MANIFEST_COPY, read_synced_copy
from condauv.conda.records import CondaRecord
from condauv.errors import UserError
from condauv.lock.model import CondaPackage, Lock, PypiPackage, parse_lock
from condauv.manifest.model import Manifest, Requested, parse_manifest

__all__ = ["SyncedCopy", "read_synced"]

#: What a reader may raise on hostile content besides its own errors (a bug there must not crash adopt).
_UNREADABLE = (UserError, ValueError, TypeError, KeyError, AttributeError, RecursionError)


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncedCopy:
    """The lock and manifest of the last ``condauv sync`` into the prefix, for one platform."""

    lock: Lock
    manifest: Manifest
    platform: str

    def conda_entry(self, record: CondaRecord) -> CondaPackage | None:
        """The lock's entry for ``record`` when the prefix still holds exactly that build."""
        for package in self.lock.conda_for(self.platform):
            if (package.name, package.version, package.build) == (record.name, record.version, record.build):
                return package
        return None

    def pypi_entry(self, dist: DistInfo) -> PypiPackage | None:
        """The lock's entry for ``dist`` when uv installed it from the lock: the same version, and
        either its ``direct_url.json`` names the lock's URL, or it has none and uv installed it
        (condauv's installs from a pylock.toml leave none)."""
        url = (dist.direct_url or {}).get("url") if dist.direct_url is not None else None
        if url is None and dist.installer != "uv":
            return None
        for package in self.lock.pypi_for(self.platform):
            if package.name == dist.name and package.version == dist.version:
                return package if url is None or package.url == url else None
        return None

    def requested(self, installed: Collection[str]) -> tuple[list[Requested], list[Requested]]:
        """The manifest's entries whose package is installed (``installed``: normalised names of
        conda packages and Python distributions), and the others."""
        kept: list[Requested] = []
        gone: list[Requested] = []
        for entry in self.manifest.requested:
            (kept if entry.key in installed else gone).append(entry)
        return kept, gone


def read_synced(prefix: Path, platform: str) -> tuple[SyncedCopy | None, str | None]:
    """The prefix's synced copy, or ``(None, why it is not used)``; ``(None, None)``: there is none."""
    texts = read_synced_copy(prefix)
    if texts is None:
        return None, None
    lock_text, manifest_text = texts
    try:
        lock = parse_lock(lock_text)
        manifest = parse_manifest(manifest_text, prefix / "conda-meta" / MANIFEST_COPY)
    except _UNREADABLE as exc:
        reason = exc.message if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
        return None, f"cannot be read ({reason})"
    if lock.content_hash != manifest.content_hash():
        return None, "its lock was not made from its manifest"
    if platform not in lock.platforms:
        return None, f"its lock has no packages for {platform}"
    return SyncedCopy(lock=lock, manifest=manifest, platform=platform), None


def installed_names(records: Collection[CondaRecord], dists: Collection[DistInfo]) -> set[str]:
    """Normalised names a manifest entry may stand for: conda packages, and every distribution."""
    return {canonicalize_name(r.name) for r in records} | {d.name for d in dists}
