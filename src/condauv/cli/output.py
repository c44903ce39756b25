"""How the CLI talks: messages on stderr, data on stdout, JSON when asked. rich is loaded lazily."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from condauv.progress import Update

if TYPE_CHECKING:
    from condauv.cli.render.progress import Bars
    from condauv.progress import Display

__all__ = ["Output", "Update"]


def _mask(text: str) -> str:
    """Every line condauv shows goes through here: a URL quoted in it never shows its credentials."""
    from condauv._process import mask

    return mask(text)


class Output:
    def __init__(self, *, json_mode: bool = False, quiet: bool = False, verbose: int = 0) -> None:
        self.json_mode = json_mode
        self.quiet = quiet
        self.verbose = verbose
        self._bars: Bars | None = None

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

    def display(self) -> Display | None:
        """The progress display of this command (see :mod:`condauv.progress`): rich bars on
        stderr when both stdout and stderr are a terminal and neither -q nor --json is given;
        otherwise ``None``, and nothing of the progress is shown."""
        if self.quiet or self.json_mode or not (sys.stdout.isatty() and sys.stderr.isatty()):
            return None
        if self._bars is None:
            from condauv.cli.render.progress import Bars

            self._bars = Bars()
        return self._bars

    @contextlib.contextmanager
    def progress(self, description: str) -> Iterator[Update | None]:
        """A progress bar while the block runs, drawn by :meth:`display` (``None`` where it
        draws nothing); it is cleared at the end."""
        display = self.display()
        if display is None:
            yield None
            return
        with display(description, None, "") as update:
            yield update
