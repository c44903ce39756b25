from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from condauv.cli.output import Output

if TYPE_CHECKING:
    from condauv.lock.model import Lock
    from condauv.project import Project

HELP = "find conflicts between conda and PyPI, and damaged files, in an environment (exit 1 if any)"

#: files shown per finding in the table (all of them are in --json)
_SHOWN_FILES = 3


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    pass


def _managed_by(prefix: Path, manifest: Path) -> bool:
    """Whether conda-meta's condauv mark names ``manifest`` (a --prefix of this project)."""
    try:
        raw = json.loads((prefix / "conda-meta" / "condauv").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(raw, dict) and Path(str(raw.get("manifest", ""))).resolve() == manifest.resolve()


def handle(args: argparse.Namespace, out: Output) -> int:
    from condauv.errors import ManifestError
    from condauv.health.check import check_prefix, with_project_findings
    from condauv.manifest.model import Manifest
    from condauv.project import Project

    lock: Lock | None = None
    manifest: Manifest | None = None
    try:
        project = Project.load(args.manifest, args.prefix)
    except ManifestError:
        if args.prefix is None or args.manifest is not None:
            raise
        prefix = args.prefix.expanduser().resolve()  # any conda prefix, without a project
    else:
        prefix = project.prefix
        # the project's lock describes the prefix only when it is the project's own
        if args.prefix is None or args.manifest is not None or _managed_by(prefix, project.manifest.path):
            lock = _checked_lock(project)
            manifest = project.manifest
    report = with_project_findings(check_prefix(prefix, lock=lock), manifest=manifest, lock=lock)
    if out.json_mode:
        out.data(report.to_dict())
        return 0 if report.clean else 1
    summary = f"{report.conda_packages} conda packages, {report.pypi_distributions} PyPI distributions"
    if report.clean:
        out.info(f"{report.prefix} is clean ({summary})")
        return 0
    rows = []
    for finding in report.findings:
        files = list(finding.files[:_SHOWN_FILES])
        if len(finding.files) > _SHOWN_FILES:
            files.append(f"... and {len(finding.files) - _SHOWN_FILES} more")
        what = "\n".join([finding.message, *(f"  {f}" for f in files)])
        rows.append([finding.kind, ", ".join(finding.packages), what, finding.fix])
    out.table(str(report.prefix), ["kind", "packages", "finding", "fix"], rows)
    out.info(f"{len(report.findings)} findings in {report.prefix} ({summary})")
    return 1


def _checked_lock(project: Project) -> Lock | None:
    """The project's lock, every field checked; a fresh one's URLs also against the manifest's
    sources (a stale one is reported as stale: its sources may have changed since). Its match
    specs go nowhere from here (drift compares names and versions): left unparsed, which keeps
    rattler's import off this path (``sync`` checks them before the conda side changes)."""
    from condauv.lock.model import load_lock
    from condauv.lock.validate import check_sources, match_specs_deferred
    from condauv.sync.freshness import Freshness, freshness

    with match_specs_deferred():
        lock = load_lock(project.lock_path)
    if lock is not None and freshness(project.manifest, lock) is Freshness.FRESH:
        check_sources(lock, project.manifest)
    return lock
