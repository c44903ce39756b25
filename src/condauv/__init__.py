"""condauv: one manifest, one lock, one environment; conda packages by py-rattler, PyPI by uv.

The library API mirrors the CLI::

    from condauv import Project
    from condauv.sync import lock, sync

    project = Project.load()          # finds condauv.toml upward from the cwd
    lock(project)                      # writes condauv.lock
    report = sync(project, frozen=True)

Names are imported on first use, so that ``import condauv`` (and the CLI's start-up) stays cheap.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: ``typing.TYPE_CHECKING`` without importing typing, which cost every command's start-up a few
#: ms (type checkers read any ``TYPE_CHECKING`` as true)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from condauv.errors import (
        CondauvError,
        ConflictError,
        LockfileError,
        ManifestError,
        ProcessError,
        SolveError,
        UserError,
    )
    from condauv.inventory import InstalledPackage, inventory
    from condauv.lock import Lock, load_lock
    from condauv.manifest import Manifest, load_manifest
    from condauv.project import Project
    from condauv.sync import SyncReport
    from condauv.sync.changes import add, init, remove

_LAZY = {
    "CondauvError": "condauv.errors",
    "ConflictError": "condauv.errors",
    "LockfileError": "condauv.errors",
    "ManifestError": "condauv.errors",
    "ProcessError": "condauv.errors",
    "SolveError": "condauv.errors",
    "UserError": "condauv.errors",
    "InstalledPackage": "condauv.inventory",
    "inventory": "condauv.inventory",
    "Lock": "condauv.lock",
    "load_lock": "condauv.lock",
    "Manifest": "condauv.manifest",
    "load_manifest": "condauv.manifest",
    "Project": "condauv.project",
    "SyncReport": "condauv.sync",
    "add": "condauv.sync.changes",
    "init": "condauv.sync.changes",
    "remove": "condauv.sync.changes",
}

__all__ = [  # noqa: RUF022 - grouped: errors, then the rest
    "CondauvError",
    "ConflictError",
    "LockfileError",
    "ManifestError",
    "ProcessError",
    "SolveError",
    "UserError",
    "InstalledPackage",
    "Lock",
    "Manifest",
    "Project",
    "SyncReport",
    "__version__",
    "add",
    "init",
    "inventory",
    "load_lock",
    "load_manifest",
    "remove",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'condauv' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
