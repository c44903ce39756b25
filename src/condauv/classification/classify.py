"""``condauv classify`` and ``condauv explain``: decisions for names, with nothing written."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from condauv.classification.evidence import EvidenceScope, collect_evidence
from condauv.classification.kept import settled_by_lock
from condauv.classification.policy import Decision, decide
from condauv.classification.transitive import DependencyView, dependency_view
from condauv.conda.channels import channel_url
from condauv.lock.model import LOCK_NAME, Lock, load_lock
from condauv.manifest.model import DEFAULT_PYTHON, Manifest, Requested, Table
from condauv.manifest.specs import parse_user_spec
from condauv.platforms import current_subdir

if TYPE_CHECKING:
    from condauv.pypi.evidence import PypiEvidence

__all__ = ["Classification", "classify", "scope_of"]

#: The version of ``classify --json``'s schema (docs/classify.md).
SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class Classification:
    spec: str
    decision: Decision
    channels_consulted: bool
    note: str | None = None  # why a source was not consulted, when one was not
    evidence: PypiEvidence | None = None  # what the package index says, when it was asked
    dependencies: tuple[DependencyView, ...] | None = None  # of a PyPI package, when known
    target: str = ""  # "CPython 3.11 on linux-64": what the transitive view was evaluated for
    channels: tuple[str, ...] = ()  # the channels consulted (as the manifest names them)

    def to_dict(self) -> dict[str, object]:
        d = self.decision
        data: dict[str, object] = {
            "spec": self.spec,
            "manager": d.manager,
            "name": d.name,
            "conda-name": d.conda_name,
            "pypi-names": list(d.pypi_names),
            "reason": d.reason,
            "trace": list(d.trace),
            "channels-consulted": self.channels_consulted,
            "channels": list(self.channels),
            "conda-spelling": {"looked-up": list(d.looked_up), "found": d.found_as} if d.looked_up else None,
            "kept-from-lock": d.kept,
            "pypi-evidence": self.evidence.to_dict() if self.evidence else None,
        }
        if self.dependencies is not None:
            data["dependencies"] = [v.to_dict() for v in self.dependencies]
        if self.note:
            data["note"] = self.note
        return data


def _entry(spec: str, manifest: Manifest | None) -> Requested:
    """The spec as the manifest would hold it: its own table if listed there, else [dependencies]."""
    entry = parse_user_spec(spec, "dependencies")
    if manifest is not None:
        listed = next((r for r in manifest.requested if r.key == entry.key), None)
        if listed is not None and not entry.spec and not entry.extras:
            return listed  # the bare name of a listed entry: that entry (its decision may be kept)
        if listed is not None:
            table: Table = listed.table
            return Requested(name=entry.name, spec=entry.spec, table=table, extras=entry.extras)
    return entry


def scope_of(manifest: Manifest | None) -> EvidenceScope:
    """Where to look: the manifest's channels, platforms, Python and index; else the defaults."""
    if manifest is None:
        return EvidenceScope(
            channels=("conda-forge",), platforms=(current_subdir(),), python=DEFAULT_PYTHON, root=Path.cwd()
        )
    env = manifest.environment
    return EvidenceScope(
        channels=env.channels,
        platforms=env.platforms,
        python=env.python,
        root=manifest.root,
        pypi_options=manifest.pypi_options,
        glibc=manifest.system_requirements.get("glibc"),
    )


def classify(specs: Sequence[str], *, manifest: Manifest | None, offline: bool) -> list[Classification]:
    """Decide every spec as ``condauv add`` would, consulting the channels and the package index
    unless ``offline`` (then built-in knowledge and the index cache alone); nothing is written."""
    entries = [_entry(spec, manifest) for spec in specs]
    rules = manifest.classify if manifest else {}
    scope = scope_of(manifest)
    names = manifest.names if manifest else {}
    lock = load_lock(manifest.root / LOCK_NAME) if manifest else None
    settled = settled_by_lock(
        [e for e in entries if _listed(e, manifest)] if manifest else [],
        lock,
        channels=[channel_url(c, scope.root) for c in scope.channels],
        platforms=scope.platforms,
        rules=rules,
        names=names,
    )
    # names not in the manifest: only the lock's conda side settles them, never a kept decision
    settled |= settled_by_lock(
        [e for e in entries if not _listed(e, manifest)],
        lock,
        channels=[channel_url(c, scope.root) for c in scope.channels],
        platforms=scope.platforms,
        rules=rules,
        names=names,
        keep=False,
    )
    rest = [e for e in entries if e.key not in settled]
    evidence = collect_evidence(
        rest, scope, rules=rules, offline=offline, strict=False, with_requires=True, names=names
    )
    decisions = [
        settled.get(entry.key)
        or decide(
            entry, in_channels=evidence.in_channels, rules=rules, pypi=evidence.for_entry(entry), names=names
        )
        for entry in entries
    ]
    provides = _conda_provides(manifest, lock, scope, decisions)
    subdir = scope.platforms[0]
    python = "{}.{}".format(*scope.python_minor)
    note = "; ".join(evidence.notes) or None
    results = []
    for spec, entry, decision in zip(specs, entries, decisions, strict=True):
        found = evidence.for_entry(entry)
        dependencies = None
        if decision.manager == "pypi" and found is not None and found.requires_dist is not None:
            dependencies = dependency_view(
                found.requires_dist,
                extras=entry.extras,
                python=python,
                subdir=subdir,
                conda_provides=provides,
            )
        results.append(
            Classification(
                spec=spec,
                decision=decision,
                channels_consulted=evidence.in_channels is not None,
                note=note,
                evidence=found,
                dependencies=dependencies,
                target=f"CPython {python} on {subdir}",
                channels=tuple(scope.channels) if evidence.in_channels is not None else (),
            )
        )
    return results


def _listed(entry: Requested, manifest: Manifest | None) -> bool:
    return manifest is not None and any(r == entry for r in manifest.requested)


def _conda_provides(
    manifest: Manifest | None, lock: Lock | None, scope: EvidenceScope, decisions: Sequence[Decision]
) -> dict[str, str]:
    """PyPI names the conda side provides: from the lock when there is one (exact), else from
    the manifest's and these specs' conda decisions (their direct names only)."""
    provides: dict[str, str] = {}
    if lock is not None:
        for package in lock.conda_for(scope.platforms[0]):
            for name in package.provided_names():
                provides[name] = f"{package.name} {package.version} (condauv.lock)"
    elif manifest is not None:
        for entry in manifest.requested:
            decision = decide(entry, in_channels=None, rules=manifest.classify, names=manifest.names)
            if decision.manager == "conda":
                for name in decision.pypi_names:
                    provides.setdefault(name, f"{decision.conda_name} (the manifest's conda side)")
    for decision in decisions:
        if decision.manager == "conda":
            for name in decision.pypi_names:
                provides.setdefault(name, f"{decision.conda_name} (classified conda here)")
    return provides
