from __future__ import annotations

import argparse

from condauv.cli.commands._shared import load_project, report_sync
from condauv.cli.output import Output

HELP = "make the environment match condauv.lock (locking first if needed) and repair what check finds"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--frozen", action="store_true", help="never lock; fail if the lock is missing or stale"
    )
    parser.add_argument("--offline", action="store_true", help="use only what is cached")
    parser.add_argument(
        "--force",
        action="store_true",
        help="in a prefix condauv did not create, also remove conda packages the lock lacks",
    )
    parser.add_argument(
        "--repair",
        action="store_true",
        help="also hash every file and relink or reinstall the packages whose files were altered or deleted",
    )


def handle(args: argparse.Namespace, out: Output) -> int:
    from condauv.sync.apply import sync

    report = sync(
        load_project(args),
        frozen=args.frozen,
        offline=args.offline,
        force=args.force,
        repair=args.repair,
        notify=out.info,  # an sdist built: its build code runs (silent with -q and --json)
    )
    return report_sync(out, report)
