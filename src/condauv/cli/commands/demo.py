from __future__ import annotations

import argparse
from pathlib import Path

from condauv.cli.commands._shared import report_sync
from condauv.cli.output import Output

HELP = "build a hybrid environment from an embedded local channel (no conda channel needed)"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "dir",
        nargs="?",
        type=Path,
        default=Path("condauv-demo"),
        help="the demo project folder (default: ./condauv-demo)",
    )
    parser.add_argument("--refresh", action="store_true", help="rebuild the cached demo channel")


def handle(args: argparse.Namespace, out: Output) -> int:
    from condauv.demo import run_demo
    from condauv.inventory import inventory
    from condauv.lock.model import load_lock

    def announce() -> None:
        out.info("building the demo channel (this interpreter as `python`, numpy from its wheel)...")

    result = run_demo(args.dir, refresh=args.refresh, on_build_channel=announce)
    if not result.channel_built:
        out.info(f"using the cached demo channel at {result.channel}")
    project = result.project
    rows = inventory(project.prefix, load_lock(project.lock_path))
    if out.json_mode:
        out.data(
            {
                "manifest": str(project.manifest.path),
                "prefix": str(project.prefix),
                "packages": [row.to_dict() for row in rows],
                "check": result.check_output,
            }
        )
        return 0
    report_sync(out, result.report)
    out.table(
        f"{project.prefix}",
        ["package", "version", "manager", "why"],
        [[r.name, r.version, r.manager, r.reason] for r in rows],
    )
    print(result.check_output)
    out.info(f"\nnext: cd {args.dir} && condauv run -- python -c 'import numpy; print(numpy.__file__)'")
    return 0
