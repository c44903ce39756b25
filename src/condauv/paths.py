"""Where condauv keeps things: the cache root and the per-tool caches under it."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir", "conda_pkgs_dir", "repodata_cache_dir"]


def cache_dir() -> Path:
    """``$CONDAUV_CACHE_DIR``, else ``$XDG_CACHE_HOME/condauv``, else ``~/.cache/condauv``."""
    explicit = os.environ.get("CONDAUV_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return (base / "condauv").resolve()


def conda_pkgs_dir() -> Path:
    """Extracted conda packages, shared by every environment condauv makes (hard-linked)."""
    return cache_dir() / "pkgs"


def repodata_cache_dir() -> Path:
    """Channel repodata fetched over HTTP."""
    return cache_dir() / "repodata"
