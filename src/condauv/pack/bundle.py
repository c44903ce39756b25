"""``condauv pack --bundle``: every locked artifact, for a site without a network.

The archive holds one folder: ``channel/`` (the locked ``.conda`` files of every platform of the
lock, indexed), ``wheels/`` (the locked PyPI files), a ``condauv.toml`` that uses only those
(``channels = ["./channel"]``, ``find-links = ["wheels"]``, ``no-index = true``) and a
``condauv.lock`` with the same packages, versions, builds and sha256, its URLs on those files.
Each artifact is fetched as sync fetches it and held to the lock's sha256 before it goes in.

A lock holds absolute URLs (``file:///...``: rattler and uv install from them, and
:func:`~condauv.lock.validate.check_sources` holds them to the manifest's folders), so the
bundle's lock is written for a fixed folder, :data:`NEUTRAL_ROOT` ``/<top>`` (never the
builder's scratch folder: its path names a home folder, a host and a process).
:func:`~condauv.pack.unbundle.relocate_bundle` (``condauv unbundle``) moves it to where the
bundle was unpacked, and changes nothing else. No decision is made again: that is why
``condauv lock`` is not the way to do it.

The other side, ``condauv unbundle``, is :mod:`condauv.pack.unbundle`. The bundle is as
trustworthy as whoever made it: its lock's sha256 can be edited along with its files;
:func:`archive_sha256`, compared out of band, is what tells the archive is the one made.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tarfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from condauv import _fs
from condauv.errors import LockfileError, UserError
from condauv.lock.model import LOCK_NAME, CondaPackage, Lock, PypiPackage, load_lock
from condauv.manifest.model import MANIFEST_NAME, Manifest, parse_manifest

if TYPE_CHECKING:
    from condauv.project import Project

__all__ = [
    "CHANNEL_DIR",
    "NEUTRAL_ROOT",
    "WHEELS_DIR",
    "archive_sha256",
    "channel_uri",
    "default_output",
    "make_bundle",
    "write_bundle_lock",
]

log = logging.getLogger(__name__)

CHANNEL_DIR = "channel"
WHEELS_DIR = "wheels"

#: The folder a bundle's lock is written for: ``file:///condauv-bundle/<top>/channel/...``.
#: Nothing is read there; ``condauv unbundle`` moves the lock to where the bundle lies.
NEUTRAL_ROOT = Path("/condauv-bundle")


def default_output(project: Project) -> Path:
    """``<environment name>-bundle.tar.gz`` beside condauv.toml."""
    from condauv.pack.archive import default_output as env_archive

    return env_archive(project).with_name(env_archive(project).name.replace(".tar.gz", "-bundle.tar.gz"))


def make_bundle(project: Project, output: Path | None = None) -> Path:
    """Write the bundle of ``project``'s lock to ``output`` (default :func:`default_output`).

    Refused, with nothing written: a lock that is missing or stale, an output in the prefix or
    ``.condauv`` or over the manifest or lock, an artifact whose sha256 is not the lock's. Built
    in a scratch folder, written beside ``output`` under a temporary name, renamed at the end.
    """
    from condauv.pack.archive import check_output, staging

    output = (output or default_output(project)).expanduser().absolute()
    if not output.name.endswith((".tar.gz", ".tgz")):
        raise UserError(f"-o {output}: a bundle is a .tar.gz", hint="end the file name with .tar.gz")
    top = _top_name(output)
    check_output(project, output)
    lock = _fresh_lock(project)
    _warn_of_sdists(lock)
    home = NEUTRAL_ROOT / top  # what the lock names; the files are built in ``root``
    with _fs.scratch_dir("bundle-") as scratch:
        root = scratch / top
        root.mkdir()
        manifest = _write_manifest(project.manifest, root, home)
        conda = _fill_channel(lock, root / CHANNEL_DIR, home / CHANNEL_DIR)
        pypi = _fill_wheelhouse(project.manifest, lock, root / WHEELS_DIR, home / WHEELS_DIR)
        locked = replace(lock, channels=(channel_uri(home),), conda=conda, pypi=pypi)
        write_bundle_lock(locked, manifest, root / LOCK_NAME)
        with staging(output) as staged:
            _write_archive(root, staged)
            staged.replace(output)
    return output


def _top_name(output: Path) -> str:
    """The bundle's folder: the file's name without its suffix, which must name a folder."""
    top = output.name.removesuffix(".tgz").removesuffix(".tar.gz")
    if top in ("", ".", ".."):
        raise UserError(
            f"-o {output}: the bundle unpacks to a folder named after the file without its suffix, "
            f"and {top!r} names no folder",
            hint="give a name before the suffix, e.g. -o site-bundle.tar.gz",
        )
    return top


def archive_sha256(path: Path) -> str:
    """The sha256 of the bundle at ``path``, to be compared out of band where it is unpacked."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _fresh_lock(project: Project) -> Lock:
    from condauv.sync.freshness import Freshness, freshness

    lock = load_lock(project.lock_path, manifest=project.manifest)  # checked, sources included
    state = freshness(project.manifest, lock)
    if lock is None or state is Freshness.STALE:
        raise LockfileError(
            f"{state.describe()}: a bundle carries the lock's artifacts",
            hint="run `condauv lock` first, then bundle",
        )
    return lock


def _warn_of_sdists(lock: Lock) -> None:
    """An sdist goes in as it is locked, but the site builds it, and its build backend (never
    locked, as in uv.lock) is not in the bundle: said once, naming each, before anything is fetched."""
    from condauv.pypi.uv import is_sdist

    sdists = sorted({f"{p.name} {p.version}" for p in lock.pypi if is_sdist(p)})
    if sdists:
        log.warning(
            "%s %s locked as an sdist: the site builds it, and the bundle does not carry its build "
            "backend (its build-system.requires); put the backend's wheels in the bundle's %s/ folder "
            "(`sync --offline` finds them there), or lock a wheel of it",
            ", ".join(sdists),
            "is" if len(sdists) == 1 else "are",
            WHEELS_DIR,
        )


def channel_uri(root: Path) -> str:
    return (root / CHANNEL_DIR).as_uri()


def _write_manifest(manifest: Manifest, root: Path, home: Path) -> Manifest:
    """The manifest with the bundle's sources only, written in ``root``, read as if in ``home``;
    a configured prefix is dropped (it may lie outside the unpacked folder): the environment goes
    to ``.condauv/env`` beside it."""
    from condauv.manifest.edit import ManifestDocument

    document = ManifestDocument.open(manifest.path)
    document.set_sources([f"./{CHANNEL_DIR}"], {"find-links": [WHEELS_DIR], "no-index": True})
    document.unset_prefix()
    _fs.atomic_write_text(root / MANIFEST_NAME, document.text())
    return parse_manifest(document.text(), home / MANIFEST_NAME)


def _fill_channel(lock: Lock, channel: Path, home: Path) -> tuple[CondaPackage, ...]:
    """The lock's conda archives, fetched and verified, in an indexed channel; the entries
    pointing at them as if the channel were ``home``. A noarch archive locked for two platforms
    is fetched once."""
    from condauv.conda import engine

    unique = list({p.url: p for p in lock.conda}.values())
    engine.fetch_archives(unique, channel)
    for subdir in ("noarch", *lock.platforms):  # a solve reads both: each gets a repodata.json
        (channel / subdir).mkdir(parents=True, exist_ok=True)
    engine.index_channel(channel)
    _remove_if_empty(channel / ".tmp")  # the indexer's scratch folder
    return tuple(
        replace(p, channel=home.as_uri(), url=(home / p.subdir / unquote(p.file_name)).as_uri())
        for p in lock.conda
    )


def _fill_wheelhouse(manifest: Manifest, lock: Lock, wheels: Path, home: Path) -> tuple[PypiPackage, ...]:
    """The lock's PyPI files, downloaded with the manifest's credentials (never written down)
    and held to the lock's sha256; the entries pointing at them as if the folder were ``home``."""
    from condauv.pypi.auth import remember
    from condauv.pypi.simple import download_verified

    options = manifest.pypi_options
    for index in (*((options.index_url,) if options.index_url else ()), *options.extra_index_urls):
        remember(index)
    wheels.mkdir()
    for package in {p.url: p for p in lock.pypi}.values():
        download_verified(package.url, wheels / unquote(package.file_name), package.sha256)
    return tuple(replace(p, url=(home / unquote(p.file_name)).as_uri()) for p in lock.pypi)


def write_bundle_lock(lock: Lock, manifest: Manifest, path: Path) -> Lock:
    """Write ``lock`` to ``path`` for ``manifest`` (its content hash), then read it back as sync
    will (every field, and every URL held to ``manifest``'s folders)."""
    _fs.atomic_write_text(path, replace(lock, content_hash=manifest.content_hash()).to_toml())
    written = load_lock(path, manifest=manifest)
    return written if written is not None else lock


def _write_archive(root: Path, target: Path) -> None:
    """A plain tar.gz of ``root`` (its folder name on top): regular files and folders only,
    relative names, no owner names."""

    def clean(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mode = 0o755 if info.isdir() else 0o644
        return info

    with tarfile.open(target, "w:gz") as archive:
        for path in _members(root):
            archive.add(path, arcname=path.relative_to(root.parent).as_posix(), recursive=False, filter=clean)


def _members(root: Path) -> Iterator[Path]:
    yield root
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in (*sorted(dirs), *sorted(files)):
            path = Path(folder) / name
            if path.is_symlink() or not (path.is_file() or path.is_dir()):
                raise UserError(f"{path} is not a plain file", hint="report this: a bundle holds files only")
            yield path


def _remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):
        folder.rmdir()
