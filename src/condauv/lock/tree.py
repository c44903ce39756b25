"""Both sides' dependency tree for one platform, read from the lock (``condauv tree``).

Conda edges are the records' ``depends`` (matched by name; virtual ``__*`` packages are leaves
of their own kind); PyPI edges are each PyPI package's ``requires``, which the lock records from
uv's resolution. A PyPI requirement that a conda package provides (``numpy``, conda's) ends at
that conda package: the hybrid environment's point. As in ``uv tree`` and ``pixi tree``, a
package whose dependencies were already shown is shown again without them, marked ``repeated``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from packaging.utils import canonicalize_name

from condauv import validation
from condauv.conda.records import spec_name
from condauv.errors import LockfileError, UserError
from condauv.lock.model import CondaPackage, Lock, PypiPackage

if TYPE_CHECKING:
    from condauv.project import Project

__all__ = ["DependencyTree", "TreeNode", "dependency_tree", "project_tree"]

Manager = Literal["conda", "pypi", "virtual", "missing"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TreeNode:
    name: str
    version: str | None  # None for a virtual package or one the lock lacks
    manager: Manager
    requested: bool = False  # the manifest asks for it
    via: str | None = None  # the PyPI distribution of the edge, where it is not this node's name
    spec: str | None = None  # a virtual package's constraint (``>=2.17``)
    repeated: bool = False  # its dependencies are shown elsewhere in the tree
    children: tuple[TreeNode, ...] = ()

    def to_dict(self, key: str = "dependencies") -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "manager": self.manager,
            "requested": self.requested,
        }
        out |= {k: v for k, v in (("via", self.via), ("spec", self.spec)) if v is not None}
        if self.repeated:
            out["repeated"] = True
        out[key] = [child.to_dict(key) for child in self.children]
        return out


@dataclass(frozen=True, slots=True)
class DependencyTree:
    platform: str
    inverted: bool
    roots: tuple[TreeNode, ...]
    notes: tuple[str, ...] = ()
    locked: bool = False  # condauv.lock was written first

    def to_dict(self) -> dict[str, Any]:
        key = "dependents" if self.inverted else "dependencies"
        return {
            "platform": self.platform,
            "inverted": self.inverted,
            "notes": list(self.notes),
            "roots": [root.to_dict(key) for root in self.roots],
        }


# a package of the graph: (manager, name); virtual and missing names are leaves
_Key = tuple[Manager, str]


@dataclass
class _Graph:
    packages: dict[_Key, CondaPackage | PypiPackage] = field(default_factory=dict)
    edges: dict[_Key, list[tuple[_Key, str | None, str | None]]] = field(default_factory=dict)

    def add_edge(self, parent: _Key, child: _Key, via: str | None = None, spec: str | None = None) -> None:
        self.edges.setdefault(parent, []).append((child, via, spec))


def _graph(lock: Lock, platform: str) -> _Graph:
    graph = _Graph()
    conda = {p.name.lower(): p for p in lock.conda_for(platform)}
    pypi = {p.name: p for p in lock.pypi_for(platform)}
    provided = {dist: p for p in conda.values() for dist in p.provided_names()}
    for name, package in conda.items():
        graph.packages[("conda", name)] = package
        for depend in package.depends:
            child = spec_name(depend)
            if not child:
                continue
            if child.startswith("__"):
                constraint = depend.strip().split(None, 1)[1:]
                graph.add_edge(("conda", name), ("virtual", child), spec=" ".join(constraint) or None)
            else:
                graph.add_edge(("conda", name), ("conda" if child in conda else "missing", child))
    for name, distribution in pypi.items():
        graph.packages[("pypi", name)] = distribution
        for dist in distribution.requires:
            if dist in pypi:
                graph.add_edge(("pypi", name), ("pypi", dist))
            elif dist in provided:
                owner = provided[dist].name.lower()
                graph.add_edge(("pypi", name), ("conda", owner), via=dist if dist != owner else None)
            else:
                graph.add_edge(("pypi", name), ("missing", dist))
    return graph


def _inverted(graph: _Graph) -> _Graph:
    """Every edge turned round (a virtual or missing leaf keeps its dependents too)."""
    out = _Graph(packages=dict(graph.packages))
    for parent, children in graph.edges.items():
        for child, via, _ in children:
            out.add_edge(child, parent, via=via)
    return out


def _find(graph: _Graph, lock: Lock, platform: str, name: str) -> list[_Key]:
    """The packages ``name`` means: a conda name, a PyPI name, a PyPI distribution conda provides,
    or a virtual package something depends on (``--invert __cuda``: what needs a CUDA driver)."""
    pypi = canonicalize_name(name)
    keys: list[_Key] = [("conda", name.lower()), ("pypi", pypi)]
    found = [key for key in keys if key in graph.packages]
    found += [
        ("conda", p.name.lower())
        for p in lock.conda_for(platform)
        if pypi in p.provided_names() and ("conda", p.name.lower()) not in found
    ]
    virtual: _Key = ("virtual", name.lower())
    targets = {child for edges in graph.edges.values() for child, _, _ in edges} | set(graph.edges)
    if not found and virtual in targets:
        found.append(virtual)
    if not found:
        raise UserError(
            f"no package {validation.shown(name, 80)} in condauv.lock for {platform}",
            hint="give a conda or PyPI name of a locked package (`condauv list` shows them)",
        )
    return found


def dependency_tree(
    lock: Lock,
    platform: str,
    *,
    names: Sequence[str] = (),
    invert: bool = False,
    depth: int | None = None,
) -> DependencyTree:
    """The tree of ``platform``: from ``names`` (default: what the manifest asks for; inverted:
    the packages that depend on nothing), ``depth`` levels below the roots at most."""
    if platform not in lock.platforms:
        locked = ", ".join(sorted(lock.platforms))
        raise UserError(
            f"condauv.lock has no platform {validation.shown(platform, 40)} (it is locked for: {locked})",
            hint="give one of those with --platform, or add it to [environment] platforms and lock",
        )
    forward = _graph(lock, platform)
    graph = _inverted(forward) if invert else forward
    if names:
        roots = list(dict.fromkeys(key for name in names for key in _find(graph, lock, platform, name)))
    elif invert:  # as ``uv tree --invert``: from every package that depends on nothing
        roots = sorted((key for key in graph.packages if key not in forward.edges), key=_by_name)
    else:
        roots = sorted((k for k, p in graph.packages.items() if p.requested is not None), key=_by_name)
    expanded: set[_Key] = set()

    def node(key: _Key, level: int, via: str | None = None, spec: str | None = None) -> TreeNode:
        package = graph.packages.get(key)
        edges = sorted(graph.edges.get(key, ()), key=lambda edge: _by_name(edge[0]))
        base = TreeNode(
            name=key[1],
            version=package.version if package else None,
            manager=key[0],
            requested=package is not None and package.requested is not None,
            via=via,
            spec=spec,
        )
        if not edges or (depth is not None and level >= depth):
            return base
        if key in expanded:
            return replace(base, repeated=True)
        expanded.add(key)
        return replace(base, children=tuple(node(child, level + 1, v, s) for child, v, s in edges))

    return DependencyTree(
        platform=platform,
        inverted=invert,
        roots=tuple(node(key, 0) for key in roots),
        notes=_notes(lock, platform),
    )


def _by_name(key: _Key) -> tuple[str, str]:
    return key[1], key[0]


def _notes(lock: Lock, platform: str) -> tuple[str, ...]:
    """A lock written before ``requires`` existed has no PyPI edges: say so when it shows (a
    PyPI package nobody asked for is there because another one requires it)."""
    pypi = lock.pypi_for(platform)
    if any(p.requested is None for p in pypi) and not any(p.requires for p in pypi):
        return (
            "condauv.lock records no PyPI requirements (it was written by an older condauv): "
            "run `condauv lock` to add them",
        )
    return ()


def project_tree(
    project: Project,
    *,
    platform: str | None = None,
    names: Sequence[str] = (),
    invert: bool = False,
    depth: int | None = None,
    frozen: bool = False,
    offline: bool = False,
) -> DependencyTree:
    """The tree of ``project``'s lock, locking first when it is missing or stale (as ``uv tree``
    does); ``frozen`` reads condauv.lock as it is. ``platform``: this machine's when locked,
    else the lock's only one."""
    lock, locked = _current_lock(project, frozen=frozen, offline=offline)
    if platform is None:
        from condauv.platforms import current_subdir

        here = current_subdir()
        platform = here if here in lock.platforms or len(lock.platforms) != 1 else lock.platforms[0]
    tree = dependency_tree(lock, platform, names=names, invert=invert, depth=depth)
    return replace(tree, locked=locked)


def _current_lock(project: Project, *, frozen: bool, offline: bool) -> tuple[Lock, bool]:
    from condauv.lock.model import load_lock
    from condauv.project import holding_project_lock

    if frozen:
        existing = load_lock(project.lock_path)
        if existing is None:
            raise LockfileError(
                f"no condauv.lock beside {project.manifest.path.name}, and --frozen reads it as it is",
                hint="run `condauv lock` first (or run the command without --frozen)",
            )
        return existing, False

    @holding_project_lock
    def current(project: Project) -> tuple[Lock, bool]:
        from condauv.sync.apply import current_lock
        from condauv.sync.freshness import Freshness, freshness

        existing = load_lock(project.lock_path)
        # a lock for other platforms than this machine's is what a tree for them wants
        if existing is not None and freshness(project.manifest, existing) is Freshness.NO_PLATFORM:
            return existing, False
        return current_lock(project, frozen=False, offline=offline)

    return current(project)
