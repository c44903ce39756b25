"""``python -m condauv`` and the ``condauv`` console script."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence

__all__ = ["entrypoint", "main"]


def main(cli_args: Sequence[str] | None = None) -> int:
    try:
        from condauv.cli.app import main as run

        return run(cli_args)
    except KeyboardInterrupt:  # Ctrl-C while the CLI starts, before its own handler is in place
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write("error: interrupted\n")
        return 130


def entrypoint() -> None:
    """Run, flush, and leave without interpreter finalisation: py-rattler 0.28's runtime
    threads can crash a finalising interpreter after an install (SIGSEGV or a
    PyGILState_Release abort, seen in about one run in five), turning a finished command
    into exit code 134/139. Everything condauv writes is complete before this point."""
    code = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        from condauv.cli.app import stdout_closed

        code = stdout_closed()
    with contextlib.suppress(OSError):  # nobody is left to read it
        sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entrypoint()
