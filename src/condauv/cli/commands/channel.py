from __future__ import annotations

import argparse
from pathlib import Path

from condauv.cli.output import Output

HELP = "build local conda channels (e.g. from wheels, for air-gapped sites)"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="channel_command", metavar="ACTION", parser_class=type(parser))
    wheels = sub.add_parser(
        "from-wheels", parents=[common], help="convert wheels into an indexed local conda channel"
    )
    wheels.add_argument("wheels", nargs="+", type=Path, metavar="WHEEL")
    wheels.add_argument("--output", "-o", type=Path, required=True, help="the channel folder")


def handle(args: argparse.Namespace, out: Output) -> int:
    from condauv.errors import UserError

    if args.channel_command != "from-wheels":
        raise UserError(
            "condauv channel needs an action",
            hint="condauv channel from-wheels WHEEL... --output DIR",
        )
    from condauv.channel import channel_from_wheels

    built = channel_from_wheels(args.wheels, args.output)
    if out.json_mode:
        out.data({"channel": args.output.resolve().as_uri(), "packages": [str(p) for p in built]})
        return 0
    for package in built:
        out.info(f" + {package.parent.name}/{package.name}")
    out.info(f"channel ready: {args.output.resolve().as_uri()}")
    return 0
