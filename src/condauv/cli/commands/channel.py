from __future__ import annotations

import argparse
from pathlib import Path

from condauv.cli.output import Output

HELP = "build local conda channels (from wheels, or an interpreter as python) for air-gapped sites"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="channel_command", metavar="ACTION", parser_class=type(parser))
    wheels = sub.add_parser(
        "from-wheels", parents=[common], help="convert wheels into an indexed local conda channel"
    )
    wheels.add_argument("wheels", nargs="+", type=Path, metavar="WHEEL")
    wheels.add_argument("--output", "-o", type=Path, required=True, help="the channel folder")
    python = sub.add_parser(
        "python",
        parents=[common],
        help="package a CPython interpreter as conda `python` into an indexed local channel",
    )
    python.add_argument(
        "--python", type=Path, metavar="PATH", help="the interpreter file (default: the one running condauv)"
    )
    python.add_argument("--output", "-o", type=Path, required=True, help="the channel folder")


def handle(args: argparse.Namespace, out: Output) -> int:
    from condauv.errors import UserError

    if args.channel_command == "python":
        return _python(args, out)
    if args.channel_command != "from-wheels":
        raise UserError(
            "condauv channel needs an action",
            hint="condauv channel from-wheels WHEEL... --output DIR, or condauv channel python --output DIR",
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


def _refuse_project_folders(args: argparse.Namespace, output: Path) -> None:
    """No channel inside the environment or condauv's state folder of the project here (or of
    --manifest/--prefix): a later sync may replace or remove either."""
    from condauv.errors import UserError
    from condauv.project import Project, find_manifest

    target = output.expanduser().absolute()
    if args.manifest is not None or find_manifest(Path.cwd()) is not None:
        what = Project.load(args.manifest, args.prefix).owned_folder(target)
    elif args.prefix is not None and target.resolve().is_relative_to(args.prefix.expanduser().resolve()):
        what = "the environment"
    else:
        what = None
    if what is not None:
        raise UserError(
            f"--output {output} is inside {what}",
            hint="write the channel elsewhere, e.g. --output channel beside condauv.toml",
        )


def _python(args: argparse.Namespace, out: Output) -> int:
    from condauv.channel.python_channel import channel_from_python

    _refuse_project_folders(args, args.output)
    with out.progress("packaging the interpreter as conda python"):
        built = channel_from_python(args.output, python=args.python)
    channel = args.output.expanduser().resolve().as_uri()
    if out.json_mode:
        out.data(
            {
                "channel": channel,
                "package": str(built.package),
                "python": built.version,
                "base_prefix": str(built.base_prefix),
            }
        )
        return 0
    out.info(f" + {built.package.parent.name}/{built.package.name} (from {built.base_prefix})")
    out.info(f"channel ready: {channel}")
    series = ".".join(built.version.split(".")[:2])
    out.info(f'next: condauv init --python "{series}.*" --channel {channel}')
    return 0
