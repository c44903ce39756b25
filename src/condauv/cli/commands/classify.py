from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from condauv.cli.output import Output

if TYPE_CHECKING:
    from condauv.manifest.model import Manifest

HELP = "say which manager (conda or PyPI) would install each package, and why; writes nothing"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("specs", nargs="+", metavar="SPEC", help="names in conda's or PyPI's spelling")
    parser.add_argument(
        "--offline",
        action="store_true",
        help="decide from the manifest, built-in knowledge and the index cache; no network",
    )


def load_optional_manifest(args: argparse.Namespace) -> Manifest | None:
    from condauv.errors import ManifestError
    from condauv.project import Project

    try:
        return Project.load(args.manifest, args.prefix).manifest
    except ManifestError:
        if args.manifest is not None:
            raise
        return None  # outside a project: the defaults (conda-forge, this platform)


def handle(args: argparse.Namespace, out: Output) -> int:
    from condauv.classification.classify import SCHEMA_VERSION, classify

    manifest = load_optional_manifest(args)
    results = classify(args.specs, manifest=manifest, offline=args.offline)
    if out.json_mode:
        out.data({"schema": SCHEMA_VERSION, "packages": [r.to_dict() for r in results]})
        return 0
    out.table(
        None,
        ["package", "manager", "conda name", "PyPI names", "why"],
        [
            [
                r.spec,
                r.decision.manager,
                r.decision.conda_name,
                ", ".join(r.decision.pypi_names) or "-",
                r.decision.reason,
            ]
            for r in results
        ],
    )
    for r in results:
        if r.dependencies:
            from_conda = [f"{v.name} ({v.conda_package})" for v in r.dependencies if v.conda_package]
            from_pypi = [v.name for v in r.dependencies if not v.conda_package]
            out.info(
                f"{r.spec}: dependencies conda provides: {', '.join(from_conda) or 'none'}; "
                f"uv installs: {', '.join(from_pypi) or 'none'}"
            )
    notes = {r.note for r in results if r.note}
    for note in sorted(notes):
        out.info(f"note: {note}")
    return 0
