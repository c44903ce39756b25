from __future__ import annotations

import argparse

from condauv.cli.commands._shared import load_project
from condauv.cli.output import Output

HELP = "solve both sides and write condauv.lock"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("--offline", action="store_true", help="use only what is cached")
    parser.add_argument(
        "--reclassify",
        action="store_true",
        help="decide conda or PyPI again for every entry (the lock's decisions are kept otherwise) "
        "and say what moved",
    )


def handle(args: argparse.Namespace, out: Output) -> int:
    from condauv.sync.locking import lock

    project = load_project(args)
    result = lock(project, offline=args.offline, reclassify=args.reclassify)
    if out.json_mode:
        out.data(
            {
                "lock": str(project.lock_path),
                "changed": result.changed,
                "conda": len(result.lock.conda),
                "pypi": len(result.lock.pypi),
                "moved": [m.to_dict() for m in result.moved],
            }
        )
    for move in result.moved:
        out.info(f"moved {move.name}: {move.before} -> {move.after}: {move.reason} (was: {move.was})")
    if args.reclassify and not result.moved:
        out.info("reclassified: no entry moved")
    out.info(
        f"{'wrote' if result.changed else 'unchanged'} {project.lock_path.name}: "
        f"{len(result.lock.conda)} conda, {len(result.lock.pypi)} pypi packages"
    )
    return 0
