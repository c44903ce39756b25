"""``condauv lock``: solve the conda side with rattler, then the PyPI side with uv around it."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace

from packaging.utils import canonicalize_name

from condauv import _fs
from condauv.classification import Decision, decide
from condauv.classification.guards import check_cuda_family, check_cuda_line
from condauv.classification.kept import Move, entry_label, locked_reason, moves, settled_by_lock
from condauv.classification.knowledge import knowledge
from condauv.classification.policy import is_open
from condauv.conda.channels import channel_url
from condauv.conda.records import spec_name
from condauv.errors import SolveError, UserError
from condauv.lock.diff import VersionChange, version_changes
from condauv.lock.model import CondaPackage, Lock, PypiPackage
from condauv.lock.reasons import conda_reasons, pypi_dependency_reason, python_reason
from condauv.lock.validate import load_previous
from condauv.manifest.model import Manifest, Requested
from condauv.platforms import applicable_requirements
from condauv.project import Project, holding_project_lock
from condauv.pypi.resolve import Owner, resolve
from condauv.pypi.uv import Uv

__all__ = ["LockResult", "Upgrade", "build_lock", "lock"]

log = logging.getLogger("condauv.lock")


@dataclass(frozen=True, slots=True)
class LockResult:
    lock: Lock
    changed: bool  # the file on disk was (or would be) rewritten
    moved: tuple[Move, ...] = ()  # [dependencies] entries whose manager changed
    changes: tuple[VersionChange, ...] = ()  # versions added, removed or moved since the previous lock


@dataclass(frozen=True, slots=True)
class Upgrade:
    """Which locked versions stop being preferred (``lock --upgrade [NAME...]``): those of
    ``names`` (normalised, either side), or every one when ``names`` is empty. Without it a lock
    keeps every locked version the manifest still allows, as ``uv lock`` does."""

    names: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, names: Collection[str]) -> Upgrade:
        return cls(frozenset(canonicalize_name(n) for n in names))

    def covers(self, name: str) -> bool:
        return not self.names or canonicalize_name(name) in self.names

    def kept(self, previous: Lock | None) -> Lock | None:
        """``previous`` without the packages to upgrade: what the solvers still prefer."""
        if previous is None or not self.names:
            return None
        return replace(
            previous,
            conda=tuple(p for p in previous.conda if not self.covers(p.name)),
            pypi=tuple(p for p in previous.pypi if not self.covers(p.name)),
        )

    def check(self, previous: Lock | None) -> None:
        """Every name must be one the lock holds (a typo would otherwise upgrade nothing)."""
        locked = set()
        if previous is not None:
            locked = {canonicalize_name(p.name) for p in previous.conda}
            locked |= {canonicalize_name(p.name) for p in previous.pypi}
        unknown = sorted(self.names - locked)
        if unknown:
            where = "condauv.lock" if previous else "the lock (there is none yet)"
            raise UserError(
                f"--upgrade {', '.join(unknown)}: not in {where}",
                hint="name packages the lock holds (`condauv list`), or give --upgrade alone to "
                "upgrade everything",
            )


@holding_project_lock
def lock(
    project: Project,
    *,
    offline: bool = False,
    write: bool = True,
    reclassify: bool = False,
    upgrade: Upgrade | None = None,
) -> LockResult:
    """Lock ``project`` and write ``condauv.lock`` when its text changes; ``reclassify`` decides
    every entry again instead of keeping the previous lock's decisions; ``upgrade`` lets the
    versions it covers move to the newest the manifest allows (decisions stay)."""
    previous = load_previous(project.lock_path, project.manifest)
    if upgrade is not None:
        upgrade.check(previous)
    new = build_lock(
        project.manifest,
        previous=previous,
        offline=offline,
        reclassify=reclassify,
        upgrade=upgrade,
    )
    text = new.to_toml()
    old = project.lock_path.read_bytes() if project.lock_path.exists() else None  # maybe not UTF-8
    changed = text.encode() != old
    if write and changed:
        _fs.atomic_write_text(project.lock_path, text)
    moved = moves(project.manifest.requested, previous, new, project.manifest.names)
    changes = version_changes(previous, new) if previous is not None else []
    return LockResult(new, changed, tuple(moved), tuple(changes))


def decisions(
    manifest: Manifest, *, offline: bool, previous: Lock | None = None, reclassify: bool = False
) -> dict[str, Decision]:
    """The manager of every manifest entry. ``previous`` settles the undecided entries it
    already decided (unless ``reclassify``) and the names its conda side holds; the channels and
    the package index are asked about what the manifest, built-in knowledge and it leave open."""
    from condauv.classification.classify import scope_of
    from condauv.classification.evidence import collect_evidence

    rules, names = manifest.classify, manifest.names
    env = manifest.environment
    settled = settled_by_lock(
        manifest.requested,
        previous,
        channels=[channel_url(c, manifest.root) for c in env.channels],
        platforms=env.platforms,
        rules=rules,
        names=names,
        keep=not reclassify,
    )
    rest = [r for r in manifest.requested if r.key not in settled]
    evidence = collect_evidence(
        rest, scope_of(manifest), rules=rules, offline=offline, strict=True, names=names
    )
    fresh = {
        r.key: decide(
            r, in_channels=evidence.in_channels, rules=rules, pypi=evidence.for_entry(r), names=names
        )
        for r in rest
    }
    return {r.key: settled.get(r.key) or fresh[r.key] for r in manifest.requested}


def build_lock(
    manifest: Manifest,
    *,
    previous: Lock | None = None,
    offline: bool = False,
    reclassify: bool = False,
    upgrade: Upgrade | None = None,
) -> Lock:
    """The lock for ``manifest``; nothing is written. Raises on any conflict.

    ``previous`` keeps its decisions, and its versions on both sides where the manifest allows
    (rattler's locked packages, uv's preferences), except those ``upgrade`` covers."""
    kept = previous if upgrade is None else upgrade.kept(previous)
    from condauv.conda import engine

    env = manifest.environment
    urls = [channel_url(c, manifest.root) for c in env.channels]
    chosen = decisions(manifest, offline=offline, previous=previous, reclassify=reclassify)
    # the entries evidence (or the previous lock) decided: the lock says which, to keep them
    labels = {
        r.key: entry_label(r) for r in manifest.requested if is_open(r, manifest.classify, manifest.names)
    }
    by_key = {r.key: r for r in manifest.requested}
    conda_entries = {d.name: by_key[k] for k, d in chosen.items() if d.manager == "conda"}
    pypi_entries = {k: by_key[k] for k, d in chosen.items() if d.manager == "pypi"}
    specs = [f"python {env.python}"] + [
        _conda_spec(name, entry) for name, entry in sorted(conda_entries.items())
    ]
    system = manifest.system_requirements
    _note_inapplicable(system, env.platforms)
    solved = {
        subdir: engine.solve(
            urls, specs, subdir, locked=kept.conda_for(subdir) if kept else (), requirements=system
        )
        for subdir in env.platforms
    }
    python_related = {
        r.url: r
        for records in solved.values()
        for r in records
        if r.name.normalized == "python" or any(spec_name(d) == "python" for d in r.depends)
    }
    provided = engine.read_provided_distributions(list(python_related.values()))
    uv = Uv(offline=offline, index_args=manifest.pypi_options.uv_args())
    conda_packages: list[CondaPackage] = []
    pypi_packages: list[PypiPackage] = []
    for subdir, records in solved.items():
        python = next((r for r in records if r.name.normalized == "python"), None)
        if python is None:  # pragma: no cover - python is always among the specs
            raise SolveError(f"the conda solution for {subdir} has no python", hint="check the channels")
        reasons = conda_reasons(
            {r.name.normalized: [spec_name(d) for d in r.depends] for r in records},
            {"python": python_reason(env.python)}
            | {name: locked_reason(chosen[entry.key]) for name, entry in conda_entries.items()},
        )
        owned: dict[str, Owner] = {}
        for record in records:
            name = record.name.normalized
            dists = _provided(
                record.url, name, str(record.version), provided, record.url in python_related, manifest.names
            )
            label = f"{name} {record.version} ({record.build})"
            for dist, version in dists.items():
                owned[dist] = Owner(distribution=dist, version=version, package=label)
            requested = conda_entries.get(name)
            conda_packages.append(
                engine.record_to_package(
                    record,
                    subdir,
                    requested=(requested.spec or "*")
                    if requested
                    else (env.python if name == "python" else None),
                    reason=reasons[name],
                    provides=tuple(f"{d}=={v}" for d, v in sorted(dists.items())),
                    entry=labels.get(requested.key) if requested else None,
                )
            )
        conda_versions = {r.name.normalized: str(r.version) for r in records}
        # conda's CUDA line against the torch backend, before uv asks the PyTorch index
        driver = applicable_requirements(system, subdir).get("cuda")
        check_cuda_line(conda_versions, (), manifest.pypi_options.torch_backend, subdir, driver=driver)
        artifacts = resolve(
            [entry.as_pep508() for entry in pypi_entries.values()],
            owned,
            python_version=str(python.version),
            subdir=subdir,
            uv=uv,
            glibc=system.get("glibc"),
            preferences=kept.pypi_for(subdir) if kept else (),
        )
        check_cuda_family({r.name.normalized for r in records}, {a.name for a in artifacts}, subdir)
        check_cuda_line(
            conda_versions,
            {a.name for a in artifacts},
            manifest.pypi_options.torch_backend,
            subdir,
            driver=driver,
        )
        for artifact in artifacts:
            entry = pypi_entries.get(artifact.name)
            pypi_packages.append(
                PypiPackage(
                    platform=subdir,
                    name=artifact.name,
                    version=artifact.version,
                    url=artifact.url,
                    sha256=artifact.sha256,
                    requested=(entry.spec or "*") if entry else None,
                    reason=locked_reason(chosen[entry.key])
                    if entry
                    else pypi_dependency_reason(artifact.required_by),
                    entry=labels.get(entry.key) if entry else None,
                    requires=artifact.requires,
                )
            )
    return Lock(
        content_hash=manifest.content_hash(),
        channels=tuple(urls),
        platforms=tuple(sorted(env.platforms)),
        conda=tuple(conda_packages),
        pypi=tuple(pypi_packages),
        system_requirements=tuple(sorted(system.items())),
    )


def _note_inapplicable(system: Mapping[str, str], platforms: tuple[str, ...]) -> None:
    """Say once per platform, as pixi does, which requirements do not apply to it (``cuda`` on
    macOS; glibc and linux: linux only; macos: osx only): each is locked without that one."""
    from condauv.platforms import SYSTEM_REQUIREMENTS, requirement_applies

    for subdir in platforms:
        for key in sorted(k for k in system if not requirement_applies(k, subdir)):
            logging.getLogger("condauv").warning(
                "note: %s does not apply to %s; locked without %s", key, subdir, SYSTEM_REQUIREMENTS[key]
            )


def _conda_spec(name: str, entry: Requested) -> str:
    spec = entry.spec.strip()
    return name if spec in ("", "*") else f"{name} {spec}"


def _provided(
    url: str,
    name: str,
    version: str,
    provided: Mapping[str, dict[str, str] | None],
    python_related: bool,
    names: Mapping[str, tuple[str, ...]],
) -> dict[str, str]:
    """Distributions a conda package provides: read from its artifact, else the name table."""
    found = provided.get(url)
    if found is not None:
        return found
    if not python_related or name == "python":
        return {}
    log.warning("could not read %s; guessing the PyPI names it provides", url)
    return dict.fromkeys(knowledge(names).pypi_names_for(name), version)
