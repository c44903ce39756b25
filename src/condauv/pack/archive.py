"""``condauv pack``: the synced environment, both sides, as one relocatable archive.

conda-pack does the packing and the relocation (``bin/conda-unpack`` in the archive rewrites the
old prefix wherever it is unpacked): it reads conda-meta for the conda side and takes every other
file (uv's installs, condauv's synced lock and manifest in conda-meta) as it is. condauv's part is
what comes before (the prefix is the project's, matches a fresh lock, ``condauv check`` finds
nothing, no link leads out of it; files no package owns are named, :mod:`condauv.pack.contents`)
and the write (a temporary folder beside the output, renamed into place at the end; a failure to
write it, a full disk say, is one :class:`CondauvError` naming the output and the OS's reason).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from condauv.errors import CondauvError, LockfileError, UserError

if TYPE_CHECKING:
    from condauv.project import Project

__all__ = [
    "FORMATS",
    "OnProgress",
    "PackResult",
    "archive_format",
    "check_output",
    "default_output",
    "pack_environment",
    "staging",
]

#: Called with (files written, files in all) while the archive is written.
OnProgress = Callable[[int, int], None]

#: Output suffix -> conda-pack's format name (formats that need no optional module).
FORMATS = {
    ".tar.gz": "tar.gz",
    ".tgz": "tgz",
    ".tar.bz2": "tar.bz2",
    ".tbz2": "tbz2",
    ".tar.xz": "tar.xz",
    ".tar": "tar",
    ".zip": "zip",
}

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


@dataclass(frozen=True, slots=True)
class PackResult:
    path: Path
    size: int  # bytes
    files: int  # files in the archive
    format: str
    unowned: tuple[str, ...] = ()  # prefix paths packed that neither conda-meta nor a RECORD owns

    def to_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "size": self.size,
            "files": self.files,
            "format": self.format,
            "unowned": list(self.unowned),
        }


def archive_format(output: Path) -> str:
    """conda-pack's format for ``output``'s suffix; an unknown suffix is a :class:`UserError`."""
    name = output.name.lower()
    for suffix, fmt in FORMATS.items():
        if name.endswith(suffix) and len(name) > len(suffix):
            return fmt
    raise UserError(
        f"-o {output}: cannot tell the archive format from its name",
        hint=f"end the file name with one of: {', '.join(FORMATS)}",
    )


def default_output(project: Project) -> Path:
    """``<environment name>.tar.gz`` beside condauv.toml (``env.tar.gz`` for a name unfit for a file)."""
    name = project.manifest.environment.name
    return project.root / f"{name if _SAFE_NAME.fullmatch(name) else 'env'}.tar.gz"


def pack_environment(
    project: Project, output: Path | None = None, *, on_progress: OnProgress | None = None
) -> PackResult:
    """Pack ``project``'s prefix into ``output`` (default :func:`default_output`).

    Refused, with nothing written: an output that condauv owns or cannot name a format, a prefix
    that is missing or not the project's, a lock that is missing, stale or lacks this platform,
    any finding of ``condauv check``, and a link that leads out of the prefix. Holds the project
    lock: no sync changes the prefix while it is read. The result's path is the output's real
    folder (no ``..``) and its name.
    """
    from condauv.project import holding_project_lock

    output = (output or default_output(project)).expanduser().absolute()
    fmt = archive_format(output)
    check_output(project, output)
    output = output.parent.resolve() / output.name  # what check_output judged: the file, not a link's target

    @holding_project_lock
    def locked(project: Project) -> PackResult:
        _check_environment(project)
        return _pack(project.prefix, output, fmt, on_progress)

    return locked(project)


def check_output(project: Project, output: Path) -> None:
    """Never condauv.toml or condauv.lock, nor a file in the environment or ``.condauv``; a folder
    that exists, and no folder in the file's place."""
    target = output.parent.resolve() / output.name  # what is replaced: a link, never its target
    own = {
        project.manifest.path.resolve(): "overwrite the manifest",
        project.lock_path.resolve(): "overwrite the lock",
    }
    folder = project.owned_folder(output)
    what = own.get(target) or (folder and f"write into {folder}")
    if what:
        raise UserError(
            f"-o {output} would {what} ({target})",
            hint="write the archive elsewhere, e.g. -o env.tar.gz beside condauv.toml",
        )
    if target.is_dir():
        raise UserError(
            f"-o {output} is a folder", hint="give the archive's file name, e.g. -o folder/env.tar.gz"
        )
    if not output.parent.is_dir():
        existing = next(folder for folder in output.parents if folder.exists() or folder == folder.parent)
        if existing.exists() and not existing.is_dir():
            raise UserError(
                f"-o {output}: {existing} is a file, not a folder",
                hint="give a path in a folder, e.g. -o folder/env.tar.gz",
            )
        raise UserError(
            f"-o {output}: the folder {output.parent} does not exist",
            hint="create the folder first, or write the archive elsewhere",
        )


def _check_environment(project: Project) -> None:
    """The prefix is this project's, its lock is fresh, and ``condauv check`` finds nothing."""
    from condauv.conda.prefix import PrefixState, prefix_state
    from condauv.health.check import check_prefix, with_project_findings
    from condauv.lock.model import load_lock
    from condauv.lock.validate import check_sources
    from condauv.sync.freshness import Freshness, freshness

    prefix = project.prefix
    state = prefix_state(prefix)
    if state is PrefixState.NEW:
        raise UserError(f"no environment at {prefix} to pack", hint="run `condauv sync` first")
    if state is PrefixState.FOREIGN:
        raise UserError(
            f"{prefix} is not an environment condauv manages",
            hint="`condauv adopt` it, or `condauv sync` into a new prefix, then pack",
        )
    lock = load_lock(project.lock_path)
    fresh = freshness(project.manifest, lock)
    if lock is None or fresh is not Freshness.FRESH:
        from condauv.sync.freshness import missing_platform_hint

        raise LockfileError(
            f"cannot pack {prefix}: {fresh.describe()}",
            hint=missing_platform_hint("`condauv sync`, then pack")
            if fresh is Freshness.NO_PLATFORM
            else "run `condauv sync` (it locks, then makes the environment match), then pack",
        )
    check_sources(lock, project.manifest)
    # judged for the machines the lock targets (a build host without a GPU packs for GPU nodes)
    target = dict(lock.system_requirements)
    report = with_project_findings(
        check_prefix(prefix, lock=lock, target=target), manifest=project.manifest, lock=lock
    )
    if not report.clean:
        kinds: dict[str, list[str]] = {}
        for finding in report.findings:
            kinds.setdefault(finding.kind, []).extend(finding.packages)
        named = "; ".join(
            f"{kind}: {', '.join(dict.fromkeys(names))}" if names else kind for kind, names in kinds.items()
        )
        count = len(report.findings)
        raise UserError(
            f"cannot pack {prefix}: `condauv check` has {count} finding{'' if count == 1 else 's'} "
            f"({named:.300})",
            hint=_REPAIR,
        )


#: what check's findings and conda-pack's refusals send the user to (plain sync finds the prefix in sync)
_REPAIR = "run `condauv check` for the details and `condauv sync --repair` to repair, then pack"


def _pack(prefix: Path, output: Path, fmt: str, on_progress: OnProgress | None) -> PackResult:
    import conda_pack  # type: ignore[import-untyped]

    from condauv.pack.contents import leaving_links, unowned_files

    with warnings.catch_warnings():
        # uncached packages are scanned for the old prefix instead: nothing to tell the user
        warnings.simplefilter("ignore")
        try:
            env = conda_pack.CondaEnv.from_prefix(str(prefix))
        except conda_pack.CondaPackException as exc:
            raise _refusal(prefix, exc) from None
    links = leaving_links(prefix, (file.target for file in env.files))
    if links:
        (link, target), more = links[0], len(links) - 1
        raise UserError(
            f"cannot pack {prefix}: {link!r} links to {target!r}, out of the environment: unpacked "
            f"elsewhere, it would point back at this machine{f' (and {more} more links)' if more else ''}",
            hint=f"remove {'them' if more else 'it'} (or put a copy of what it points to in its place), "
            "then pack: a relocatable archive carries no link back to this machine",
        )
    unowned = unowned_files(prefix, (file.target for file in env.files if not file.is_conda))
    if on_progress is not None:
        env.files = _Reporting(env.files, on_progress)
    count = len(env.files)
    try:
        with staging(output) as staged:
            _write(env, staged, fmt, prefix)
            # conda-pack's file is mkstemp's (0600): the archive gets the mode of the file it replaces
            staged.chmod(output.stat().st_mode & 0o777 if output.is_file() else 0o644)
            staged.replace(output)
    except OSError as exc:
        raise _os_failure(exc, prefix, output) from None
    return PackResult(
        path=output, size=output.stat().st_size, files=count, format=fmt, unowned=tuple(unowned)
    )


def _write(env: Any, staged: Path, fmt: str, prefix: Path) -> None:
    """conda-pack's write into ``staged``; what failed in its compressing thread is raised here."""
    import conda_pack

    with _thread_failures() as failures:
        try:
            env.pack(output=str(staged), format=fmt, n_threads=-1)
        except conda_pack.CondaPackException as exc:
            raise _refusal(prefix, exc) from None
        except OSError:
            if not failures:
                raise
        if failures:
            raise failures[0]  # the first cause (the main thread's error, if any, followed from it)


@contextlib.contextmanager
def _thread_failures() -> Iterator[list[BaseException]]:
    """The exceptions of threads that end with one, collected while the block runs, the process's
    hook back afterwards. conda-pack compresses a .tar.gz/.tar.bz2 in a thread of its own: on a full
    disk it dies with a traceback on stderr, and the main thread may still finish a short archive."""
    failures: list[BaseException] = []
    saved = threading.excepthook

    def collect(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            failures.append(args.exc_value)

    threading.excepthook = collect
    try:
        yield failures
    finally:
        threading.excepthook = saved


def _os_failure(exc: OSError, prefix: Path, output: Path) -> CondauvError:
    """An OS error while packing: the output could not be written (exit 1: the disk, not the input),
    or, when it names a file elsewhere, that file could not be read (or followed)."""
    reason = exc.strerror or str(exc)
    name = Path(os.fsdecode(exc.filename)) if exc.filename else None
    if name is not None and not _written(name, output):
        return CondauvError(
            f"cannot pack {prefix}: {name}: {reason}",
            hint="`condauv check` shows what is damaged; make the file readable, then pack",
        )
    room = exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
    return CondauvError(
        f"cannot write {output}: {reason}",
        hint="free some space there, or write the archive elsewhere with -o"
        if room
        else "write the archive into a folder you can write to, with -o",
    )


def _written(name: Path, output: Path) -> bool:
    """Whether ``name`` is the output, or in (or is) the staging folder beside it."""
    try:
        first = name.relative_to(output.parent).parts[0]
    except (ValueError, IndexError):
        return False
    return first == output.name or first.startswith(f".{output.name}.condauv-")


def _refusal(prefix: Path, exc: Exception) -> CondauvError:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return UserError(f"conda-pack cannot pack {prefix}: {' '.join(lines)[:300]}", hint=_REPAIR)


@contextlib.contextmanager
def staging(output: Path) -> Iterator[Path]:
    """A file in a temporary folder beside ``output`` (one file system: the rename is atomic), the
    folder removed afterwards, whatever happened (Ctrl-C too). conda-pack's own temporary file
    goes into that folder as well, not into /tmp."""
    folder = Path(tempfile.mkdtemp(prefix=f".{output.name}.condauv-", suffix=".tmp", dir=output.parent))
    saved = tempfile.tempdir
    tempfile.tempdir = str(folder)
    try:
        yield folder / output.name
    finally:
        tempfile.tempdir = saved
        shutil.rmtree(folder, ignore_errors=True)


class _Reporting(list[Any]):
    """conda-pack's file list, reporting each file as conda-pack takes it."""

    def __init__(self, files: list[Any], on_progress: OnProgress) -> None:
        super().__init__(files)
        self._on_progress = on_progress

    def __iter__(self) -> Iterator[Any]:
        total = len(self)
        for done, item in enumerate(super().__iter__(), 1):
            yield item
            self._on_progress(done, total)
