from __future__ import annotations

import argparse

from condauv.cli.commands._shared import load_project, report_sync
from condauv.cli.output import Output

HELP = "remove packages from the manifest, then lock and sync"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("names", nargs="+", metavar="NAME")
    parser.add_argument("--no-sync", action="store_true", help="lock, but leave the environment as it is")
    parser.add_argument("--offline", action="store_true", help="use only what is cached")
    parser.add_argument(
        "--force",
        action="store_true",
        help="in a prefix condauv did not create, also remove what the new lock lacks",
    )


def handle(args: argparse.Namespace, out: Output) -> int:
    from condauv.sync.changes import remove

    result = remove(
        load_project(args),
        args.names,
        no_sync=args.no_sync,
        offline=args.offline,
        force=args.force,
        notify=out.info,
    )
    code = 0
    if result.sync is not None:
        code = report_sync(out, result.sync)
    elif out.json_mode:
        out.data({"removed": args.names, "synced": False})
    out.info(f"removed {', '.join(args.names)}")
    return code
