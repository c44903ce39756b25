"""``condauv run``: a command inside the activated environment (rattler writes the activation)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from condauv import _process
from condauv.errors import UserError

__all__ = ["activated_argv", "run_in_prefix"]


def activated_argv(
    prefix: Path, command: Sequence[str], *, label: str, then: str = 'exec "$@"'
) -> list[str] | None:
    """``command`` wrapped to run with ``prefix`` activated: rattler's activation script first,
    then (``then``) ``exec`` hands the process over to the command. ``None`` where there is no bash."""
    bash = shutil.which("bash")
    if bash is None:
        return None
    from condauv.conda import engine

    script = engine.activation_script(prefix)
    return [bash, "--noprofile", "--norc", "-c", f"{script}\n{then}", label, *command]


def run_in_prefix(prefix: Path, command: Sequence[str]) -> int:
    """Run ``command`` with ``prefix`` activated (PATH, CONDA_PREFIX, activate.d scripts)."""
    if not command:
        raise UserError("no command to run", hint="write it after --, e.g. condauv run -- python -V")
    if not (prefix / "conda-meta").is_dir():
        raise UserError(f"no environment at {prefix}", hint="run `condauv sync` first")
    argv = activated_argv(prefix, command, label="condauv-run")
    if argv is None:
        raise UserError("condauv run needs bash to apply the activation", hint="install bash")
    if not _findable(prefix, command[0]):
        raise UserError(
            f"command not found in the environment: {command[0]}",
            hint="check the name, or add the package",
        )
    return _process.call(argv, what="condauv run")  # the command's own status, 127 included


def _findable(prefix: Path, name: str) -> bool:
    """Whether the activated environment can start ``name``, decided before it runs: a path
    must be an executable file; a bare name is looked up on the activated PATH (the prefix's
    ``bin`` first), and, only if that fails, by bash after the activation (``activate.d``
    scripts may extend PATH)."""
    if os.sep in name:
        return Path(name).is_file() and os.access(name, os.X_OK)
    path = os.pathsep.join([str(prefix / "bin"), os.environ.get("PATH", "")])
    if shutil.which(name, path=path):
        return True
    probe = activated_argv(prefix, [name], label="condauv-run", then='command -v -- "$1"')
    if probe is None:
        return False
    return _process.run(probe, what="condauv run looks up the command", check=False).returncode == 0
