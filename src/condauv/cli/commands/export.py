from __future__ import annotations

import argparse

from condauv.cli.output import Output

HELP = "(being written)"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    del parser, common


def handle(args: argparse.Namespace, out: Output) -> int:
    del args, out
    return 0
