"""The uv wrapper: builds argument lists, runs uv through condauv's one process runner.

uv runs with ``--no-config`` so that the manifest is the only source of settings, and never
downloads interpreters: the interpreter always comes from the conda side.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from pathlib import Path

from condauv import _process
from condauv.errors import CondauvError

__all__ = ["Uv", "find_uv"]

_ENV = {"UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1", "NO_COLOR": "1"}


@functools.cache
def find_uv() -> str:
    """The uv binary shipped with the ``uv`` package (``$CONDAUV_UV`` overrides it)."""
    explicit = os.environ.get("CONDAUV_UV")
    if explicit:
        return explicit
    try:
        from uv import find_uv_bin
    except ImportError as exc:  # pragma: no cover - uv is a hard dependency
        raise CondauvError("the uv package is not installed", hint="pip install uv") from exc
    return str(find_uv_bin())


class Uv:
    """uv's ``pip`` interface, with the flags condauv always wants."""

    def __init__(self, *, offline: bool = False, index_args: Sequence[str] = ()) -> None:
        self.offline = offline
        self.index_args = list(index_args)

    def _base(self, subcommand: str) -> list[str]:
        args = [find_uv(), "pip", subcommand, "--no-config", "--color", "never"]
        if self.offline:
            args.append("--offline")
        return args

    def compile(
        self,
        requirements: Path,
        output: Path,
        *,
        python_version: str,
        python_platform: str,
        annotated: bool = False,
    ) -> _process.Completed:
        """Resolve ``requirements`` for a target (no interpreter needed) into a pylock.toml,
        or, ``annotated``, into a requirements.txt whose lines say who needs each package."""
        formats = (
            ["--annotation-style", "line", "--no-header"]
            if annotated
            else ["--format", "pylock.toml", "--generate-hashes"]
        )
        command = [
            *self._base("compile"),
            str(requirements),
            *formats,
            "--python-version",
            python_version,
            "--python-platform",
            python_platform,
            "--output-file",
            str(output),
            "--quiet",
            *self.index_args,
        ]
        return _process.run(command, what="uv resolves the PyPI side", env=_ENV, check=False)

    def install(self, python: Path, requirements: Path) -> None:
        """Install exactly the hashed artifacts listed: no resolving, no dependencies added."""
        command = [
            *self._base("install"),
            "--python",
            str(python),
            "--no-deps",
            "--require-hashes",
            "--no-index",
            "--reinstall",
            "-r",
            str(requirements),
        ]
        _process.run(
            command,
            what="uv installs the PyPI packages",
            env=_ENV,
            hint="the lock's artifacts must be reachable (or cached, with --offline)",
        )

    def uninstall(self, python: Path, names: Sequence[str]) -> None:
        """Remove PyPI distributions by name (never called with a conda-owned name)."""
        if not names:
            return
        command = [*self._base("uninstall"), "--python", str(python), *names]
        _process.run(command, what="uv removes PyPI packages", env=_ENV)
