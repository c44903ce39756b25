"""``condauv channel python``: a CPython interpreter as conda ``python`` in a local channel.

An air-gapped site (or one without a conda mirror) then needs only this folder and condauv:
``condauv init --channel ./channel`` locks and syncs against it. The interpreter is asked for its
prefix in a process of its own; what it says is checked and used as a path, never as a command
line, and the only program run is the file the user named (or this interpreter).
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from condauv import _fs, _process, validation
from condauv.channel.interpreter import build_python_package
from condauv.channel.local import publish_packages
from condauv.errors import UserError

__all__ = ["PythonChannel", "channel_from_python", "interpreter_prefix"]

_HINT = "give a CPython interpreter file, e.g. --python ~/.pyenv/versions/3.11.9/bin/python3.11"

#: what the interpreter is asked: one JSON line, read by :func:`_reported`.
_ASK = (
    "import json, platform, sys; print(json.dumps({'implementation': sys.implementation.name, "
    "'version': platform.python_version(), 'base_prefix': sys.base_prefix}))"
)


@dataclass(frozen=True, slots=True)
class PythonChannel:
    package: Path  # the .conda file in the channel
    version: str  # the interpreter's, e.g. 3.11.9
    base_prefix: Path  # the install tree that was packaged


def _interpreter_file(python: Path) -> Path:
    """``python`` resolved to the regular, executable ELF file it names (a link is followed)."""
    validation.check_text(str(python), what="--python", error=UserError, hint=_HINT)
    try:
        real = python.expanduser().resolve(strict=True)
        mode = real.stat().st_mode
    except (OSError, RuntimeError):  # missing, a link loop, unreadable
        raise UserError(f"--python {python}: no such file", hint=_HINT) from None
    if not stat.S_ISREG(mode):
        raise UserError(f"--python {python} is not a file", hint=_HINT)
    if not os.access(real, os.X_OK):
        raise UserError(f"--python {python} is not executable", hint=_HINT)
    with real.open("rb") as handle:
        if handle.read(4) != b"\x7fELF":
            raise UserError(
                f"--python {python} is not an interpreter binary (a script or a wrapper?)", hint=_HINT
            )
    return real


def _reported(python: Path, stdout: str) -> tuple[str, str, Path]:
    """(implementation, version, base prefix) from the interpreter's one JSON line, checked."""
    try:
        data = json.loads(stdout.strip().splitlines()[-1] if stdout.strip() else "")
    except ValueError:
        data = None
    if not isinstance(data, dict) or not all(
        isinstance(data.get(key), str) for key in ("implementation", "version", "base_prefix")
    ):
        raise UserError(f"--python {python} did not answer as a Python interpreter does", hint=_HINT)
    base = Path(data["base_prefix"])
    validation.check_text(
        data["base_prefix"], what=f"the prefix {python} reports", error=UserError, hint=_HINT
    )
    if not base.is_absolute() or not base.is_dir():
        raise UserError(f"--python {python} reports a prefix that is not a folder: {base}", hint=_HINT)
    return data["implementation"], data["version"], base


def interpreter_prefix(python: Path) -> Path:
    """The install tree of the CPython interpreter file ``python``: the folder whose
    ``bin/python3.X`` it is (a virtual environment's python: its base interpreter's)."""
    real = _interpreter_file(python)
    done = _process.run(
        [real, "-I", "-c", _ASK], what=f"{python} reports its version and prefix", timeout=60, hint=_HINT
    )
    implementation, version, base = _reported(python, done.stdout)
    if implementation != "cpython":
        raise UserError(f"--python {python} is {implementation} {version}, not CPython", hint=_HINT)
    base = base.resolve()
    own = base / "bin" / real.name
    if not re.fullmatch(r"python3\.\d+", real.name) or not own.exists() or own.resolve() != real:
        # a copy (a venv made with --copies) or a wrapper: package the base interpreter itself
        own_files = sorted(
            p for p in (base / "bin").glob("python3.*") if re.fullmatch(r"python3\.\d+", p.name)
        )
        raise UserError(
            f"--python {python} is not the interpreter of its install tree {base}",
            hint=f"give that tree's own interpreter: --python {own_files[0]}" if own_files else _HINT,
        )
    return base


def channel_from_python(output: Path, *, python: Path | None = None) -> PythonChannel:
    """Package ``python`` (default: the interpreter running condauv, ``sys.base_prefix``'s) as
    conda ``python`` into the channel folder ``output`` and index it. Built in condauv's scratch
    folder first: a failed build leaves the channel as it was."""
    base = interpreter_prefix(python) if python is not None else Path(sys.base_prefix).resolve()
    target = output.expanduser().absolute()
    if target.resolve().is_relative_to(base):
        raise UserError(
            f"--output {output} is inside the interpreter's own install tree {base}",
            hint="write the channel elsewhere, e.g. --output ./channel",
        )
    with _fs.scratch_dir("python-") as scratch:
        staged = build_python_package(scratch, base_prefix=base)
        [package] = publish_packages([staged], target)
    version = package.name.removesuffix(".conda").rsplit("-", 2)[1]
    return PythonChannel(package=package, version=version, base_prefix=base)
