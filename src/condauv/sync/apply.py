"""``condauv sync``: make the prefix match the lock, conda side first, then uv.

The rules: uv never touches a distribution a conda package owns; PyPI packages come from
the lock's exact URLs with hashes required and no resolving; packages that left the lock are
uninstalled one by one (never ``uv pip sync``, which would remove conda's packages); when
the Python minor version changes, the PyPI side is reinstalled for the new interpreter.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from condauv import _fs, validation
from condauv.conda.prefix import (
    PrefixState,
    installed_conda,
    mark_managed,
    prefix_state,
    refuse_links_out,
)
from condauv.errors import LockfileError, UserError
from condauv.lock.model import CondaPackage, Lock, PypiPackage, parse_lock
from condauv.platforms import current_subdir
from condauv.project import Project, holding_project_lock
from condauv.pypi.site import InstalledDistribution, installed_distributions, site_packages
from condauv.pypi.uv import Uv
from condauv.sync import journal, stamp
from condauv.sync.freshness import Freshness, freshness, missing_platform_hint
from condauv.sync.integrity import Installed, Notify, PypiInstaller
from condauv.sync.overlap import beside, python_first
from condauv.sync.removal import remove_distribution

if TYPE_CHECKING:
    from condauv.conda.records import CondaRecord

__all__ = ["SyncReport", "refuse_foreign_removals", "sync"]

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
    interrupted: str | None = None  # an earlier sync killed part-way, which this one finished

    @property
    def changed(self) -> bool:
        return bool(
            self.conda_added or self.conda_removed or self.pypi_added or self.pypi_removed or self.repaired
        )


def current_lock(project: Project, *, frozen: bool, offline: bool) -> tuple[Lock, bool]:
    """The lock to sync from, locking first when it is missing or stale (unless frozen)."""
    lock, relocked, _ = _current_lock(project, frozen=frozen, offline=offline)
    return lock, relocked


def _current_lock(
    project: Project, *, frozen: bool, offline: bool, defer_specs: bool = False
) -> tuple[Lock, bool, str | None]:
    """:func:`current_lock`, with the text of the lock read (``None`` when it was written
    again). ``defer_specs``: an existing lock's match specs are left to
    :func:`~condauv.lock.validate.check_match_specs` (rattler is not imported)."""
    from condauv.lock.validate import LOCK_NAME, REGENERATE, match_specs_deferred

    text = None
    path = project.lock_path
    if path.exists() or path.is_symlink():  # as load_lock reads it: every field checked
        text = validation.read_text(path, what=LOCK_NAME, error=LockfileError, hint=REGENERATE)
    with match_specs_deferred() if defer_specs else contextlib.nullcontext():
        existing = parse_lock(text) if text is not None else None
    state = freshness(project.manifest, existing)
    if state is Freshness.FRESH and existing is not None:
        from condauv.lock.validate import check_sources

        check_sources(existing, project.manifest)  # installed from: every URL from the manifest's sources
        return existing, False, text
    if frozen:
        if state is Freshness.MISSING:
            hint = "run `condauv lock` first (or sync without --frozen)"
        elif state is Freshness.NO_PLATFORM:
            hint = missing_platform_hint()
        else:
            hint = "run `condauv lock` to update it, or sync without --frozen"
        raise LockfileError(f"{state.describe()}, and --frozen forbids locking", hint=hint)
    from condauv.sync.locking import lock

    result = lock(project, offline=offline)
    return result.lock, True, None


@holding_project_lock
def sync(
    project: Project,
    *,
    frozen: bool = False,
    offline: bool = False,
    force: bool = False,
    repair: bool = False,
    notify: Notify | None = None,
) -> SyncReport:
    """Make ``project.prefix`` hold exactly the lock's packages for this platform.

    Then repair what ``condauv check`` finds: always the damage seen in dist-info folders
    (PyPI copies of conda-owned distributions, duplicates), which costs a directory listing;
    with ``repair`` also altered or missing files, which costs hashing every file.
    ``notify`` hears a line for a person before each sdist is built (its build code runs).
    """
    state = prefix_state(project.prefix)  # a folder that is no prefix: refused before anything is written
    # a folder of it that links out of the prefix (conda-meta included, in a new one too): idem
    refuse_links_out(project.prefix, site_packages=_installed_site(project.prefix))
    # a machine the lock does not target: refused before a lock is written or a file changes
    from condauv.sync.target import check_machine

    platforms = project.manifest.environment.platforms
    if current_subdir() not in platforms:  # locking would not help: it locks these platforms only
        raise UserError(
            f"condauv.toml does not target this machine's platform, {current_subdir()} "
            f"(its platforms: {', '.join(platforms)})",
            hint=missing_platform_hint("run `condauv sync`"),
        )
    check_machine(project.manifest.system_requirements)
    # match specs unchecked (no rattler) until the conda side may change: checked right below
    lock, relocked, lock_text = _current_lock(project, frozen=frozen, offline=offline, defer_specs=True)
    if dict(lock.system_requirements) != project.manifest.system_requirements:
        check_machine(dict(lock.system_requirements))
    platform = current_subdir()
    conda = lock.conda_for(platform)
    python_version = lock.python_version(platform)
    if python_version is None:
        raise LockfileError(f"condauv.lock has no python for {platform}", hint="run `condauv lock` again")
    uv = Uv(offline=offline, index_args=project.manifest.pypi_options.uv_args())  # credentials
    installer = PypiInstaller(uv, project.prefix, python_version, notify=notify)

    def verify_artifacts() -> None:
        """A bad conda archive, or a file:// wheel or sdist that is not the lock's: refused
        before anything is written."""
        _verify_conda_archives(project.prefix, conda)
        installer.check(_pypi_to_install(project.prefix, lock, platform, python_version))

    if state is PrefixState.NEW:  # before the prefix's own lock file makes the folder
        if not relocked:  # (a new lock holds the solver's own records)
            _check_specs(project.prefix, lock, state, repair=repair, python_version=python_version)
        verify_artifacts()
    with _fs.exclusive_lock(project.prefix / "conda-meta" / ".condauv-sync.lock"):
        report = SyncReport(project.prefix, locked=relocked)
        if state is not PrefixState.NEW:  # what is installed decides what to check: under the lock
            if not relocked:
                _check_specs(project.prefix, lock, state, repair=repair, python_version=python_version)
            verify_artifacts()
        if state is PrefixState.NEW:  # the only time the marker is written (and adopt --in-place)
            mark_managed(project.prefix, project.manifest.path)
        elif state is PrefixState.FOREIGN and not force:
            refuse_foreign_removals(project.prefix, lock)
        # journal: an earlier sync killed part-way left one; this sync verifies every file then
        interrupted = journal.pending(project.prefix)
        changing = _Changing(
            project.prefix, conda=[p.name for p in conda], pypi=[p.name for p in lock.pypi_for(platform)]
        )
        report.interrupted = interrupted.describe() if interrupted else None
        args = (project, lock, platform, python_version, installer, report, changing)
        _install_both(*args, new=state is PrefixState.NEW)
        verify = repair or interrupted is not None
        if verify or _dist_info_damage(project.prefix, lock, platform, python_version):
            _repair(project.prefix, lock, platform, installer, report, changing, verify_files=verify)
        _keep_synced_copy(project, lock)
        if changing.written or interrupted is not None:
            journal.clear(project.prefix)  # journal: every change is complete
        if not report.unrepaired and _settled(project.prefix, lock, platform, python_version):
            stamp.record(project, lock, lock_text, python_version)
        return report


def _install_both(
    project: Project,
    lock: Lock,
    platform: str,
    python_version: str,
    installer: PypiInstaller,
    report: SyncReport,
    changing: Callable[[], None],
    *,
    new: bool,
) -> None:
    """The conda side, then uv's; in a ``new`` prefix, python first, then uv beside rattler
    (:mod:`condauv.sync.overlap`)."""
    conda, prefix, uv = lock.conda_for(platform), project.prefix, installer.uv
    early = python_first(conda, lock.pypi_for(platform)) if new else None
    if early is None:
        _sync_conda(project, conda, python_version, uv, report, changing)
        _sync_pypi(prefix, lock, platform, python_version, installer, report, changing)
        return
    _sync_conda(project, early, python_version, uv, report, changing)
    beside(
        lambda: _sync_conda(project, conda, python_version, uv, report, changing),
        lambda: _sync_pypi(prefix, lock, platform, python_version, installer, report, changing, new=True),
    )
    report.conda_added = sorted(f"{p.name} {p.version}" for p in conda)


def _check_specs(prefix: Path, lock: Lock, state: PrefixState, *, repair: bool, python_version: str) -> None:
    """The lock's match specs (read unchecked), before rattler meets them and before anything is
    written, where the conda side may change: linked, unlinked, or relinked by a repair."""
    platform = current_subdir()
    if (
        state is PrefixState.NEW
        or repair
        or journal.pending(prefix) is not None
        or _conda_differs(prefix, lock.conda_for(platform))
        or _dist_info_damage(prefix, lock, platform, python_version)
    ):
        from condauv.lock.validate import check_match_specs

        check_match_specs(lock)


class _Changing(journal.Opener):
    """The journal's opener, which first removes the stamp: from the first change on, no
    sync may trust it (it is written again by a sync that leaves nothing to do)."""

    def __call__(self) -> None:
        if not self.written:
            stamp.clear(self.prefix)
        super().__call__()


def _conda_differs(prefix: Path, wanted: Sequence[CondaPackage]) -> bool:
    """Whether the prefix's conda packages (by conda-meta's file names) are not ``wanted``."""
    have = {name: (p.version, p.build) for name, p in installed_conda(prefix).items()}
    return have != {p.name: (p.version, p.build) for p in wanted}


def _settled(prefix: Path, lock: Lock, platform: str, python_version: str) -> bool:
    """Whether a sync of ``prefix`` to ``lock`` now would find nothing to do (then it is stamped)."""
    from condauv.conda.prefix import is_managed

    return not (
        not is_managed(prefix)
        or journal.pending(prefix) is not None
        or _conda_differs(prefix, lock.conda_for(platform))
        or _pypi_differs(prefix, lock, platform, python_version)
        or _dist_info_damage(prefix, lock, platform, python_version)
    )


def _pypi_differs(prefix: Path, lock: Lock, platform: str, python_version: str) -> bool:
    """Whether :func:`_sync_pypi` would install, uninstall or refuse anything now."""
    wanted = {p.name for p in lock.pypi_for(platform)}
    installed = installed_distributions(site_packages(prefix, python_version))
    owned = {name for package in lock.conda_for(platform) for name in package.provided_names()}
    owned.update(d.name for d in installed if d.installer == "conda")
    leaving = {d.name for d in installed} - owned - wanted
    return bool(owned & wanted or leaving or _to_install(lock.pypi_for(platform), installed))


def _verify_conda_archives(prefix: Path, wanted: Sequence[CondaPackage]) -> None:
    """Fill the package cache with verified entries for the conda packages this sync will link
    (the archives' sha256 against the lock, their paths and links inside the prefix), so that an
    :class:`~condauv.errors.ArchiveError` comes before any change. One stamp read per package
    to add; rattler is not even imported when every entry is verified already."""
    from condauv import paths
    from condauv.conda import verify

    have = installed_conda(prefix)
    adding = [
        p
        for p in wanted
        if p.name not in have or (have[p.name].version, have[p.name].build) != (p.version, p.build)
    ]
    if verify.unverified(paths.conda_pkgs_dir(), adding):
        from condauv.conda import engine

        # only what will be linked: an unchanged package's archive is not fetched again
        engine.verified_cache(wanted, only={p.name for p in adding})
    if adding and (prefix / "conda-meta").is_dir():
        from condauv.conda import engine

        engine.refuse_linking_out(wanted, prefix)


def _installed_site(prefix: Path) -> str | None:
    """The site-packages of the prefix's conda python, relative (``None``: no python yet)."""
    from condauv.platforms import python_site_packages

    python = installed_conda(prefix).get("python")
    return python_site_packages(python.version) if python else None


def refuse_foreign_removals(prefix: Path, lock: Lock, *, retry: str = "condauv sync --force") -> None:
    """In a conda prefix condauv did not make, syncing to ``lock`` may add, never remove.

    What would leave: conda packages the lock lacks, PyPI distributions neither side of the
    lock holds, and the PyPI side of an interpreter whose minor version changes.
    """
    platform = current_subdir()
    python_version = lock.python_version(platform) or ""
    have = installed_conda(prefix)
    locked = lock.conda_for(platform)
    names = {p.name for p in locked}
    leaving = [f"{name} {have[name].version} (conda)" for name in sorted(have) if name not in names]
    old_python = have.get("python")
    if old_python and _minor(old_python.version) != _minor(python_version):
        leaving.append(f"the PyPI packages of python {old_python.version}, which becomes {python_version}")
    else:
        keep = {p.name for p in lock.pypi_for(platform)}
        keep.update(name for p in locked for name in p.provided_names())
        leaving += [
            f"{d.name} {d.version} (pypi)"
            for d in installed_distributions(site_packages(prefix, python_version))
            if d.installer != "conda" and d.name not in keep
        ]
    if leaving:
        raise UserError(
            f"{prefix} is a conda prefix condauv did not create, and syncing would remove: "
            + ", ".join(leaving),
            hint=f"add those packages to the manifest, or run `{retry}` to make the prefix match the lock",
        )


def _keep_synced_copy(project: Project, lock: Lock) -> None:
    """conda-meta keeps the lock and manifest this sync made the prefix match (``adopt`` reads
    them); written only when they changed, so that a no-op sync writes nothing. The lock's text
    is the file's, which condauv wrote from ``lock``: serialising it costs more than the no-op."""
    from condauv.conda.prefix import read_synced_copy, write_synced_copy

    try:
        lock_text = project.lock_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        lock_text = lock.to_toml()
    from condauv._process import strip_credentials

    # an index URL's credentials stay in the project: a prefix is packed, shared, read by others
    # (the content hash leaves them out, so the copy still matches its lock)
    texts = (lock_text, strip_credentials(project.manifest.path.read_text(encoding="utf-8")))
    if read_synced_copy(project.prefix) != texts:
        write_synced_copy(project.prefix, lock_text=texts[0], manifest_text=texts[1])


def _sync_conda(
    project: Project,
    wanted: Sequence[CondaPackage],
    python_version: str,
    uv: Uv,
    report: SyncReport,
    changing: Callable[[], None],
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
    from condauv.conda import engine
    from condauv.conda.records import read_records

    # rattler unlinks a record by its paths_data, which real conda writes as package paths for
    # noarch: python packages: it deletes the record and leaves the files. Read them first.
    leaving = [r for r in read_records(prefix, on_error=_skip_record) if r.name not in same]
    _refuse_unlinking_outside(prefix, leaving)
    changing()
    old_python = have.get("python")
    if old_python and _minor(old_python.version) != _minor(python_version):
        _remove_pypi_side(prefix, old_python.version, uv, report)
    engine.install(wanted, prefix, requested=_requested_specs(wanted))
    _remove_unlinked_files(prefix, leaving)
    report.conda_added, report.conda_removed = added, removed


def _requested_specs(packages: Sequence[CondaPackage]) -> list[str]:
    """What conda-meta records as asked for (``requested_specs``), on every install and relink."""
    return [f"{p.name} {p.requested}" if p.requested != "*" else p.name for p in packages if p.requested]


def _refuse_unlinking_outside(prefix: Path, records: Sequence[CondaRecord]) -> None:
    """rattler deletes every path of a record it unlinks, even ``../x`` or one behind a link out
    of the prefix: refuse before it runs."""
    from condauv.conda.prefix import outside_paths

    for record in records:
        outside = outside_paths(prefix, record.paths)
        if outside:
            raise UserError(
                f"{record.record_path} lists paths outside {prefix} ("
                + ", ".join(map(repr, outside[:3]))
                + f"); unlinking {record.name} would delete them",
                hint="neither conda nor condauv writes such a record: remove those paths from it "
                "(or restore it from a backup), then sync again",
            )


def _skip_record(path: Path, exc: Exception) -> None:
    log.warning("%s is not a readable conda record (%s): left as it is", path, exc)


def _remove_unlinked_files(prefix: Path, leaving: Sequence[CondaRecord]) -> None:
    """Delete what the records rattler just removed still have in the prefix, but for the
    paths a remaining record lists; only inside the prefix, never through a link."""
    from condauv.conda.prefix import remove_files
    from condauv.conda.records import read_records

    left = [p for r in leaving for p in r.paths if "\x00" not in p and os.path.lexists(prefix / p)]
    if not left:
        return  # the usual case: rattler removed them all, and nothing more is read
    keep = {path for record in read_records(prefix, on_error=_skip_record) for path in record.paths}
    removed = remove_files(prefix, left, keep=keep)
    if removed:
        log.info("removed %d file(s) that conda's records listed and rattler left", len(removed))


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


def _pypi_to_install(prefix: Path, lock: Lock, platform: str, python_version: str) -> list[PypiPackage]:
    """What :func:`_sync_pypi` will install, asked before the conda side changes (a new
    interpreter's site-packages is empty: everything)."""
    installed = installed_distributions(site_packages(prefix, python_version))
    return _to_install(lock.pypi_for(platform), installed)


def _to_install(
    wanted: Sequence[PypiPackage], installed: Sequence[InstalledDistribution]
) -> list[PypiPackage]:
    """The locked packages not installed once, at the locked version."""
    versions: dict[str, list[str]] = {}
    for dist in installed:
        versions.setdefault(dist.name, []).append(dist.version)
    return sorted((p for p in wanted if versions.get(p.name, []) != [p.version]), key=lambda p: p.name)


def _sync_pypi(
    prefix: Path,
    lock: Lock,
    platform: str,
    python_version: str,
    installer: PypiInstaller,
    report: SyncReport,
    changing: Callable[[], None],
    *,
    new: bool = False,
) -> None:
    """uv's side, after the conda side; ``new``: in a new prefix while rattler still links (its
    dist-info folders are not read half-written: the lock says what conda owns, nothing is there
    to remove)."""
    wanted = {p.name: p for p in lock.pypi_for(platform)}
    owned: set[str] = set()
    for package in lock.conda_for(platform):
        owned.update(package.provided_names())
    installed = [] if new else installed_distributions(site_packages(prefix, python_version))
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
    install = _to_install(list(wanted.values()), installed)
    if remove or install:
        changing()
    if remove:
        installer.uv.uninstall(prefix / "bin" / "python", remove)
        report.pypi_removed += [f"{n} {by_name[n][0].version}" for n in remove]
    if install:
        done = installer.install(install)
        report.pypi_added += [f"{p.name} {p.version}" for p in install]
        # files that differ from their RECORD right after uv linked them: uv's cache entry was
        # altered (an edit in another prefix, through a hard link), so it is fetched again
        again = [p for p in install if p.name in done.altered]
        if again:
            fetched = installer.install(again, refetch=True)
            report.repaired += [
                f"fetched {p.name} {p.version} (pypi) again: uv's cache held altered files"
                for p in fetched.good
            ]
            report.unrepaired += _still_altered(again, fetched, offline=installer.uv.offline)


def _still_altered(packages: Sequence[PypiPackage], done: Installed, *, offline: bool) -> list[str]:
    """What :attr:`SyncReport.unrepaired` says of packages whose files still differ from their
    RECORD after uv installed them again, fetched anew."""
    from condauv.conda.verify import archive_path

    lines = []
    for package in packages:
        files = done.altered.get(package.name)
        if not files:
            continue
        shown = ", ".join(files[:3]) + (", ..." if len(files) > 3 else "")
        why = (
            "uv's cache holds the altered copy, and --offline forbids downloading it again"
            if offline and archive_path(package.url) is None
            else "its artifact's RECORD does not match its files"
        )
        lines.append(
            f"{package.name} {package.version} (pypi): {len(files)} file(s) differ from its RECORD "
            f"after installing it again ({shown}): {why}"
        )
    return lines


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
    installer: PypiInstaller,
    report: SyncReport,
    changing: Callable[[], None],
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
    reinstall = [p for p in lock.pypi_for(platform) if p.name in repairs.reinstall]
    installer.check(reinstall)  # a file:// artifact that is not the lock's: before anything changes
    changing()
    locked_conda = lock.conda_for(platform)
    locked_names = {p.name for p in locked_conda}
    relink = sorted(repairs.relink & locked_names)
    report.unrepaired += [
        f"{name} (conda): not in condauv.lock, so there is nothing to relink it from"
        for name in sorted(repairs.relink - locked_names)
    ]
    if relink:
        from condauv.conda import engine
        from condauv.conda.records import read_records

        _refuse_unlinking_outside(
            prefix, [r for r in read_records(prefix, on_error=_skip_record) if r.name in relink]
        )
        engine.install(locked_conda, prefix, requested=_requested_specs(locked_conda), reinstall=relink)
        report.repaired += [f"relinked {name} (conda)" for name in relink]
    if repairs.strays:
        from condauv.conda.records import read_records

        conda_paths = {f.path for record in read_records(prefix) for f in record.files}
        for folder, what in sorted(repairs.strays.items()):
            remove_distribution(prefix, folder, keep=conda_paths)
            report.repaired.append(f"removed {folder.name} ({what})")
    if reinstall:
        # fetched again: uv links from its cache, which an edit through a hard link altered too
        done = installer.install(reinstall, refetch=True)
        report.repaired += [f"reinstalled {p.name} {p.version} (pypi)" for p in done.good]
        report.unrepaired += _still_altered(reinstall, done, offline=installer.uv.offline)
    report.unrepaired += repairs.unrepairable
