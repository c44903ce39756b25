"""``init``, ``add`` and ``remove``: manifest edits that lock (and sync) before anything is kept.

Order matters for safety: the edited manifest is locked in memory first; only when the
lock succeeds are the manifest and the lock written (together, atomically). A conflict
therefore leaves both files byte-identical and the environment untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from condauv import _fs
from condauv.conda.prefix import PrefixState, prefix_state
from condauv.errors import ManifestError
from condauv.lock.model import Lock
from condauv.lock.validate import load_previous
from condauv.manifest.edit import ManifestDocument, initial_manifest
from condauv.manifest.model import DEFAULT_PYTHON, MANIFEST_NAME, Requested
from condauv.platforms import current_subdir
from condauv.project import Project, holding_project_lock, project_lock
from condauv.sync.apply import SyncReport, refuse_foreign_removals, sync
from condauv.sync.locking import build_lock

if TYPE_CHECKING:
    from condauv.importing import Imported
    from condauv.sync.integrity import Notify

__all__ = ["ChangeResult", "add", "init", "remove"]


@dataclass(frozen=True, slots=True)
class ChangeResult:
    project: Project
    lock: Lock
    sync: SyncReport | None


def init(
    folder: Path,
    *,
    manifest: Path | None = None,
    name: str | None = None,
    python: str | None = None,
    channels: Sequence[str] = (),
    platforms: Sequence[str] = (),
    imported: Imported | None = None,
) -> Path:
    """Write a new manifest; an existing one is never overwritten.

    ``imported`` (from :func:`condauv.importing.import_files`) supplies name, python, channels,
    entries and ``[pypi-options]``; explicit arguments win over it. Nothing is locked here.
    """
    path = (manifest or folder / MANIFEST_NAME).resolve()
    if path.exists():
        raise ManifestError(f"{path} already exists", hint="edit it, or use `condauv add`")
    if imported is not None:
        name = name or imported.name
        python = python or imported.python
        channels = list(channels) or list(imported.channels)
    text = initial_manifest(
        name=name or path.parent.name,
        python=python or DEFAULT_PYTHON,
        channels=list(channels) or ["conda-forge"],
        platforms=list(platforms) or [current_subdir()],
        pypi_options=imported.pypi_options() if imported is not None else None,
    )
    if imported is not None and imported.entries:
        document = ManifestDocument(path, text)
        for entry in imported.entries:
            document.add(entry)
        text = document.text()
    from condauv.manifest.model import parse_manifest

    parse_manifest(text, path)  # bad --python/--channel/--platform values fail before writing
    from condauv.conda.channels import channel_url

    for channel in list(channels) or ["conda-forge"]:
        channel_url(channel, path.parent)
    with project_lock(path):
        if path.exists():  # another init won the race
            raise ManifestError(f"{path} already exists", hint="edit it, or use `condauv add`")
        _fs.atomic_write_text(path, text)
    return path


def _apply(
    project: Project,
    document: ManifestDocument,
    *,
    no_sync: bool,
    offline: bool,
    force: bool,
    verb: str,
    notify: Notify | None = None,
) -> ChangeResult:
    edited = document.manifest()
    state = None if no_sync else prefix_state(project.prefix)  # no prefix to write: refused first
    previous = load_previous(project.lock_path, project.manifest)
    new_lock = build_lock(edited, previous=previous, offline=offline)
    if state is PrefixState.FOREIGN and not force:  # what sync would refuse, refused before the files change
        refuse_foreign_removals(project.prefix, new_lock, retry=f"condauv {verb} --force")
    _fs.atomic_write_many([(edited.path, document.text()), (project.lock_path, new_lock.to_toml())])
    updated = project.with_manifest(edited)
    report = None if no_sync else sync(updated, frozen=True, offline=offline, force=force, notify=notify)
    return ChangeResult(updated, new_lock, report)


@holding_project_lock
def add(
    project: Project,
    entries: Sequence[Requested],
    *,
    no_sync: bool = False,
    offline: bool = False,
    force: bool = False,
    notify: Notify | None = None,
) -> ChangeResult:
    """Add (or change) ``entries`` in the manifest, lock, then sync unless ``no_sync``;
    ``force`` and ``notify`` as for :func:`~condauv.sync.apply.sync` (a foreign prefix loses what
    the lock lacks; a line before each sdist is built)."""
    document = ManifestDocument.open(project.manifest.path)
    for entry in entries:
        document.add(entry)
    return _apply(project, document, no_sync=no_sync, offline=offline, force=force, verb="add", notify=notify)


@holding_project_lock
def remove(
    project: Project,
    names: Sequence[str],
    *,
    no_sync: bool = False,
    offline: bool = False,
    force: bool = False,
    notify: Notify | None = None,
) -> ChangeResult:
    """Remove ``names`` from the manifest; their now-unneeded dependencies leave the lock too."""
    document = ManifestDocument.open(project.manifest.path)
    for name in names:
        document.remove(name)
    return _apply(
        project, document, no_sync=no_sync, offline=offline, force=force, verb="remove", notify=notify
    )
