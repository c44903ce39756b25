"""What ``condauv info`` reports: the tools' versions, this machine as the solver sees it,
condauv's caches, and (in a project) the manifest, the lock and the prefix.

No credential leaves here: channel URLs are masked (``condauv._process.mask``).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from condauv import __version__, paths
from condauv.errors import CondauvError, LockfileError, ManifestError

__all__ = ["Info", "PrefixInfo", "ProjectInfo", "collect"]


@dataclass(frozen=True, slots=True)
class PrefixInfo:
    path: Path
    exists: bool  # a conda environment is there (its conda-meta folder)

    def to_dict(self) -> dict[str, object]:
        return {"path": str(self.path), "exists": self.exists}


@dataclass(frozen=True, slots=True)
class ProjectInfo:
    manifest: Path
    name: str
    python: str
    channels: tuple[str, ...]
    platforms: tuple[str, ...]
    system_requirements: dict[str, str]
    lock: Path
    lock_state: str  # missing, stale, no-platform, fresh, or unreadable
    lock_note: str

    def to_dict(self) -> dict[str, object]:
        return {
            "manifest": str(self.manifest),
            "name": self.name,
            "python": self.python,
            "channels": list(self.channels),
            "platforms": list(self.platforms),
            "system-requirements": dict(self.system_requirements),
            "lock": {"path": str(self.lock), "state": self.lock_state, "note": self.lock_note},
        }


@dataclass(frozen=True, slots=True)
class Info:
    versions: dict[str, str]  # condauv, py-rattler, uv, python
    python_executable: str
    platform: str
    virtual_packages: tuple[str, ...]  # name=version=build, as conda prints them
    overrides: dict[str, str]  # the CONDA_OVERRIDE_* variables set
    caches: dict[str, str]  # part -> folder
    project: ProjectInfo | None
    prefix: PrefixInfo | None

    def to_dict(self) -> dict[str, object]:
        return {
            "versions": dict(self.versions),
            "python-executable": self.python_executable,
            "platform": self.platform,
            "virtual-packages": list(self.virtual_packages),
            "overrides": dict(self.overrides),
            "caches": dict(self.caches),
            "project": self.project.to_dict() if self.project else None,
            "prefix": self.prefix.to_dict() if self.prefix else None,
        }


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _uv() -> tuple[str, str]:
    """(uv's version, the cache condauv's uv calls use), or why they are unknown."""
    from condauv.pypi.uv import Uv

    uv = Uv()
    try:
        return uv.version(), str(uv.cache_dir())
    except CondauvError as exc:
        return f"unavailable ({exc.message})", "unknown"


def _virtual_packages(subdir: str) -> tuple[str, ...]:
    from condauv.conda.engine import virtual_packages

    return tuple(str(vp) for vp in virtual_packages(subdir))


def _project(manifest: Path | None, prefix: Path | None) -> tuple[ProjectInfo | None, PrefixInfo | None]:
    """The project's part: ``None`` outside a project (a ``--prefix`` is still described); a
    manifest that is found but broken is an error, as for every command."""
    from condauv._process import mask
    from condauv.lock.model import load_lock
    from condauv.project import Project
    from condauv.sync.freshness import freshness

    try:
        project = Project.load(manifest, prefix)
    except ManifestError:
        if manifest is not None or _found_manifest():
            raise
        if prefix is None:
            return None, None
        path = prefix.expanduser().resolve()
        return None, PrefixInfo(path, (path / "conda-meta").is_dir())
    loaded = project.manifest
    try:
        state = freshness(loaded, load_lock(project.lock_path))
        lock_state, lock_note = state.value, state.describe()
    except LockfileError as exc:
        lock_state, lock_note = "unreadable", exc.message
    env = loaded.environment
    info = ProjectInfo(
        manifest=loaded.path,
        name=env.name,
        python=env.python,
        channels=tuple(mask(c) for c in env.channels),
        platforms=env.platforms,
        system_requirements=dict(loaded.system_requirements),
        lock=project.lock_path,
        lock_state=lock_state,
        lock_note=mask(lock_note),
    )
    return info, PrefixInfo(project.prefix, (project.prefix / "conda-meta").is_dir())


def _found_manifest() -> bool:
    from condauv.project import find_manifest

    return find_manifest(Path.cwd()) is not None


def collect(manifest: Path | None = None, prefix: Path | None = None) -> Info:
    """Everything ``condauv info`` shows; works outside a project too."""
    from condauv.platforms import current_subdir

    subdir = current_subdir()
    uv_version, uv_cache = _uv()
    project, prefix_info = _project(manifest, prefix)
    root = paths.cache_dir()
    return Info(
        versions={
            "condauv": __version__,
            "py-rattler": _version("py-rattler"),
            "uv": uv_version,
            "python": sys.version.split()[0],
        },
        python_executable=sys.executable,
        platform=subdir,
        virtual_packages=_virtual_packages(subdir),
        overrides={k: v for k, v in sorted(os.environ.items()) if k.startswith("CONDA_OVERRIDE_")},
        caches={
            "root": str(root),
            "conda packages": str(paths.conda_pkgs_dir()),
            "repodata": str(paths.repodata_cache_dir()),
            "pypi-simple": str(root / "pypi-simple"),
            "uv": uv_cache,
        },
        project=project,
        prefix=prefix_info,
    )
