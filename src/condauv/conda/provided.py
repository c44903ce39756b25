"""The PyPI distributions inside conda archives, kept in condauv's cache (``provides/``).

An archive's paths never change, so what ``condauv lock`` read of one (its dist-info folders,
from ``info/paths.json``) is kept under the archive's sha256 and not read again. Only what was
read from the archive the sha256 names is kept: a local archive (rattler does not check the
sha256 of ``file:`` archives) is hashed, and kept only when its bytes are the repodata's; a
remote one is kept under its URL and sha256 together (what an ``https`` host served for that
URL), never over plain ``http``. An entry that does not read back as one is a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from packaging.utils import canonicalize_name

from condauv import _fs, paths, validation

__all__ = ["keep", "kept", "local_archive"]

#: bump when what is kept changes: older entries are then misses
_FORMAT = 1
#: a version as a dist-info folder's name gives it: no dash, slash, "=", space or control character
_VERSION = re.compile(r"[^\x00-\x20\x7f/\\=-]{1,200}")


def local_archive(url: str) -> Path | None:
    """The file a ``file:`` URL names, else ``None``."""
    parts = urlsplit(url)
    return Path(unquote(parts.path)) if parts.scheme == "file" else None


def _entry(sha256: str | None, url: str) -> Path | None:
    """Where the entry of the archive ``sha256`` at ``url`` lies; ``None`` when it is never kept."""
    if not sha256 or not validation.is_sha256(sha256):
        return None
    scheme = urlsplit(url).scheme
    if scheme == "file":
        name = sha256
    elif scheme == "https":
        name = f"{sha256}-{hashlib.sha256(url.encode()).hexdigest()[:32]}"
    else:
        return None
    return paths.cache_dir() / "provides" / f"{name}.json"


def kept(sha256: str | None, url: str) -> dict[str, str] | None:
    """The distributions kept for the archive ``sha256`` at ``url``, or ``None`` (a miss)."""
    entry = _entry(sha256, url)
    if entry is None:
        return None
    try:
        data: Any = json.loads(entry.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != _FORMAT or data.get("sha256") != sha256:
        return None
    found = data.get("distributions")
    if not isinstance(found, dict):
        return None
    for name, version in found.items():  # as a dist-info folder's name gives them, or a miss
        if not (validation.is_pypi_name(name) and canonicalize_name(name) == name):
            return None
        if not (isinstance(version, str) and _VERSION.fullmatch(version)):
            return None
    return dict(found)


def _unchanged(before: os.stat_result, after: os.stat_result) -> bool:
    fields = ("st_dev", "st_ino", "st_size", "st_mtime_ns", "st_ctime_ns")
    return all(getattr(before, f) == getattr(after, f) for f in fields)


def keep(sha256: str | None, url: str, distributions: dict[str, str], *, read: os.stat_result | None) -> None:
    """Keep what was read of the archive ``sha256`` at ``url``. A local archive is hashed first:
    kept only when its bytes are ``sha256`` and it did not change since it was read (``read``:
    its stat then). Failing to write is no error: the next lock reads the archive again."""
    entry = _entry(sha256, url)
    if entry is None:
        return
    local = local_archive(url)
    if local is not None:
        from condauv.conda.verify import file_sha256

        try:
            digest = file_sha256(local)
            same = read is not None and _unchanged(read, local.stat())
        except OSError:
            return
        if digest != sha256 or not same:
            return
    data = {
        "format": _FORMAT,
        "sha256": sha256,
        "url": url,
        "distributions": dict(sorted(distributions.items())),
    }
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        _fs.atomic_write_text(entry, json.dumps(data, indent=1) + "\n", durable=False)
    except OSError:
        return
