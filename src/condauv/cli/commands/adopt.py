from __future__ import annotations

import argparse
from pathlib import Path

from condauv.cli.output import Output

HELP = "write condauv.toml and condauv.lock that reproduce an existing conda environment"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("adopted", type=Path, metavar="PREFIX", help="the conda environment's folder")
    parser.add_argument("--index-url", help="the index uv finds the installed PyPI versions on")
    parser.add_argument(
        "--find-links",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder (or URL) of wheels for uv (repeatable); written to [pypi-options]",
    )
    parser.add_argument("--no-index", action="store_true", help="only --find-links, no index")
    parser.add_argument("--offline", action="store_true", help="use only uv's cache")
    parser.add_argument("--strict", action="store_true", help="stop when `check` finds a problem")
    parser.add_argument("--force", action="store_true", help="replace an existing condauv.toml/condauv.lock")
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="manage the adopted prefix itself ([environment] prefix); refused when sync would lose anything",
    )


def handle(args: argparse.Namespace, out: Output) -> int:
    from condauv.adoption import AdoptOptions, adopt
    from condauv.errors import UserError
    from condauv.manifest.model import MANIFEST_NAME

    if args.prefix is not None:
        raise UserError(
            "adopt takes the environment as its PREFIX argument, not --prefix",
            hint="run `condauv adopt PREFIX` (add --in-place to manage that prefix itself)",
        )
    options = AdoptOptions(
        index_url=args.index_url,
        find_links=tuple(args.find_links),
        no_index=args.no_index,
        offline=args.offline,
        strict=args.strict,
        force=args.force,
        in_place=args.in_place,
    )
    from condauv.project import project_lock

    manifest = (args.manifest or Path.cwd() / MANIFEST_NAME).expanduser().resolve()
    with project_lock(manifest):  # adopt writes the manifest and the lock (and --in-place: the prefix)
        result = adopt(args.adopted, manifest, options)
    if out.json_mode:
        out.data(result.to_dict())
        return 0
    platform = result.lock.platforms[0]
    out.info(f"adopted {result.prefix} ({platform}, python {result.lock.python_version(platform)})")
    for side, count, asked, evidence in (
        ("conda", len(result.lock.conda), result.conda_requested, result.conda_evidence),
        ("pypi", len(result.lock.pypi), result.pypi_requested, result.pypi_evidence),
    ):
        names = ", ".join(asked) or "none"
        out.info(f"  {side}: {count} packages; requested: {names} (from {evidence})")
    out.info("  check: clean" if not result.check_lines else "  check found (see `condauv check`):")
    for line in result.check_lines:
        out.info(f"    {line}")
    for note in result.notes:
        out.info(f"note: {note.kind}: {note.package}: {note.message}")
    out.info(f"wrote {result.manifest_path} and {result.lock_path}")
    if args.in_place:
        out.info(f"`condauv sync` now manages {result.prefix}")
    else:
        out.info(f"`condauv sync` builds a new environment; {result.prefix} is left as it is")
    return 0
