"""``condauv unbundle``: a bundle that ``condauv pack --bundle`` wrote, unpacked and moved to where
it now lies.

Nothing in a bundle is trusted to stay inside it: ``unbundle`` takes plain files and folders
only (no links, no absolute or ``..`` names), a manifest with no source or ``prefix`` but the
bundle's own, and unpacks aside, renaming into place only what passed; a refusal leaves nothing.
:func:`relocate_bundle` proves that the lock is the one written for this manifest at the folder
the bundle was made for (its content hash), then rewrites each URL's folder and the content hash.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import os
import shutil
import stat
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from condauv import validation
from condauv.errors import LockfileError, UserError
from condauv.lock.model import LOCK_NAME, Lock, load_lock
from condauv.manifest.model import MANIFEST_NAME, Manifest, parse_manifest
from condauv.pack.bundle import CHANNEL_DIR, WHEELS_DIR, channel_uri, write_bundle_lock

__all__ = ["relocate_bundle", "unpack_bundle"]

#: What :func:`~condauv.pack.bundle.make_bundle` writes in the bundle's folder, and nothing else.
_PARTS = {MANIFEST_NAME: "file", LOCK_NAME: "file", CHANNEL_DIR: "folder", WHEELS_DIR: "folder"}
_EDITED_HINT = (
    "the bundle was changed after `condauv pack --bundle` wrote it: get it again from where it was "
    "made, and compare its sha256 with the one printed there"
)
_NOT_A_BUNDLE_HINT = (
    "give the archive `condauv pack --bundle` wrote (one folder: condauv.toml, condauv.lock, channel/, "
    "wheels/), or the folder `tar -xzf` made of it"
)


def unpack_bundle(archive: Path, into: Path) -> Path:
    """Unpack the bundle ``archive`` into the folder ``into`` and relocate its lock there; the
    bundle's folder.

    The members are checked before anything is written: plain files and folders of one folder
    holding only what :func:`make_bundle` writes (no links, no absolute or ``..`` names, no
    device files), their sizes against the free space. The archive is unpacked into a temporary
    folder beside the destination (one file system), checked and relocated there as
    :func:`relocate_bundle` does, then renamed into place: a refusal, a full disk or Ctrl-C
    leaves nothing behind, so the same command can simply be run again.
    """
    if not archive.is_file():
        if archive.exists():
            raise UserError(f"{archive} is not a regular file", hint=_NOT_A_BUNDLE_HINT)
        raise UserError(
            f"{archive}: no such file",
            hint="check the path: give the .tar.gz `condauv pack --bundle` wrote, or the folder it "
            "was unpacked to",
        )
    into = into.resolve()
    with _open_archive(archive) as (tar, members):
        top = _check_members(archive, members)
        with _made_folder(into):
            folder = into / top
            if folder.exists() or folder.is_symlink():
                raise UserError(
                    f"{folder} exists already", hint="unpack into another folder (-C DIR), or remove it"
                )
            _check_space(archive, members, into)
            with _aside(into, top) as temp:
                _extract(archive, tar, members, temp, into)
                _relocate(temp / top, folder, where=str(archive))
                try:
                    (temp / top).rename(folder)
                except OSError as exc:
                    raise UserError(
                        f"cannot move the unpacked bundle to {folder}: {exc.strerror or exc}",
                        hint="unpack into another folder (-C DIR), or remove what is there",
                    ) from None
    return folder


_DAMAGED_HINT = (
    "the file is damaged or incomplete: copy it again, and compare its sha256 with the one "
    "`condauv pack --bundle` printed"
)


@contextlib.contextmanager
def _open_archive(archive: Path) -> Iterator[tuple[tarfile.TarFile, list[tarfile.TarInfo]]]:
    """The archive and its members (headers only: nothing is written yet)."""
    with contextlib.ExitStack() as stack:
        try:
            tar = stack.enter_context(tarfile.open(archive, "r:gz"))
            members = tar.getmembers()
        except (OSError, tarfile.TarError, EOFError, zlib.error) as exc:
            raise UserError(f"cannot read {archive} as a .tar.gz: {exc}", hint=_DAMAGED_HINT) from None
        yield tar, members


def _check_members(archive: Path, members: list[tarfile.TarInfo]) -> str:
    """The bundle's folder name, once every member is a plain file or folder under it, among the
    parts :func:`make_bundle` writes, and the manifest and lock are there."""

    def refuse(what: str) -> UserError:
        return UserError(f"{archive} is not a condauv bundle: it holds {what}", hint=_NOT_A_BUNDLE_HINT)

    tops: set[str] = set()
    seen: set[tuple[str, ...]] = set()
    for member in members:
        name = PurePosixPath(member.name)
        shown = validation.shown(member.name, 120)
        if name.is_absolute():
            raise refuse(f"an absolute name, {shown}")
        if ".." in name.parts:
            raise refuse(f"a name outside its folder, {shown}")
        if not (member.isfile() or member.isdir()):
            kind = (
                "a symbolic link" if member.issym() else "a hard link" if member.islnk() else "a special file"
            )
            raise refuse(f"{kind}, {shown}")
        parts = name.parts
        if not parts or parts in seen:
            raise refuse(f"{shown} {'twice' if parts else 'with no folder'}")
        seen.add(parts)
        tops.add(parts[0])
        if len(parts) == 1 and not member.isdir():
            raise refuse(f"the file {shown} where its folder belongs")
        if len(parts) > 1 and parts[1] not in _PARTS:
            raise refuse(f"{shown}, which `condauv pack --bundle` never writes")
        if len(parts) == 2 and member.isdir() != (_PARTS[parts[1]] == "folder"):
            raise refuse(f"{shown} as a {'folder' if member.isdir() else 'file'}")
    if len(tops) != 1:
        raise refuse("nothing" if not tops else f"{len(tops)} folders on top, not one")
    top = tops.pop()
    for part in (MANIFEST_NAME, LOCK_NAME):
        if (top, part) not in seen:
            raise UserError(
                f"{archive} holds no {part}: it is not a whole condauv bundle", hint=_NOT_A_BUNDLE_HINT
            )
    return top


def _check_space(archive: Path, members: list[tarfile.TarInfo], into: Path) -> None:
    """The sizes the members declare (each rounded up to a block) must fit in ``into``'s free space."""
    block = 4096
    need = sum(-(-member.size // block) * block if member.isfile() else block for member in members)
    free = shutil.disk_usage(into).free
    if need > free:
        raise UserError(
            f"{archive} unpacks to {_mib(need)} and {into} has {_mib(free)} free",
            hint="free space there, or unpack elsewhere with -C DIR",
        )


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


@contextlib.contextmanager
def _made_folder(folder: Path) -> Iterator[None]:
    """``folder``, created with its missing parents if need be; those removed again on failure."""
    missing: list[Path] = []
    probe = folder
    while not probe.exists() and not probe.is_symlink() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    if not probe.is_dir():
        raise UserError(
            f"-C {folder}: {probe} is not a folder", hint="give a folder to unpack into with -C DIR"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(
            f"cannot create {folder}: {exc.strerror or exc}",
            hint="give a folder you can write to with -C DIR",
        ) from None
    try:
        yield
    except BaseException:
        for made in missing:  # deepest first; only if still empty
            with contextlib.suppress(OSError):
                made.rmdir()
        raise


@contextlib.contextmanager
def _aside(into: Path, top: str) -> Iterator[Path]:
    """A temporary folder in ``into`` (``.<top>.condauv-*.tmp``), removed whatever happens."""
    try:
        temp = Path(tempfile.mkdtemp(prefix=f".{top}.condauv-", suffix=".tmp", dir=into))
    except OSError as exc:
        raise UserError(
            f"cannot write in {into}: {exc.strerror or exc}",
            hint="give a folder you can write to with -C DIR",
        ) from None
    try:
        yield temp
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def _extract(
    archive: Path, tar: tarfile.TarFile, members: list[tarfile.TarInfo], temp: Path, into: Path
) -> None:
    """Every member into ``temp``, through tarfile's ``data`` filter, with the modes pack writes."""

    def plain(member: tarfile.TarInfo, path: str) -> tarfile.TarInfo:
        checked = tarfile.data_filter(member, path)
        return checked.replace(mode=0o755 if checked.isdir() else 0o644, deep=False)

    try:
        for member in members:
            tar.extract(member, temp, filter=plain)
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise UserError(f"cannot read {archive}: {exc}", hint=_DAMAGED_HINT) from None
    except OSError as exc:
        if isinstance(exc, gzip.BadGzipFile):
            raise UserError(f"cannot read {archive}: {exc}", hint=_DAMAGED_HINT) from None
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise UserError(
                f"cannot unpack {archive}: no space left in {into}",
                hint="free space there, or unpack elsewhere with -C DIR",
            ) from None
        raise UserError(
            f"cannot unpack {archive} into {into}: {exc.strerror or exc}",
            hint="give a folder you can write to with -C DIR",
        ) from None


def relocate_bundle(folder: Path) -> Lock:
    """Point the lock of the bundle unpacked in ``folder`` at ``folder``'s channel and wheels.

    Refused unless the folder holds plain files and folders only (no links, nowhere below it),
    and the lock is the bundle's own: its channel is a bundle's ``channel`` folder, the manifest's
    sources are the bundle's and it sets no ``prefix``, and the lock's content hash is the
    manifest's as it was where the bundle was made. Then only the URLs' folder and the content
    hash change.
    """
    folder = folder.resolve()
    return _relocate(folder, folder, where=str(folder))


def _relocate(folder: Path, destination: Path, *, where: str) -> Lock:
    """:func:`relocate_bundle` of the bundle in ``folder``, for the folder ``destination`` (where
    it is moved next); ``where`` names the bundle in messages."""
    from condauv.errors import ManifestError

    manifest_path = folder / MANIFEST_NAME
    if not manifest_path.exists() and not manifest_path.is_symlink():
        raise UserError(f"no {MANIFEST_NAME} in {where}: it is not a condauv bundle", hint=_NOT_A_BUNDLE_HINT)
    dot = folder / ".condauv"
    _check_plain(folder, skip=dot)
    try:
        lock = load_lock(folder / LOCK_NAME)
    except LockfileError as exc:
        raise LockfileError(f"{where}: {exc.message}", hint=_EDITED_HINT) from None
    if lock is None:
        raise LockfileError(
            f"no {LOCK_NAME} in {where}: it is not a whole condauv bundle", hint=_NOT_A_BUNDLE_HINT
        )
    old = _bundle_root(lock)
    if dot.exists():
        if old != destination:  # a bundle as made holds none; one that was synced here is moved already
            raise UserError(
                f"{dot} is there, but {LOCK_NAME} was not moved here yet: `condauv pack --bundle` "
                "writes no .condauv",
                hint="remove it (an environment made before `condauv unbundle` is not the bundle's), "
                "then run this again",
            )
        _check_plain(dot, skip=dot / "env")  # the environment sync made here has links of its own
    try:
        text = validation.read_text(manifest_path, what=MANIFEST_NAME, error=ManifestError, hint=_EDITED_HINT)
        here = parse_manifest(text, destination / MANIFEST_NAME)
        there = parse_manifest(text, old / MANIFEST_NAME)
    except ManifestError as exc:
        raise ManifestError(f"{where}: {exc.message}", hint=_EDITED_HINT) from None
    _check_bundle_manifest(here, there, old, where)
    if there.content_hash() != lock.content_hash:
        raise LockfileError(
            f"{where}: its {LOCK_NAME} is not the bundle's lock for its {MANIFEST_NAME} "
            "(one of them was edited)",
            hint=_EDITED_HINT,
        )
    if old == destination:
        return lock
    new_lock = replace(
        lock,
        channels=(channel_uri(destination),),
        conda=tuple(
            replace(p, channel=channel_uri(destination), url=_moved(p.url, old, destination, where))
            for p in lock.conda
        ),
        pypi=tuple(replace(p, url=_moved(p.url, old, destination, where)) for p in lock.pypi),
    )
    try:
        return write_bundle_lock(new_lock, here, folder / LOCK_NAME)
    except LockfileError as exc:
        raise LockfileError(f"{where}: {exc.message}", hint=_EDITED_HINT) from None


def _check_plain(folder: Path, *, skip: Path) -> None:
    """Every entry below ``folder`` is a plain file or folder, not a link nor a FIFO, device or
    socket; ``skip`` itself is checked, not what it holds."""

    def unreadable(exc: OSError) -> None:
        raise UserError(f"cannot read {exc.filename}: {exc.strerror or exc}", hint="check its permissions")

    for current, dirs, files in os.walk(folder, onerror=unreadable):
        base = Path(current)
        for name in (*dirs, *files):
            path = base / name
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                raise UserError(
                    f"{path} is a symbolic link: a bundle holds plain files and folders only",
                    hint="`condauv pack --bundle` writes no links: unpack the bundle's archive with "
                    "`condauv unbundle ARCHIVE -C DIR` (it takes none), or remove the link",
                )
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise UserError(
                    f"{path} is not a regular file or folder: a bundle holds plain files and folders only",
                    hint="remove it: `condauv pack --bundle` writes no FIFOs, devices or sockets",
                )
        dirs[:] = [name for name in dirs if base / name != skip]


def _bundle_root(lock: Lock) -> Path:
    """The folder the bundle's lock was written for (``/condauv-bundle/<top>``, or the builder's
    folder for a bundle of an older condauv, or where it was moved already)."""
    channels = lock.channels
    parts = urlsplit(channels[0]) if len(channels) == 1 else None
    if parts is None or parts.scheme != "file" or not unquote(parts.path).endswith(f"/{CHANNEL_DIR}"):
        raise LockfileError(
            f"{LOCK_NAME}: its channels ({', '.join(channels):.200}) are not a bundle's channel folder",
            hint="this is no bundle's lock: `condauv unbundle` only moves a bundle",
        )
    return Path(unquote(parts.path)).parent


def _check_bundle_manifest(here: Manifest, there: Manifest, old: Path, where: str) -> None:
    """The manifest as ``condauv pack --bundle`` writes it: the bundle's channel and wheels as its
    only sources, and no ``prefix`` (outside the content hash, it would send sync elsewhere)."""
    if here.environment.prefix is not None:
        raise UserError(
            f"{where}: its {MANIFEST_NAME} sets [environment] prefix: sync would install into "
            f"{here.environment.prefix}, outside the bundle's folder",
            hint="`condauv pack --bundle` drops the prefix, so the manifest was edited: get the bundle again "
            "from where it was made, or delete that line to install into the bundle's .condauv/env",
        )
    options = there.pypi_options
    bundle_like = (
        here.environment.channels == (f"./{CHANNEL_DIR}",)
        and options.no_index
        and not options.index_url
        and not options.extra_index_urls
        and not options.torch_backend
        and options.find_links == (str(old / WHEELS_DIR),)
    )
    if not bundle_like:
        raise UserError(
            f"{where}: its {MANIFEST_NAME} does not use only the bundle's channel and wheels",
            hint=_EDITED_HINT,
        )


def _moved(url: str, old: Path, new: Path, where: str) -> str:
    parts = urlsplit(url)
    path = PurePosixPath(unquote(parts.path))
    if parts.scheme == "file" and ".." not in path.parts:
        for sub in (CHANNEL_DIR, WHEELS_DIR):
            base = PurePosixPath(old / sub)
            if path.is_relative_to(base):
                return (new / sub / path.relative_to(base)).as_uri()
    raise LockfileError(
        f"{where}: {LOCK_NAME}: {url:.200} is not in the bundle's channel or wheels", hint=_EDITED_HINT
    )
