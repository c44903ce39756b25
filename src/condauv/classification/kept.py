"""Decisions that hold still: what ``condauv.lock`` already decided for the manifest's entries.

Evidence changes under a lock: a channel gains (or drops) a package, an index gains a wheel.
A decision that moved each time would move packages between managers at the next unrelated
``condauv add`` (and, were a channel's package to vanish, hand its name to whoever registered it
on PyPI). So a ``[dependencies]`` entry that evidence decided keeps the lock's decision while
the entry (name, extras, spec), the channels and the platforms stay as they were; ``condauv
lock --reclassify`` decides again. The lock's ``entry`` field records which entry a package's
decision belongs to.

Names the lock's conda side already holds (dependencies of conda packages, or PyPI
distributions they provide) are conda's too, whatever the index says: they are never asked of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from packaging.utils import canonicalize_name

from condauv.classification.policy import Decision, Manager, NameMap, is_open, spellings
from condauv.conda.records import spec_name
from condauv.lock.model import CondaPackage, Lock, PypiPackage
from condauv.manifest.model import Requested

__all__ = ["KEPT", "Move", "entry_label", "locked_reason", "moves", "settled_by_lock"]

KEPT = "kept from condauv.lock"


def entry_label(entry: Requested) -> str:
    """The identity of a ``[dependencies]`` entry as the lock's ``entry`` field writes it:
    ``name[extras] spec``, normalised (``*`` is no spec)."""
    extras = sorted({canonicalize_name(e) for e in entry.extras})
    spec = entry.spec.strip()
    spec = "" if spec == "*" else spec
    return f"{entry.key}{'[' + ','.join(extras) + ']' if extras else ''} {spec}".strip()


@dataclass(frozen=True, slots=True, kw_only=True)
class Move:
    """An entry whose manager changed between two locks."""

    name: str  # the manifest entry
    before: Manager
    after: Manager
    reason: str  # why it goes where it goes now
    was: str  # why it went where it went

    def to_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "from": self.before,
            "to": self.after,
            "reason": self.reason,
            "was": self.was,
        }


def locked_reason(decision: Decision) -> str:
    """The reason the lock writes: a kept decision's own, so that locking again changes nothing."""
    return decision.reason.removesuffix(f" ({KEPT})") if decision.kept else decision.reason


def _same_environment(lock: Lock, channels: Sequence[str], platforms: Iterable[str]) -> bool:
    return tuple(lock.channels) == tuple(channels) and sorted(lock.platforms) == sorted(platforms)


def _locked(
    lock: Lock, entry: Requested, names: NameMap | None, *, recorded_only: bool
) -> tuple[Manager, CondaPackage | PypiPackage] | None:
    """The lock's package for ``entry``: the one whose ``entry`` field names it; else (unless
    ``recorded_only``) a requested package under one of its names."""
    label = entry_label(entry)
    packages: list[CondaPackage | PypiPackage] = [*lock.conda, *lock.pypi]
    for package in packages:
        if package.entry == label:
            return ("conda" if isinstance(package, CondaPackage) else "pypi"), package
    if recorded_only:
        return None
    conda_names = set(spellings(entry, names))
    conda = next((p for p in lock.conda if p.requested is not None and p.name in conda_names), None)
    if conda is not None:
        return "conda", conda
    pypi = next((p for p in lock.pypi if p.requested is not None and p.name == entry.key), None)
    return None if pypi is None else ("pypi", pypi)


def _conda_side(lock: Lock) -> dict[str, str]:
    """Names the lock's conda side holds other than as asked-for entries -> the package that
    holds them: dependencies of conda packages, unrequested ones, and the PyPI distributions
    they provide."""
    held: dict[str, str] = {}
    for package in lock.conda:
        label = f"{package.name} {package.version}"
        if package.requested is None:  # an entry's own package is that entry's, not held
            held.setdefault(package.name, label)
            for name in package.provided_names():
                held.setdefault(canonicalize_name(name), label)
        for depend in package.depends:
            name = spec_name(depend)
            if name:
                held.setdefault(name, f"a dependency of {label}")
    return held


def settled_by_lock(
    entries: Sequence[Requested],
    lock: Lock | None,
    *,
    channels: Sequence[str],
    platforms: Iterable[str],
    rules: Mapping[str, Manager],
    names: NameMap | None = None,
    keep: bool = True,
) -> dict[str, Decision]:
    """key -> decision for the undecided ``entries`` that ``lock`` settles: kept decisions (with
    ``keep``) and names its conda side holds. The rest are for the evidence to decide."""
    if lock is None or not _same_environment(lock, channels, platforms):
        return {}
    held = _conda_side(lock)
    settled: dict[str, Decision] = {}
    for entry in entries:
        if not is_open(entry, rules, names):
            continue
        found = _locked(lock, entry, names, recorded_only=True) if keep else None
        if found is not None:
            settled[entry.key] = _kept(entry, *found, names)
            continue
        holder = next((held[n] for n in (*spellings(entry, names), entry.key) if n in held), None)
        if holder is not None:
            conda_name = next(n for n in (*spellings(entry, names), entry.key) if n in held)
            reason = f"[dependencies]: the conda side already has it ({holder} in condauv.lock)"
            settled[entry.key] = Decision(
                name=conda_name,
                manager="conda",
                reason=reason,
                conda_name=conda_name,
                pypi_names=(entry.key,),
                trace=(
                    "[dependencies]: not an explicit conda/PyPI table",
                    "[classify]: no rule matches; built-in lists: not on them",
                    f"condauv.lock: its conda side holds {conda_name!r}: the index is not asked",
                    f"=> conda: {reason}",
                ),
            )
    return settled


def _kept(
    entry: Requested, manager: Manager, package: CondaPackage | PypiPackage, names: NameMap | None
) -> Decision:
    reason = f"{package.reason.removesuffix(f' ({KEPT})')} ({KEPT})"
    if isinstance(package, CondaPackage):
        conda_name = package.name
        pypi_names = tuple(package.provided_names()) or (entry.key,)
    else:
        conda_name = spellings(entry, names)[0]
        pypi_names = (package.name,)
    return Decision(
        name=package.name,
        manager=manager,
        reason=reason,
        conda_name=conda_name,
        pypi_names=pypi_names,
        trace=(
            "[dependencies]: not an explicit conda/PyPI table",
            "[classify]: no rule matches; built-in lists: not on them",
            f"condauv.lock: {entry_label(entry)!r} was locked on {manager}; the entry is unchanged, "
            "so its decision is kept and no source is asked (`condauv lock --reclassify` decides again)",
            f"=> {manager}: {reason}",
        ),
        kept=True,
    )


def moves(
    entries: Sequence[Requested], before: Lock | None, after: Lock, names: NameMap | None
) -> list[Move]:
    """The ``[dependencies]`` entries whose manager differs between ``before`` and ``after``."""
    if before is None:
        return []
    found = []
    for entry in entries:
        if entry.table != "dependencies":
            continue
        old = _locked(before, entry, names, recorded_only=False)
        new = _locked(after, entry, names, recorded_only=False)
        if old is not None and new is not None and old[0] != new[0]:
            found.append(
                Move(name=entry.name, before=old[0], after=new[0], reason=new[1].reason, was=old[1].reason)
            )
    return found
