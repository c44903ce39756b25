"""``condauv unbundle``: the other side of ``condauv pack --bundle``."""

from __future__ import annotations

import argparse
from pathlib import Path

from condauv.cli.output import Output

HELP = "unpack a bundle of `condauv pack --bundle` and point its lock at where it now lies"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "bundle",
        type=Path,
        metavar="BUNDLE",
        help="the .tar.gz to unpack, or a bundle folder already unpacked (with tar -xzf)",
    )
    parser.add_argument(
        "-C", "--directory", type=Path, default=Path(), help="where to unpack the archive (default: here)"
    )


def handle(args: argparse.Namespace, out: Output) -> int:
    from condauv.pack.unbundle import relocate_bundle, unpack_bundle

    if args.bundle.is_dir():
        folder = args.bundle.resolve()
        relocate_bundle(folder)
    else:
        folder = unpack_bundle(args.bundle, args.directory)
    if out.json_mode:
        out.data({"folder": str(folder)})
    out.info(f"bundle ready in {folder}: run `condauv sync --frozen --offline` there")
    return 0
