"""Activation scripts that rattler wrote, kept in condauv's cache (``activation/``) by what they
were written from, so that ``condauv run`` and ``condauv shell`` need not import rattler.

A key is the SHA-256 of everything rattler reads to write one (see
:func:`condauv.activation.activation_script`); a kept file holds its key on its first line and
is used only when that line is the key asked for, and the rest is text. Nothing here raises for
what it finds on disk: a cache that cannot be read or written is a cache miss.

This runs at the start of ``condauv run``: only cheap parts of the standard library.
"""

# os.path, not pathlib's objects, for the many stat calls of a key
# ruff: noqa: PTH100, PTH116, PTH118, PTH208

from __future__ import annotations

import os
import sys
from pathlib import Path

from condauv._digest import sha256

__all__ = ["FOLDER", "keep", "kept", "key", "write"]

FOLDER = "activation"  # under condauv.paths.cache_dir()
_FORMAT = "condauv-activation 1"
_LIMIT = 1 << 20  # a script of a MiB is no activation rattler wrote: not read
#: the folders of a prefix whose entries the activation sources or copies in
_PARTS = ("etc/conda/activate.d", "etc/conda/deactivate.d", "etc/conda/env_vars.d")


def write(prefix: Path, shell: str = "bash") -> str:
    """rattler's script for ``shell`` (``bash``, ``zsh`` or ``fish``) that activates ``prefix``
    (PATH, CONDA_PREFIX, activate.d scripts), for this process's ``PATH`` and ``CONDA_PREFIX``."""
    from rattler.shell import ActivationVariables, Shell, activate

    variables = ActivationVariables(
        current_prefix=Path(os.environ["CONDA_PREFIX"]) if os.environ.get("CONDA_PREFIX") else None,
        current_path=os.environ.get("PATH", "").split(os.pathsep),
    )
    return activate(prefix, variables, getattr(Shell, shell)).script


def key(prefix: Path | str, shell: str) -> str:
    """What an activation of ``prefix`` for ``shell`` is written from, as a digest."""
    import condauv

    prefixes = [os.path.abspath(prefix)]
    current = os.environ.get("CONDA_PREFIX")
    if current:
        prefixes.append(os.path.abspath(current))
    parts: list[object] = [
        _FORMAT,
        condauv.__version__,
        sys.platform,
        shell,
        sorted(
            (name, value) for name, value in os.environ.items() if name == "PATH" or name.startswith("CONDA_")
        ),
    ]
    for root in prefixes:
        parts.append(root)
        parts.append(_stat(os.path.join(root, "conda-meta", "state")))
        for part in _PARTS:
            parts.append(_entries(os.path.join(root, part)))
    return sha256(repr(parts).encode("utf-8", "surrogateescape")).hexdigest()


def kept(digest: str) -> str | None:
    """The script kept for ``digest``, or ``None``."""
    try:
        with _path(digest).open("rb") as handle:
            data = handle.read(_LIMIT + 1)
    except OSError:
        return None
    head, _, script = data.partition(b"\n")
    if len(data) > _LIMIT or head != f"{_FORMAT} {digest}".encode("ascii"):
        return None
    try:
        return script.decode("utf-8")
    except UnicodeDecodeError:
        return None


def keep(digest: str, script: str) -> None:
    """Keep ``script`` for ``digest`` (atomically: a reader sees all of it or none); a cache
    that cannot be written is left as it is (rattler writes the script again next time)."""
    from condauv import _fs

    path = _path(digest)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _fs.atomic_write_bytes(path, f"{_FORMAT} {digest}\n{script}".encode(), durable=False)
    except OSError:
        pass


def _path(digest: str) -> Path:
    from condauv.paths import cache_dir

    return cache_dir() / FOLDER / f"{digest}.sh"


def _stat(path: str) -> tuple[int, ...] | None:
    try:
        s = os.stat(path)
    except OSError:
        return None
    return (s.st_mode, s.st_ino, s.st_size, s.st_mtime_ns, s.st_ctime_ns)


def _entries(folder: str) -> list[tuple[str, tuple[int, ...] | None]] | None:
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return None
    return [(name, _stat(os.path.join(folder, name))) for name in names]
