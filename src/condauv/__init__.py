"""condauv: one manifest, one lock, one environment; conda packages by py-rattler, PyPI by uv."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
