"""``condauv run``: a command inside the activated environment (rattler writes the activation)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from condauv import _process
from condauv.errors import UserError

__all__ = ["activated_argv", "run_in_prefix"]


def activated_argv(prefix: Path, command: Sequence[str], *, label: str) -> list[str] | None:
    """``command`` wrapped to run with ``prefix`` activated: rattler's activation script first,
    then ``exec`` hands the process over to the command. ``None`` where there is no bash."""
    bash = shutil.which("bash")
    if bash is None:
        return None
    from condauv.conda import engine

    script = engine.activation_script(prefix)
    return [bash, "--noprofile", "--norc", "-c", f'{script}\nexec "$@"', label, *command]


def run_in_prefix(prefix: Path, command: Sequence[str]) -> int:
    """Run ``command`` with ``prefix`` activated (PATH, CONDA_PREFIX, activate.d scripts)."""
    if not command:
        raise UserError("no command to run", hint="write it after --, e.g. condauv run -- python -V")
    if not (prefix / "conda-meta").is_dir():
        raise UserError(f"no environment at {prefix}", hint="run `condauv sync` first")
    argv = activated_argv(prefix, command, label="condauv-run")
    if argv is None:
        raise UserError("condauv run needs bash to apply the activation", hint="install bash")
    code = _process.call(argv, what="condauv run")
    if code == 127:
        raise UserError(
            f"command not found in the environment: {command[0]}",
            hint="check the name, or add the package",
        )
    return code
