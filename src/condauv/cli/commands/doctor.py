from __future__ import annotations

import argparse

from condauv.cli.output import Output

HELP = "check the environment at run time: Python, CUDA, BLAS, and every distribution's import"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="S",
        help="seconds each distribution's import (and each probe) may take (default: 30)",
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="NAME",
        help="a distribution not to import (repeatable)",
    )


def handle(args: argparse.Namespace, out: Output) -> int:
    from condauv.cli.render.doctor import COLUMNS, table_rows
    from condauv.errors import ManifestError
    from condauv.health.doctor import run_doctor
    from condauv.project import Project

    try:
        prefix = Project.load(args.manifest, args.prefix).prefix
    except ManifestError:
        if args.prefix is None:
            raise
        prefix = args.prefix.expanduser().resolve()  # any prefix, even without a project
    report = run_doctor(prefix, timeout=args.timeout, skip=args.skip)
    if out.json_mode:
        out.data(report.to_dict())
        return report.exit_code
    out.table(f"condauv doctor: {report.prefix}", COLUMNS, table_rows(report))
    failed = [s.name for s in report.sections if s.status == "fail"]
    warned = [s.name for s in report.sections if s.status == "warn"]
    if failed:
        out.info(
            f"doctor: failed: {', '.join(failed)}" + (f"; warnings: {', '.join(warned)}" if warned else "")
        )
    else:
        out.info("doctor: all checks passed" + (f" (warnings: {', '.join(warned)})" if warned else ""))
    return report.exit_code
