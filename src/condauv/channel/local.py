"""Local channel folders: wheels converted and indexed, and the cached channel of ``condauv demo``."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from condauv import paths, progress
from condauv.channel.interpreter import build_python_package
from condauv.channel.wheel import build_wheel_package
from condauv.platforms import current_subdir

__all__ = [
    "atomic_channel",
    "channel_from_wheels",
    "channel_key",
    "demo_channel",
    "index_local_channel",
    "publish_packages",
]

#: bump when the builders change what they put in a package: cached channels are rebuilt.
BUILDER_VERSION = "1"

#: numpy for the demo: 2.x, the series conda-forge ships for current Pythons.
DEMO_NUMPY = ">=2,<3"


def index_local_channel(folder: Path) -> None:
    """Index ``folder``; ``noarch/`` and this machine's subdir get a repodata.json even when empty,
    since a solve reads both and fails on a channel that lacks one."""
    from condauv.conda.engine import index_channel

    for subdir in ("noarch", current_subdir()):
        (folder / subdir).mkdir(parents=True, exist_ok=True)
    index_channel(folder)
    with contextlib.suppress(OSError):  # the indexer leaves an empty scratch folder behind
        (folder / ".tmp").rmdir()


def channel_from_wheels(wheels: Sequence[Path], output: Path) -> list[Path]:
    """Convert ``wheels`` into conda packages in the channel folder ``output`` and (re-)index it.

    The packages are built in condauv's own scratch folder (a killed run leaves nothing in the
    user's folders; the next command removes it), then moved in and indexed while holding a
    lock on ``output``, so that two runs into one channel never interleave their index writes.
    """
    from condauv import _fs

    # converted in a scratch folder first: one bad wheel leaves the channel as it was
    several = f"{len(wheels)} wheel{'s' if len(wheels) != 1 else ''}"
    with _fs.scratch_dir("wheels-") as scratch:
        with progress.task(f"converting {several} to conda packages", len(wheels)) as update:
            built = []
            for wheel in wheels:
                built.append(build_wheel_package(wheel, scratch))
                update(len(built), len(wheels), None)
        return publish_packages(built, output)


def publish_packages(staged: Sequence[Path], output: Path) -> list[Path]:
    """Move ``staged`` packages (``<folder>/<subdir>/<file>.conda``, built elsewhere) into the
    channel folder ``output`` and index it, holding a lock on ``output`` meanwhile."""
    from condauv import _fs

    built = []
    output.mkdir(parents=True, exist_ok=True)
    with _fs.exclusive_lock(output, what="the channel folder"):
        for package in staged:
            target = output / package.parent.name / package.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(package, target)  # the cache may be on another file system
            built.append(target)
        index_local_channel(output)
    return built


def channel_key(*parts: str) -> str:
    """A short stable key for a cached channel built from ``parts`` (versions, paths, file names)."""
    return hashlib.sha256("\0".join((BUILDER_VERSION, *parts)).encode()).hexdigest()[:16]


def atomic_channel(
    target: Path,
    populate: Callable[[Path], object],
    *,
    refresh: bool = False,
    on_build: Callable[[], object] | None = None,
) -> Path:
    """The channel folder ``target``, built by ``populate`` (then indexed) unless it exists.

    It is built in a temporary sibling and renamed into place, so an interrupted build is
    never mistaken for a channel; ``refresh`` rebuilds it. ``on_build`` is called just before
    a build starts (never when the folder is reused): the caller can say that it takes a while.
    """
    if target.is_dir() and not refresh:
        return target
    if on_build is not None:
        on_build()
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{target.name}-", suffix=".building", dir=target.parent))
    building.chmod(0o755)  # mkdtemp's 0o700 would keep other users out of a shared cache
    try:
        populate(building)
        index_local_channel(building)
        if target.is_dir():  # refresh, or another process finished first: replace it
            retired = target.with_name(f".{target.name}-{building.name}.old")
            target.rename(retired)
            shutil.rmtree(retired, ignore_errors=True)
        building.rename(target)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return target


def demo_channel(*, refresh: bool = False, on_build: Callable[[], object] | None = None) -> Path:
    """The channel of ``condauv demo``: this interpreter as ``python`` and numpy from its wheel.

    Cached in ``cache_dir()/channels``; the numpy wheel is fetched from PyPI once (or again
    with ``refresh``) into ``cache_dir()/wheels``. ``on_build`` is called once, before the
    wheel's download or the channel's build, and only when one of them is needed.
    """
    announced = False

    def announce() -> None:
        nonlocal announced
        if on_build is not None and not announced:
            announced = True
            on_build()

    from condauv.pypi.simple import cached_wheel, fetch_wheel

    python = (sys.version_info.major, sys.version_info.minor)
    subdir = current_subdir()
    wheels = paths.cache_dir() / "wheels"
    numpy = (
        None if refresh else cached_wheel("numpy", DEMO_NUMPY, wheels, python_version=python, subdir=subdir)
    )
    if numpy is None:
        announce()
        numpy = fetch_wheel("numpy", DEMO_NUMPY, wheels, python_version=python, subdir=subdir)
    wheel = numpy

    def populate(folder: Path) -> None:
        build_python_package(folder)
        build_wheel_package(wheel, folder)

    key = channel_key(sys.version, sys.base_prefix, wheel.name)
    target = paths.cache_dir() / "channels" / f"demo-{key}"
    return atomic_channel(target, populate, refresh=refresh, on_build=announce)
