from __future__ import annotations

import argparse

TYPE_CHECKING = False  # typing's, without importing typing (see condauv/__init__.py)
if TYPE_CHECKING:
    from condauv.cli.output import Output

HELP = "run a command inside the environment (syncing it first)"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-sync", action="store_true", help="run in the environment as it is")
    parser.add_argument("--frozen", action="store_true", help="sync from the lock without locking")
    parser.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD...")


def fast(args: argparse.Namespace) -> int | None:
    """A run in a prefix whose stamp proves it in sync, with its activation kept: before the CLI
    loads anything more; ``None``: run as usual (``-v`` reports the stamp)."""
    if args.no_sync or args.verbose:
        return None
    from condauv.sync.stamp import in_sync

    prefix = in_sync(args.manifest, args.prefix)
    if prefix is None:
        return None
    from pathlib import Path

    from condauv.activation import run_kept

    try:
        return run_kept(Path(prefix), _command(args))
    except KeyboardInterrupt:  # as the full path reports it
        from condauv.cli.output import Output

        Output(quiet=args.quiet).error("interrupted", None)
        return 130


def _command(args: argparse.Namespace) -> list[str]:
    return list(args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd)


def handle(args: argparse.Namespace, out: Output) -> int:
    from pathlib import Path

    from condauv.activation import run_in_prefix
    from condauv.cli.commands._shared import load_project

    command = _command(args)
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
