"""Argument parsing and dispatch; every command lives in ``condauv.cli.commands``.

Start-up is part of every command's time (a no-op ``sync`` is mostly start-up): this module
imports little, builds the arguments of the one command asked for, and loads the rest (output,
logging, the library) only once a command's ``fast`` path has not settled it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from condauv import __version__

TYPE_CHECKING = False  # typing's, without importing typing (see condauv/__init__.py)
if TYPE_CHECKING:
    import logging
    from pathlib import Path
    from typing import Any, NoReturn

__all__ = ["BROKEN_PIPE_EXIT", "main", "path_argument", "stdout_closed"]

#: A command whose reader left early (``condauv list --json | head -1``) ends quietly with the
#: status a Unix filter killed by SIGPIPE has (``seq 1 100000 | head -1``): 128 + 13.
BROKEN_PIPE_EXIT = 141


def _columns() -> int:
    """``shutil.get_terminal_size().columns``, without importing shutil (and its compressors)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):  # no stdout (None), or no terminal
        return 80


class _Formatter(argparse.HelpFormatter):
    """argparse's help, at the terminal's width as argparse finds it, but found without shutil:
    argparse builds a formatter for every argument added, help or not, and imported shutil then."""

    def __init__(
        self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None
    ) -> None:
        super().__init__(
            prog, indent_increment, max_help_position, _columns() - 2 if width is None else width
        )


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors in condauv's one-line-plus-hint form and exit code 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        from condauv.cli.output import Output

        Output().error(f"{self.prog}: {message}", f"run `{self.prog} --help` for the options")
        raise SystemExit(2)


def path_argument(value: str) -> Path:
    """The type of ``--manifest`` and ``--prefix``: a :class:`~pathlib.Path`, with pathlib loaded
    only when one is given (it is not on a no-op sync's way)."""
    from pathlib import Path

    return Path(value)


def _common() -> _Parser:
    common = _Parser(add_help=False)
    common.add_argument("-v", "--verbose", action="count", default=0, help="more output (-vv: debug)")
    common.add_argument("-q", "--quiet", action="store_true", help="only errors")
    common.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    common.add_argument(
        "--manifest", type=path_argument, help="the condauv.toml to use (default: search upward)"
    )
    common.add_argument(
        "--prefix", type=path_argument, help="the environment to act on (default: .condauv/env)"
    )
    return common


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """condauv's parser; with ``command``, only that command is added (its module alone is
    loaded). argparse never names the others then: a known command leaves no invalid choice to
    report, and a parser for each one cost about as much again as the whole no-op sync."""
    from condauv.cli.commands import COMMANDS, load

    common = _common()
    parser = _Parser(
        prog="condauv",
        description="One manifest, one lock, one environment: conda packages by py-rattler, PyPI by uv.",
        epilog="Every command takes -v/-q, --json, --manifest PATH and --prefix DIR after its name.",
    )
    parser.add_argument("--version", action="version", version=f"condauv {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS if command is None else [command]:
        module = load(name)
        parsed = sub.add_parser(name, help=module.HELP, description=module.HELP, parents=[common])
        module.add_arguments(parsed, common)
        parsed.set_defaults(handler=module.handle, fast=getattr(module, "fast", None))
    return parser


def _command_of(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names: its first word that is no option (condauv's own options take
    no value); ``None`` when there is none or it is no command (the whole parser then answers)."""
    from condauv.cli.commands import COMMANDS

    word = next((a for a in argv if not a.startswith("-")), None)
    return word if word in COMMANDS else None


def stdout_closed() -> int:
    """The reader of stdout went away: point stdout at the null device, so that no later flush
    fails again (or prints a traceback at exit), and return :data:`BROKEN_PIPE_EXIT`."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass  # stdout is no file descriptor (captured in-process): nothing to redirect
    return BROKEN_PIPE_EXIT


def _check_paths(args: argparse.Namespace) -> None:
    """Every path argument (``--manifest``, ``--prefix``, ``--from``, ``PREFIX``, ...): no NUL
    or control character, refused before any command sees it."""
    from pathlib import Path

    from condauv.errors import UserError
    from condauv.validation import check_text

    for name, value in vars(args).items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, Path):
                what = f"the {name.strip('_').replace('_', '-')} path"
                check_text(str(item), what=what, error=UserError, hint="give a plain path")


def _masking_formatter(fmt: str) -> logging.Formatter:
    """Log lines without credentials, whoever logs them (an exception's text may quote a URL)."""
    import logging

    class MaskingFormatter(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            from condauv._process import mask

            return mask(super().format(record))

    return MaskingFormatter(fmt)


def _print_traceback() -> None:
    """The traceback for -v, masked: exception arguments may carry an index URL with its token."""
    import traceback

    from condauv._process import mask

    print(mask(traceback.format_exc()).rstrip("\n"), file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run condauv with ``argv``; returns the exit code (tests call this in-process)."""
    try:
        return _main(argv)
    except BrokenPipeError:
        return stdout_closed()


def _main(argv: Sequence[str] | None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser(_command_of(words)).parse_args(words)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:  # bare `condauv`: the help, as uv does (stderr, exit 2)
        build_parser().print_help(sys.stderr)
        return 2
    fast = getattr(args, "fast", None)
    settled: int | None = fast(args) if fast is not None else None
    if settled is not None:  # e.g. a no-op sync proven by its stamp: nothing more was loaded
        return settled
    import logging

    from condauv import _fs, progress
    from condauv.cli.output import Output
    from condauv.errors import CondauvError

    out = Output(json_mode=args.json, quiet=args.quiet, verbose=args.verbose)
    _fs.report_waits(out.notice)  # a command that waits for another's project lock says so
    logging.basicConfig(
        level=logging.DEBUG if args.verbose >= 2 else logging.INFO if args.verbose else logging.WARNING,
        format="%(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    for handler in logging.getLogger().handlers:  # every log line (-v, -vv, httpx's too) is masked
        handler.setFormatter(_masking_formatter("%(name)s: %(message)s"))
    try:
        _check_paths(args)
        with progress.showing(out.display()):  # the library's long steps, drawn on a terminal only
            code: int = args.handler(args, out)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
    except BrokenPipeError:
        raise
    except CondauvError as exc:
        if args.verbose:
            _print_traceback()
        out.error(exc.message, exc.hint)
        return exc.exit_code
    except KeyboardInterrupt:
        out.error("interrupted", None)
        return 130
    except Exception as exc:  # a bug, or a failure we did not anticipate
        if args.verbose:
            _print_traceback()
        out.error(f"unexpected {type(exc).__name__}: {exc}", "add -v for the traceback, and report it")
        return 1
    return code
