"""One module per command, each with HELP, ``add_arguments`` and ``handle``.

The registry names the modules without importing them: ``condauv sync`` loads the sync module
only (importing all of them cost a no-op sync about 20 ms). A module may also define
``fast(args)``: run before the CLI sets up its output, it returns an exit code when it settled
the command alone, or ``None`` to go on as usual.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["COMMANDS", "load"]

#: command -> its module, in the order of ``condauv --help``
COMMANDS: dict[str, str] = {
    name: f"condauv.cli.commands.{module}"
    for name, module in (
        ("init", "init"),
        ("add", "add"),
        ("remove", "remove"),
        ("lock", "lock"),
        ("sync", "sync"),
        ("check", "check"),
        ("list", "list_"),
        ("tree", "tree"),
        ("run", "run"),
        ("shell", "shell"),
        ("classify", "classify"),
        ("explain", "explain"),
        ("demo", "demo"),
        ("doctor", "doctor"),
        ("channel", "channel"),
        ("adopt", "adopt"),
        ("export", "export"),
        ("pack", "pack"),
        ("unbundle", "unbundle"),
        ("bench", "bench"),
        ("info", "info"),
        ("cache", "cache"),
        ("completion", "completion"),
    )
}


def load(name: str) -> ModuleType:
    """The module of command ``name`` (a key of :data:`COMMANDS`)."""
    return importlib.import_module(COMMANDS[name])
