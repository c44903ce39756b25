"""`condauv run` of a command that cannot start: one `error:` line and one `hint:` line, exit 2
(as `uv run nonexistent`), and nothing from the shell or from Python on stderr."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.clirunner import CLI


def _managed_prefix(cli: CLI, tmp_path: Path) -> Path:
    assert cli("init", cwd=tmp_path).exit_code == 0
    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    return prefix


def _condauv_run(tmp_path: Path, prefix: Path, *command: str) -> subprocess.CompletedProcess[str]:
    """In a process of its own: what the shell of the activation prints reaches stderr here."""
    return subprocess.run(
        [sys.executable, "-m", "condauv", "run", "--no-sync", "--prefix", str(prefix), "--", *command],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        timeout=60,
    )


def _script(path: Path, text: str, mode: int = 0o755) -> str:
    path.write_text(text)
    path.chmod(mode)
    return str(path)


def _unstartable(folder: Path, case: str) -> str:
    """A command of ``case`` made in ``folder``."""
    scripts = {
        "bad-shebang": ("#!/no/such/interpreter\n", 0o755),
        "env-shebang": ("#!/usr/bin/env -S condauv-no-such-python -u\n", 0o755),
        "not-executable": ("echo hi\n", 0o644),
    }
    if case in scripts:
        return _script(folder / case, *scripts[case])
    return {"missing-path": str(folder / "missing-script"), "folder": str(folder)}.get(case, case)


@pytest.mark.parametrize(
    ("case", "fragment"),
    [
        ("condauv-no-such-command", "command not found in the environment: condauv-no-such-command"),
        ("cd", "command not found in the environment: cd"),  # a bash builtin
        ("if", "command not found in the environment: if"),  # a bash keyword
        ("missing-path", "command not found in the environment"),
        ("bad-shebang", "its interpreter /no/such/interpreter is not in the environment"),
        ("env-shebang", "its interpreter condauv-no-such-python is not in the environment"),
        ("not-executable", "it is not executable"),
        ("folder", "it is a folder"),
    ],
)
def test_a_command_that_cannot_start_is_one_error(cli: CLI, tmp_path: Path, case: str, fragment: str) -> None:
    prefix = _managed_prefix(cli, tmp_path)
    done = _condauv_run(tmp_path, prefix, _unstartable(tmp_path, case), "arg")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done
    assert len(lines) == 2, done.stderr
    assert lines[0].startswith("error: ") and fragment in lines[0], done.stderr
    assert lines[1].startswith("hint: "), done.stderr
    assert done.stdout == ""


def test_the_activated_environment_reaches_the_command(cli: CLI, tmp_path: Path) -> None:
    """PATH (the prefix's bin first), CONDA_PREFIX and an activate.d script's variables."""
    prefix = _managed_prefix(cli, tmp_path)
    (prefix / "etc" / "conda" / "activate.d").mkdir(parents=True)
    (prefix / "etc" / "conda" / "activate.d" / "x.sh").write_text(
        f'export CONDAUV_TEST_VAR="a b\nc"\nexport PATH="{tmp_path / "extra"}:$PATH"\n'
    )
    (tmp_path / "extra").mkdir()
    _script(tmp_path / "extra" / "only-after-activation", "#!/bin/sh\necho found\n")
    code = "import os; print(os.environ['CONDA_PREFIX']); print(repr(os.environ['CONDAUV_TEST_VAR']))"
    done = _condauv_run(tmp_path, prefix, sys.executable, "-c", code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [str(prefix), repr("a b\nc")]
    found = _condauv_run(tmp_path, prefix, "only-after-activation")
    assert (found.returncode, found.stdout, found.stderr) == (0, "found\n", "")
