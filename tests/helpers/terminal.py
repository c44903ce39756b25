"""Run a program with its stdout and stderr on a pseudo-terminal (or either one on a pipe), as a
person's shell does: what a progress display draws is seen only there."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ESCAPE", "TerminalRun", "condauv_on_terminal", "run_on_terminal"]

#: How rich starts drawing (and clearing) a live display.
ESCAPE = "\x1b["


@dataclass(frozen=True)
class TerminalRun:
    returncode: int
    terminal: str  # what reached the pseudo-terminal (stdout and stderr, when both are on it)
    stdout: str  # what went to a pipe ("" when stdout was on the terminal)
    stderr: str


def _drain(leader: int, chunks: list[bytes]) -> None:
    """Read the terminal until every writer closed it (Linux then says EIO)."""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            return
        if not chunk:
            return
        chunks.append(chunk)


def run_on_terminal(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    stdout_terminal: bool = True,
    stderr_terminal: bool = True,
    timeout: float = 120,
) -> TerminalRun:
    """Run ``argv`` (stdin: the null device) with stdout and/or stderr on one pseudo-terminal,
    the other on a pipe; the terminal is read while it runs, so a chatty program never blocks."""
    leader, follower = pty.openpty()
    chunks: list[bytes] = []
    reader = threading.Thread(target=_drain, args=(leader, chunks), daemon=True)
    try:
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env={**os.environ, "TERM": "xterm", "COLUMNS": "120", **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=follower if stdout_terminal else subprocess.PIPE,
            stderr=follower if stderr_terminal else subprocess.PIPE,
        )
        os.close(follower)
        follower = -1
        reader.start()
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise
        reader.join(timeout=30)
    finally:
        if follower != -1:
            os.close(follower)
        if not reader.is_alive():
            os.close(leader)
    return TerminalRun(
        process.returncode,
        b"".join(chunks).decode(errors="replace"),
        (out or b"").decode(errors="replace"),
        (err or b"").decode(errors="replace"),
    )


def condauv_on_terminal(
    *args: str | os.PathLike[str],
    cwd: Path,
    stdout_terminal: bool = True,
    stderr_terminal: bool = True,
    env: dict[str, str] | None = None,
) -> TerminalRun:
    """``condauv ARGS...`` in its own process (this interpreter), run by :func:`run_on_terminal`."""
    return run_on_terminal(
        [sys.executable, "-m", "condauv", *(os.fspath(a) for a in args)],
        cwd=cwd,
        env=env,
        stdout_terminal=stdout_terminal,
        stderr_terminal=stderr_terminal,
    )
