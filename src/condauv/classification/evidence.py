"""Gathering the evidence that step 3 of the policy weighs: the conda channels and the package index.

The channels are asked first, about every spelling of the ``[dependencies]`` entries (the name
table is a guess, the channels are the truth), in one query. The index is asked, in one parallel
batch, only about names that the manifest, built-in knowledge and the lock leave undecided and
that the channels do not hold; never about a name already on the conda side: a conda-only or
private channel's name must not travel to PyPI, where anyone may register it (dependency
confusion).
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from condauv.classification.knowledge import knowledge
from condauv.classification.policy import Manager, NameMap, decide, is_open, spellings
from condauv.errors import CondauvError, UserError
from condauv.manifest.model import PypiOptions, Requested, pep440_specifier, python_minor

if TYPE_CHECKING:  # the index is asked only about undecided names: its client loads then (30 ms)
    from condauv.pypi.evidence import PypiEvidence

__all__ = ["Evidence", "EvidenceScope", "collect_evidence"]


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceScope:
    """Where to look, and for which targets: a manifest's settings, or the defaults outside one."""

    channels: Sequence[str]
    platforms: Sequence[str]
    python: str
    root: Path
    pypi_options: PypiOptions = field(default_factory=PypiOptions)
    glibc: str | None = None  # [system-requirements] glibc: which manylinux wheels the target runs

    @property
    def python_minor(self) -> tuple[int, int]:
        return python_minor(self.python) or (sys.version_info.major, sys.version_info.minor)


@dataclass(frozen=True, slots=True)
class Evidence:
    in_channels: set[str] | None = None  # None: the channels were not consulted
    pypi: dict[str, PypiEvidence] | None = None  # None: the index was not consulted at all
    notes: tuple[str, ...] = ()
    names: NameMap = field(default_factory=dict)  # the manifest's [names]

    def for_entry(self, entry: Requested) -> PypiEvidence | None:
        project = entry.key if entry.table == "pypi-dependencies" else query_name(entry, self.names)
        return None if self.pypi is None or project is None else self.pypi.get(project)


def query_name(entry: Requested, names: NameMap | None = None) -> str | None:
    """The PyPI name to ask the index about for an entry (its own, or what its conda name
    provides); ``None`` for a conda package that provides no PyPI distribution: never asked."""
    known = knowledge(names)
    if entry.key in known.pypi_to_conda:  # written in PyPI's spelling: that project
        return entry.key
    provided = known.pypi_names_for(known.conda_name_for(entry.key))
    return provided[0] if provided else None


def _bound(entries: Sequence[Requested], rules: Mapping[str, Manager], names: NameMap) -> dict[str, Manager]:
    """key -> manager of the ``[dependencies]`` entries a rule or built-in knowledge decides."""
    bound: dict[str, Manager] = {}
    for entry in entries:
        if entry.table != "dependencies" or is_open(entry, rules, names):
            continue
        try:
            bound[entry.key] = decide(entry, in_channels=None, rules=rules, names=names).manager
        except UserError:
            continue  # a placeholder: refused later, with its message, never asked about
    return bound


def _pypi_bound(
    entries: Sequence[Requested], rules: Mapping[str, Manager], names: NameMap
) -> list[Requested]:
    """Entries already on the PyPI side before any evidence (tables, rules, built-in knowledge)."""
    bound = _bound(entries, rules, names)
    known = knowledge(names)
    return [
        e
        for e in entries
        if (e.table == "pypi-dependencies" and known.placeholder_for(e.name) is None)
        or (e.table == "dependencies" and bound.get(e.key) == "pypi")
    ]


def collect_evidence(
    entries: Sequence[Requested],
    scope: EvidenceScope,
    *,
    rules: Mapping[str, Manager],
    offline: bool,
    strict: bool,
    with_requires: bool = False,
    names: NameMap | None = None,
) -> Evidence:
    """Two steps: ask the channels about the ``[dependencies]`` entries (every spelling of each,
    in one query: the channels say which exists), then the index about the undecided ones the
    channels lack (and, with ``with_requires``, read the dependencies of those going to PyPI
    anyway, for the transitive view), all in one parallel batch.

    The index is never asked about a conda-side name: ``[conda-dependencies]``, names a rule
    or built-in knowledge puts on conda, conda packages that provide no PyPI distribution,
    names the channels hold (dependency confusion: a private channel's name may be anyone's
    on PyPI), and whatever the caller settled from the lock (it passes only the entries still
    to decide). When the channels cannot be read (not ``strict``) no undecided name is sent to
    the index either. ``offline``, the index cache stands in for both, as the channels are not
    read.
    ``strict`` raises when a source cannot be read (a lock must not depend on a network
    hiccup); otherwise the failure becomes a note and the decision falls back.
    """
    names = names or {}
    open_entries = [e for e in entries if is_open(e, rules, names)]
    bound = _bound(entries, rules, names)
    listed = [e for e in entries if e.table == "dependencies"]
    notes: list[str] = []
    in_channels: set[str] | None = None
    if not offline and (open_entries or "conda" in bound.values()):
        asked_channels = [s for e in listed for s in spellings(e, names)]
        in_channels = _channel_names(scope, asked_channels, strict=strict, notes=notes)
    # step two, for what the channels left: a name they hold is never asked of an index
    to_index = [e for e in open_entries if in_channels is None or in_channels.isdisjoint(spellings(e, names))]
    if in_channels is None and not offline and to_index:
        # the channels could not be read: any of these names may be theirs, so none is sent out
        notes.append(
            "package index not asked about undecided names: the channels could not be read, "
            "and a name a channel holds is never looked up on an index"
        )
        to_index = []
    asked: dict[str, str] = {}
    for entry in to_index:
        project = query_name(entry, names)
        if project is not None:
            asked[project] = pep440_specifier(entry.spec)
    readme: Collection[str] = ()
    if with_requires:
        for entry in _pypi_bound(entries, rules, names):
            project = query_name(entry, names) if entry.table == "dependencies" else entry.key
            if project is not None:
                asked[project] = pep440_specifier(entry.spec)
        readme = set(asked)
    pypi: dict[str, PypiEvidence] | None = None
    if asked:
        from condauv.pypi.evidence import PypiSources, gather_evidence

        sources = PypiSources.from_options(scope.pypi_options, scope.root)
        try:
            pypi = gather_evidence(
                asked,
                sources=sources,
                python=scope.python_minor,
                subdirs=scope.platforms,
                offline=offline,
                with_requires=readme,
                glibc=scope.glibc,
            )
        except CondauvError as exc:
            if strict:
                raise
            notes.append(f"package index not consulted: {exc.message}")
        if offline and pypi is not None and len(pypi) < len(asked):
            missing = sorted(set(asked) - set(pypi))
            notes.append(f"offline: the index cache has nothing for {', '.join(missing)}")
    if offline:
        notes.insert(0, "offline: decided from the manifest, built-in knowledge and the index cache")
    return Evidence(in_channels, pypi, tuple(notes), names)


def _channel_names(
    scope: EvidenceScope, names: Sequence[str], *, strict: bool, notes: list[str]
) -> set[str] | None:
    from condauv.conda import engine
    from condauv.conda.channels import channel_url

    try:
        urls = [channel_url(c, scope.root) for c in scope.channels]
        return engine.names_in_channels(urls, scope.platforms, names)
    except CondauvError as exc:
        if strict:
            raise
        notes.append(f"channels not consulted: {exc.message}")
        return None
