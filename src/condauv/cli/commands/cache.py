from __future__ import annotations

import argparse
from collections.abc import Iterable
from typing import TYPE_CHECKING

from condauv.cli.output import Output

if TYPE_CHECKING:
    from condauv.cache import CacheSize, CleanReport

HELP = "condauv's caches: `cache size`, `cache clean [PART...] [--dry-run]`, `cache dir`"


#: The parts a clean may be limited to (condauv.cache.CLEANED; kept here so that building the
#: parser imports nothing: a test checks they agree).
PARTS = ("conda", "repodata", "pypi-simple", "uv", "tmp")


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="cache_command", metavar="ACTION", parser_class=type(parser))
    size = sub.add_parser(
        "size", parents=[common], help="bytes in each part of the cache, and what a clean would free"
    )
    size.add_argument("-H", "--human", action="store_true", help="sizes as 1.2 GiB rather than bytes")
    clean = sub.add_parser(
        "clean",
        parents=[common],
        help="remove the caches (files still linked from an environment stay on disk)",
    )
    clean.add_argument(
        "parts",
        nargs="*",
        type=_Part(PARTS),  # not choices=: argparse 3.11 then refuses no PART at all
        metavar="PART",
        help=f"only these parts: {', '.join(PARTS)} (default: all)",
    )
    clean.add_argument("--dry-run", action="store_true", help="say what would be removed; remove nothing")
    sub.add_parser("dir", parents=[common], help="print the cache folder")


class _Part:
    """A part's name, checked; ``choices`` is what shell completion offers."""

    __name__ = "part"  # argparse names the type in its error: "invalid part value: 'x'"

    def __init__(self, choices: Iterable[str]) -> None:
        self.choices = tuple(choices)

    def __call__(self, value: str) -> str:
        if value not in self.choices:
            raise argparse.ArgumentTypeError(
                f"unknown part {value!r:.40} (choose from {', '.join(self.choices)})"
            )
        return value


def handle(args: argparse.Namespace, out: Output) -> int:
    from condauv import cache, paths
    from condauv.errors import UserError

    if args.cache_command == "dir":
        if out.json_mode:
            out.data({"root": str(paths.cache_dir())})
        else:
            print(paths.cache_dir())
        return 0
    if args.cache_command == "size":
        return _size(cache.size(), out, human=args.human)
    if args.cache_command == "clean":
        return _clean(cache.clean(args.parts, dry_run=args.dry_run), out)
    raise UserError("condauv cache needs an action", hint="condauv cache size | clean [--dry-run] | dir")


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"  # pragma: no cover - the loop returns at GiB


def _size(report: CacheSize, out: Output, *, human: bool) -> int:
    if out.json_mode:
        out.data(report.to_dict())
        return 0
    show = human_size if human else str
    rows = [
        [p.name, show(p.size), str(p.files), show(p.frees) if p.cleaned else "-", str(p.path or ""), p.note]
        for p in report.parts
    ]
    rows.append(
        ["total", show(report.size), str(sum(p.files for p in report.parts)), show(report.frees), "", ""]
    )
    out.table(str(report.root), ["part", "size", "files", "clean frees", "folder", "note"], rows)
    return 0


def _clean(report: CleanReport, out: Output) -> int:
    code = 1 if report.errors else 0
    if out.json_mode:
        out.data(report.to_dict())
        return code
    verb = "would remove" if report.dry_run else "removed"
    for name, entries in report.removed.items():
        if not entries:
            continue
        if report.dry_run:
            for entry in entries:
                print(entry)
        count = f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}"
        out.info(f"{name}: {verb} {count} ({human_size(report.frees.get(name, 0))})")
    for name, why in report.skipped.items():
        out.info(f"{name}: left alone ({why})")
    for error in report.errors:
        out.error(f"could not remove {error}", None)
    total = human_size(sum(report.frees.values()))
    kept = "; files still linked from an environment stay on disk" if any(report.removed.values()) else ""
    out.info(f"{'would free' if report.dry_run else 'freed'} {total} in {report.root}{kept}")
    return code
