from __future__ import annotations

import argparse

TYPE_CHECKING = False  # typing's, without importing typing (see condauv/__init__.py)
if TYPE_CHECKING:
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


def fast(args: argparse.Namespace) -> int | None:
    """A no-op sync, proven by the prefix's stamp before anything else is loaded; ``None``: sync
    as usual (``--repair`` always does; ``--json`` reports in full)."""
    if args.repair or args.json:
        return None
    from condauv.sync.stamp import in_sync

    prefix = in_sync(args.manifest, args.prefix)
    if prefix is None:
        return None
    if not args.quiet:
        from condauv.cli.commands._shared import STAMPED
        from condauv.cli.output import Output

        out = Output(verbose=args.verbose)
        if args.verbose:
            out.info(STAMPED)
        out.info(f"{prefix} is in sync")
    return 0


def handle(args: argparse.Namespace, out: Output) -> int:
    from condauv.cli.commands._shared import load_project, report_sync
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
