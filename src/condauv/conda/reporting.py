"""What the conda engine tells :mod:`condauv.progress`: packages fetched (count and bytes) and
rattler's transaction, package by package."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence

from condauv import progress
from condauv.lock.model import CondaPackage

__all__ = ["LinkReporter", "fetching"]


class LinkReporter:
    """rattler's transaction (each package linked, unlinked or relinked) as a progress task; the
    fetching is :func:`fetching`'s, done before rattler runs. An ``InstallerReporter`` by its
    methods (rattler calls those a reporter has; an exception in one is swallowed by rattler)."""

    def __init__(self, update: progress.Update) -> None:
        self._update = update
        self._total: int | None = None
        self._done = 0
        self._lock = threading.Lock()  # rattler may call back from several of its threads

    def on_transaction_start(self, total_operations: int) -> None:
        self._total = total_operations
        self._update(0, total_operations, None)

    def on_link_start(self, operation: int, package_name: str) -> int:
        self._update(self._done, self._total, f"linking {package_name}")
        return operation

    def on_unlink_start(self, operation: int, package_name: str) -> int:
        self._update(self._done, self._total, f"unlinking {package_name}")
        return operation

    def on_transaction_operation_complete(self, operation: int) -> None:
        with self._lock:
            self._done += 1
            self._update(self._done, self._total, None)


@contextlib.contextmanager
def fetching(packages: Sequence[CondaPackage], doing: str) -> Iterator[Callable[[CondaPackage], None]]:
    """A progress task over ``packages``: their bytes (the lock's sizes) when every size is
    known, and their count; the callable it yields marks one done."""
    sizes = [p.size for p in packages]
    total = sum(s for s in sizes if s is not None) if None not in sizes else 0
    count, done, done_bytes = len(packages), 0, 0
    label = f"{doing} {count} conda package{'s' if count != 1 else ''}"
    with progress.task(label, total or count, unit="bytes" if total else "") as update:

        def fetched(package: CondaPackage) -> None:
            nonlocal done, done_bytes
            done, done_bytes = done + 1, done_bytes + (package.size or 0)
            if total:
                update(done_bytes, total, f"{label} ({done}/{count})")
            else:
                update(done, count, None)

        yield fetched
