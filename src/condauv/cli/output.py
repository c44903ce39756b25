"""How the CLI talks: messages on stderr, data on stdout, JSON when asked. rich is loaded lazily."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

__all__ = ["Output", "Update"]

#: Moves a progress bar: (completed, total or None, a new description or None).
Update = Callable[[int, int | None, str | None], None]


def _mask(text: str) -> str:
    """Every line condauv shows goes through here: a URL quoted in it never shows its credentials."""
    from condauv._process import mask

    return mask(text)


class Output:
    def __init__(self, *, json_mode: bool = False, quiet: bool = False, verbose: int = 0) -> None:
        self.json_mode = json_mode
        self.quiet = quiet
        self.verbose = verbose

    def _color(self) -> bool:
        return sys.stderr.isatty() and "NO_COLOR" not in __import__("os").environ

    def info(self, message: str) -> None:
        """A progress or result line for a person (stderr; silent with -q or --json)."""
        if not self.quiet and not self.json_mode:
            print(_mask(message), file=sys.stderr)

    def notice(self, message: str) -> None:
        """A line on stderr a person must see even with --json (e.g. that the command waits)."""
        if not self.quiet:
            print(_mask(message), file=sys.stderr, flush=True)

    def error(self, message: str, hint: str | None) -> None:
        message, hint = _mask(message), _mask(hint) if hint else hint
        red, yellow, reset = ("\033[31;1m", "\033[33m", "\033[0m") if self._color() else ("", "", "")
        print(f"{red}error{reset}: {message}", file=sys.stderr)
        if hint:
            print(f"{yellow}hint{reset}: {hint}", file=sys.stderr)

    def data(self, payload: Any) -> None:
        """Machine-readable output on stdout."""
        print(_mask(json.dumps(payload, indent=2, sort_keys=False)))  # masked user info stays valid JSON

    def table(self, title: str | None, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """A table on stdout (plain when stdout is not a terminal)."""
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        table = Table(title=title, show_edge=False, header_style="bold", pad_edge=False)
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*(Text(_mask(cell)) for cell in row))  # cells are data, never rich markup
        Console(soft_wrap=False, width=None if sys.stdout.isatty() else 160).print(table)

    @contextlib.contextmanager
    def progress(self, description: str) -> Iterator[Update | None]:
        """A rich progress bar on stderr while the block runs, only when stderr is a terminal and
        neither -q nor --json is given (else ``None``); it is cleared at the end."""
        if self.quiet or self.json_mode or not sys.stderr.isatty():
            yield None
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as bar:
            task = bar.add_task(description, total=None)

            def update(completed: int, total: int | None, label: str | None = None) -> None:
                if label is None:
                    bar.update(task, completed=completed, total=total)
                else:
                    bar.update(task, completed=completed, total=total, description=label)

            yield update
