"""``condauv run``: a command inside the activated environment (rattler writes the activation)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from condauv import _process
from condauv.errors import UserError

__all__ = ["run_in_prefix"]


def run_in_prefix(prefix: Path, command: Sequence[str]) -> int:
    """Run ``command`` with ``prefix`` activated (PATH, CONDA_PREFIX, activate.d scripts)."""
    if not command:
        raise UserError("no command to run", hint="write it after --, e.g. condauv run -- python -V")
    if not (prefix / "conda-meta").is_dir():
        raise UserError(f"no environment at {prefix}", hint="run `condauv sync` first")
    bash = shutil.which("bash")
    if bash is None:
        raise UserError("condauv run needs bash to apply the activation", hint="install bash")
    from condauv.conda import engine

    script = engine.activation_script(prefix)
    # the activation script runs first, then `exec` hands the process over to the command
    argv = [bash, "--noprofile", "--norc", "-c", f'{script}\nexec "$@"', "condauv-run", *command]
    code = _process.call(argv, what="condauv run")
    if code == 127:
        raise UserError(
            f"command not found in the environment: {command[0]}",
            hint="check the name, or add the package",
        )
    return code
