"""The terminal's progress display: one rich progress bar on stderr, live while a task is open.

rich is imported when the first task opens, never at start-up: a command with nothing long to
do (a no-op ``sync``) does not pay for it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from condauv.progress import Unit, Update

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

__all__ = ["Bars"]


def _columns() -> list[Any]:
    from rich.progress import BarColumn, ProgressColumn, Task, TextColumn, TimeElapsedColumn
    from rich.text import Text

    class Amount(ProgressColumn):
        """``3/12`` for steps, ``45.2/120.0 MB`` for bytes, nothing for a spinner."""

        def render(self, task: Task) -> Text:
            if task.total is None:
                return Text("")
            if task.fields.get("unit") == "bytes":
                return Text(f"{_size(task.completed)}/{_size(task.total)}", style="progress.download")
            return Text(f"{int(task.completed)}/{int(task.total)}", style="progress.download")

    return [TextColumn("{task.description}"), BarColumn(), Amount(), TimeElapsedColumn()]


def _size(count: float) -> str:
    for unit in ("B", "kB", "MB"):
        if count < 1000:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} GB"


class Bars:
    """A :class:`condauv.progress.Display`: the tasks open at once share one rich ``Progress``
    (rich allows one live display), started with the first and cleared with the last."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        self._open = 0

    @contextlib.contextmanager
    def __call__(self, description: str, total: int | None, unit: Unit) -> Iterator[Update]:
        progress, task = self._add(description, total, unit)

        def update(completed: int, total: int | None, label: str | None = None) -> None:
            if label is None:
                progress.update(task, completed=completed, total=total)
            else:
                progress.update(task, completed=completed, total=total, description=label)

        try:
            yield update
        finally:
            self._remove(progress, task)

    def _add(self, description: str, total: int | None, unit: Unit) -> tuple[Progress, TaskID]:
        from rich.console import Console
        from rich.progress import Progress

        with self._lock:
            progress = self._progress
            if progress is None:
                # stdout stays the program's own: data printed meanwhile must not land on stderr
                progress = Progress(
                    *_columns(), console=Console(stderr=True), transient=True, redirect_stdout=False
                )
            task = progress.add_task(description, total=total, unit=unit)
            if self._progress is None:
                self._progress = progress
                progress.start()  # drawn at once, with the task: a short step shows too
            else:
                progress.refresh()
            self._open += 1
            return progress, task

    def _remove(self, progress: Progress, task: TaskID) -> None:
        with self._lock:
            self._open -= 1
            if self._open == 0:
                self._progress = None
                progress.stop()  # its last frame, then cleared (transient)
            else:
                progress.remove_task(task)
