"""Writing small wheels: the metadata-only stubs that stand for conda packages in uv's resolver.

A stub carries a conda-owned distribution's name and version and no dependencies (conda
already satisfied them), so uv resolves around it without asking PyPI about it.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from packaging.utils import canonicalize_name

__all__ = ["record_line", "write_wheel"]

_FIXED_TIME = (2020, 1, 1, 0, 0, 0)  # reproducible archives: same input, same bytes


def record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def write_wheel(
    dest_dir: Path,
    name: str,
    version: str,
    *,
    requires: Sequence[str] = (),
    files: Mapping[str, bytes] | None = None,
    entry_points: str | None = None,
    summary: str = "",
    tag: str = "py3-none-any",
) -> Path:
    """Write ``{name}-{version}-{tag}.whl`` into ``dest_dir`` and return its path."""
    dist = canonicalize_name(name).replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    metadata = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    if summary:
        metadata.append(f"Summary: {summary}")
    metadata += [f"Requires-Dist: {req}" for req in requires]
    contents: dict[str, bytes] = dict(files or {})
    contents[f"{info}/METADATA"] = ("\n".join(metadata) + "\n").encode()
    contents[f"{info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: condauv\nRoot-Is-Purelib: true\nTag: {tag}\n".encode()
    )
    if entry_points:
        contents[f"{info}/entry_points.txt"] = entry_points.encode()
    record = [record_line(path, data) for path, data in sorted(contents.items())]
    contents[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / f"{dist}-{version}-{tag}.whl"
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data in sorted(contents.items()):
            archive.writestr(zipfile.ZipInfo(path, _FIXED_TIME), data)
    return target
