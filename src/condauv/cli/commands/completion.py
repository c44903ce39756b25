from __future__ import annotations

import argparse

from condauv.cli.output import Output

HELP = "print a completion script for bash, zsh or fish, written from condauv's own commands"


SHELLS = ("bash", "zsh", "fish")


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("shell", choices=SHELLS, metavar="SHELL", help=f"one of {', '.join(SHELLS)}")


def handle(args: argparse.Namespace, out: Output) -> int:
    from condauv.cli.app import build_parser
    from condauv.cli.completion import script

    text = script(build_parser(), args.shell)
    if out.json_mode:
        out.data({"shell": args.shell, "script": text})
    else:
        print(text, end="")
    return 0
