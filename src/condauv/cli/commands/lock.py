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
    parser.add_argument(
        "--upgrade",
        "-U",
        nargs="*",
        metavar="NAME",
        help="the newest versions the manifest allows: of every package, or only of the NAMEs "
        "(either side); locked versions are kept otherwise",
    )
    parser.add_argument(
        "--upgrade-package",
        "-P",
        action="append",
        default=[],
        metavar="NAME",
        help="as `--upgrade NAME` (uv's spelling); repeatable",
    )


def handle(args: argparse.Namespace, out: Output) -> int:
    from condauv.sync.locking import Upgrade, lock

    project = load_project(args)
    upgrade = None
    if args.upgrade is not None or args.upgrade_package:
        everything = args.upgrade == []  # a bare --upgrade: all, whatever -P names
        upgrade = Upgrade() if everything else Upgrade.of([*(args.upgrade or ()), *args.upgrade_package])
    result = lock(project, offline=args.offline, reclassify=args.reclassify, upgrade=upgrade)
    if out.json_mode:
        out.data(
            {
                "lock": str(project.lock_path),
                "changed": result.changed,
                "conda": len(result.lock.conda),
                "pypi": len(result.lock.pypi),
                "moved": [m.to_dict() for m in result.moved],
                "changes": [c.to_dict() for c in result.changes],
            }
        )
    for move in result.moved:
        out.info(f"moved {move.name}: {move.before} -> {move.after}: {move.reason} (was: {move.was})")
    if args.reclassify and not result.moved:
        out.info("reclassified: no entry moved")
    every = set(result.lock.platforms)
    for change in result.changes:
        where = "" if set(change.platforms) >= every else f" [{', '.join(change.platforms)}]"
        if change.before is None:
            out.info(f"{change.side}: + {change.name} {change.after}{where}")
        elif change.after is None:
            out.info(f"{change.side}: - {change.name} {change.before}{where}")
        else:
            out.info(f"{change.side}: {change.name} {change.before} -> {change.after}{where}")
    if upgrade is not None and not result.changes:
        out.info("upgrade: nothing newer than the locked versions fits the manifest")
    out.info(
        f"{'wrote' if result.changed else 'unchanged'} {project.lock_path.name}: "
        f"{len(result.lock.conda)} conda, {len(result.lock.pypi)} pypi packages"
    )
    return 0
