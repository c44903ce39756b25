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
    from condauv.activation import run_in_prefix
    from condauv.sync.apply import sync

    command = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    project = load_project(args)
    if not args.no_sync:
        sync(project, frozen=args.frozen, notify=out.info)
    return run_in_prefix(project.prefix, command)
