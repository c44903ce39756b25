"""``condauv check``: conflicts between the two managers, and damage, found from the prefix alone.

Everything is read from disk: conda-meta records (each file's sha256), every dist-info
(INSTALLER, RECORD, METADATA) and, when there is one, the lock. Nothing is run: the
interpreter's version comes from conda-meta, so markers are evaluated without starting it.

The same inspection tells ``condauv sync`` what it can repair (:class:`Repairs`); with
``verify_files=False`` it skips hashing and reads dist-info folders only, which is cheap
enough for every sync.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from condauv.conda.records import CondaRecord, read_records, spec_name
from condauv.errors import UserError
from condauv.health.dists import (
    read_record,
    requirements,
    unmet_requirement,
)
from condauv.health.hashing import CHANGED, MISSING, OK, verify_files
from condauv.platforms import current_subdir, marker_environment
from condauv.pypi.site import InstalledDistribution, installed_distributions, site_packages

if TYPE_CHECKING:
    from condauv.lock.model import Lock
    from condauv.manifest.model import Manifest

__all__ = ["CheckReport", "Finding", "Repairs", "check_prefix", "inspect_prefix", "with_project_findings"]

SCHEMA = 1
KINDS = (
    "overlap",
    "clobbered",
    "duplicate",
    "installer-mismatch",
    "broken-dependency",
    "drift",
    "stale-lock",
    "interrupted",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    kind: str  # one of KINDS
    packages: tuple[str, ...]
    files: tuple[str, ...]  # prefix-relative
    message: str
    fix: str

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "packages": list(self.packages),
            "files": list(self.files),
            "message": self.message,
            "fix": self.fix,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckReport:
    prefix: Path
    findings: tuple[Finding, ...]
    conda_packages: int
    pypi_distributions: int  # dist-info folders an installer other than conda wrote

    @property
    def clean(self) -> bool:
        return not self.findings

    def to_dict(self) -> dict[str, object]:
        return {
            "schema": SCHEMA,
            "prefix": str(self.prefix),
            "clean": self.clean,
            "conda_packages": self.conda_packages,
            "pypi_distributions": self.pypi_distributions,
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(slots=True)
class Repairs:
    """What ``condauv sync`` can do about the findings, and what it cannot."""

    relink: set[str] = field(default_factory=set)  # conda packages to link again from the cache
    reinstall: set[str] = field(default_factory=set)  # PyPI distributions to install again from the lock
    strays: dict[Path, str] = field(default_factory=dict)  # dist-info folder -> who it shadows
    unrepairable: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.relink or self.reinstall or self.strays or self.unrepairable)


@dataclass(frozen=True, slots=True)
class _Owner:
    """The conda package that provides a PyPI distribution."""

    package: str
    label: str
    version: str


def check_prefix(
    prefix: Path, *, lock: Lock | None = None, target: Mapping[str, str] | None = None
) -> CheckReport:
    """Every finding in ``prefix``: file hashes, dist-info folders, dependencies, and drift from ``lock``.

    ``target`` (a lock's ``[system-requirements]``) judges conda's ``__cuda``-like dependencies for
    the machines the lock targets instead of this one: ``pack`` on a build host without a GPU.
    """
    return inspect_prefix(prefix, lock=lock, target=target)[0]


def with_project_findings(
    report: CheckReport, *, manifest: Manifest | None, lock: Lock | None
) -> CheckReport:
    """``report`` plus what the prefix's files cannot show: a sync killed part-way (its journal is
    still in conda-meta), and a lock the manifest has moved on from (a command killed between
    writing the two, or a hand edit)."""
    from dataclasses import replace

    from condauv.sync import journal
    from condauv.sync.freshness import Freshness, freshness

    found: list[Finding] = []
    interrupted = journal.pending(report.prefix)
    if interrupted is not None:
        found.append(
            Finding(
                kind="interrupted",
                packages=tuple(sorted({*interrupted.conda, *interrupted.pypi})),
                files=(f"conda-meta/{journal.JOURNAL}",),
                message=f"a sync into this prefix did not finish ({interrupted.describe()}): "
                "packages may be half linked or half installed",
                fix="`condauv sync` verifies every file and finishes it",
            )
        )
    if manifest is not None and lock is not None and freshness(manifest, lock) is Freshness.STALE:
        found.append(
            Finding(
                kind="stale-lock",
                packages=(),
                files=(),
                message=f"condauv.lock was not written for the current {manifest.path.name} "
                "(its content-hash differs): the prefix may match a lock that is out of date",
                fix="`condauv lock` (or `condauv sync`, which locks first)",
            )
        )
    return replace(report, findings=report.findings + tuple(found)) if found else report


def inspect_prefix(
    prefix: Path,
    *,
    lock: Lock | None = None,
    verify_files: bool = True,
    target: Mapping[str, str] | None = None,
) -> tuple[CheckReport, Repairs]:
    """The report and the repairs; ``verify_files=False`` reads no file contents and skips dependencies."""
    prefix = prefix.resolve()
    if not prefix.is_dir():
        raise UserError(
            f"no environment at {prefix}", hint="check --prefix, or run `condauv sync` to create it"
        )
    if not (prefix / "conda-meta").is_dir():
        raise UserError(
            f"{prefix} is not a conda prefix (it has no conda-meta folder)",
            hint="point --prefix at an environment made by condauv, conda, mamba or pixi",
        )
    records = read_records(prefix, cache=True)
    by_name = {r.name: r for r in records}
    python = by_name.get("python")
    site = site_packages(prefix, python.version if python else None)
    dists = installed_distributions(site)
    platform = current_subdir()
    owners = _owners(records, lock, platform)
    findings: list[Finding] = []
    repairs = Repairs()
    _check_distributions(prefix, dists, owners, lock, platform, findings, repairs)
    if verify_files:
        _check_files(prefix, site, records, dists, owners, lock, platform, findings, repairs)
        _check_conda_depends(records, findings, target, prefix=prefix)
        if python is not None:
            environment = marker_environment(python.version, platform)
            _check_requires_dist(dists, owners, environment, findings, prefix=prefix)
    if lock is not None:
        _check_drift(records, dists, owners, lock, platform, findings)
    # a conda package's own metadata folder is no PyPI distribution, whatever its INSTALLER says
    # (a bare ``*.egg-info`` has none)
    conda_folders = {folder for record in records for folder, _, _ in record.metadata_folders}
    report = CheckReport(
        prefix=prefix,
        findings=tuple(sorted(findings, key=lambda f: (KINDS.index(f.kind), f.packages, f.message))),
        conda_packages=len(records),
        pypi_distributions=sum(
            1 for d in dists if d.installer != "conda" and d.path.name not in conda_folders
        ),
    )
    return report, repairs


def _owners(records: Sequence[CondaRecord], lock: Lock | None, platform: str) -> dict[str, _Owner]:
    """PyPI name -> the conda package providing it: its dist-info, else the lock, else the name table."""
    owners: dict[str, _Owner] = {}
    locked = {p.name: p for p in lock.conda_for(platform)} if lock else {}
    guessed: list[CondaRecord] = []
    for record in records:
        provided = record.provided_distributions()
        package = locked.get(record.name)
        if package is not None and package.version == record.version:
            provided = {**package.provided_names(), **provided}
        if not provided and record.name != "python" and any(spec_name(d) == "python" for d in record.depends):
            guessed.append(record)
        for dist, version in provided.items():
            owners.setdefault(dist, _Owner(record.name, record.label, version))
    if guessed:
        from condauv.classification.names import pypi_names_for

        for record in guessed:
            for dist in pypi_names_for(record.name):
                owners.setdefault(dist, _Owner(record.name, record.label, record.version))
    return owners


def _relative(prefix: Path, path: Path) -> str:
    try:
        return path.relative_to(prefix).as_posix()
    except ValueError:
        return str(path)


def _check_distributions(
    prefix: Path,
    dists: Sequence[InstalledDistribution],
    owners: Mapping[str, _Owner],
    lock: Lock | None,
    platform: str,
    findings: list[Finding],
    repairs: Repairs,
) -> None:
    """Overlaps, installer mismatches and duplicates: dist-info folders only, no hashing."""
    locked_pypi = {p.name for p in lock.pypi_for(platform)} if lock else set()
    by_name: dict[str, list[InstalledDistribution]] = {}
    for dist in dists:
        by_name.setdefault(dist.name, []).append(dist)
    for name, group in sorted(by_name.items()):
        owner = owners.get(name)
        if owner is not None:
            _check_owned(prefix, name, group, owner, findings, repairs)
        if len(group) > 1:
            folders = tuple(_relative(prefix, d.path) for d in group)
            conda_copies = [d for d in group if d.installer == "conda"]
            findings.append(
                Finding(
                    kind="duplicate",
                    packages=(name,),
                    files=folders,
                    message=f"{len(group)} dist-info folders for {name}: "
                    + ", ".join(f"{d.path.name} ({d.installer or 'unknown installer'})" for d in group),
                    fix="`condauv sync` keeps the copy the lock names and removes the others",
                )
            )
            if owner is None:
                for dist in group:
                    repairs.strays[dist.path] = f"{name} {dist.version} ({dist.installer or 'unknown'})"
                if name in locked_pypi:
                    repairs.reinstall.add(name)
            if len(conda_copies) > 1:
                repairs.unrepairable.append(f"{name}: {len(conda_copies)} conda packages install it")


def _check_owned(
    prefix: Path,
    name: str,
    group: Sequence[InstalledDistribution],
    owner: _Owner,
    findings: list[Finding],
    repairs: Repairs,
) -> None:
    """A conda-owned distribution: any copy another installer wrote is an overlap and a stray."""
    foreign = [d for d in group if d.installer not in ("conda", "") or d.version != owner.version]
    packages = tuple(dict.fromkeys((owner.package, name)))
    if foreign:
        shown = ", ".join(f"{d.version} by {d.installer or 'an unknown installer'}" for d in foreign)
        findings.append(
            Finding(
                kind="overlap",
                packages=packages,
                files=tuple(_relative(prefix, d.path) for d in foreign),
                message=f"{name} is provided by conda package {owner.label} and also installed "
                f"from PyPI ({shown})",
                fix=f"`condauv sync` removes the PyPI copy and relinks {owner.package} (conda); "
                f"to take {name} from PyPI instead, move it to [pypi-dependencies]",
            )
        )
        for dist in foreign:
            repairs.strays[dist.path] = f"{name} {dist.version} ({dist.installer or 'unknown'})"
        repairs.relink.add(owner.package)
    for dist in group:
        if dist.installer not in ("conda", ""):
            findings.append(
                Finding(
                    kind="installer-mismatch",
                    packages=packages,
                    files=(_relative(prefix, dist.path / "INSTALLER"),),
                    message=f"conda-meta says conda package {owner.label} owns {name}, but "
                    f"{dist.path.name}/INSTALLER says {dist.installer}",
                    fix=f"`condauv sync` removes {dist.path.name} and relinks {owner.package}",
                )
            )
    if not any(d.installer in ("conda", "") and d.version == owner.version for d in group):
        repairs.relink.add(owner.package)  # conda's own dist-info is gone


def _check_files(
    prefix: Path,
    site: Path | None,
    records: Sequence[CondaRecord],
    dists: Sequence[InstalledDistribution],
    owners: Mapping[str, _Owner],
    lock: Lock | None,
    platform: str,
    findings: list[Finding],
    repairs: Repairs,
) -> None:
    """Conda files against their records' sha256, PyPI files against their RECORD."""
    jobs: list[tuple[str, str | None, int | None, bool]] = []
    spans: list[tuple[str, int, int]] = []  # (owner key, first job, end)
    optional: set[int] = set()  # jobs whose file may be missing (bytecode Python writes again)
    base = f"{prefix}/"
    for record in records:
        start = len(jobs)
        linked = record.files  # tens of thousands in all: comprehensions, not a loop of appends
        jobs += [
            (base + path, sha256, size, presence_only) for path, sha256, size, presence_only, _ in linked
        ]
        optional.update([start + i for i, file in enumerate(linked) if file.optional])
        spans.append((f"conda:{record.name}", start, len(jobs)))
    pypi_dists = [d for d in dists if d.installer != "conda" and d.name not in owners and site is not None]
    first_pypi = len(jobs)
    for dist in pypi_dists:
        entries = read_record(dist.path)
        start = len(jobs)
        for entry in entries or ():
            if entry.digest is None:
                continue
            jobs.append((os.path.normpath(f"{site}/{entry.path}"), entry.digest, entry.size, False))
        spans.append((f"pypi:{dist.name}:{dist.path.name}", start, len(jobs)))
    states = [OK if i in optional and s == MISSING else s for i, s in enumerate(verify_files(jobs, prefix))]
    _accept_relocated_scripts(prefix, jobs, states, first_pypi)
    locked_pypi = {p.name for p in lock.pypi_for(platform)} if lock else set()
    for key, start, end in spans:
        bad = [(jobs[i][0], states[i]) for i in range(start, end) if states[i] != OK]
        if not bad:
            continue
        missing = sum(1 for _, s in bad if s == MISSING)
        changed = len(bad) - missing
        counts = " and ".join(
            text for n, text in ((changed, f"{changed} changed"), (missing, f"{missing} missing")) if n
        )
        files = tuple(_relative(prefix, Path(p)) for p, _ in bad)
        if key.startswith("conda:"):
            name = key.removeprefix("conda:")
            label = next(r.label for r in records if r.name == name)
            what, since = f"conda package {label}", "linked (per its conda-meta record)"
            fix = f"`condauv sync --repair` links {name} again from the package cache"
            repairs.relink.add(name)
        else:
            _, name, folder = key.split(":", 2)
            what, since = f"PyPI distribution {folder}", "installed (per its RECORD)"
            fix = f"`condauv sync --repair` installs {name} again from condauv.lock"
            if name in locked_pypi:
                repairs.reinstall.add(name)
            else:
                repairs.unrepairable.append(f"{name}: altered files, and condauv.lock does not hold it")
        findings.append(
            Finding(
                kind="clobbered",
                packages=(name,),
                files=files,
                message=f"{what}: files {counts} since it was {since}",
                fix=fix,
            )
        )


def _accept_relocated_scripts(
    prefix: Path, jobs: Sequence[tuple[str, str | None, int | None, bool]], states: list[int], first_pypi: int
) -> None:
    """A PyPI console script in ``bin/`` whose only change is the shebang a relocation rewrote
    (conda-pack, then ``bin/conda-unpack``) is no damage (:mod:`condauv.health.relocated`)."""
    bin_dir = f"{prefix}/bin/"
    changed = [
        i for i in range(first_pypi, len(jobs)) if states[i] == CHANGED and jobs[i][0].startswith(bin_dir)
    ]
    if not changed:
        return
    from condauv.health.relocated import original_prefix, relocated_script

    original = original_prefix(prefix)
    if original is None:
        return
    for i in changed:
        path, digest, size, _ = jobs[i]
        if digest is not None and relocated_script(path, digest, size, original, prefix):
            states[i] = OK


def _check_conda_depends(
    records: Sequence[CondaRecord],
    findings: list[Finding],
    target: Mapping[str, str] | None = None,
    *,
    prefix: Path | None = None,
) -> None:
    """Every conda record's ``depends`` against the installed records and this machine's virtual packages.

    The virtual packages are the solver's (``CONDA_OVERRIDE_*`` honoured; ``target``'s system
    requirements over this machine's when given), so what ``lock`` and ``doctor`` accept, ``check``
    accepts too. With ``prefix``, the verdict is remembered for it (:mod:`condauv.health.verdicts`).
    """
    if not records:
        return
    from condauv.health import verdicts

    key = verdicts.depends_key(records, current_subdir(), target) if prefix is not None else None
    findings += verdicts.remembered(prefix, "depends", key, lambda: _conda_depends_verdict(records, target))


def _conda_depends_verdict(records: Sequence[CondaRecord], target: Mapping[str, str] | None) -> list[Finding]:
    """:func:`_check_conda_depends`'s findings, worked out with py-rattler."""
    from rattler import BuildString, MatchSpec, PackageRecord

    from condauv.conda.engine import virtual_packages

    installed: dict[str, PackageRecord] = {}
    for record in records:
        try:
            installed[record.name] = PackageRecord(
                name=record.name,
                version=record.version,
                build=BuildString.new_unchecked(record.build),
                build_number=record.build_number,
                subdir=record.subdir or current_subdir(),
            )
        except Exception:  # noqa: S112 - a record rattler cannot parse cannot be matched either
            continue
    for generic in virtual_packages(current_subdir(), target):
        installed[generic.name.normalized] = PackageRecord(
            name=generic.name.normalized,
            version=str(generic.version),
            build=BuildString.new_unchecked(str(generic.build_string)),
            build_number=0,
            subdir=current_subdir(),
        )
    findings: list[Finding] = []
    for record in records:
        for dep in record.depends:
            try:
                spec = MatchSpec(dep)
            except Exception:  # noqa: S112 - conda would not have installed it; nothing to compare
                continue
            name = spec.name.normalized if spec.name else spec_name(dep)
            have = installed.get(name)
            if have is not None and spec.matches(have):
                continue
            if name.startswith("__"):
                found, fix = _virtual_unmet(name, str(have.version) if have else None)
            else:
                found = (
                    f"{name} {have.version} ({have.build}) is installed"
                    if have
                    else f"{name} is not installed"
                )
                fix = _SYNC_OR_RELOCK
            findings.append(
                Finding(
                    kind="broken-dependency",
                    packages=(record.name, name),
                    files=(),
                    message=f"conda package {record.label} depends on '{dep}', but {found}",
                    fix=fix,
                )
            )
    return findings


_SYNC_OR_RELOCK = (
    "`condauv sync` installs what condauv.lock holds; if that is this state, run `condauv lock` again"
)
#: virtual package -> what it stands for, for the message when a record needs it.
_VIRTUAL_MEANING = {"__cuda": "CUDA driver", "__glibc": "glibc", "__osx": "macOS", "__linux": "Linux kernel"}


def _virtual_unmet(name: str, version: str | None) -> tuple[str, str]:
    """The message and fix of a record that needs a virtual package this machine lacks or has too old."""
    meaning = _VIRTUAL_MEANING.get(name)
    if version is not None:
        found = f"this machine has {name} {version}"
    elif meaning:
        found = f"this machine has no {meaning} (no {name} virtual package)"
    else:
        found = f"this machine has no {name}"
    override = f"CONDA_OVERRIDE_{name.removeprefix('__').upper()}"
    fix = (
        f"run it where {name} fits, or relock for this machine (`condauv lock`); "
        f"to state what the machine has, set {override}=VERSION"
    )
    return found, fix


def _check_requires_dist(
    dists: Sequence[InstalledDistribution],
    owners: Mapping[str, _Owner],
    environment: dict[str, str],
    findings: list[Finding],
    *,
    prefix: Path | None = None,
) -> None:
    """Every distribution's ``Requires-Dist`` (markers evaluated) against what is installed, both
    worlds; with ``prefix``, the verdict is remembered for it (:mod:`condauv.health.verdicts`)."""
    versions: dict[str, list[str]] = {}
    for dist in dists:
        versions.setdefault(dist.name, []).append(dist.version)
    for name, owner in owners.items():
        versions.setdefault(name, [owner.version])
    from condauv.health import verdicts

    key = verdicts.requires_key(dists, versions, environment) if prefix is not None else None
    findings += verdicts.remembered(
        prefix, "requires", key, lambda: _requires_verdict(dists, environment, versions)
    )


def _requires_verdict(
    dists: Sequence[InstalledDistribution], environment: dict[str, str], versions: dict[str, list[str]]
) -> list[Finding]:
    found = []
    for dist in dists:
        for requirement in requirements(dist):
            why = unmet_requirement(requirement, environment, versions)
            if why is None:
                continue
            found.append(
                Finding(
                    kind="broken-dependency",
                    packages=(dist.name, requirement.name),
                    files=(),
                    message=f"{dist.name} {dist.version} requires {why}",
                    fix="add the requirement to condauv.toml (or fix its version) with `condauv add`",
                )
            )
    return found


def _check_drift(
    records: Sequence[CondaRecord],
    dists: Sequence[InstalledDistribution],
    owners: Mapping[str, _Owner],
    lock: Lock,
    platform: str,
    findings: list[Finding],
) -> None:
    """Missing, extra or different packages against the lock, for this machine's platform."""
    fix = "run `condauv sync`"
    if platform not in lock.platforms:
        findings.append(
            Finding(
                kind="drift",
                packages=(),
                files=(),
                message=f"condauv.lock has no packages for this platform ({platform})",
                fix="add the platform to condauv.toml and run `condauv lock`",
            )
        )
        return
    have_conda = {r.name: f"{r.version} ({r.build})" for r in records}
    want_conda = {p.name: f"{p.version} ({p.build})" for p in lock.conda_for(platform)}
    have_pypi: dict[str, str] = {}
    for dist in dists:
        if dist.installer != "conda" and dist.name not in owners:
            have_pypi.setdefault(dist.name, dist.version)
    want_pypi = {p.name: p.version for p in lock.pypi_for(platform)}
    for side, have, want in (("conda", have_conda, want_conda), ("PyPI", have_pypi, want_pypi)):
        for name in sorted(have.keys() | want.keys()):
            if name not in have:
                message = f"{side} package {name} {want[name]} is in condauv.lock but not installed"
            elif name not in want:
                message = f"{side} package {name} {have[name]} is installed but not in condauv.lock"
            elif have[name] != want[name]:
                message = f"{side} package {name}: condauv.lock has {want[name]}, the prefix has {have[name]}"
            else:
                continue
            findings.append(Finding(kind="drift", packages=(name,), files=(), message=message, fix=fix))
