from __future__ import annotations

import argparse
from pathlib import Path

from condauv.cli.output import Output

HELP = "write a new condauv.toml here"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", help="environment name (default: the folder's name)")
    parser.add_argument("--python", default="3.11.*", help="conda match spec for the interpreter")
    parser.add_argument(
        "--channel",
        "-c",
        action="append",
        default=[],
        dest="channels",
        help="a conda channel: name, URL or folder (repeatable; default conda-forge)",
    )
    parser.add_argument(
        "--platform",
        action="append",
        default=[],
        dest="platforms",
        help="a conda platform to lock for (repeatable; default: this machine's)",
    )


def handle(args: argparse.Namespace, out: Output) -> int:
    from condauv.sync.changes import init

    path = init(
        Path.cwd(),
        manifest=args.manifest,
        name=args.name,
        python=args.python,
        channels=args.channels,
        platforms=args.platforms,
    )
    if out.json_mode:
        out.data({"manifest": str(path)})
    out.info(f"wrote {path}")
    return 0
