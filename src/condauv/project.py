"""A project: its manifest, its lock, and the prefix it manages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from condauv.errors import ManifestError
from condauv.lock.model import LOCK_NAME
from condauv.manifest.model import MANIFEST_NAME, Manifest, load_manifest

__all__ = ["DEFAULT_PREFIX", "Project", "find_manifest"]

#: Where the environment lives, relative to the manifest, unless configured otherwise.
DEFAULT_PREFIX = Path(".condauv") / "env"


def find_manifest(start: Path) -> Path | None:
    """The nearest ``condauv.toml`` in ``start`` or a parent folder."""
    for folder in (start, *start.parents):
        candidate = folder / MANIFEST_NAME
        if candidate.is_file():
            return candidate
    return None


@dataclass(frozen=True, slots=True)
class Project:
    manifest: Manifest
    prefix: Path

    @property
    def root(self) -> Path:
        return self.manifest.root

    @property
    def lock_path(self) -> Path:
        return self.root / LOCK_NAME

    @property
    def state_dir(self) -> Path:
        return self.root / ".condauv"

    @classmethod
    def load(cls, manifest: Path | None = None, prefix: Path | None = None) -> Project:
        """Find and read the manifest (``--manifest`` or upward from the cwd); pick the prefix."""
        path = manifest.resolve() if manifest else find_manifest(Path.cwd())
        if path is None:
            raise ManifestError(
                f"no {MANIFEST_NAME} in {Path.cwd()} or its parents",
                hint="run `condauv init` here, or pass --manifest PATH",
            )
        loaded = load_manifest(path)
        return cls(loaded, resolve_prefix(loaded, prefix))

    def with_manifest(self, manifest: Manifest) -> Project:
        return Project(manifest, self.prefix)


def resolve_prefix(manifest: Manifest, explicit: Path | None) -> Path:
    """``--prefix`` wins, then ``[environment] prefix``, then ``.condauv/env``."""
    if explicit is not None:
        return explicit.expanduser().resolve()
    if manifest.environment.prefix is not None:
        return manifest.environment.prefix
    return (manifest.root / DEFAULT_PREFIX).resolve()
