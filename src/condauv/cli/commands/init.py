from __future__ import annotations

import argparse
from pathlib import Path

from condauv.cli.output import Output

HELP = "write a new condauv.toml here (optionally imported from environment.yml and requirements files)"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", help="environment name (default: the folder's name)")
    parser.add_argument("--python", help='conda match spec for the interpreter (default: "3.11.*")')
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
    parser.add_argument(
        "--from",
        type=Path,
        action="append",
        default=[],
        dest="from_files",
        metavar="FILE",
        help="import a conda environment.yml or a pip requirements.txt (repeatable: environment.yml "
        "and requirements-uv.txt in one step; flags given here win over the files)",
    )
    parser.add_argument(
        "--reclassify",
        action="store_true",
        help="with --from: put plain names in [dependencies] and let condauv pick conda or PyPI",
    )


def handle(args: argparse.Namespace, out: Output) -> int:
    from condauv.errors import UserError
    from condauv.sync.changes import init

    imported = None
    if args.reclassify and not args.from_files:
        raise UserError(
            "--reclassify needs --from FILE", hint="condauv init --from environment.yml --reclassify"
        )
    if args.from_files:
        from condauv.importing import import_files

        imported = import_files(
            args.from_files, reclassify=args.reclassify, python=args.python, platforms=args.platforms
        )
    path = init(
        Path.cwd(),
        manifest=args.manifest,
        name=args.name,
        python=args.python,
        channels=args.channels,
        platforms=args.platforms,
        imported=imported,
    )
    if imported is None:
        if out.json_mode:
            out.data({"manifest": str(path)})
        out.info(f"wrote {path}")
        return 0
    counts = dict.fromkeys(("dependencies", "conda-dependencies", "pypi-dependencies"), 0)
    for entry in imported.entries:
        counts[entry.table] += 1
    if out.json_mode:
        out.data(
            {
                "manifest": str(path),
                "source": str(imported.source),  # the first file read, as before several were allowed
                "kind": imported.kind,
                "sources": [source.to_dict() for source in imported.sources],
                "entries": counts,
                "notes": [note.to_dict() for note in imported.notes],
            }
        )
    for note in imported.notes:
        out.info(f"note: {note}")
    summary = ", ".join(f"{n} in [{table}]" for table, n in counts.items() if n) or "no packages"
    kept = f"; {len(imported.notes)} note(s) above on what was not kept" if imported.notes else ""
    files = ", ".join(str(source.path) for source in imported.sources)
    out.info(f"wrote {path} from {files}: {summary}{kept}")
    return 0
