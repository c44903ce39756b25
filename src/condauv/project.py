"""A project: its manifest, its lock, and the prefix it manages."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from condauv.errors import ManifestError
from condauv.lock.model import LOCK_NAME
from condauv.manifest.model import MANIFEST_NAME, Manifest, load_manifest

__all__ = [
    "DEFAULT_PREFIX",
    "Project",
    "find_manifest",
    "holding_project_lock",
    "project_lock",
]

#: The project's state folder, beside the manifest.
STATE_DIR = ".condauv"
#: Where the environment lives, relative to the manifest, unless configured otherwise.
DEFAULT_PREFIX = Path(STATE_DIR) / "env"

_P = ParamSpec("_P")
_R = TypeVar("_R")


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
        return self.root / STATE_DIR

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

    def owned_folder(self, path: Path) -> str | None:
        """Which folder of condauv's ``path`` lies in ("the environment", "condauv's state
        folder"), or ``None``: exports and reports are never written there (a later sync may
        replace them, and a stray JSON file in conda-meta reads as a package record). ``path``
        itself is not resolved: a link there is replaced, never followed."""
        target = path.parent.resolve() / path.name
        for folder, what in ((self.prefix, "the environment"), (self.state_dir, "condauv's state folder")):
            if target.is_relative_to(folder.resolve()):
                return what
        return None

    @contextlib.contextmanager
    def locked(self) -> Iterator[Project]:
        """Hold the project lock; yields the project as the manifest on disk now says.

        Re-entrant within a process (``add`` locks, then syncs): only the outermost holder reads
        the manifest again (another process may have changed it while this one waited).
        """
        with project_lock(self.manifest.path) as outermost:
            if outermost and self.manifest.path.is_file():
                yield self.with_manifest(load_manifest(self.manifest.path))
            else:
                yield self


def resolve_prefix(manifest: Manifest, explicit: Path | None) -> Path:
    """``--prefix`` wins, then ``[environment] prefix``, then ``.condauv/env``."""
    if explicit is not None:
        from condauv.errors import UserError
        from condauv.validation import check_text

        check_text(str(explicit), what="--prefix", error=UserError, hint="give the folder of the environment")
        return explicit.expanduser().resolve()
    if manifest.environment.prefix is not None:
        return manifest.environment.prefix
    return (manifest.root / DEFAULT_PREFIX).resolve()


@contextlib.contextmanager
def project_lock(manifest: Path) -> Iterator[bool]:
    """Hold the lock of the project of ``manifest``; yields whether this is the outermost hold in
    this process.

    Every command that writes the manifest, the lock or the prefix holds it, from before it reads
    them. It is an flock on the project's folder itself, so that taking it writes nothing into
    the project (a command that fails leaves the folder as it was); who holds it is noted in
    condauv's cache. The outermost holder removes what killed commands left: temp files beside
    the manifest and the lock (only lock holders write them), and temp folders of dead processes.
    """
    import hashlib

    from condauv import _fs, cache, paths

    folder = manifest.parent
    while not folder.is_dir() and folder != folder.parent:  # adopt may write into a new folder
        folder = folder.parent
    folder = folder.resolve()
    key = hashlib.sha256(str(folder).encode()).hexdigest()[:24]
    note = paths.cache_dir() / "locks" / f"{key}.holder"
    outermost = not _fs.holds_lock(folder)
    with _fs.exclusive_lock(folder, holder=_holder(), what="the project lock", note=note):
        if not outermost:
            yield outermost
            return
        with cache.in_use():  # a `condauv cache clean` waits until no project lock is held
            _fs.remove_stale_temp_files([manifest, manifest.with_name(LOCK_NAME)])
            _fs.remove_stale_temp_dirs()
            yield outermost


def holding_project_lock(
    func: Callable[Concatenate[Project, _P], _R],
) -> Callable[Concatenate[Project, _P], _R]:
    """Run ``func(project, ...)`` under ``project``'s lock, with the project read again under it."""

    @functools.wraps(func)
    def locked(project: Project, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with project.locked() as current:
            return func(current, *args, **kwargs)

    return locked


def _holder() -> str:
    """Who holds a lock, for the one that waits: the pid and the command's verb (never its
    arguments, which may hold an index URL's credentials)."""
    verb = next((a for a in sys.argv[1:2] if re.fullmatch(r"[a-z][a-z-]{0,20}", a)), "")
    return f"pid {os.getpid()} (condauv {verb})".replace(" )", ")")
