"""bench's progress: a rich bar on a terminal only; plain lines on a pipe; nothing with --json or -q."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers.terminal import run_on_terminal

#: drives the command's progress helper as `condauv bench` does, with three steps
_SCRIPT = """
import sys
from condauv.bench.model import Step
from condauv.cli.commands.bench import _progress
from condauv.cli.output import Output
out = Output(json_mode="--json" in sys.argv, quiet="-q" in sys.argv)
with _progress(out) as on_step:
    for index in (1, 2, 3):
        if on_step is not None:
            on_step(Step(index, 3, f"step number {index}"))
"""


def _on_a_terminal(*flags: str) -> str:
    done = run_on_terminal([sys.executable, "-c", _SCRIPT, *flags], timeout=60)
    assert done.returncode == 0, done.terminal
    return done.terminal


def test_a_terminal_gets_a_progress_bar() -> None:
    shown = _on_a_terminal()
    assert "\x1b[" in shown  # rich draws (and then clears) the bar with escape codes
    assert "step number" in shown
    assert "[1/3]" not in shown  # not the plain lines


def test_a_pipe_gets_one_plain_line_a_step() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stderr.splitlines() == [f"[{i}/3] step number {i}" for i in (1, 2, 3)]
    assert "\x1b[" not in done.stderr


def test_stdout_off_the_terminal_gets_the_plain_lines() -> None:
    done = run_on_terminal([sys.executable, "-c", _SCRIPT], stdout_terminal=False, timeout=60)
    assert done.returncode == 0, done.terminal
    assert done.terminal.replace("\r", "").splitlines() == [f"[{i}/3] step number {i}" for i in (1, 2, 3)]


@pytest.mark.parametrize("flag", ["--json", "-q"])
def test_json_and_quiet_get_no_progress(flag: str) -> None:
    assert "step number" not in _on_a_terminal(flag)
