"""The three ways ``condauv bench`` builds the project's package set, each as a user would.

Every timed install is a whole command in a subprocess, into a fresh prefix, with the caches
of that run (``Caches``): hybrid is ``condauv sync --frozen`` on the project's own manifest and
lock; conda-only is ``condauv sync --frozen`` on a generated manifest that asks conda for every
entry the channels hold (py-rattler is the engine); uv-only is ``uv venv`` plus ``uv pip install``
of everything from PyPI. What each strategy cannot install is listed, never dropped.
"""

from __future__ import annotations

import functools
import sys
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from condauv import _fs, _process
from condauv.bench.model import StrategyName, Unavailable
from condauv.errors import CondauvError, UserError
from condauv.lock.model import CondaPackage, Lock, PypiPackage
from condauv.manifest.model import Manifest, Requested, pep440_specifier
from condauv.project import Project

if TYPE_CHECKING:
    from condauv.pypi.uv import Uv

__all__ = [
    "Caches",
    "CondaOnly",
    "Context",
    "Hybrid",
    "Strategy",
    "UvOnly",
    "conda_only_spec",
    "in_turn",
    "make_strategy",
    "versions",
]

_T = TypeVar("_T")

#: The hybrid's lock, timed: every entry decided again (no previous lock), nothing written. A
#: subprocess, as the other strategies' locks are; ``os._exit`` because py-rattler can crash a
#: finalising interpreter.
_HYBRID_LOCK = """
import os, sys, traceback
from pathlib import Path
try:
    from condauv.manifest.model import load_manifest
    from condauv.sync.locking import build_lock
    build_lock(load_manifest(Path(sys.argv[1])))
except BaseException:
    traceback.print_exc()
    sys.stderr.flush()
    os._exit(1)
sys.stdout.flush()
os._exit(0)
"""


@dataclass(frozen=True, slots=True)
class Caches:
    """The package caches of one run: condauv's (conda packages, repodata), uv's and pip's."""

    root: Path

    @property
    def conda(self) -> Path:
        return self.root / "condauv"

    @property
    def uv(self) -> Path:
        return self.root / "uv"

    @property
    def pip(self) -> Path:
        return self.root / "pip"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    def env(self) -> dict[str, str]:
        """The variables that point the programs of a run at these caches, and their temporary
        files (pip's ``/tmp/pip-*``) into this run's folder: removed with it even when a program
        was killed. Makes the temporary folder (a missing ``TMPDIR`` is refused)."""
        self.tmp.mkdir(parents=True, exist_ok=True)
        return {"CONDAUV_CACHE_DIR": str(self.conda), "UV_CACHE_DIR": str(self.uv), "TMPDIR": str(self.tmp)}


@dataclass(frozen=True, slots=True)
class Context:
    """What every strategy starts from: the project, its lock, and where to work."""

    project: Project
    lock: Lock
    platform: str
    python_version: str
    scratch: Path
    base_python: Path | None = None  # an interpreter of the lock's version (uv-only's venv base)


def condauv_command(*args: str | Path) -> list[str]:
    """condauv itself, run by this interpreter, quiet."""
    return [sys.executable, "-m", "condauv", *(str(a) for a in args), "-q"]


def timed(command: Sequence[str | Path], *, what: str, env: dict[str, str]) -> float:
    """Run ``command`` (raising on failure) and return its wall-clock time."""
    start = time.perf_counter()
    _process.run(command, what=what, env=env, own_group=True)
    return time.perf_counter() - start


def in_turn(items: Sequence[_T], run: int) -> list[_T]:
    """``items`` in run ``run``'s order: round-robin, who goes first moves each run."""
    shift = run % len(items) if items else 0
    return [*items[shift:], *items[:shift]]


@functools.cache
def versions() -> dict[str, str]:
    """The versions of the tools bench drives: condauv, py-rattler, uv."""
    from importlib import metadata

    from condauv import __version__
    from condauv.pypi.uv import find_uv

    found = {"condauv": __version__}
    try:
        found["py-rattler"] = metadata.version("py-rattler")
    except metadata.PackageNotFoundError:
        found["py-rattler"] = "unknown"
    output = _process.run([find_uv(), "--version"], what="uv --version", check=False).stdout.split()
    found["uv"] = output[1] if len(output) > 1 else "unknown"
    return found


def locked_side(
    entry: Requested, lock: Lock, platform: str, names: dict[str, tuple[str, ...]]
) -> tuple[CondaPackage | None, PypiPackage | None]:
    """Where the lock put ``entry``: its conda package (under any spelling, the manifest's
    ``[names]`` included) or its PyPI one."""
    from condauv.classification.policy import spellings

    conda = {p.name: p for p in lock.conda_for(platform)}
    for name in spellings(entry, names):
        if name in conda:
            return conda[name], None
    pypi = {p.name: p for p in lock.pypi_for(platform)}
    return None, pypi.get(entry.key)


@dataclass(slots=True)
class Strategy:
    """One way of installing the set. ``prepare`` runs once, untimed but for ``lock_s``;
    ``install`` is the timed command(s) into a fresh ``prefix``."""

    ctx: Context
    name: StrategyName = "hybrid"
    engine: str = ""
    packages: dict[str, str] = field(default_factory=dict)
    unavailable: list[Unavailable] = field(default_factory=list)
    distributions: list[str] = field(default_factory=list)  # what import times are taken of
    lock_s: float | None = None

    def prepare(self, caches: Caches) -> None:
        raise NotImplementedError

    def install(self, prefix: Path, caches: Caches) -> None:
        raise NotImplementedError

    def python(self, prefix: Path) -> Path:
        return prefix / "bin" / "python"


def _lock_packages(lock: Lock, platform: str) -> dict[str, str]:
    packages = {p.name: p.version for p in lock.conda_for(platform)}
    packages.update({p.name: p.version for p in lock.pypi_for(platform)})
    return packages


def _entry_distributions(manifest: Manifest, lock: Lock, platform: str) -> list[str]:
    """The PyPI distributions of the manifest's entries, as ``lock`` installs them."""
    found: list[str] = []
    for entry in manifest.requested:
        conda, pypi = locked_side(entry, lock, platform, manifest.names)
        if conda is not None:
            found += sorted(conda.provided_names())
        elif pypi is not None:
            found.append(pypi.name)
    return list(dict.fromkeys(found))


@dataclass(slots=True)
class Hybrid(Strategy):
    """condauv's own lock: conda side by py-rattler, PyPI side by uv."""

    def prepare(self, caches: Caches) -> None:
        """Times the lock once (``caches`` still empty: as cold as the others' locks); the
        project's own lock is the one installed."""
        v = versions()
        self.name = "hybrid"
        self.engine = f"condauv {v['condauv']} (py-rattler {v['py-rattler']} + uv {v['uv']})"
        self.packages = _lock_packages(self.ctx.lock, self.ctx.platform)
        self.distributions = _entry_distributions(self.ctx.project.manifest, self.ctx.lock, self.ctx.platform)
        self.lock_s = timed(
            [sys.executable, "-c", _HYBRID_LOCK, self.ctx.project.manifest.path],
            what="locking the manifest again (hybrid, timed)",
            env=caches.env(),
        )

    def install(self, prefix: Path, caches: Caches) -> None:
        manifest = self.ctx.project.manifest.path
        command = condauv_command("sync", "--frozen", "--prefix", prefix, "--manifest", manifest)
        _process.run(command, what="condauv sync --frozen (hybrid)", env=caches.env(), own_group=True)


@dataclass(slots=True)
class CondaOnly(Strategy):
    """Every entry the channels hold, from conda (py-rattler: conda itself is not installed here)."""

    manifest: Path | None = None

    def prepare(self, caches: Caches) -> None:
        from condauv.classification.policy import spellings
        from condauv.conda import engine
        from condauv.conda.channels import channel_url

        self.name = "conda-only"
        self.engine = (
            f"py-rattler {versions()['py-rattler']} (rattler is the engine of pixi and mamba; "
            "conda itself cannot be installed here)"
        )
        ctx, manifest = self.ctx, self.ctx.project.manifest
        urls = [channel_url(c, manifest.root) for c in manifest.environment.channels]
        candidates = {entry.key: spellings(entry, manifest.names) for entry in manifest.requested}
        held = engine.names_in_channels(urls, [ctx.platform], {n for c in candidates.values() for n in c})
        locked = {p.name: p for p in ctx.lock.conda_for(ctx.platform)}
        entries: list[Requested] = []
        for entry in manifest.requested:
            name = next((n for n in candidates[entry.key] if n in held), None)
            if name is None:
                self.unavailable.append(Unavailable(entry.name, "no channel of the manifest holds it"))
                continue
            spec = conda_only_spec(entry, locked[name].version if name in locked else None)
            if spec is None:
                reason = f"its version spec {entry.spec} has no conda spelling"
                self.unavailable.append(Unavailable(entry.name, reason))
                continue
            entries.append(Requested(name=name, spec=spec, table="conda-dependencies"))
        self.manifest = _write_conda_manifest(ctx, urls, entries)
        self.lock_s = timed(
            condauv_command("lock", "--manifest", self.manifest),
            what="condauv lock (conda-only)",
            env=caches.env(),
        )
        from condauv.lock.model import load_lock

        lock = load_lock(self.manifest.with_name("condauv.lock"))
        if lock is None:
            raise CondauvError("condauv lock wrote no lock for conda-only", hint="run with -v")
        self.packages = _lock_packages(lock, ctx.platform)
        generated = Manifest(
            path=self.manifest,
            environment=manifest.environment,
            requested=tuple(entries),
        )
        self.distributions = _entry_distributions(generated, lock, ctx.platform)

    def install(self, prefix: Path, caches: Caches) -> None:
        if self.manifest is None:
            raise CondauvError("conda-only was not prepared", hint="report it")
        command = condauv_command("sync", "--frozen", "--prefix", prefix, "--manifest", self.manifest)
        _process.run(command, what="condauv sync --frozen (conda-only)", env=caches.env(), own_group=True)


def conda_only_spec(entry: Requested, locked_version: str | None) -> str | None:
    """The version conda-only asks conda for: the hybrid lock's conda version where it has one
    (the same package, compared); else the entry's own spec, in conda's spelling: as written for
    ``[conda-dependencies]`` and ``[dependencies]`` (what the hybrid's lock gives conda), PEP 440's
    meaning for ``[pypi-dependencies]`` (``~=1.4`` is ``>=1.4,1.*``); ``None`` where conda has no
    spelling of it (``===``)."""
    from condauv.channel.requirements import conda_version_spec

    if locked_version is not None:
        return f"=={locked_version}"
    if entry.table != "pypi-dependencies":
        return entry.spec
    try:
        return conda_version_spec(pep440_specifier(entry.spec), what=entry.name)
    except UserError:
        return None


def _write_conda_manifest(ctx: Context, channels: Sequence[str], entries: Sequence[Requested]) -> Path:
    """The conda-only manifest: same Python (the hybrid lock's version), channels and platform."""
    from condauv.manifest.edit import ManifestDocument, initial_manifest

    path = ctx.scratch / "conda-only" / "condauv.toml"
    text = initial_manifest(
        name=f"{ctx.project.manifest.environment.name}-conda-only",
        python=f"=={ctx.python_version}",
        channels=list(channels),
        platforms=[ctx.platform],
    )
    document = ManifestDocument(path, text)
    for entry in entries:
        document.add(entry)
    _fs.atomic_write_text(path, document.text())
    return path


@dataclass(slots=True)
class UvOnly(Strategy):
    """A virtual environment of the lock's Python version, everything from PyPI, by uv."""

    pylock: Path | None = None

    def _uv(self, caches: Caches) -> Uv:
        from condauv.pypi.uv import Uv

        # the manifest's indexes; credentials move into uv's environment, never a command line
        index_args = self.ctx.project.manifest.pypi_options.uv_args()
        return Uv(index_args=index_args, env=caches.env(), own_group=True)

    def prepare(self, caches: Caches) -> None:
        from condauv.pypi.pylock import build_pylock, pylock_text

        self.name = "uv-only"
        self.engine = (
            f"uv {versions()['uv']} (uv venv + uv pip install; a venv's interpreter lives outside it, "
            "so its disk size excludes Python)"
        )
        ctx, manifest = self.ctx, self.ctx.project.manifest
        if ctx.base_python is None:
            raise CondauvError(
                "no interpreter of the lock's Python version to make a venv of", hint="run with -v"
            )
        folder = ctx.scratch / "uv-only"
        folder.mkdir(parents=True, exist_ok=True)
        requirements, wanted = self._requirements(manifest)
        pinned = {canonicalize_name(Requirement(r).name) for r in requirements}
        constraints = [
            f"{p.name}=={p.version}" for p in ctx.lock.pypi_for(ctx.platform) if p.name not in pinned
        ]
        _fs.atomic_write_text(folder / "requirements.in", "".join(f"{r}\n" for r in requirements))
        _fs.atomic_write_text(folder / "constraints.txt", "".join(f"{c}\n" for c in constraints))
        self.pylock = folder / "pylock.toml"
        if not requirements:
            _fs.atomic_write_text(self.pylock, pylock_text(build_pylock([])))
            self.lock_s = 0.0
        else:
            uv = self._uv(caches)
            start = time.perf_counter()
            uv.compile(
                folder / "requirements.in",
                self.pylock,
                python=ctx.base_python,
                constraints=folder / "constraints.txt",
                check=True,
            )
            self.lock_s = time.perf_counter() - start
        with self.pylock.open("rb") as handle:
            data = tomllib.load(handle)
        self.packages = {str(p["name"]): str(p["version"]) for p in data.get("packages", [])}
        self.distributions = wanted

    def _requirements(self, manifest: Manifest) -> tuple[list[str], list[str]]:
        """Each entry by its PyPI name(s), pinned to the hybrid lock's version where it has one."""
        lines: list[str] = []
        names: list[str] = []
        for entry in manifest.requested:
            extras = f"[{','.join(entry.extras)}]" if entry.extras else ""
            if entry.key == "python":
                self.unavailable.append(
                    Unavailable(entry.name, "a virtual environment's interpreter is not from PyPI")
                )
                continue
            conda, pypi = locked_side(entry, self.ctx.lock, self.ctx.platform, manifest.names)
            if pypi is not None:
                wanted = {pypi.name: pypi.version}
            elif conda is not None:
                wanted = conda.provided_names()
                if not wanted:
                    reason = (
                        f"conda package {conda.name} holds no Python distribution: PyPI has no counterpart"
                    )
                    self.unavailable.append(Unavailable(entry.name, reason))
                    continue
            else:
                lines.append(_requirement(entry.as_pep508()))
                names.append(entry.key)
                continue
            for name, version in sorted(wanted.items()):
                lines.append(_requirement(f"{name}{extras if name == entry.key else ''}=={version}"))
                names.append(name)
        return lines, list(dict.fromkeys(names))

    def install(self, prefix: Path, caches: Caches) -> None:
        if self.pylock is None or self.ctx.base_python is None:
            raise CondauvError("uv-only was not prepared", hint="report it")
        uv = self._uv(caches)
        uv.venv(prefix, self.ctx.base_python)
        uv.install(self.python(prefix), self.pylock, reinstall=False)  # a fresh venv: nothing to replace


def _requirement(line: str) -> str:
    """A requirement line from manifest or lock values (both validated): checked once more, so
    that no value starts a new line or an option."""
    try:
        Requirement(line)
    except InvalidRequirement as exc:
        raise CondauvError(
            f"cannot ask uv for {line!r:.80}: {exc}", hint="check the manifest entry"
        ) from None
    if line.startswith("-") or any(c in line for c in "\r\n\x00"):
        raise CondauvError(f"cannot ask uv for {line!r:.80}", hint="check the manifest entry")
    return line


def make_strategy(name: StrategyName, ctx: Context) -> Strategy:
    kinds: dict[StrategyName, type[Strategy]] = {"hybrid": Hybrid, "conda-only": CondaOnly, "uv-only": UvOnly}
    return kinds[name](ctx, name=name)
