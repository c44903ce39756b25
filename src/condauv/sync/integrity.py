"""What uv installs is what was locked: the checks around each of sync's ``uv pip install`` runs.

uv holds an artifact it downloads to the lock's hash (``--require-hashes``), but a local one
(``file://``: a bundle, a find-links folder) only while it unpacks it, by then after the conda
side changed, and with uv's unzip errors rather than a hash's. So every ``file://`` artifact is
hashed here against the lock before the first change, as the conda side's archives are
(:mod:`condauv.conda.verify`), each file read once, streaming, and not again while its stat
says it is the file that hashed right.

uv links installed files from its cache as hard links: an edit made in a prefix alters uv's
cache too, and every later install of that package (another prefix, or a repair that relinks
the cache) gets the altered file. So the files of what uv has just installed are hashed against
their RECORD (tens of milliseconds for the demo's PyPI side); a package with altered files is
installed again with uv's cache entries for it removed first, which makes uv unpack or download
it again, and hashed once more: a repair never reports success over files that are still wrong.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from condauv import _fs, progress
from condauv.conda.verify import archive_path
from condauv.errors import ArchiveError, CondauvError
from condauv.lock.model import PypiPackage
from condauv.pypi.site import site_packages, split_metadata_folder
from condauv.pypi.uv import Uv, is_sdist, write_pylock

__all__ = ["Installed", "PypiInstaller", "altered_files", "check_local_artifacts", "install_locked"]

Notify = Callable[[str], None]


def check_local_artifacts(packages: Sequence[PypiPackage]) -> None:
    """Hash every ``file://`` artifact of ``packages`` against its lock entry.

    A file whose sha256 is not the lock's, or that is no regular file (a FIFO or ``/dev/zero``
    would never end), is an :class:`~condauv.errors.ArchiveError`; one that cannot be read is a
    :class:`~condauv.errors.CondauvError` (exit 1), as for a conda archive that cannot be fetched.

    A file that hashed right before and whose inode, size, mtime and ctime are unchanged is not
    read again (:func:`condauv.health.hashing.verify_files`, a stat cache per folder); every
    other one is hashed, and any that is not the lock's hashed once more here, for its error.
    """
    local = [(p, path) for p in packages if (path := archive_path(p.url)) is not None]
    if not local:
        return  # a lock of index URLs only: nothing more is imported
    from condauv.health.hashing import OK, verify_files

    folders: dict[Path, list[int]] = {}
    for index, (_, path) in enumerate(local):
        folders.setdefault(Path(os.path.normpath(path)).parent, []).append(index)
    good: set[int] = set()
    for folder, indices in folders.items():
        jobs = [(os.path.normpath(local[i][1]), local[i][0].sha256, None, False) for i in indices]
        states = verify_files(jobs, folder)
        good.update(i for i, state in zip(indices, states, strict=True) if state == OK)
    for index, item in enumerate(local):
        if index not in good and (actual := _hash_local(item)) != item[0].sha256:
            raise _mismatch(item[0], actual)


def _hash_local(item: tuple[PypiPackage, Path]) -> str:
    from condauv.conda.verify import file_sha256

    package, path = item
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise ArchiveError(
                f"PyPI package {_label(package)} at {package.url} is no regular file",
                hint="the lock's file:// URLs must name the wheels and sdists it was made from: "
                "restore them, or run `condauv lock` again",
            )
        return file_sha256(path)
    except OSError as exc:
        raise CondauvError(
            f"cannot read PyPI package {_label(package)} at {path}: {exc.strerror or exc}",
            hint="the lock's artifacts must be reachable: restore the file (a bundle: unpack it "
            "with `condauv unbundle`), or run `condauv lock` again",
        ) from None


def _mismatch(package: PypiPackage, actual: str) -> ArchiveError:
    return ArchiveError.mismatch(
        f"PyPI package {_label(package)}",
        package.url,
        actual,
        package.sha256,
        hint="the file changed after locking: restore it, or, if the new one is trusted, "
        "run `condauv lock` again",
    )


def _label(package: PypiPackage) -> str:
    return f"{package.name} {package.version}"


@dataclass(slots=True)
class Installed:
    """What one install did: the packages whose files now match their RECORD, and the others
    (name -> the altered or missing files, relative to the prefix)."""

    good: list[PypiPackage] = field(default_factory=list)
    altered: dict[str, list[str]] = field(default_factory=dict)


@dataclass(slots=True)
class PypiInstaller:
    """uv's installs of one sync: each ``file://`` artifact hashed once, sdist builds announced
    (``notify``), the installed files checked against their RECORD."""

    uv: Uv
    prefix: Path
    python_version: str
    notify: Notify | None = None
    hashed: set[tuple[str, str]] = field(default_factory=set)

    def check(self, packages: Sequence[PypiPackage]) -> None:
        """:func:`check_local_artifacts` for those not checked yet in this sync."""
        todo = [p for p in packages if (p.url, p.sha256) not in self.hashed]
        check_local_artifacts(todo)
        self.hashed.update((p.url, p.sha256) for p in todo)

    def install(self, packages: Sequence[PypiPackage], *, refetch: bool = False) -> Installed:
        """Install ``packages`` from the lock (a pylock.toml uv parses, no requirement lines
        built from lock text), then hash their files. ``refetch``: remove uv's cache entries for
        them first, so that uv unpacks or downloads each again rather than relinking its cache
        (offline, only ``file://`` ones: an index's wheel has no other copy)."""
        self.check(packages)
        if refetch:
            again = [p.name for p in packages if not self.uv.offline or archive_path(p.url) is not None]
            self.uv.cache_clean(again)
        if self.notify is not None:
            for package in packages:
                if is_sdist(package):
                    self.notify(f"building {_label(package)} from its sdist: this runs its build code")
        several = f"{len(packages)} PyPI package{'s' if len(packages) != 1 else ''}"
        with progress.task(f"installing {several} with uv") as update:  # uv's own bar is off: captured
            site = site_packages(self.prefix, self.python_version)
            install_locked(self.uv, self.prefix / "bin" / "python", packages, site=site)
            update(0, None, f"checking the files of {several} against their RECORD")
            altered = altered_files(self.prefix, self.python_version, [p.name for p in packages])
        return Installed([p for p in packages if p.name not in altered], altered)


def install_locked(
    uv: Uv, python: Path, packages: Sequence[PypiPackage], *, site: Path | None = None
) -> None:
    """uv installs ``packages`` from a pylock.toml: a file it parses, no requirement lines
    built from lock text, each field checked again as it is written. Those with a metadata
    folder in ``site`` already are reinstalled (a same-version folder from another artifact is
    replaced); without ``site``, all are."""
    reinstall: bool | list[str] = True
    if site is not None:
        wanted = {p.name for p in packages}
        try:
            names = os.listdir(site)  # noqa: PTH208 - names only
        except OSError:  # no site-packages yet: a new prefix
            names = []
        found = (split_metadata_folder(name) for name in names)
        reinstall = sorted({f[0] for f in found if f is not None and f[0] in wanted})
    with _fs.scratch_dir("condauv-install-") as tmp:  # in condauv's cache: a killed sync's is removed
        uv.install(python, write_pylock(Path(tmp), packages), packages, reinstall=reinstall)


#: What an installer writes in a dist-info as it installs (PEP 376, PEP 610, uv's own): never
#: linked from uv's cache, so an edit made in another prefix cannot have reached them
_WRITTEN_BY_THE_INSTALLER = frozenset({"INSTALLER", "REQUESTED", "direct_url.json", "uv_cache.json"})


def altered_files(prefix: Path, python_version: str, names: Sequence[str]) -> dict[str, list[str]]:
    """The distributions of ``names`` in the prefix whose files differ from their RECORD
    (name -> those files, relative to the prefix); one without a RECORD is not judged.

    Only the metadata folders of ``names`` are read (a prefix holds conda's too), and only the
    files uv links from its cache are hashed: those its install writes afresh are not."""
    from condauv.health.dists import read_record
    from condauv.health.hashing import OK, verify_files

    site = site_packages(prefix, python_version)
    jobs: list[tuple[str, str | None, int | None, bool]] = []
    owners: list[str] = []
    for name, folder in _metadata_folders(site, set(names)):
        written = {f"{folder.name}/{file}" for file in _WRITTEN_BY_THE_INSTALLER}
        for entry in read_record(folder) or ():
            if entry.digest is not None and entry.path not in written:
                jobs.append((os.path.normpath(f"{site}/{entry.path}"), entry.digest, entry.size, False))
                owners.append(name)
    altered: dict[str, list[str]] = {}
    for (path, *_), owner, state in zip(jobs, owners, verify_files(jobs, prefix), strict=True):
        if state != OK:
            altered.setdefault(owner, []).append(os.path.relpath(path, prefix))
    return altered


def _metadata_folders(site: Path | None, wanted: set[str]) -> list[tuple[str, Path]]:
    """(name, folder) of the metadata folders in ``site`` of the distributions ``wanted``, but
    conda's, sorted as :func:`condauv.pypi.site.installed_distributions` sorts them: that, with
    only the wanted folders' ``INSTALLER`` read."""
    if site is None:
        return []
    try:
        entries = os.listdir(site)  # noqa: PTH208 - names only: a Path is made for the wanted ones
    except OSError:  # no site-packages (yet)
        return []
    found: list[tuple[str, str, Path]] = []
    for entry in entries:
        parsed = split_metadata_folder(entry)
        if parsed is None or parsed[0] not in wanted:
            continue
        folder = site / entry
        installer = folder / "INSTALLER"  # read only when a file: a FIFO's read would never end
        if (
            not installer.is_file()
            or installer.read_text(encoding="utf-8", errors="replace").strip() != "conda"
        ):
            found.append((*parsed, folder))
    return [(name, folder) for name, _, folder in sorted(found, key=lambda f: (f[0], f[1]))]
