from __future__ import annotations

import argparse
import contextlib
import os
import shlex
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
        action=_OutputPath,
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
    parser.set_defaults(output_is_folder=False)


def handle(args: argparse.Namespace, out: Output) -> int:
    from condauv.cli.commands._shared import load_project

    # (cli/app.py has refused control characters in every path argument, -o included)
    output = None if args.output is None else args.output.expanduser().absolute()
    if args.output_is_folder:
        from condauv.errors import UserError

        raise UserError(
            f"-o {args.output}{os.sep}: it ends with {os.sep!r}: it names a folder",
            hint=f"drop the {os.sep!r} to write a file of that name, or name a file in the folder, "
            "e.g. -o dist/env.tar.gz",
        )
    project = load_project(args)
    if args.bundle:
        from condauv.pack.bundle import archive_sha256, make_bundle

        path = make_bundle(project, output)
        digest = archive_sha256(path)
        if out.json_mode:
            out.data({"path": str(path), "size": path.stat().st_size, "sha256": digest})
        else:
            out.info(f"wrote {path}")
            out.info(f"sha256 {digest}  {path.name}: compare it where the bundle is unpacked (sha256sum)")
        return 0
    from condauv.pack import pack_environment

    with _progress(out) as on_progress:
        result = pack_environment(project, output, on_progress=on_progress)
    if result.unowned:
        out.notice(_unowned_note(result.unowned))
    if out.json_mode:
        out.data(result.to_dict())
        return 0
    out.info(f"wrote {result.path} ({_size(result.size)}, {result.files} files)")
    name = shlex.quote(_shown(result.path))
    unpack = f"unzip {name} -d env" if result.format == "zip" else f"tar -xf {name} -C env"
    out.info(f"unpack: mkdir env && {unpack} && env/bin/conda-unpack")
    return 0


class _OutputPath(argparse.Action):
    """``-o`` as a :class:`Path` (which drops a trailing ``/``), noting that the text ended with one."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        text = str(values)
        setattr(namespace, self.dest, Path(text))
        namespace.output_is_folder = text.endswith(("/", os.sep)) and text.strip("/" + os.sep) != ""


def _unowned_note(paths: Sequence[str]) -> str:
    """One line: how many packed files no package owns, and the first few."""
    shown = ", ".join(paths[:5]) + (f" (+{len(paths) - 5} more)" if len(paths) > 5 else "")
    several = "s" if len(paths) != 1 else ""
    return (
        f"note: the archive holds {len(paths)} file{several} no package owns (neither conda-meta "
        f"nor a RECORD lists {'them' if several else 'it'}; `condauv check` cannot vouch for "
        f"{'them' if several else 'it'}): {shown}"
    )


def _shown(path: Path) -> str:
    """``path`` relative to the current folder when it lies in it (the unpack line is run there)."""
    try:
        return path.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


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
