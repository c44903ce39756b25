from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from condauv.cli.output import Output

if TYPE_CHECKING:
    from condauv.pack.archive import OnProgress

HELP = (
    "pack the synced environment into one relocatable archive (conda-pack: Spark, Dask, Slurm), "
    "or, with --bundle, every locked artifact for an air-gapped site"
)


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="FILE",
        help="the archive to write (default: <environment name>.tar.gz beside condauv.toml); "
        "its suffix picks the format: .tar.gz, .tgz, .tar.bz2, .tar.xz, .tar or .zip",
    )
    parser.add_argument(
        "--bundle",
        action="store_true",
        help="no environment needed: the locked conda packages (as a local channel) and wheels, the "
        "manifest and its lock; there, `condauv unbundle FILE` then `condauv sync --frozen --offline`",
    )


def handle(args: argparse.Namespace, out: Output) -> int:
    from condauv.cli.commands._shared import load_project

    # (cli/app.py has refused control characters in every path argument, -o included)
    output = None if args.output is None else args.output.expanduser().absolute()
    project = load_project(args)
    if args.bundle:
        from condauv.pack.bundle import make_bundle

        path = make_bundle(project, output)
        if out.json_mode:
            out.data({"path": str(path), "size": path.stat().st_size})
        else:
            out.info(f"wrote {path}")
        return 0
    from condauv.pack import pack_environment

    with _progress(out) as on_progress:
        result = pack_environment(project, output, on_progress=on_progress)
    if out.json_mode:
        out.data(result.to_dict())
        return 0
    out.info(f"wrote {result.path} ({_size(result.size)}, {result.files} files)")
    name = result.path.name
    unpack = f"unzip {name} -d env" if result.format == "zip" else f"tar -xf {name} -C env"
    out.info(f"unpack: mkdir env && {unpack} && env/bin/conda-unpack")
    return 0


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


@contextlib.contextmanager
def _progress(out: Output) -> Iterator[OnProgress | None]:
    """A rich progress bar on stderr when it is a terminal; nothing otherwise, nor with -q or --json."""
    with out.progress("packing") as update:
        if update is None:
            yield None
            return

        def bar(done: int, total: int) -> None:
            if done == total or done % 50 == 0:
                update(done, total, None)

        yield bar
