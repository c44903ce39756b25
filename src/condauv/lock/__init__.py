"""``condauv.lock``: both sides of an environment, every artifact with its URL and sha256."""

from condauv.lock.model import (
    LOCK_NAME,
    LOCK_VERSION,
    CondaPackage,
    Lock,
    PypiPackage,
    load_lock,
    parse_lock,
)

__all__ = [
    "LOCK_NAME",
    "LOCK_VERSION",
    "CondaPackage",
    "Lock",
    "PypiPackage",
    "load_lock",
    "parse_lock",
]
