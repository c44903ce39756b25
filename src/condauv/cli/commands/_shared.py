"""Pieces that several commands share."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from condauv.cli.output import Output

if TYPE_CHECKING:
    from condauv.project import Project
    from condauv.sync.apply import SyncReport

__all__ = ["load_project", "report_sync"]


def load_project(args: argparse.Namespace) -> Project:
    from condauv.project import Project

    return Project.load(args.manifest, args.prefix)


def report_sync(out: Output, report: SyncReport) -> None:
    if out.json_mode:
        out.data(
            {
                "prefix": str(report.prefix),
                "locked": report.locked,
                "conda": {"added": report.conda_added, "removed": report.conda_removed},
                "pypi": {"added": report.pypi_added, "removed": report.pypi_removed},
            }
        )
        return
    if report.locked:
        out.info("wrote condauv.lock")
    if not report.changed:
        out.info(f"{report.prefix} is in sync")
        return
    for label, items, sign in (
        ("conda", report.conda_removed, "-"),
        ("conda", report.conda_added, "+"),
        ("pypi", report.pypi_removed, "-"),
        ("pypi", report.pypi_added, "+"),
    ):
        for item in items:
            out.info(f" {sign} {item} ({label})")
    out.info(f"synced {report.prefix}")
