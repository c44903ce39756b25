"""Running condauv as a separate process, for tests that signal it part-way."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path


def start_until(args: Sequence[str], marker: str, *, cwd: Path) -> tuple[subprocess.Popen[str], str]:
    """Start ``python -m condauv ARGS`` in ``cwd`` and read its stderr until a line holds
    ``marker`` (at most 120 s); the process and what it printed so far."""
    process = subprocess.Popen(
        [sys.executable, "-m", "condauv", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    seen = ""
    deadline = time.monotonic() + 120
    while marker not in seen and time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        seen += line
    assert marker in seen, seen
    return process, seen
