"""``requirements``: the strategy's ``requirements-uv.txt``, the PyPI side with every artifact's hash.

A header, the manifest's index options, then ``name==version \\`` and ``--hash=sha256:HEX`` per
PyPI package of the platform, sorted. Installed into the conda side with
``uv pip install --python PREFIX/bin/python --no-deps --require-hashes -r FILE`` (pip reads it
too: ``pip install --no-deps --require-hashes -r FILE``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from condauv.export._shared import Exported, index_option_lines, single_line

if TYPE_CHECKING:
    from condauv.lock.model import Lock
    from condauv.manifest.model import Manifest

__all__ = ["FILE_NAME", "requirements_txt"]

FILE_NAME = "requirements-uv.txt"


def requirements_txt(lock: Lock, manifest: Manifest, platform: str) -> tuple[str, tuple[str, ...]]:
    """The file for ``platform`` and its notes."""
    pypi = sorted(lock.pypi_for(platform), key=lambda p: p.name)
    lines = [
        f"# The PyPI side of condauv.lock for {platform}, written by condauv export.",
        "# Install it into the environment made from the conda side:",
        f"#   uv pip install --python PREFIX/bin/python --no-deps --require-hashes -r {FILE_NAME}",
        *index_option_lines(manifest),
    ]
    for package in pypi:
        pin = single_line(f"{package.name}=={package.version}", package.name)
        lines += [f"{pin} \\", f"    --hash=sha256:{single_line(package.sha256, package.name)}"]
    notes = ["the conda side is not in a requirements file (export --format explicit or environment-yml)"]
    if not pypi:
        notes.append(f"condauv.lock has no PyPI packages for {platform}: the file lists none")
    return "\n".join(lines) + "\n", tuple(notes)


def export(lock: Lock, manifest: Manifest, platform: str) -> Exported:
    text, notes = requirements_txt(lock, manifest, platform)
    return Exported(format="requirements", platform=platform, file_name=FILE_NAME, text=text, notes=notes)
