"""``pylock``: PEP 751 ``pylock.toml`` of the lock's PyPI side, every platform in one file.

Built by condauv's one PEP 751 writer (:mod:`condauv.pypi.pylock`, which ``condauv sync``
installs from too). A release present on every exported platform has no marker and the union of
their artifacts; one present on some has a ``marker`` naming those platforms. Read by
``uv pip install -r pylock.toml`` (and by any PEP 751 installer); its PyPI dependencies are not
in condauv.lock, so each package lists none (the file is complete: install it with no resolving).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from condauv.export._shared import Exported, locked_python_spec, platform_marker
from condauv.pypi.pylock import build_pylock, pylock_text

if TYPE_CHECKING:
    from condauv.lock.model import Lock, PypiPackage

__all__ = ["FILE_NAME", "export", "releases_for"]

FILE_NAME = "pylock.toml"


def releases_for(lock: Lock, platforms: Sequence[str]) -> list[tuple[list[PypiPackage], str | None]]:
    """The lock's PyPI side on ``platforms`` as pylock releases: a (name, version) on all of them
    unmarked with every artifact, one on some marked for those; sorted by name and version."""
    from packaging.version import Version

    groups: dict[tuple[str, str], list[PypiPackage]] = {}
    for platform in platforms:
        for package in lock.pypi_for(platform):
            groups.setdefault((package.name, package.version), []).append(package)
    releases: list[tuple[list[PypiPackage], str | None]] = []
    for _, packages in sorted(groups.items(), key=lambda kv: (kv[0][0], Version(kv[0][1]))):
        sdists = {p.url for p in packages if not urlsplit(p.url).path.endswith(".whl")}
        split = [[p] for p in packages] if len(sdists) > 1 else [packages]  # two sdists: one per platform
        for group in split:
            on = {p.platform for p in group}
            marker = None if on == set(platforms) else platform_marker(on)
            releases.append((group, marker))
    return releases


def export(lock: Lock, platforms: Sequence[str], *, output_name: str | None = None) -> Exported:
    """Every exported platform in one ``pylock.toml``."""
    from pathlib import Path

    from packaging.pylock import is_valid_pylock_path

    document = build_pylock(
        releases_for(lock, platforms),
        requires_python=locked_python_spec(lock, platforms),
        environments=[platform_marker([p]) for p in sorted(platforms)],
    )
    notes = [
        "pylock.toml holds the PyPI side only (export --format explicit for the conda side); "
        "condauv.lock has no PyPI dependency lists, so each package lists none (install it as it is)"
    ]
    if not any(lock.pypi_for(p) for p in platforms):
        notes.append("condauv.lock has no PyPI packages for the exported platforms: the file lists none")
    if output_name is not None and not is_valid_pylock_path(Path(output_name)):
        notes.append(
            f"PEP 751 names the file pylock.toml or pylock.NAME.toml; uv reads {output_name} as a "
            "requirements file, not as a pylock"
        )
    return Exported(
        format="pylock", platform=None, file_name=FILE_NAME, text=pylock_text(document), notes=tuple(notes)
    )
