"""Synthetic pure-Python wheels for tests: importable, with a ``__version__``, built in milliseconds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from packaging.utils import canonicalize_name

from condauv.pypi import wheelfile

__all__ = ["write_wheel"]


def write_wheel(
    dest_dir: Path,
    name: str,
    version: str,
    *,
    requires: Sequence[str] = (),
    modules: Mapping[str, str] | None = None,
    entry_points: str | None = None,
    files: Mapping[str, bytes] | None = None,
    tag: str = "py3-none-any",
) -> Path:
    """Write a wheel of ``name`` ``version`` into ``dest_dir`` and return its path.

    ``modules`` maps import names to source, each written as a package (``name/__init__.py``);
    by default one package named after the project holds ``__version__ = version``. ``files``
    adds raw archive members (e.g. ``x-1.0.data/scripts/tool``).
    """
    if modules is None:
        modules = {canonicalize_name(name).replace("-", "_"): f'__version__ = "{version}"\n'}
    contents = {
        f"{module.replace('.', '/')}/__init__.py": source.encode() for module, source in modules.items()
    }
    contents.update(files or {})
    return wheelfile.write_wheel(
        dest_dir, name, version, requires=requires, files=contents, entry_points=entry_points, tag=tag
    )
