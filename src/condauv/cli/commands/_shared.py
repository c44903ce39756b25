"""Pieces that several commands share."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from condauv.cli.output import Output

if TYPE_CHECKING:
    from condauv.project import Project
    from condauv.sync.apply import SyncReport

__all__ = ["STAMPED", "load_project", "report_sync"]

#: what ``-v`` says when a sync's stamp proved it has nothing to do (``condauv.sync.stamp``)
STAMPED = "condauv.sync: in sync (stamp): nothing changed since the last sync"


def load_project(args: argparse.Namespace) -> Project:
    from condauv.project import Project

    return Project.load(args.manifest, args.prefix)


def report_sync(out: Output, report: SyncReport) -> int:
    """Print what a sync did (and repaired); the exit code: 1 when something could not be repaired."""
    code = 1 if report.unrepaired else 0
    if out.json_mode:
        out.data(
            {
                "prefix": str(report.prefix),
                "locked": report.locked,
                "conda": {"added": report.conda_added, "removed": report.conda_removed},
                "pypi": {"added": report.pypi_added, "removed": report.pypi_removed},
                "repaired": report.repaired,
                "unrepaired": report.unrepaired,
                "interrupted": report.interrupted,
            }
        )
        return code
    if report.interrupted:
        out.info(f"finished an interrupted sync ({report.interrupted}): every file verified")
    for item in report.repaired:
        out.info(f" * {item}")
    for item in report.unrepaired:
        out.info(f" ! could not repair: {item}")
    if report.locked:
        out.info("wrote condauv.lock")
    if not report.changed:
        out.info(f"{report.prefix} is in sync")
        return code
    for label, items, sign in (
        ("conda", report.conda_removed, "-"),
        ("conda", report.conda_added, "+"),
        ("pypi", report.pypi_removed, "-"),
        ("pypi", report.pypi_added, "+"),
    ):
        for item in items:
            out.info(f" {sign} {item} ({label})")
    out.info(f"synced {report.prefix}")
    return code
