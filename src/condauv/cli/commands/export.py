from __future__ import annotations

import argparse
import sys
from pathlib import Path

from condauv.cli.output import Output
from condauv.export import FORMATS

HELP = "write condauv.lock in the formats other tools read (environment.yml, requirements, ...)"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        required=True,
        choices=FORMATS,
        help="environment-yml (conda env create), requirements (uv/pip, hashed), explicit "
        "(conda create --file), pylock (PEP 751), conda-lock (conda-lock.yml v1)",
    )
    parser.add_argument(
        "--platform",
        action="append",
        default=[],
        metavar="P",
        help="a locked platform to export (repeatable; default: this machine's, or every locked one)",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="FILE",
        help="write FILE, not stdout (several platforms of a one-platform format: FILE-PLATFORM.EXT each)",
    )
    parser.add_argument("--frozen", action="store_true", help="export condauv.lock as it is; never lock")
    parser.add_argument("--offline", action="store_true", help="lock (when needed) from what is cached")


def handle(args: argparse.Namespace, out: Output) -> int:
    from condauv import export
    from condauv.cli.commands._shared import load_project

    # (cli/app.py has refused control characters in every path argument, -o included)
    output = None if args.output is None else args.output.expanduser().absolute()
    result = export.project_export(
        load_project(args),
        args.format,
        platforms=args.platform,
        output=output,
        frozen=args.frozen,
        offline=args.offline,
    )
    if result.locked:
        out.info("wrote condauv.lock")
    notes = list(dict.fromkeys(note for document in result.documents for note in document.notes))
    if result.paths is not None:
        export.write(result.documents, result.paths)
    if out.json_mode:
        if result.paths is not None:
            files = [
                {"platform": d.platform, "path": str(path)}
                for d, path in zip(result.documents, result.paths, strict=True)
            ]
        else:
            files = [{"platform": d.platform, "name": d.file_name, "text": d.text} for d in result.documents]
        out.data({"format": args.format, "files": files, "notes": notes})
        return 0
    for note in notes:
        out.info(f"note: {note}")
    if result.paths is None:
        sys.stdout.write(result.documents[0].text)
        sys.stdout.flush()
    else:
        for path in result.paths:
            out.info(f"wrote {path}")
    return 0
