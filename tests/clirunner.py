"""Run condauv's CLI in-process, the way a person runs it, and capture what it says."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from condauv.__main__ import main


@dataclass(frozen=True)
class RunResult:
    exit_code: int
    stdout: str
    stderr: str


@contextmanager
def chdir(path: Path) -> Iterator[None]:
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


class CLI:
    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, *args: str | os.PathLike[str], cwd: Path) -> RunResult:
        self.capsys.readouterr()
        with chdir(cwd):
            code = main([os.fspath(a) for a in args])
        captured = self.capsys.readouterr()
        return RunResult(code, captured.out, captured.err)
