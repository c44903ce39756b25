"""One module per command, each with HELP, ``add_arguments`` and ``handle``."""

from __future__ import annotations

from types import ModuleType

from condauv.cli.commands import (
    add,
    adopt,
    bench,
    cache,
    channel,
    check,
    classify,
    completion,
    demo,
    doctor,
    explain,
    export,
    info,
    init,
    list_,
    lock,
    pack,
    remove,
    run,
    shell,
    sync,
    tree,
    unbundle,
)

__all__ = ["COMMANDS"]

COMMANDS: dict[str, ModuleType] = {
    "init": init,
    "add": add,
    "remove": remove,
    "lock": lock,
    "sync": sync,
    "check": check,
    "list": list_,
    "tree": tree,
    "run": run,
    "shell": shell,
    "classify": classify,
    "explain": explain,
    "demo": demo,
    "doctor": doctor,
    "channel": channel,
    "adopt": adopt,
    "export": export,
    "pack": pack,
    "unbundle": unbundle,
    "bench": bench,
    "info": info,
    "cache": cache,
    "completion": completion,
}
