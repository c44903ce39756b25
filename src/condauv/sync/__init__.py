"""Locking and syncing: the manifest becomes a lock, the lock becomes an environment.

Names load on first use: ``sync --frozen`` never imports the locking side (uv resolution,
classification), which keeps its start-up short.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing's, without importing typing (see condauv/__init__.py)
if TYPE_CHECKING:
    from typing import Any

    from condauv.sync.apply import SyncReport, sync
    from condauv.sync.freshness import Freshness, freshness
    from condauv.sync.locking import LockResult, lock

_LAZY = {
    "SyncReport": "condauv.sync.apply",
    "sync": "condauv.sync.apply",
    "Freshness": "condauv.sync.freshness",
    "freshness": "condauv.sync.freshness",
    "LockResult": "condauv.sync.locking",
    "lock": "condauv.sync.locking",
}

__all__ = ["Freshness", "LockResult", "SyncReport", "freshness", "lock", "sync"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'condauv.sync' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
