"""Progress of the steps that take a while: said by the library, drawn (or not) by the CLI.

The library opens a :func:`task` around a step that can take longer than half a second and
moves it; nothing is drawn unless the front end installed a display with :func:`showing`
(the CLI does, on a terminal only, never with ``--json`` or ``-q``). As with :mod:`logging`,
the code doing the work says what it does and the code talking to the person decides whether
and how to show it: no library function takes a progress argument, no library module imports
rich, and a step with no display costs one global read.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Literal, Protocol

__all__ = ["Display", "Unit", "Update", "active", "counter", "showing", "task"]

#: Moves a task: (completed, total or None, a new description or None).
Update = Callable[[int, int | None, str | None], None]

#: What ``completed`` and ``total`` count: steps (``""``) or bytes.
Unit = Literal["", "bytes"]


class Display(Protocol):
    """Draws one task while the context is open (the CLI's is a rich progress bar)."""

    def __call__(self, description: str, total: int | None, unit: Unit) -> AbstractContextManager[Update]: ...


_display: Display | None = None


@contextlib.contextmanager
def showing(display: Display | None) -> Iterator[None]:
    """Draw the tasks opened while the block runs with ``display`` (``None``: draw nothing)."""
    global _display  # noqa: PLW0603 - one display for the process, as logging has one root logger
    saved, _display = _display, display
    try:
        yield
    finally:
        _display = saved


def active() -> bool:
    """Whether a task opened now would be drawn: a caller may skip gathering what only a
    display needs (rattler's per-package callbacks)."""
    return _display is not None


def _ignore(completed: int, total: int | None, description: str | None = None) -> None:
    del completed, total, description


@contextlib.contextmanager
def task(description: str, total: int | None = None, *, unit: Unit = "") -> Iterator[Update]:
    """A step of ``total`` parts (``None``: unknown, a spinner) while the block runs; the
    :data:`Update` it yields moves it (from any thread). It is cleared at the end."""
    display = _display
    if display is None:
        yield _ignore
        return
    with display(description, total, unit) as update:
        yield update


def counter(update: Update, total: int | None) -> Callable[[int], None]:
    """``update`` advanced by the amount given on each call, safe from the threads of a pool
    (the count and the call under one lock, so that the bar never moves back)."""
    import threading

    lock = threading.Lock()
    done = 0

    def advance(amount: int) -> None:
        nonlocal done
        with lock:
            done += amount
            update(done, total, None)

    return advance
