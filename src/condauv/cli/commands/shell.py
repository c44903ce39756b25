from __future__ import annotations

import argparse

from condauv.cli.commands._shared import load_project
from condauv.cli.output import Output

HELP = "start $SHELL inside the activated environment (syncing it first)"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-sync", action="store_true", help="use the environment as it is")
    parser.add_argument("--frozen", action="store_true", help="sync from the lock without locking")


def handle(args: argparse.Namespace, out: Output) -> int:
    from condauv.activation import shell_in_prefix
    from condauv.sync.apply import sync

    project = load_project(args)
    if not args.no_sync:
        sync(project, frozen=args.frozen, notify=out.info)
    return shell_in_prefix(project.prefix, name=project.manifest.environment.name)
