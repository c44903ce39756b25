"""Console scripts of a relocated prefix: conda-pack rewrites the shebang of every script uv
installed (``#!/old/prefix/bin/python`` becomes ``#!/usr/bin/env python``), so the bytes differ
from the RECORD uv wrote. Such a script is unaltered when the RECORD's hash is that of the
same file with the shebang uv wrote at the prefix the environment was synced to (its marker
names the manifest; the manifest copy in conda-meta, the prefix): only the first line moved.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

from condauv.health.dists import record_digest

__all__ = ["original_prefix", "relocated_script"]

_LIMIT = 1 << 20  # a console script is a few hundred bytes: anything larger is not one


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


def relocated_script(path: str, digest: str, size: int | None, original: Path) -> bool:
    """Whether the file at ``path`` is the script the RECORD entry (``digest``, ``size``) names,
    but for a first line rewritten by a relocation (a Python shebang either way)."""
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > _LIMIT:
            return False
        with open(path, "rb") as handle:  # noqa: PTH123 - beside check's hashing, same style
            first, newline, rest = handle.read().partition(b"\n")
    except OSError:
        return False
    if not newline or not first.startswith(b"#!") or b"python" not in first:
        return False
    wrote = b"#!" + os.fsencode(original / "bin" / "python") + b"\n" + rest
    if size is not None and len(wrote) != size:
        return False
    sha256 = hashlib.sha256(wrote)
    return (sha256.hexdigest() if len(digest) == 64 else record_digest(sha256.digest())) == digest
