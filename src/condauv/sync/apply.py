"""``condauv sync``: make the prefix match the lock, conda side first, then uv.

The rules: uv never touches a distribution a conda package owns; PyPI packages come from
the lock's exact URLs with hashes required and no resolving; packages that left the lock are
uninstalled one by one (never ``uv pip sync``, which would remove conda's packages); when
the Python minor version changes, the PyPI side is reinstalled for the new interpreter.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from condauv import _fs
from condauv.conda.prefix import installed_conda, is_managed, mark_managed
from condauv.errors import LockfileError, UserError
from condauv.lock.model import CondaPackage, Lock, PypiPackage, load_lock
from condauv.platforms import current_subdir
from condauv.project import Project
from condauv.pypi.site import InstalledDistribution, installed_distributions, site_packages
from condauv.pypi.uv import Uv
from condauv.sync.freshness import Freshness, freshness

__all__ = ["SyncReport", "sync"]

log = logging.getLogger("condauv.sync")


@dataclass(slots=True)
class SyncReport:
    prefix: Path
    locked: bool = False  # the lock was (re)written first
    conda_added: list[str] = field(default_factory=list)
    conda_removed: list[str] = field(default_factory=list)
    pypi_added: list[str] = field(default_factory=list)
    pypi_removed: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)  # damage found by the check, and undone
    unrepaired: list[str] = field(default_factory=list)  # damage found that sync cannot undo

    @property
    def changed(self) -> bool:
        return bool(
            self.conda_added or self.conda_removed or self.pypi_added or self.pypi_removed or self.repaired
        )


def current_lock(project: Project, *, frozen: bool, offline: bool) -> tuple[Lock, bool]:
    """The lock to sync from, locking first when it is missing or stale (unless frozen)."""
    existing = load_lock(project.lock_path)
    state = freshness(project.manifest, existing)
    if state is Freshness.FRESH and existing is not None:
        return existing, False
    if frozen:
        if state is Freshness.MISSING:
            hint = "run `condauv lock` first (or sync without --frozen)"
        else:
            hint = "run `condauv lock` to update it, or sync without --frozen"
        raise LockfileError(f"{state.describe()}, and --frozen forbids locking", hint=hint)
    from condauv.sync.locking import lock

    result = lock(project, offline=offline)
    return result.lock, True


def sync(
    project: Project,
    *,
    frozen: bool = False,
    offline: bool = False,
    force: bool = False,
    repair: bool = False,
) -> SyncReport:
    """Make ``project.prefix`` hold exactly the lock's packages for this platform.

    Then repair what ``condauv check`` finds: always the damage seen in dist-info folders
    (PyPI copies of conda-owned distributions, duplicates), which costs a directory listing;
    with ``repair`` also altered or missing files, which costs hashing every file.
    """
    lock, relocked = current_lock(project, frozen=frozen, offline=offline)
    with _fs.exclusive_lock(project.prefix / "conda-meta" / ".condauv-sync.lock"):
        report = SyncReport(project.prefix, locked=relocked)
        platform = current_subdir()
        conda = lock.conda_for(platform)
        python_version = lock.python_version(platform)
        if python_version is None:
            raise LockfileError(f"condauv.lock has no python for {platform}", hint="run `condauv lock` again")
        uv = Uv(offline=offline)
        _sync_conda(project, conda, python_version, uv, report, force=force)
        _sync_pypi(project.prefix, lock, platform, python_version, uv, report)
        if repair or _dist_info_damage(project.prefix, lock, platform, python_version):
            _repair(project.prefix, lock, platform, python_version, uv, report, verify_files=repair)
        if not is_managed(project.prefix):
            mark_managed(project.prefix, project.manifest.path)
        return report


def _sync_conda(
    project: Project,
    wanted: Sequence[CondaPackage],
    python_version: str,
    uv: Uv,
    report: SyncReport,
    *,
    force: bool,
) -> None:
    prefix = project.prefix
    have = installed_conda(prefix)
    want = {p.name: p for p in wanted}
    same = {
        name
        for name, p in want.items()
        if name in have and (have[name].version, have[name].build) == (p.version, p.build)
    }
    added = sorted(f"{p.name} {p.version}" for n, p in want.items() if n not in same)
    removed = sorted(f"{n} {have[n].version}" for n in have if n not in want)
    if not added and not removed:
        return
    if removed and have and not is_managed(prefix) and not force:
        raise UserError(
            f"{prefix} is a conda prefix condauv did not create, and syncing would remove: "
            + ", ".join(removed),
            hint="add those packages to the manifest, or pass --force to make the prefix match the lock",
        )
    old_python = have.get("python")
    if old_python and _minor(old_python.version) != _minor(python_version):
        _remove_pypi_side(prefix, old_python.version, uv, report)
    from condauv.conda import engine

    requested = [f"{p.name} {p.requested}" if p.requested != "*" else p.name for p in wanted if p.requested]
    engine.install(wanted, prefix, requested=requested)
    report.conda_added, report.conda_removed = added, removed


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _remove_pypi_side(prefix: Path, python_version: str, uv: Uv, report: SyncReport) -> None:
    """Before the interpreter's minor version changes, uninstall what uv put in the old one."""
    old = [
        d for d in installed_distributions(site_packages(prefix, python_version)) if d.installer != "conda"
    ]
    if old:
        uv.uninstall(prefix / "bin" / "python", [d.name for d in old])
        report.pypi_removed += [f"{d.name} {d.version}" for d in old]


def _sync_pypi(
    prefix: Path, lock: Lock, platform: str, python_version: str, uv: Uv, report: SyncReport
) -> None:
    wanted = {p.name: p for p in lock.pypi_for(platform)}
    owned: set[str] = set()
    for package in lock.conda_for(platform):
        owned.update(package.provided_names())
    installed = installed_distributions(site_packages(prefix, python_version))
    owned.update(d.name for d in installed if d.installer == "conda")
    clash = sorted(owned & wanted.keys())
    if clash:
        raise LockfileError(
            f"condauv.lock asks uv to install {', '.join(clash)}, which conda provides",
            hint="the lock was edited or written by another tool: run `condauv lock` again",
        )
    by_name: dict[str, list[InstalledDistribution]] = {}
    for dist in installed:
        by_name.setdefault(dist.name, []).append(dist)
    remove = sorted(name for name, dists in by_name.items() if name not in owned and name not in wanted)
    install = [
        p for name, p in sorted(wanted.items()) if [d.version for d in by_name.get(name, [])] != [p.version]
    ]
    python = prefix / "bin" / "python"
    if remove:
        uv.uninstall(python, remove)
        report.pypi_removed += [f"{n} {by_name[n][0].version}" for n in remove]
    if install:
        _install_locked(uv, python, install)
        report.pypi_added += [f"{p.name} {p.version}" for p in install]


def _install_locked(uv: Uv, python: Path, packages: Sequence[PypiPackage]) -> None:
    lines = [f"{p.name} @ {p.url} --hash=sha256:{p.sha256}" for p in packages]
    with tempfile.TemporaryDirectory(prefix="condauv-install-") as tmp:
        requirements = Path(tmp) / "requirements.txt"
        requirements.write_text("\n".join(lines) + "\n", encoding="utf-8")
        uv.install(python, requirements)


def _dist_info_damage(prefix: Path, lock: Lock, platform: str, python_version: str) -> bool:
    """Whether the dist-info folders show what the cheap repair undoes (a PyPI copy of a
    conda-owned distribution, two folders for one project): one directory listing, so that a
    sync with nothing to repair does not load the checker."""
    owned = {name for package in lock.conda_for(platform) for name in package.provided_names()}
    seen: set[str] = set()
    for dist in installed_distributions(site_packages(prefix, python_version)):
        if dist.name in seen or (dist.installer != "conda" and dist.name in owned):
            return True
        seen.add(dist.name)
    return False


def _repair(
    prefix: Path,
    lock: Lock,
    platform: str,
    python_version: str,
    uv: Uv,
    report: SyncReport,
    *,
    verify_files: bool,
) -> None:
    """Undo what check finds: relink conda packages, remove strays, reinstall PyPI packages.

    Conda first: relinking replaces files a stray overwrote, so removing the stray afterwards
    spares every path a conda record lists, and a failed relink leaves no file deleted.
    """
    from condauv.health.check import inspect_prefix

    _, repairs = inspect_prefix(prefix, lock=lock, verify_files=verify_files)
    if not repairs:
        return
    locked_conda = lock.conda_for(platform)
    locked_names = {p.name for p in locked_conda}
    relink = sorted(repairs.relink & locked_names)
    report.unrepaired += [
        f"{name} (conda): not in condauv.lock, so there is nothing to relink it from"
        for name in sorted(repairs.relink - locked_names)
    ]
    if relink:
        from condauv.conda import engine

        engine.install(locked_conda, prefix, reinstall=relink)
        report.repaired += [f"relinked {name} (conda)" for name in relink]
    if repairs.strays:
        from condauv.conda.records import read_records

        conda_paths = {f.path for record in read_records(prefix) for f in record.files}
        for folder, what in sorted(repairs.strays.items()):
            remove_distribution(prefix, folder, keep=conda_paths)
            report.repaired.append(f"removed {folder.name} ({what})")
    reinstall = [p for p in lock.pypi_for(platform) if p.name in repairs.reinstall]
    if reinstall:
        _install_locked(uv, prefix / "bin" / "python", reinstall)
        report.repaired += [f"reinstalled {p.name} {p.version} (pypi)" for p in reinstall]
    report.unrepaired += repairs.unrepairable


def remove_distribution(prefix: Path, folder: Path, *, keep: set[str]) -> None:
    """Delete a dist-info folder and the files its RECORD lists, except prefix paths in ``keep``.

    Used on strays that uv or pip installed over conda's files: uninstalling them by name
    would pick either copy, and RECORD-less ones cannot be uninstalled by an installer.
    """
    import shutil

    from condauv.health.dists import read_record

    site = folder.parent
    parents: set[Path] = set()
    for entry in read_record(folder) or ():
        target = Path(os.path.normpath(site / entry.path))
        if not target.is_relative_to(prefix) or target.is_relative_to(folder):
            continue
        if target.relative_to(prefix).as_posix() in keep:
            continue
        if target.is_symlink() or target.is_file():
            target.unlink()
            parents.add(target.parent)
    shutil.rmtree(folder, ignore_errors=True)
    for parent in sorted(parents, key=lambda p: len(p.parts), reverse=True):
        for empty in (parent, *parent.parents):
            if empty == site or not empty.is_relative_to(site):
                break
            if not empty.is_dir():
                continue  # removed already, with a deeper folder that emptied it
            if any(empty.iterdir()):
                break
            empty.rmdir()
