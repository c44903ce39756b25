from __future__ import annotations

import argparse

from condauv.cli.commands._shared import load_project
from condauv.cli.output import Output

HELP = "run a command inside the environment (syncing it first)"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-sync", action="store_true", help="run in the environment as it is")
    parser.add_argument("--frozen", action="store_true", help="sync from the lock without locking")
    parser.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD...")


def handle(args: argparse.Namespace, out: Output) -> int:
    from pathlib import Path

    from condauv.activation import run_in_prefix

    command = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    stamped = None if args.no_sync else _in_sync(args, out)
    if stamped is not None:  # nothing to sync, by the prefix's stamp
        return run_in_prefix(Path(stamped), command)
    from condauv.sync.apply import sync

    project = load_project(args)
    if not args.no_sync:
        sync(project, frozen=args.frozen, notify=out.info)
    return run_in_prefix(project.prefix, command)


def _in_sync(args: argparse.Namespace, out: Output) -> str | None:
    from condauv.cli.commands._shared import STAMPED
    from condauv.sync.stamp import in_sync

    prefix = in_sync(args.manifest, args.prefix)
    if prefix is not None and out.verbose:
        out.info(STAMPED)
    return prefix
