from __future__ import annotations

import argparse

from condauv.cli.output import Output

HELP = "show both sides' dependency tree (conda depends, PyPI requires) from condauv.lock"


def _depth(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r:.20}")
    return int(text)


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help="start from these packages (conda or PyPI names; default: what the manifest asks for)",
    )
    parser.add_argument(
        "-i", "--invert", action="store_true", help="show what depends on each NAME (default: on every leaf)"
    )
    parser.add_argument(
        "--platform", metavar="P", help="a locked platform (default: this machine's, or the only one)"
    )
    parser.add_argument(
        "-d", "--depth", type=_depth, metavar="N", help="at most N levels below the roots (0: the roots only)"
    )
    parser.add_argument("--frozen", action="store_true", help="read condauv.lock as it is; never lock")
    parser.add_argument("--offline", action="store_true", help="lock (when needed) from what is cached")


def handle(args: argparse.Namespace, out: Output) -> int:
    import sys

    from condauv.cli.commands._shared import load_project
    from condauv.cli.render.tree import tree_lines
    from condauv.lock.tree import project_tree

    tree = project_tree(
        load_project(args),
        platform=args.platform,
        names=args.names,
        invert=args.invert,
        depth=args.depth,
        frozen=args.frozen,
        offline=args.offline,
    )
    if tree.locked:
        out.info("wrote condauv.lock")
    if out.json_mode:
        out.data(tree.to_dict())
        return 0
    for note in tree.notes:
        out.info(f"note: {note}")
    text = "\n".join(tree_lines(tree.roots, inverted=tree.inverted))
    sys.stdout.write(text + "\n" if text else "")
    sys.stdout.flush()
    return 0
