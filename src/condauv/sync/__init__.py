"""Locking and syncing: the manifest becomes a lock, the lock becomes an environment."""

from condauv.sync.apply import SyncReport, sync
from condauv.sync.freshness import Freshness, freshness
from condauv.sync.locking import LockResult, lock

__all__ = ["Freshness", "LockResult", "SyncReport", "freshness", "lock", "sync"]
