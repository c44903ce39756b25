"""Assembling ``.conda`` archives from staged folders, through rattler-build's package assembler.

assemble_package's prefix detection looks for its own temporary copy's path, never for ours,
so it can never find a build prefix in our files: it is switched off, and every builder makes
its files relocatable by itself (relative RUNPATHs, prefix resolved at run time).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Literal

from condauv.errors import UserError
from condauv.platforms import current_subdir

__all__ = ["Noarch", "assemble", "build_package"]

Noarch = Literal["python", "generic"]

#: compression level 1: a 90 MB interpreter packs in ~1 s; level 9 takes tens of seconds.
COMPRESSION_LEVEL = 1


def assemble(
    staging: Path,
    *,
    name: str,
    version: str,
    subdir: str,
    build_string: str,
    output_dir: Path,
    depends: Sequence[str] = (),
    noarch: Noarch | None = None,
) -> Path:
    """Pack ``staging`` (a prefix-shaped folder) as ``output_dir/<subdir>/<name>-<version>-<build>.conda``.

    ``noarch`` packages go to ``noarch/`` whatever ``subdir`` says.
    """
    from rattler_build import assemble_package

    target = "noarch" if noarch else subdir
    folder = output_dir / target
    folder.mkdir(parents=True, exist_ok=True)
    try:
        output = assemble_package(
            name=name,
            version=version,
            target_platform=target,
            build_string=build_string,
            output_dir=folder,
            files_dir=staging,
            depends=list(depends),
            noarch=noarch,
            compression_level=COMPRESSION_LEVEL,
            detect_prefix=False,
        )
    except Exception as exc:  # rattler-build raises its own error types for bad metadata
        raise UserError(
            f"cannot build conda package {name} {version}: {exc}",
            hint="check the package name, version and dependency specs",
        ) from exc
    return Path(output.path)


def stage_files(staging: Path, files: Mapping[str, bytes]) -> None:
    """Write in-memory files under ``staging``; paths are prefix-relative and must stay inside."""
    for relative, data in files.items():
        parts = PurePosixPath(relative).parts
        if not parts or PurePosixPath(relative).is_absolute() or ".." in parts:
            raise UserError(
                f"package file path {relative!r} leaves the prefix",
                hint="give prefix-relative paths such as 'lib/python3.11/site-packages/x.py'",
            )
        path = staging.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if relative.startswith("bin/"):
            path.chmod(0o755)


def build_package(
    *,
    name: str,
    version: str,
    output_dir: Path,
    files: Mapping[str, bytes],
    depends: Sequence[str] = (),
    noarch: Noarch | None = None,
    subdir: str | None = None,
    build_string: str | None = None,
) -> Path:
    """A conda package made of ``files`` (prefix-relative path -> bytes); files under bin/ are executable.

    Made for small synthetic packages (tests, placeholders); returns the ``.conda`` path.
    """
    with tempfile.TemporaryDirectory(prefix="condauv-stage-") as temp:
        staging = Path(temp)
        stage_files(staging, files)
        return assemble(
            staging,
            name=name,
            version=version,
            subdir=subdir or current_subdir(),
            build_string=build_string or ("pyh_0" if noarch == "python" else "h_0"),
            output_dir=output_dir,
            depends=depends,
            noarch=noarch,
        )
