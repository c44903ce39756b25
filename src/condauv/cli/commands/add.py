from __future__ import annotations

import argparse

from condauv.cli.commands._shared import load_project, report_sync
from condauv.cli.output import Output

HELP = "add packages to the manifest, then lock and sync"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("specs", nargs="+", metavar="SPEC", help="numpy, 'numpy>=1.26', requests[socks]")
    side = parser.add_mutually_exclusive_group()
    side.add_argument("--conda", action="store_true", help="always from conda ([conda-dependencies])")
    side.add_argument("--pypi", action="store_true", help="always from PyPI ([pypi-dependencies])")
    parser.add_argument("--no-sync", action="store_true", help="lock, but leave the environment as it is")
    parser.add_argument("--offline", action="store_true", help="use only what is cached")
    parser.add_argument(
        "--force",
        action="store_true",
        help="in a prefix condauv did not create, also remove what the new lock lacks",
    )


def handle(args: argparse.Namespace, out: Output) -> int:
    from condauv.manifest.model import Table
    from condauv.manifest.specs import parse_user_spec
    from condauv.sync.changes import add

    table: Table = (
        "conda-dependencies" if args.conda else "pypi-dependencies" if args.pypi else "dependencies"
    )
    entries = [parse_user_spec(spec, table) for spec in args.specs]
    project = load_project(args)
    result = add(
        project, entries, no_sync=args.no_sync, offline=args.offline, force=args.force, notify=out.info
    )
    names = ", ".join(e.name for e in entries)
    code = 0
    if result.sync is not None:
        code = report_sync(out, result.sync)
    elif out.json_mode:
        out.data({"added": [e.name for e in entries], "synced": False})
    out.info(f"added {names}")
    return code
