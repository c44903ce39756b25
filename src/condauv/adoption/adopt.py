"""``condauv adopt``: a manifest and a lock that reproduce an existing conda prefix exactly.

The conda side of the lock is the installed records themselves (url + sha256 from
conda-meta), not a new solve: a solve could pick other builds, and the channel may no longer
serve what was installed. The PyPI side is resolved by uv at the installed versions (pinned
``==`` or, for a wheel installed from a URL, that URL) around the conda-owned distributions,
because dist-info folders do not say which wheel file they came from. Whatever cannot be
reproduced is reported as a :class:`Note`, never silently dropped. Nothing is written into
the adopted prefix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from condauv import _fs
from condauv.adoption.evidence import (
    DistInfo,
    Origin,
    leaves,
    origin_of,
    parse_history,
    pep508_line,
    read_dist_info,
    requested_subset,
    unreached_leaves,
)
from condauv.adoption.manifest import channels, manifest_text
from condauv.adoption.notes import Note, note_managed, note_pinned
from condauv.adoption.synced import SyncedCopy, installed_names, read_synced
from condauv.conda.records import CondaRecord, dist_folders, read_records
from condauv.errors import UserError
from condauv.lock.model import LOCK_NAME, CondaPackage, Lock, PypiPackage
from condauv.lock.reasons import conda_reasons, pypi_dependency_reason, python_reason
from condauv.manifest.model import Requested
from condauv.pypi.site import installed_distributions, site_packages

__all__ = ["AdoptOptions", "Adoption", "Note", "adopt"]


@dataclass(frozen=True, slots=True, kw_only=True)
class AdoptOptions:
    """Where uv finds the installed PyPI versions, and how strict adoption is."""

    index_url: str | None = None
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    offline: bool = False
    strict: bool = False  # findings of `check` stop adoption
    force: bool = False  # replace an existing condauv.toml / condauv.lock
    in_place: bool = False  # [environment] prefix = the adopted prefix


@dataclass(frozen=True, slots=True, kw_only=True)
class Adoption:
    prefix: Path
    manifest_path: Path
    lock_path: Path
    manifest_text: str
    lock: Lock
    conda_requested: dict[str, str]  # name -> the spec written to the manifest
    conda_asked_as: dict[str, str]  # name -> the spec the evidence recorded, where it recorded one
    conda_evidence: str
    pypi_requested: dict[str, str]
    pypi_evidence: str
    notes: tuple[Note, ...]
    check: Mapping[str, Any]  # `condauv check`'s report on the prefix, made before adopting
    check_lines: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        platform = self.lock.platforms[0]
        return {
            "prefix": str(self.prefix),
            "manifest": str(self.manifest_path),
            "lock": str(self.lock_path),
            "platform": platform,
            "python": self.lock.python_version(platform),
            "conda": {
                "packages": len(self.lock.conda),
                "requested": self.conda_requested,
                "asked-as": self.conda_asked_as,
                "evidence": self.conda_evidence,
            },
            "pypi": {
                "packages": len(self.lock.pypi),
                "requested": self.pypi_requested,
                "evidence": self.pypi_evidence,
            },
            "notes": [n.to_dict() for n in self.notes],
            "check": self.check,
        }


#: What `condauv sync` in the adopted prefix would remove, so --in-place refuses them.
_REMOVED_BY_SYNC = {
    "editable",
    "local-dir",
    "vcs",
    "unknown-origin",
    "no-sha256",
    "no-url",
    "unreadable-record",
}


def adopt(prefix: Path, manifest_path: Path, options: AdoptOptions | None = None) -> Adoption:
    """Read ``prefix``, then write ``condauv.toml`` and ``condauv.lock`` at ``manifest_path``."""
    options = options or AdoptOptions()
    prefix = _conda_prefix(prefix)
    manifest_path = manifest_path.expanduser().resolve()
    lock_path = manifest_path.with_name(LOCK_NAME)
    _check_targets(prefix, manifest_path, lock_path, force=options.force)
    check, check_lines = _run_check(prefix, strict=options.strict)
    notes: list[Note] = []
    note_managed(prefix, notes)
    records = _read_records(prefix, notes)
    python = records.get("python")
    if python is None:
        raise UserError(
            f"{prefix} has no conda python package",
            hint="condauv environments get their interpreter from conda; adopt a prefix with python in it",
        )
    subdir = python.subdir
    synced = _synced_copy(prefix, subdir, notes)
    conda_asked, conda_evidence = _conda_requested(prefix, records, notes, synced)
    note_pinned(prefix, records, conda_asked, notes)
    dists = _read_distributions(prefix, python.version)
    owners = _conda_owned(records)
    adoptable = _sort_distributions(dists, owners, notes, synced)
    pypi_asked, pypi_evidence = _pypi_requested(adoptable, notes, synced)
    copied = _copied_requests(synced, records, dists, notes)
    for name in sorted(set(pypi_asked) & {canonicalize_name(n) for n in conda_asked}):
        notes.append(
            Note("name-clash", name, f"{name} is both a conda and a PyPI package: kept on the conda side")
        )
        del pypi_asked[name]
    if options.in_place:
        from condauv.conda.prefix import refuse_links_out

        _refuse_lossy_in_place(prefix, notes)
        refuse_links_out(prefix, site_packages=None, doing="adopting it in place")  # before any write
    text = manifest_text(prefix, python, records, conda_asked, pypi_asked, options, copied)
    from condauv.manifest.model import parse_manifest

    manifest = parse_manifest(text, manifest_path)
    conda = _conda_packages(records, conda_asked, subdir, manifest.environment.python, synced)
    pypi = _pypi_packages(
        adoptable, pypi_asked, owners, python, manifest.pypi_options.uv_args(), options, notes, synced
    )
    lock = Lock(
        content_hash=manifest.content_hash(),
        channels=tuple(channels(records.values())),
        platforms=(subdir,),
        conda=tuple(conda),
        pypi=tuple(pypi),
    )
    _fs.atomic_write_many([(manifest_path, text), (lock_path, lock.to_toml())])
    if options.in_place:  # the one write into the prefix: condauv manages it from now on
        from condauv.conda.prefix import mark_managed

        mark_managed(prefix, manifest_path)
    return Adoption(
        prefix=prefix,
        manifest_path=manifest_path,
        lock_path=lock_path,
        manifest_text=text,
        lock=lock,
        conda_requested={n: f"=={records[n].version}" for n in sorted(conda_asked) if n != "python"},
        conda_asked_as={n: s for n, s in sorted(conda_asked.items()) if s and n != "python"},
        conda_evidence=conda_evidence,
        pypi_requested=pypi_asked,
        pypi_evidence=pypi_evidence,
        notes=tuple(notes),
        check=check,
        check_lines=check_lines,
    )


def _conda_prefix(prefix: Path) -> Path:
    prefix = prefix.expanduser().resolve()
    if not prefix.is_dir():
        raise UserError(f"{prefix}: no such folder", hint="give the folder of an existing conda environment")
    meta = prefix / "conda-meta"
    if not meta.is_dir() or not any(meta.glob("*.json")):
        raise UserError(
            f"{prefix} is not a conda prefix: it has no conda-meta/*.json records",
            hint="give the folder of an environment made by conda, mamba, micromamba, pixi or condauv",
        )
    return prefix


def _check_targets(prefix: Path, manifest_path: Path, lock_path: Path, *, force: bool) -> None:
    if manifest_path.parent == prefix or prefix in manifest_path.parents:
        raise UserError(
            f"{manifest_path} is inside the adopted prefix, which adopt never writes into",
            hint="run adopt from a project folder outside the prefix, or pass --manifest PATH",
        )
    if force:
        return
    for path in (manifest_path, lock_path):
        if path.exists():
            raise UserError(
                f"{path} already exists",
                hint="adopt into an empty folder (or --manifest elsewhere), or pass --force to replace both",
            )


def _run_check(prefix: Path, *, strict: bool) -> tuple[Mapping[str, Any], tuple[str, ...]]:
    """``condauv check`` on the prefix first: its findings are reported, and stop adoption if strict."""
    from condauv.health.check import check_prefix, with_project_findings

    # a sync killed part-way (its journal): what is half installed would be adopted as it is
    report = with_project_findings(check_prefix(prefix), manifest=None, lock=None)
    lines = tuple(f"{f.kind}: {f.message}" for f in report.findings)
    if strict and not report.clean:
        raise UserError(
            f"check found {len(lines)} problem(s) in {prefix}: " + "; ".join(lines),
            hint="fix them (`condauv check` says how), or adopt without --strict to record them as they are",
        )
    return report.to_dict(), lines


_SYNCED_EVIDENCE = "condauv's copy of the manifest and lock it last synced (conda-meta)"


def _synced_copy(prefix: Path, platform: str, notes: list[Note]) -> SyncedCopy | None:
    """The lock and manifest the last ``condauv sync`` left in conda-meta, if they can be used."""
    synced, why = read_synced(prefix, platform)
    if why is not None:
        notes.append(
            Note(
                "synced-copy",
                prefix.name,
                f"condauv's copy of the manifest and lock in conda-meta {why}: ignored, "
                "the prefix is read as any other",
            )
        )
    return synced


def _copied_requests(
    synced: SyncedCopy | None,
    records: Mapping[str, CondaRecord],
    dists: Sequence[DistInfo],
    notes: list[Note],
) -> list[Requested]:
    """The synced manifest's entries, in their tables, for what is still installed."""
    if synced is None:
        return []
    kept, gone = synced.requested(installed_names(list(records.values()), dists))
    for entry in gone:
        notes.append(
            Note(
                "not-installed",
                entry.name,
                f"{entry.name} is in [{entry.table}] of the manifest condauv last synced, "
                "but not installed: left out",
            )
        )
    return kept


def _read_records(prefix: Path, notes: list[Note]) -> dict[str, CondaRecord]:
    def unreadable(file: Path, exc: Exception) -> None:
        notes.append(Note("unreadable-record", file.name, f"conda-meta/{file.name} cannot be read: {exc}"))

    records: dict[str, CondaRecord] = {}
    for record in read_records(prefix, on_error=unreadable):
        records[record.name] = record
        if not record.lockable:
            missing = "url" if not record.url else "sha256"
            notes.append(
                Note(
                    f"no-{missing}",
                    f"{record.name} {record.version}",
                    f"conda-meta/{record.record_path.name} has no {missing}: left out of the lock "
                    "(condauv installs only verified artifacts); reinstall it with a recent conda or mamba",
                )
            )
    return records


def _conda_requested(
    prefix: Path, records: Mapping[str, CondaRecord], notes: list[Note], synced: SyncedCopy | None
) -> tuple[dict[str, str], str]:
    """name -> spec asked for: from condauv's synced copy, else history, else the records'
    requested specs, else the leaves."""
    history_file = prefix / "conda-meta" / "history"
    history = (
        parse_history(history_file.read_text(encoding="utf-8", errors="replace"))
        if history_file.is_file() and synced is None
        else {}
    )
    asked: dict[str, str]
    if synced is not None:
        asked = {
            p.name: "" if p.requested == "*" else str(p.requested)
            for p in synced.lock.conda_for(synced.platform)
            if p.requested is not None and p.name in records
        }
        evidence = _SYNCED_EVIDENCE
    elif history:
        asked = {name: spec for name, spec in history.items() if name in records}
        evidence = "conda-meta/history"
    elif any(r.requested_specs for r in records.values()):
        asked = {r.name: r.requested_specs[0] for r in records.values() if r.requested_specs}
        evidence = "requested specs in the conda-meta records"
    else:
        graph = {r.name: r.dependency_names for r in records.values()}
        asked = dict.fromkeys(sorted(leaves(graph)), "")
        evidence = "leaves of the conda dependency graph (no history or requested specs)"
        if (prefix / "conda-meta" / "pixi").is_file():
            evidence += "; a pixi environment: its pixi.toml holds what was asked for"
    graph = {r.name: r.dependency_names for r in records.values()}
    for name in sorted(unreached_leaves(graph, [*asked, "python"]) - set(asked)):
        asked[name] = ""
        notes.append(
            Note(
                "kept",
                name,
                f"{name} was asked for by no recorded request and no package needs it: "
                "kept in [conda-dependencies] so that a later lock does not drop it",
            )
        )
    return asked, evidence


def _read_distributions(prefix: Path, python_version: str) -> list[DistInfo]:
    return [
        read_dist_info(d.path, d.name, d.version, d.installer)
        for d in installed_distributions(site_packages(prefix, python_version))
    ]


def _conda_owned(records: Mapping[str, CondaRecord]) -> dict[str, tuple[str, str, str]]:
    """dist-info folder name -> (distribution, version, conda package) for every conda package."""
    owned: dict[str, tuple[str, str, str]] = {}
    for record in records.values():
        for folder, (name, version) in dist_folders(record.paths).items():
            owned[folder] = (name, version, record.label)
    return owned


_UNREPRODUCED = {
    "editable": "an editable install of {where}: not reproduced; after `condauv sync`, "
    "install it again with `uv pip install -e`",
    "local-dir": "installed from the folder {where}: not reproduced; build a wheel of it and "
    "adopt with --find-links on the wheel's folder",
    "vcs": "installed from {where}: not reproduced (the manifest holds names and versions); "
    "publish a wheel to an index or a find-links folder",
    "unknown": "origin unknown (INSTALLER {installer}, no direct_url.json) and no conda record owns it: "
    "not reproduced; add it to [pypi-dependencies] if it comes from PyPI",
}


def _sort_distributions(
    dists: Sequence[DistInfo],
    owners: Mapping[str, tuple[str, str, str]],
    notes: list[Note],
    synced: SyncedCopy | None = None,
) -> list[DistInfo]:
    """The distributions uv put there from an index or a URL; a note for each other non-conda one."""
    conda_names = {name: label for name, _, label in owners.values()}
    adoptable = []
    for dist in dists:
        origin: Origin = origin_of(
            dist, in_conda_record=dist.path.name in owners, conda_provides_name=dist.name in conda_names
        )
        label = f"{dist.name} {dist.version}"
        where = str((dist.direct_url or {}).get("url", "")) or str(dist.path)
        if origin == "conda":
            continue
        if origin in ("index", "archive-url"):
            adoptable.append(dist)
            if origin == "archive-url" and (synced is None or synced.pypi_entry(dist) is None):
                notes.append(
                    Note(
                        "direct-url",
                        label,
                        f"installed from {where}: locked from that URL; a later `condauv lock` needs it "
                        "on an index or in a find-links folder",
                    )
                )
        elif origin == "shadowing":
            notes.append(
                Note(
                    "shadowing",
                    label,
                    f"installed by {dist.installer or 'an unknown tool'} over conda package "
                    f"{conda_names[dist.name]}: the lock keeps conda's copy",
                )
            )
        else:
            kind = "unknown-origin" if origin == "unknown" else origin
            message = _UNREPRODUCED[origin].format(where=where, installer=dist.installer or "missing")
            notes.append(Note(kind, label, message))
    return adoptable


def _pypi_requested(
    adoptable: Sequence[DistInfo], notes: list[Note], synced: SyncedCopy | None = None
) -> tuple[dict[str, str], str]:
    graph = {d.name: d.requires for d in adoptable}
    marked = requested_subset([(d.name, d.requested) for d in adoptable])
    if synced is not None:
        marked = {p.name for p in synced.lock.pypi_for(synced.platform) if p.requested is not None}
        marked &= set(graph)
    if marked is None:
        asked = leaves(graph)
        evidence = "leaves of the PyPI dependency graph, from Requires-Dist"
        if adoptable and all(d.requested for d in adoptable):
            evidence += "; uv writes a REQUESTED file for every distribution, so those tell nothing"
    else:
        asked = set(marked)
        evidence = _SYNCED_EVIDENCE if synced is not None else "REQUESTED files"
        why = "is in no entry of condauv's copy" if synced is not None else "has no REQUESTED file"
        for name in sorted(unreached_leaves(graph, marked) - marked):
            asked.add(name)
            notes.append(Note("kept", name, f"{name} {why} but nothing needs it: kept as requested"))
    versions = {d.name: d.version for d in adoptable}
    return {name: f"=={versions[name]}" for name in sorted(asked)}, evidence


def _refuse_lossy_in_place(prefix: Path, notes: Sequence[Note]) -> None:
    lost = [f"{n.package} ({n.kind})" for n in notes if n.kind in _REMOVED_BY_SYNC]
    if lost:
        raise UserError(
            f"--in-place: a `condauv sync` of {prefix} would remove what the lock cannot hold: "
            + ", ".join(lost),
            hint="adopt without --in-place (sync then builds a new prefix and leaves this one alone)",
        )


def _conda_packages(
    records: Mapping[str, CondaRecord],
    asked: Mapping[str, str],
    subdir: str,
    python_spec: str,
    synced: SyncedCopy | None = None,
) -> list[CondaPackage]:
    """The lock's conda side: exactly the installed records, with why each one is there.

    The reasons are the ones `condauv lock` gives, so that locking again after adopt changes nothing;
    a record the synced lock holds keeps that lock's request and reason.
    """
    reasons = conda_reasons(
        {name: record.dependency_names for name, record in records.items()},
        {"python": python_reason(python_spec)}
        | dict.fromkeys((n for n in asked if n != "python"), "listed in [conda-dependencies]"),
    )
    packages = []
    for record in records.values():
        if not record.lockable:  # an unlockable record was noted when it was read
            continue
        package = record.to_package(
            subdir,
            requested=python_spec
            if record.name == "python"
            else (f"=={record.version}" if record.name in asked else None),
            reason=reasons[record.name],
        )
        entry = synced.conda_entry(record) if synced is not None and record.name != "python" else None
        if entry is not None:
            package = replace(package, requested=entry.requested, reason=entry.reason)
        packages.append(package)
    return packages


def _pypi_packages(
    adoptable: Sequence[DistInfo],
    asked: Mapping[str, str],
    owners: Mapping[str, tuple[str, str, str]],
    python: CondaRecord,
    index_args: Sequence[str],
    options: AdoptOptions,
    notes: list[Note],
    synced: SyncedCopy | None = None,
) -> list[PypiPackage]:
    """uv resolves the installed versions (around conda's distributions) to a URL and sha256 each.

    A distribution installed from the wheel the synced lock names keeps that lock's entry (URL,
    sha256, request, reason); when every one does, uv is not asked at all.
    """
    from condauv.pypi.resolve import Owner, resolve
    from condauv.pypi.uv import Uv

    if not adoptable:
        return []
    from_lock = {d.name: e for d in adoptable if synced is not None and (e := synced.pypi_entry(d))}
    if len(from_lock) == len(adoptable):
        return [from_lock[d.name] for d in adoptable]
    owned = {
        name: Owner(distribution=name, version=version, package=label)
        for name, version, label in owners.values()
    }
    uv = Uv(offline=options.offline, index_args=index_args)
    try:
        artifacts = resolve(
            [pep508_line(d) for d in adoptable],
            owned,
            python_version=python.version,
            subdir=python.subdir,
            uv=uv,
        )
    except UserError as exc:
        raise UserError(
            f"cannot lock the PyPI side of the prefix at its installed versions: {exc.message}",
            hint="adopt asks uv for each installed version: pass --find-links DIR or --index-url URL "
            "where they are found (or --offline with a warm uv cache)",
        ) from exc
    installed = {d.name: d.version for d in adoptable}
    packages = []
    for artifact in artifacts:
        if artifact.name not in installed:
            notes.append(
                Note(
                    "added",
                    f"{artifact.name} {artifact.version}",
                    f"required by {', '.join(artifact.required_by) or 'the PyPI packages'} but not installed "
                    "in the prefix: the lock adds it",
                )
            )
        elif installed[artifact.name] != artifact.version:  # pragma: no cover - pins make this rare
            notes.append(
                Note(
                    "version",
                    artifact.name,
                    f"installed {installed[artifact.name]}, locked {artifact.version}",
                )
            )
        locked = from_lock.get(artifact.name)
        if locked is not None and locked.version == artifact.version:
            packages.append(locked)
            continue
        packages.append(
            PypiPackage(
                platform=python.subdir,
                name=artifact.name,
                version=artifact.version,
                url=artifact.url,
                sha256=artifact.sha256,
                requested=asked.get(artifact.name),
                reason="listed in [pypi-dependencies]"
                if artifact.name in asked
                else pypi_dependency_reason(artifact.required_by),
                requires=artifact.requires,
            )
        )
    return packages
