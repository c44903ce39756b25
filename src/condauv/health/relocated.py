"""Console scripts of a relocated prefix: conda-pack rewrites the shebang of every script uv
installed (``#!/old/prefix/bin/python`` becomes ``#!/usr/bin/env python``), so the bytes differ
from the RECORD uv wrote. Such a script is unaltered when the RECORD's hash is that of the
same file with the shebang uv wrote at the prefix the environment was synced to (its marker
names the manifest; the manifest copy in conda-meta, the prefix): only the first line moved.

Only the first lines a relocation writes are undone: conda-pack's ``#!/usr/bin/env python``
(``rewrite_shebang`` in conda-pack 0.9.2 keeps the interpreter's file name and uv's options,
none) and uv's own ``#!<prefix>/bin/python`` with the prefix the copy lies at now (conda-pack's
``--dest-prefix``, or ``conda-unpack`` when conda-pack left the line alone). Any other
interpreter, even one whose name holds "python", is an edit.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from pathlib import Path

from condauv.health.dists import record_digest

__all__ = ["original_prefix", "relocated_script"]

_LIMIT = 1 << 20  # a console script is a few hundred bytes: anything larger is not one
#: the interpreter names a relocated shebang may keep (``python``, ``python3``, ``python3.11``)
_PYTHON = re.compile(rb"python(?:3(?:\.[0-9]+)?)?")
#: conda-pack's rewrite of a shebang into the prefix: ``#!/usr/bin/env <file name>``
_ENV = b"#!/usr/bin/env "


def original_prefix(prefix: Path) -> Path | None:
    """Where condauv synced ``prefix`` before it was moved, or ``None`` (never synced by condauv,
    not moved, or the copies are unreadable: all of them untrusted input, read as such)."""
    from condauv.conda.prefix import MARKER, read_synced_copy
    from condauv.errors import UserError
    from condauv.manifest.model import parse_manifest
    from condauv.project import resolve_prefix

    try:
        marker = json.loads((prefix / "conda-meta" / MARKER).read_text(encoding="utf-8"))
        manifest_path = Path(marker["manifest"]) if isinstance(marker, dict) else None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    copies = read_synced_copy(prefix)
    if manifest_path is None or not manifest_path.is_absolute() or copies is None:
        return None
    try:
        original = resolve_prefix(parse_manifest(copies[1], manifest_path), None)
    except (UserError, ValueError, OSError):
        return None
    return None if original == prefix.resolve() else original


def relocated_script(path: str, digest: str, size: int | None, original: Path, prefix: Path) -> bool:
    """Whether the file at ``path`` in ``prefix`` is the script the RECORD entry (``digest``,
    ``size``) names, but for a first line a relocation from ``original`` wrote."""
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > _LIMIT:
            return False
        with open(path, "rb") as handle:  # noqa: PTH123 - beside check's hashing, same style
            first, newline, rest = handle.read().partition(b"\n")
    except OSError:
        return False
    python = _relocated_python(first, (prefix, original)) if newline else None
    if python is None:
        return False
    wrote = b"#!" + os.fsencode(original / "bin") + b"/" + python + b"\n" + rest
    if size is not None and len(wrote) != size:
        return False
    sha256 = hashlib.sha256(wrote)
    return (sha256.hexdigest() if len(digest) == 64 else record_digest(sha256.digest())) == digest


def _relocated_python(first: bytes, prefixes: tuple[Path, ...]) -> bytes | None:
    """The interpreter's file name in a shebang a relocation writes (or uv wrote, at one of
    ``prefixes``), or ``None`` for any other line."""
    for start in (_ENV, *(b"#!" + os.fsencode(prefix / "bin") + b"/" for prefix in prefixes)):
        if first.startswith(start) and _PYTHON.fullmatch(first, len(start)):
            return first[len(start) :]
    return None
