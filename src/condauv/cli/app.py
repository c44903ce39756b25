"""Argument parsing and dispatch; every command lives in ``condauv.cli.commands``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from condauv import __version__, _fs
from condauv.cli.commands import COMMANDS
from condauv.cli.output import Output
from condauv.errors import CondauvError, UserError
from condauv.validation import check_text

__all__ = ["BROKEN_PIPE_EXIT", "main", "stdout_closed"]

#: A command whose reader left early (``condauv list --json | head -1``) ends quietly with the
#: status a Unix filter killed by SIGPIPE has (``seq 1 100000 | head -1``): 128 + 13.
BROKEN_PIPE_EXIT = 141


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors in condauv's one-line-plus-hint form and exit code 2."""

    def error(self, message: str) -> NoReturn:
        Output().error(f"{self.prog}: {message}", f"run `{self.prog} --help` for the options")
        raise SystemExit(2)


def _common() -> _Parser:
    common = _Parser(add_help=False)
    common.add_argument("-v", "--verbose", action="count", default=0, help="more output (-vv: debug)")
    common.add_argument("-q", "--quiet", action="store_true", help="only errors")
    common.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    common.add_argument("--manifest", type=Path, help="the condauv.toml to use (default: search upward)")
    common.add_argument("--prefix", type=Path, help="the environment to act on (default: .condauv/env)")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = _Parser(
        prog="condauv",
        description="One manifest, one lock, one environment: conda packages by py-rattler, PyPI by uv.",
        epilog="Every command takes -v/-q, --json, --manifest PATH and --prefix DIR after its name.",
    )
    parser.add_argument("--version", action="version", version=f"condauv {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, module in COMMANDS.items():
        command = sub.add_parser(name, help=module.HELP, description=module.HELP, parents=[common])
        module.add_arguments(command, common)
        command.set_defaults(handler=module.handle)
    return parser


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
    for name, value in vars(args).items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, Path):
                what = f"the {name.strip('_').replace('_', '-')} path"
                check_text(str(item), what=what, error=UserError, hint="give a plain path")


class _MaskingFormatter(logging.Formatter):
    """Log lines without credentials, whoever logs them (an exception's text may quote a URL)."""

    def format(self, record: logging.LogRecord) -> str:
        from condauv._process import mask

        return mask(super().format(record))


def _print_traceback() -> None:
    """The traceback for -v, masked: exception arguments may carry an index URL with its token."""
    from condauv._process import mask

    print(mask(traceback.format_exc()).rstrip("\n"), file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run condauv with ``argv``; returns the exit code (tests call this in-process)."""
    try:
        return _main(argv)
    except BrokenPipeError:
        return stdout_closed()


def _main(argv: Sequence[str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:  # bare `condauv`: the help, as uv does (stderr, exit 2)
        build_parser().print_help(sys.stderr)
        return 2
    out = Output(json_mode=args.json, quiet=args.quiet, verbose=args.verbose)
    _fs.report_waits(out.notice)  # a command that waits for another's project lock says so
    logging.basicConfig(
        level=logging.DEBUG if args.verbose >= 2 else logging.INFO if args.verbose else logging.WARNING,
        format="%(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    for handler in logging.getLogger().handlers:  # every log line (-v, -vv, httpx's too) is masked
        handler.setFormatter(_MaskingFormatter("%(name)s: %(message)s"))
    try:
        _check_paths(args)
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
