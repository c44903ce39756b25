"""``condauv pack --bundle``: every locked artifact, for a site without a network.

The archive holds one folder: ``channel/`` (the locked ``.conda`` files of every platform of the
lock, indexed), ``wheels/`` (the locked PyPI files), a ``condauv.toml`` that uses only those
(``channels = ["./channel"]``, ``find-links = ["wheels"]``, ``no-index = true``) and a
``condauv.lock`` with the same packages, versions, builds and sha256, its URLs on those files.
Each artifact is fetched as sync fetches it and held to the lock's sha256 before it goes in.

A lock holds absolute URLs (``file:///...``: rattler and uv install from them, and
:func:`~condauv.lock.validate.check_sources` holds them to the manifest's folders), so the
bundle's lock names the folder it was written in. :func:`relocate_bundle` (``condauv
unbundle``) moves it to where the bundle was unpacked, and changes nothing else: it first
proves that the lock is the one written for this manifest at that folder (its content hash),
then rewrites each URL's folder and the content hash. No decision is made again: that is why
``condauv lock`` is not the way to do it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tarfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from condauv import _fs
from condauv.errors import LockfileError, UserError
from condauv.lock.model import LOCK_NAME, CondaPackage, Lock, PypiPackage, load_lock
from condauv.manifest.model import MANIFEST_NAME, Manifest, parse_manifest

if TYPE_CHECKING:
    from condauv.project import Project

__all__ = ["CHANNEL_DIR", "WHEELS_DIR", "default_output", "make_bundle", "relocate_bundle", "unpack_bundle"]

log = logging.getLogger(__name__)

CHANNEL_DIR = "channel"
WHEELS_DIR = "wheels"

_RELOCATE_HINT = "unpack the bundle again; this lock was edited"


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
    check_output(project, output)
    lock = _fresh_lock(project)
    _warn_of_sdists(lock)
    top = output.name.removesuffix(".tgz").removesuffix(".tar.gz")
    with _fs.scratch_dir("bundle-") as scratch:
        root = (scratch / top).resolve()
        root.mkdir()
        manifest = _write_manifest(project.manifest, root)
        conda = _fill_channel(lock, root / CHANNEL_DIR)
        pypi = _fill_wheelhouse(project.manifest, lock, root / WHEELS_DIR)
        _write_lock(replace(lock, channels=(_channel_uri(root),), conda=conda, pypi=pypi), manifest)
        with staging(output) as staged:
            _write_archive(root, staged)
            staged.replace(output)
    return output


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


def _channel_uri(root: Path) -> str:
    return (root / CHANNEL_DIR).as_uri()


def _write_manifest(manifest: Manifest, root: Path) -> Manifest:
    """The manifest with the bundle's sources only; a configured prefix is dropped (it may lie
    outside the unpacked folder): the environment goes to ``.condauv/env`` beside it."""
    from condauv.manifest.edit import ManifestDocument

    document = ManifestDocument.open(manifest.path)
    document.set_sources([f"./{CHANNEL_DIR}"], {"find-links": [WHEELS_DIR], "no-index": True})
    document.unset_prefix()
    path = root / MANIFEST_NAME
    _fs.atomic_write_text(path, document.text())
    return parse_manifest(document.text(), path)


def _fill_channel(lock: Lock, channel: Path) -> tuple[CondaPackage, ...]:
    """The lock's conda archives, fetched and verified, in an indexed channel; the entries
    pointing at them. A noarch archive locked for two platforms is fetched once."""
    from condauv.conda import engine

    unique = list({p.url: p for p in lock.conda}.values())
    engine.fetch_archives(unique, channel)
    for subdir in ("noarch", *lock.platforms):  # a solve reads both: each gets a repodata.json
        (channel / subdir).mkdir(parents=True, exist_ok=True)
    engine.index_channel(channel)
    _remove_if_empty(channel / ".tmp")  # the indexer's scratch folder
    home = channel.as_uri()
    return tuple(
        replace(p, channel=home, url=(channel / p.subdir / unquote(p.file_name)).as_uri()) for p in lock.conda
    )


def _fill_wheelhouse(manifest: Manifest, lock: Lock, wheels: Path) -> tuple[PypiPackage, ...]:
    """The lock's PyPI files, downloaded with the manifest's credentials (never written down)
    and held to the lock's sha256; the entries pointing at them."""
    from condauv.pypi.auth import remember
    from condauv.pypi.simple import download_verified

    options = manifest.pypi_options
    for index in (*((options.index_url,) if options.index_url else ()), *options.extra_index_urls):
        remember(index)
    wheels.mkdir()
    for package in {p.url: p for p in lock.pypi}.values():
        download_verified(package.url, wheels / unquote(package.file_name), package.sha256)
    return tuple(replace(p, url=(wheels / unquote(p.file_name)).as_uri()) for p in lock.pypi)


def _write_lock(lock: Lock, manifest: Manifest) -> Lock:
    """Write ``lock`` for ``manifest`` (its content hash), then read it back as sync will."""
    path = manifest.root / LOCK_NAME
    _fs.atomic_write_text(path, replace(lock, content_hash=manifest.content_hash()).to_toml())
    written = load_lock(path, manifest=manifest)  # every field and every URL checked
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


def unpack_bundle(archive: Path, into: Path) -> Path:
    """Unpack the bundle ``archive`` into the folder ``into`` and relocate its lock there; the
    bundle's folder. Only regular files and folders below it are taken (tarfile's ``data``
    filter: no links, no absolute or ``..`` names, no device files)."""
    into = into.resolve()
    try:
        with tarfile.open(archive, "r:gz") as tar:
            tops = {Path(m.name).parts[0] for m in tar.getmembers() if Path(m.name).parts}
            if len(tops) != 1 or any(not (m.isfile() or m.isdir()) for m in tar.getmembers()):
                raise UserError(
                    f"{archive} is not a condauv bundle (one folder of plain files)",
                    hint="give the file `condauv pack --bundle` wrote",
                )
            folder = into / tops.pop()
            if folder.exists():
                raise UserError(f"{folder} exists already", hint="unpack into another folder, or remove it")
            tar.extractall(into, filter="data")
    except (OSError, tarfile.TarError) as exc:
        raise UserError(
            f"cannot unpack {archive}: {exc}", hint="check the file: it may be truncated"
        ) from None
    relocate_bundle(folder)
    return folder


def relocate_bundle(folder: Path) -> Lock:
    """Point the lock of the bundle unpacked in ``folder`` at ``folder``'s channel and wheels.

    Refused unless the lock is the bundle's own: its channel is a bundle's ``channel`` folder, the
    manifest's sources are the bundle's, and the lock's content hash is the manifest's as it was
    where the bundle was made. Then only the URLs' folder and the content hash change.
    """
    folder = folder.resolve()
    manifest_path = folder / MANIFEST_NAME
    from condauv.manifest.model import load_manifest

    here = load_manifest(manifest_path)
    lock = load_lock(folder / LOCK_NAME)
    if lock is None:
        raise LockfileError(f"no {LOCK_NAME} in {folder}", hint="unpack the whole bundle")
    old = _bundle_root(lock)
    text = manifest_path.read_text(encoding="utf-8")
    there = parse_manifest(text, old / MANIFEST_NAME)
    _check_bundle_sources(here, there, old)
    if there.content_hash() != lock.content_hash:
        raise LockfileError(
            f"{LOCK_NAME} in {folder} is not the bundle's lock for its condauv.toml (one was edited)",
            hint="unpack the bundle again; `condauv pack --bundle` writes the two together",
        )
    if old == folder:
        return lock
    new_lock = replace(
        lock,
        channels=(_channel_uri(folder),),
        conda=tuple(
            replace(p, channel=_channel_uri(folder), url=_moved(p.url, old, folder)) for p in lock.conda
        ),
        pypi=tuple(replace(p, url=_moved(p.url, old, folder)) for p in lock.pypi),
    )
    return _write_lock(new_lock, here)


def _bundle_root(lock: Lock) -> Path:
    channels = lock.channels
    parts = urlsplit(channels[0]) if len(channels) == 1 else None
    if parts is None or parts.scheme != "file" or not unquote(parts.path).endswith(f"/{CHANNEL_DIR}"):
        raise LockfileError(
            f"{LOCK_NAME}: its channels ({', '.join(channels):.200}) are not a bundle's channel folder",
            hint="this is no bundle's lock: `condauv unbundle` only moves a bundle",
        )
    return Path(unquote(parts.path)).parent


def _check_bundle_sources(here: Manifest, there: Manifest, old: Path) -> None:
    options = there.pypi_options
    bundle_like = (
        here.environment.channels == (f"./{CHANNEL_DIR}",)
        and options.no_index
        and not options.index_url
        and not options.extra_index_urls
        and options.find_links == (str(old / WHEELS_DIR),)
    )
    if not bundle_like:
        raise UserError(
            f"{here.path} does not use only the bundle's channel and wheels",
            hint="unpack the bundle again; `condauv pack --bundle` writes the two together",
        )


def _moved(url: str, old: Path, new: Path) -> str:
    path = Path(unquote(urlsplit(url).path))
    for sub in (CHANNEL_DIR, WHEELS_DIR):
        base = old / sub
        if path.is_relative_to(base):
            return (new / sub / path.relative_to(base)).as_uri()
    raise LockfileError(
        f"{LOCK_NAME}: {url:.200} is not in the bundle's channel or wheels", hint=_RELOCATE_HINT
    )
