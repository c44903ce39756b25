"""The uv wrapper: builds argument lists, runs uv through condauv's one process runner.

uv runs with ``--no-config`` so that the manifest is the only source of settings, and never
downloads interpreters: the interpreter always comes from the conda side.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

from condauv import _fs, _process, validation
from condauv.errors import ArchiveError, CondauvError, ProcessError, UserError
from condauv.pypi.pylock import Artifact

__all__ = ["Artifact", "Uv", "find_uv", "is_sdist", "write_pylock"]

_ENV = {"UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1", "NO_COLOR": "1"}


_FINDING = threading.Lock()


def find_uv() -> str:
    """The uv binary shipped with the ``uv`` package (``$CONDAUV_UV`` overrides it). Safe from
    any thread (``lock`` and ``sync`` run uv beside other work): the first call reads
    ``sysconfig``, whose first read is not thread-safe, so calls take turns."""
    with _FINDING:
        return _find_uv()


@functools.cache
def _find_uv() -> str:
    explicit = os.environ.get("CONDAUV_UV")
    if explicit:
        return explicit
    try:
        from uv import find_uv_bin
    except ImportError as exc:  # pragma: no cover - uv is a hard dependency
        raise CondauvError("the uv package is not installed", hint="pip install uv") from exc
    return str(find_uv_bin())


_INDEX_FLAGS = {"--index-url": "default", "-i": "default", "--default-index": "default"}
_INDEX_FLAGS |= {"--extra-index-url": "extra", "--index": "extra"}


def split_index_args(args: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """Move the index flags of ``args`` into uv's environment (``UV_DEFAULT_INDEX``, ``UV_INDEX``)
    when one carries credentials or a name, so that no credential reaches a command line (which
    ``ps`` shows to every user). uv reads both forms alike; flags would override the variables,
    so all index flags move together."""
    from condauv.pypi.auth import parse_index

    args, links_env = _split_find_links(args)
    pairs = [(args[i], args[i + 1]) for i in range(len(args) - 1) if args[i] in _INDEX_FLAGS]
    if not any(parse_index(v).has_credentials or parse_index(v).name for _, v in pairs):
        return list(args), links_env
    rest: list[str] = []
    default: list[str] = []
    extra: list[str] = []
    skip = False
    for i, arg in enumerate(args):
        if skip:
            skip = False
        elif arg in _INDEX_FLAGS and i + 1 < len(args):
            (default if _INDEX_FLAGS[arg] == "default" else extra).append(args[i + 1])
            skip = True
        else:
            rest.append(arg)
    env = {"UV_INDEX": " ".join(extra)} if extra else {}
    if default:
        env["UV_DEFAULT_INDEX"] = default[-1]
    return rest, {**env, **links_env}


def _split_find_links(args: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """``--find-links`` URLs with credentials go to ``UV_FIND_LINKS`` (comma-separated), all
    together, as the index flags do; others stay on the command line."""
    from condauv.pypi.auth import split_credentials

    links = [args[i + 1] for i in range(len(args) - 1) if args[i] == "--find-links"]
    if not any(split_credentials(link)[1:] != (None, None) for link in links):
        return list(args), {}
    rest: list[str] = []
    skip = False
    for i, arg in enumerate(args):
        if skip:
            skip = False
        elif arg == "--find-links" and i + 1 < len(args):
            skip = True
        else:
            rest.append(arg)
    return rest, {"UV_FIND_LINKS": ",".join(links)}


class Uv:
    """uv's ``pip`` interface, with the flags condauv always wants.

    ``index_args`` (:meth:`~condauv.manifest.model.PypiOptions.uv_args`) apply to resolving; the
    indexes' credentials (and names, for ``UV_INDEX_<NAME>_USERNAME``) also reach ``install``,
    whose URLs are the lock's, without credentials: uv then applies them by realm.
    """

    def __init__(
        self,
        *,
        offline: bool = False,
        index_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        own_group: bool = False,
    ) -> None:
        """``env`` is added to uv's environment (a cache folder, ``TMPDIR``); ``own_group`` runs
        uv in a process group of its own (see :func:`condauv._process.run`)."""
        self.offline = offline
        self.index_args, self.index_env = split_index_args(index_args)
        self.env = dict(env or {})
        self.own_group = own_group

    def _base(self, subcommand: str) -> list[str]:
        args = [find_uv(), "pip", subcommand, "--no-config", "--color", "never"]
        if self.offline:
            args.append("--offline")
        return args

    def compile(
        self,
        requirements: Path,
        output: Path,
        *,
        python_version: str | None = None,
        python_platform: str | None = None,
        python: Path | None = None,
        constraints: Path | None = None,
        annotated: bool = False,
        check: bool = False,
    ) -> _process.Completed:
        """Resolve ``requirements`` for a target (no interpreter needed) into a pylock.toml,
        or, ``annotated``, into a requirements.txt whose lines say who needs each package.
        ``python``: for that interpreter instead of a version and platform."""
        formats = (
            ["--annotation-style", "line", "--no-header"]
            if annotated
            else ["--format", "pylock.toml", "--generate-hashes"]
        )
        target = ["--python", str(python)] if python is not None else []
        if python_version is not None:
            target += ["--python-version", python_version]
        if python_platform is not None:
            target += ["--python-platform", python_platform]
        command = [
            *self._base("compile"),
            str(requirements),
            *(["--constraints", str(constraints)] if constraints is not None else []),
            *formats,
            *target,
            "--output-file",
            str(output),
            "--quiet",
            *self.index_args,
        ]
        return _process.run(
            command,
            what="uv resolves the PyPI side",
            env={**_ENV, **self.index_env, **self.env},
            check=check,
            own_group=self.own_group,
        )

    def venv(self, prefix: Path, python: Path) -> None:
        """A virtual environment at ``prefix`` of the interpreter ``python`` (never a download)."""
        command = [find_uv(), "venv", "--no-config", "--color", "never", "--python", str(python)]
        command += [*(("--offline",) if self.offline else ()), str(prefix)]
        _process.run(
            command,
            what="uv makes a virtual environment",
            env={**_ENV, **self.env},
            own_group=self.own_group,
        )

    def install(
        self,
        python: Path,
        requirements: Path,
        artifacts: Sequence[Artifact] = (),
        *,
        reinstall: bool | Sequence[str] = True,
        compile_bytecode: bool = False,
        file_indexes: bool = False,
    ) -> None:
        """Install exactly the hashed artifacts of ``requirements`` (a pylock.toml that
        :func:`write_pylock` wrote from ``artifacts``): no resolving, no dependencies added.
        ``file_indexes``: ``requirements`` is a hashed requirements.txt that names its own
        indexes and find-links, which uv then asks (no ``--no-index``).

        An sdist among ``artifacts`` is built by uv in an isolated build environment (the
        prefix gains no backend); its build requirements are not locked (as in uv.lock), so
        uv then gets the manifest's indexes and find-links, for them only: every artifact
        installed is still the lock's URL and hash, and ``--no-deps`` adds nothing else.
        """
        building = [a for a in artifacts if is_sdist(a)]
        # every line is a hashed direct URL: no index is asked for it; with credentials to
        # give, the indexes are named (in the environment) so that uv applies them to the URLs
        if building:
            indexes: Sequence[str] = self.index_args
        else:
            indexes = () if self.index_env or file_indexes else ("--no-index",)
        command = [
            *self._base("install"),
            "--python",
            str(python),
            "--no-deps",
            "--require-hashes",
            *indexes,
            *_reinstall_args(reinstall),
            *(("--compile-bytecode",) if compile_bytecode else ()),
            "--preview-features",
            "pylock",
            "-r",
            str(requirements),
        ]
        try:
            _process.run(
                command,
                what="uv installs the PyPI packages",
                env={**_ENV, **self.index_env, **self.env},
                hint="the lock's artifacts must be reachable (or cached, with --offline)",
                own_group=self.own_group,
            )
        except ProcessError as exc:
            failure = _hash_mismatch(exc.stderr, artifacts) or _build_failure(
                exc.stderr, building, offline=self.offline
            )
            if failure is None:
                raise
            raise failure from None

    def version(self) -> str:
        """The version of the uv binary condauv runs (``0.13.9``)."""
        done = _process.run([find_uv(), "--version"], what="uv says its version", env={**_ENV, **self.env})
        words = done.stdout.split()
        return words[1] if len(words) > 1 else done.stdout.strip()

    def cache_dir(self) -> Path:
        """The cache uv uses when condauv runs it: ``UV_CACHE_DIR``, else uv's default (with
        ``--no-config``, as every call here, never a ``uv.toml``'s ``cache-dir``)."""
        command = [find_uv(), "cache", "dir", "--no-config", "--color", "never"]
        done = _process.run(command, what="uv names its cache", env={**_ENV, **self.env})
        return Path(done.stdout.strip())

    def cache_clean(self, names: Sequence[str] | None = None) -> None:
        """``uv cache clean`` of :meth:`cache_dir` (uv waits for its other processes); with
        ``names``, only those packages' entries (an empty list cleans nothing)."""
        if names is not None and not names:
            return
        _refuse_bad_names(names or (), "clean from its cache")
        command = [find_uv(), "cache", "clean", "--no-config", "--color", "never", *(names or ())]
        _process.run(command, what="uv cleans its cache", env={**_ENV, **self.env})

    def uninstall(self, python: Path, names: Sequence[str]) -> None:
        """Remove PyPI distributions by name (never called with a conda-owned name)."""
        if not names:
            return
        _refuse_bad_names(names, "uninstall")
        command = [*self._base("uninstall"), "--python", str(python), *names]
        _process.run(
            command, what="uv removes PyPI packages", env={**_ENV, **self.env}, own_group=self.own_group
        )


def _reinstall_args(reinstall: bool | Sequence[str]) -> list[str]:
    """``--reinstall`` (``True``), or one ``--reinstall-package`` per name: uv's ``--reinstall``
    implies ``--refresh`` of every package, which a name not installed yet does not need."""
    if isinstance(reinstall, bool):
        return ["--reinstall"] if reinstall else []
    _refuse_bad_names(reinstall, "reinstall")
    return [arg for name in reinstall for arg in ("--reinstall-package", name)]


def _refuse_bad_names(names: Sequence[str], doing: str) -> None:
    bad = [name for name in names if not validation.is_pypi_name(name)]
    if bad:  # names come from dist-info folder names, which a prefix's author chose
        raise UserError(
            f"refusing to ask uv to {doing} {bad[0]!r:.80}: not a PyPI name",
            hint="a dist-info folder in the prefix has a name no installer writes: remove it by hand",
        )


def is_sdist(artifact: Artifact) -> bool:
    """Whether ``artifact`` is a source distribution (uv builds it), not a wheel."""
    return not urlsplit(artifact.url).path.endswith(".whl")


_MISMATCH = re.compile(r"Hash mismatch for `([^`]+)`\s*Expected:\s*(.*?)\s*Computed:\s*(\S+)", re.S)


def write_pylock(folder: Path, artifacts: Sequence[Artifact]) -> Path:
    """Write ``folder/pylock.toml`` (PEP 751) for :meth:`Uv.install`: a structured file that uv
    parses strictly, never text pasted into requirement lines that uv would read as options.
    Built by condauv's one PEP 751 writer (:mod:`condauv.pypi.pylock`), which checks every
    field again, whatever the caller checked before."""
    from condauv.pypi.pylock import build_pylock, pylock_text

    text = pylock_text(build_pylock([([artifact], None) for artifact in artifacts]))
    path = folder / "pylock.toml"
    _fs.atomic_write_text(path, text, durable=False)  # a scratch file: a crash loses nothing
    return path


def _hash_mismatch(stderr: str, artifacts: Sequence[Artifact]) -> ArchiveError | None:
    """uv's "Hash mismatch" report as one line: the artifact, its file, both hashes."""
    found = _MISMATCH.search(stderr)
    if found is None:
        return None
    spec, expected, computed = found[1], ", ".join(found[2].split()), found[3]
    from packaging.utils import canonicalize_name

    files = {
        f"{canonicalize_name(a.name)}=={a.version}": unquote(urlsplit(a.url).path.rsplit("/", 1)[-1])
        for a in artifacts
    }
    file = f" ({files[spec]})" if spec in files else ""
    return ArchiveError(
        f"hash mismatch for {spec}{file}: condauv.lock says {expected}, the file has {computed}",
        hint="the file changed after it was locked, or the lock was edited: restore the file, "
        "or run `condauv lock` again if you trust the new one",
    )


_BUILD_FAILED = re.compile(r"Failed to (download and build|build) `([^`]+)`")
_CAUSE = re.compile(r"^\s*cause:\s*(.+?)\s*$", re.M)
_BUILD_REQUIRES = "Failed to resolve requirements from `build-system.requires`"
_UNSOLVED = re.compile(r"^No solution found when resolving: (.+)$")


def _build_failure(stderr: str, building: Sequence[Artifact], *, offline: bool) -> CondauvError | None:
    """uv's report of an sdist it could not build as one line: the package, and why (its build
    backend unavailable, offline or not; the backend's own error)."""
    found = _BUILD_FAILED.search(stderr)
    if found is None or not building:
        return None
    verb, spec = found[1], found[2]
    causes = [_process.mask(cause) for cause in _CAUSE.findall(stderr[found.end() :])]
    if _BUILD_REQUIRES in causes:  # the build backend (or another build requirement)
        unsolved = next((m[1] for m in map(_UNSOLVED.match, causes) if m), None)
        needs = f" {unsolved.replace('`', '')}" if unsolved else ""
        where = "uv's cache (--offline)" if offline else "the manifest's indexes and find-links"
        why = "" if unsolved or not causes else f": {causes[-1]:.300}"
        return CondauvError(
            f"building {spec} from its sdist needs its build backend{needs:.200}, not found in {where}{why}",
            hint="run `condauv sync` online once: the backend then comes from uv's cache"
            if offline
            else "add the index or find-links folder that holds the build backend to [pypi-options]",
        )
    why = causes[-1] if causes else "add -v for uv's output"
    return CondauvError(
        f"uv could not {verb} {spec} from its sdist: {why:.300}",
        hint="with --offline, the sdist and its build backend must be in uv's cache: "
        "run `condauv sync` online once"
        if offline
        else "add -v to see the build's output; a wheel of it (or a conda package) avoids the build",
    )
