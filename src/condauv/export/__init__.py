"""``condauv export``: the lock in the formats other tools read (docs/export.md).

One module per format; :func:`export` turns a validated lock into :class:`Exported` documents,
:func:`destinations` names their files, :func:`project_export` does both for a project (locking
first when its lock is missing or stale, as ``sync`` does). Nothing here writes but
:func:`write`, and only the paths :func:`destinations` gave.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from condauv.errors import LockfileError, UserError
from condauv.export._shared import Exported, per_platform_name, select_platforms

if TYPE_CHECKING:
    from condauv.lock.model import Lock
    from condauv.manifest.model import Manifest
    from condauv.project import Project

__all__ = [
    "FORMATS",
    "ONE_PLATFORM",
    "Exported",
    "ProjectExport",
    "destinations",
    "export",
    "project_export",
    "write",
]

#: The formats, as ``--format`` names them.
FORMATS = ("environment-yml", "requirements", "explicit", "pylock", "conda-lock")
#: The formats whose file holds one platform (several platforms: one file each).
ONE_PLATFORM = frozenset({"environment-yml", "requirements", "explicit"})


def export(
    lock: Lock, manifest: Manifest, fmt: str, platforms: Sequence[str] = (), *, output_name: str | None = None
) -> list[Exported]:
    """``lock`` in format ``fmt``: one document per platform for a one-platform format, else one
    for all of them. ``platforms`` as :func:`select_platforms` reads them; ``output_name`` is the
    file name the user chose, where a format has a say about it."""
    if fmt not in FORMATS:
        raise UserError(f"unknown export format {fmt!r:.40}", hint=f"use one of: {', '.join(FORMATS)}")
    chosen = select_platforms(lock.platforms, platforms, one_per_file=fmt in ONE_PLATFORM)
    if fmt == "pylock":
        from condauv.export import pylock

        return [pylock.export(lock, chosen, output_name=output_name)]
    if fmt == "conda-lock":
        from condauv.export import condalock

        return [condalock.export(lock, manifest, chosen)]
    documents = [_one_platform(lock, manifest, fmt, platform) for platform in chosen]
    if len(documents) > 1:
        documents = [
            Exported(
                format=d.format,
                platform=d.platform,
                file_name=per_platform_name(d.file_name, d.platform or ""),
                text=d.text,
                notes=d.notes,
            )
            for d in documents
        ]
    return documents


def _one_platform(lock: Lock, manifest: Manifest, fmt: str, platform: str) -> Exported:
    if fmt == "environment-yml":
        from condauv.export import environment

        return environment.export(lock, manifest, platform)
    if fmt == "requirements":
        from condauv.export import requirements

        return requirements.export(lock, manifest, platform)
    from condauv.export import explicit

    return explicit.export(lock, platform)


def destinations(documents: Sequence[Exported], output: Path | None) -> list[Path] | None:
    """The file of each document: ``output`` for one, ``output`` with the platform inserted
    before its suffix for several (``env.yml`` -> ``env-linux-64.yml``); ``None`` for stdout,
    which holds one document only."""
    if output is None:
        if len(documents) > 1:
            raise _needs_output(documents[0].format, [d.platform or "" for d in documents])
        return None
    if len(documents) == 1:
        return [output]
    return [output.with_name(per_platform_name(output.name, d.platform or "")) for d in documents]


def _needs_output(fmt: str, platforms: Sequence[str]) -> UserError:
    example = {"environment-yml": "environment.yml", "requirements": "requirements-uv.txt"}.get(
        fmt, "explicit.txt"
    )
    return UserError(
        f"--format {fmt} holds one platform, and {len(platforms)} are exported ({', '.join(platforms)})",
        hint=f"give -o FILE to write one file per platform (-o {example} writes "
        f"{per_platform_name(example, platforms[0])}, ...), or one --platform",
    )


@dataclass(frozen=True, slots=True)
class ProjectExport:
    documents: list[Exported]
    paths: list[Path] | None  # None: the one document goes to stdout
    locked: bool  # condauv.lock was (re)written first


def project_export(
    project: Project,
    fmt: str,
    *,
    platforms: Sequence[str] = (),
    output: Path | None = None,
    frozen: bool = False,
    offline: bool = False,
) -> ProjectExport:
    """Export ``project``'s lock. Without ``frozen`` the project is locked first when its lock is
    missing or stale (under the project lock, as ``sync`` does); with it, condauv.lock is
    exported as it is. Bad flags are refused before anything is locked or written."""
    if fmt not in FORMATS:
        raise UserError(f"unknown export format {fmt!r:.40}", hint=f"use one of: {', '.join(FORMATS)}")
    if output is not None and output.is_dir():
        raise UserError(
            f"-o {output} is a folder", hint="give the file to write, e.g. -o folder/environment.yml"
        )
    if output is not None:
        _refuse_own_files(project, [output])
    if not frozen:  # what a new lock will hold: refused before locking writes condauv.lock
        planned = select_platforms(
            project.manifest.environment.platforms, platforms, one_per_file=fmt in ONE_PLATFORM
        )
        if output is None and fmt in ONE_PLATFORM and len(planned) > 1:
            raise _needs_output(fmt, planned)
    lock, locked = _lock_for_export(project, frozen=frozen, offline=offline)
    documents = export(lock, project.manifest, fmt, platforms, output_name=output.name if output else None)
    paths = destinations(documents, output)
    _refuse_own_files(project, paths or [])
    return ProjectExport(documents, paths, locked)


def _refuse_own_files(project: Project, paths: Sequence[Path]) -> None:
    """An export never replaces condauv.toml or condauv.lock, nor writes into ``.condauv`` or the
    environment (:meth:`~condauv.project.Project.owned_folder`)."""
    own = {project.manifest.path.resolve(): "the manifest", project.lock_path.resolve(): "the lock"}
    for path in paths:
        target = path.parent.resolve() / path.name  # what the write replaces: a link, never its target
        folder = project.owned_folder(path)
        what = f"overwrite {own[target]}" if target in own else folder and f"write into {folder}"
        if what:
            raise UserError(
                f"-o {path} would {what} ({target})",
                hint="write the export elsewhere, e.g. -o environment.yml beside condauv.toml",
            )


def _lock_for_export(project: Project, *, frozen: bool, offline: bool) -> tuple[Lock, bool]:
    from condauv.project import holding_project_lock

    @holding_project_lock
    def current(project: Project) -> tuple[Lock, bool]:
        if frozen:
            from condauv.lock.model import load_lock

            existing = load_lock(project.lock_path, manifest=project.manifest)  # check_sources too
            if existing is None:
                raise LockfileError(
                    f"no condauv.lock beside {project.manifest.path.name}, and --frozen exports it as it is",
                    hint="run `condauv lock` first (or export without --frozen)",
                )
            return existing, False
        from condauv.lock.model import load_lock
        from condauv.lock.validate import check_sources
        from condauv.sync.apply import current_lock
        from condauv.sync.freshness import Freshness, freshness

        existing = load_lock(project.lock_path)
        # a lock for other platforms than this machine's is what an export for them wants
        if existing is not None and freshness(project.manifest, existing) is Freshness.NO_PLATFORM:
            check_sources(existing, project.manifest)
            return existing, False
        return current_lock(project, frozen=False, offline=offline)

    return current(project)


def write(documents: Sequence[Exported], paths: Sequence[Path]) -> None:
    """Write every document to its path, all staged before any is replaced."""
    from condauv import _fs

    _fs.atomic_write_many([(path, d.text) for d, path in zip(documents, paths, strict=True)])
