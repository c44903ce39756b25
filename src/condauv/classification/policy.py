"""Which manager installs a package, and why: one function, :func:`decide`, holds the rules.

From strongest to weakest:
1. the manifest's explicit tables, then its ``[classify]`` rules (globs allowed);
2. built-in knowledge (``data/knowledge.toml``): the strategy's two lists and what the field
   knows (CUDA, MKL, GDAL, HDF5, OpenCV and the like go to conda);
3. evidence, the channels first: a name the configured conda channels hold (in any spelling
   looked up) is conda's, and is never looked up on a package index (dependency confusion: a
   private channel's name may be anyone's on PyPI); for a name they lack, what the index has
   for the target platforms (pure-Python and self-contained binary wheels are uv's; otherwise
   uv builds it from source);
4. otherwise PyPI; but a name found neither on the index nor in the channels stays on the
   conda side, so that a conda-only name is never installed from PyPI.
Every rule consulted leaves a line in the decision's ``trace`` (``condauv explain`` shows it).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from packaging.utils import canonicalize_name

from condauv.classification.knowledge import knowledge
from condauv.errors import UserError
from condauv.manifest.model import Requested

if TYPE_CHECKING:
    from condauv.pypi.evidence import PypiEvidence

__all__ = [
    "CHANNEL_HELD",
    "Decision",
    "Manager",
    "NameMap",
    "decide",
    "is_open",
    "needs_channel_evidence",
    "seed_manager",
    "spellings",
]

Manager = Literal["conda", "pypi"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """Where one requested package goes, under which names, and why."""

    name: str  # the name the chosen manager knows it by
    manager: Manager
    reason: str  # the rule that decided, in words
    conda_name: str
    pypi_names: tuple[str, ...]
    trace: tuple[str, ...] = ()  # every rule consulted, in order, with its outcome
    looked_up: tuple[str, ...] = ()  # the spellings asked of the conda channels (): not asked
    found_as: str | None = None  # the spelling the channels hold, when they hold one
    kept: bool = False  # taken from condauv.lock rather than decided again


NameMap = Mapping[str, tuple[str, ...]]


def seed_manager(name: str, names: NameMap | None = None) -> Manager | None:
    """The manager built-in knowledge names for ``name`` (either spelling), if any."""
    known = knowledge(names)
    if known.conda_reason(known.conda_name_for(name)) is not None:
        return "conda"
    if known.pypi_reason(name) is not None:
        return "pypi"
    return None


def is_open(entry: Requested, rules: Mapping[str, Manager], names: NameMap | None = None) -> bool:
    """Whether neither a table, a rule nor built-in knowledge decides ``entry``: evidence will
    (or a decision kept in the lock)."""
    known = knowledge(names)
    return (
        entry.table == "dependencies"
        and seed_manager(entry.name, names) is None
        and _rule_for({canonicalize_name(entry.name), known.conda_name_for(entry.name)}, rules) is None
    )


def needs_channel_evidence(
    entries: Sequence[Requested], rules: Mapping[str, Manager], names: NameMap | None = None
) -> list[str]:
    """Conda names of the entries that neither a table, a rule nor built-in knowledge decides."""
    known = knowledge(names)
    return [known.conda_name_for(e.name) for e in entries if is_open(e, rules, names)]


def spellings(entry: Requested, names: NameMap | None = None) -> tuple[str, ...]:
    """The conda names a ``[dependencies]`` entry may go by, the name table's guess first
    (``torch``: ``pytorch``, then ``torch``): the channels say which one exists."""
    candidates = (knowledge(names).conda_name_for(entry.name), entry.name.lower(), entry.key)
    return tuple(dict.fromkeys(candidates))


def _rule_for(names: Collection[str], rules: Mapping[str, Manager]) -> tuple[str, Manager] | None:
    for pattern, manager in rules.items():
        if any(fnmatch.fnmatchcase(name, pattern.lower()) for name in names):
            return pattern, manager
    return None


def decide(
    entry: Requested,
    *,
    in_channels: Collection[str] | None,
    rules: Mapping[str, Manager] | None = None,
    pypi: PypiEvidence | None = None,
    names: NameMap | None = None,
) -> Decision:
    """Decide conda or PyPI for one manifest entry.

    ``in_channels`` holds the (conda) names the configured channels have among those asked
    about; ``None`` means the channels were not consulted (offline). ``pypi`` is what the
    package index says about the entry's PyPI name; ``None`` means it was not consulted.
    Without either, the decision rests on the manifest and built-in knowledge alone. ``names``
    is the manifest's ``[names]`` table: how its conda packages are spelled on PyPI.
    """
    known = knowledge(names)
    looked_up = spellings(entry, names) if entry.table == "dependencies" and in_channels is not None else ()
    found_as = next((s for s in looked_up if in_channels is not None and s in in_channels), None)
    # the channels are the truth, the name table a guess: the spelling they hold wins
    conda_name = found_as or known.conda_name_for(entry.name)
    pypi_names = known.pypi_names_for(conda_name)  # what the conda package provides ((): none)
    trace: list[str] = []
    if found_as is not None and found_as != known.conda_name_for(entry.name):
        trace.append(f"conda channels: they have {found_as!r}, not the name table's {looked_up[0]!r}")

    def done(manager: Manager, reason: str) -> Decision:
        trace.append(f"=> {manager}: {reason}")
        name = (
            (conda_name if entry.table == "dependencies" else entry.name)
            if manager == "conda"
            else entry.name
        )
        return Decision(
            name=name,
            manager=manager,
            reason=reason,
            conda_name=conda_name,
            pypi_names=pypi_names,
            trace=tuple(trace),
            looked_up=looked_up,
            found_as=found_as,
        )

    where = f"[{entry.table}]"
    if entry.table != "conda-dependencies":
        real = known.placeholder_for(entry.name)
        if real is not None and entry.table == "pypi-dependencies":
            raise UserError(
                f"{entry.name!r} on PyPI is a placeholder, not a package: did you mean {real}?",
                hint=f"write {real} in [pypi-dependencies], or {entry.name} in [conda-dependencies]",
            )
    if entry.table == "conda-dependencies":
        return done("conda", f"listed in {where}")
    trace.append(f"{where}: not an explicit conda/PyPI table")
    if entry.table == "pypi-dependencies":
        return done("pypi", f"listed in {where}")
    matched = _rule_for({canonicalize_name(entry.name), conda_name, *pypi_names}, rules or {})
    if matched:
        return done(matched[1], f"[classify] rule {matched[0]!r} = {matched[1]!r}")
    trace.append("[classify]: no rule matches")
    why = known.conda_reason(conda_name)
    if why:
        return done("conda", f"{where}: {why} (built-in knowledge)")
    trace.append(f"built-in conda list: {conda_name} is not on it")
    why = known.pypi_reason(entry.name)
    if why:
        return done("pypi", f"{where}: {why} (built-in knowledge)")
    trace.append(f"built-in PyPI list: {entry.name} is not on it")
    if not pypi_names:
        return done("conda", f"{where}: {conda_name} provides no PyPI distribution (the name table)")
    return _by_evidence(where, conda_name, in_channels, pypi, trace, done)


#: Why a name the channels hold goes to conda without the index being asked.
CHANNEL_HELD = "the conda channels have it; names a channel holds are never looked up on a package index"


def _by_evidence(
    where: str,
    conda_name: str,
    in_channels: Collection[str] | None,
    pypi: PypiEvidence | None,
    trace: list[str],
    done: Callable[[Manager, str], Decision],
) -> Decision:
    """Step 3: the channels first: a name they hold is conda's, and the index is never asked
    about it (dependency confusion: anyone may register a private channel's name on PyPI).
    Only for a name they lack (or, offline, could not be asked about) do the index's wheels
    for the target platforms decide (uv's when it has wheels for all of them)."""
    channel = None if in_channels is None else conda_name in in_channels
    if channel:
        trace += [
            f"conda channels: they have {conda_name!r}",
            "package index: not asked (a name the channels hold is never looked up on an index)",
        ]
        return done("conda", f"{where}: {CHANNEL_HELD}")
    trace.append(
        "conda channels: not consulted" if channel is None else f"conda channels: no package {conda_name!r}"
    )
    if pypi is None:
        trace.append("package index: not consulted")
    else:
        trace += [f"package index, {p.subdir}: {p.describe()}" for p in pypi.platforms]
        if pypi.kind == "pure":
            return done("pypi", f"{where}: PyPI has a pure-Python wheel ({pypi.project} {pypi.version})")
        if pypi.kind == "platform":
            subdirs = ", ".join(p.subdir for p in pypi.platforms)
            return done("pypi", f"{where}: PyPI has self-contained wheels for {subdirs}")
    channels = "channels not consulted" if channel is None else "the conda channels do not have it"
    if pypi is None:
        if channel is None:
            return done("pypi", f"{where}: not in the built-in lists; channels not consulted")
        return done("pypi", f"{where}: {channels}")
    if pypi.kind == "not-on-pypi":
        where_not = "in the channels nor on PyPI" if channel is False else "on PyPI (channels not consulted)"
        return done("conda", f"{where}: found neither {where_not}: kept on conda, never sent to PyPI")
    return done("pypi", f"{where}: {channels}; uv will build it from source")
