from __future__ import annotations

import argparse

from condauv.cli.output import Output

HELP = "list installed packages, their manager (conda or pypi) and why"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    pass


def handle(args: argparse.Namespace, out: Output) -> int:
    from condauv.errors import ManifestError
    from condauv.inventory import inventory
    from condauv.lock.model import load_lock
    from condauv.project import Project

    try:
        project = Project.load(args.manifest, args.prefix)
        prefix, lock = project.prefix, load_lock(project.lock_path)
    except ManifestError:
        if args.prefix is None:
            raise
        prefix, lock = args.prefix.resolve(), None  # any prefix, even without a project
    rows = inventory(prefix, lock)
    if out.json_mode:
        out.data({"prefix": str(prefix), "packages": [row.to_dict() for row in rows]})
        return 0
    out.table(
        str(prefix),
        ["package", "version", "manager", "why"],
        [[r.name, r.version, r.manager, r.reason] for r in rows],
    )
    return 0
