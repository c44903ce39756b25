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

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from condauv import _process
from condauv.bench.model import StrategyName, Unavailable
from condauv.errors import CondauvError
from condauv.lock.model import CondaPackage, Lock, PypiPackage
from condauv.manifest.model import Manifest, Requested
from condauv.project import Project

__all__ = ["Caches", "CondaOnly", "Context", "Hybrid", "Strategy", "UvOnly", "make_strategy", "versions"]

_UV_ENV = {"UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1", "NO_COLOR": "1"}


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

    def env(self) -> dict[str, str]:
        return {"CONDAUV_CACHE_DIR": str(self.conda), "UV_CACHE_DIR": str(self.uv)}


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
    entry: Requested, lock: Lock, platform: str
) -> tuple[CondaPackage | None, PypiPackage | None]:
    """Where the lock put ``entry``: its conda package (under either spelling) or its PyPI one."""
    from condauv.classification.policy import spellings

    conda = {p.name: p for p in lock.conda_for(platform)}
    for name in spellings(entry):
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
        conda, pypi = locked_side(entry, lock, platform)
        if conda is not None:
            found += sorted(conda.provided_names())
        elif pypi is not None:
            found.append(pypi.name)
    return list(dict.fromkeys(found))


@dataclass(slots=True)
class Hybrid(Strategy):
    """condauv's own lock: conda side by py-rattler, PyPI side by uv."""

    def prepare(self, caches: Caches) -> None:
        del caches
        v = versions()
        self.name = "hybrid"
        self.engine = f"condauv {v['condauv']} (py-rattler {v['py-rattler']} + uv {v['uv']})"
        self.packages = _lock_packages(self.ctx.lock, self.ctx.platform)
        self.distributions = _entry_distributions(self.ctx.project.manifest, self.ctx.lock, self.ctx.platform)

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
            # pinned to the hybrid lock's conda version where it has one: the same package, compared
            spec = f"=={locked[name].version}" if name in locked else entry.spec
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


def _write_conda_manifest(ctx: Context, channels: Sequence[str], entries: Sequence[Requested]) -> Path:
    """The conda-only manifest: same Python (the hybrid lock's version), channels and platform."""
    from condauv import _fs
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
    index_args: list[str] = field(default_factory=list)
    index_env: dict[str, str] = field(default_factory=dict)

    def prepare(self, caches: Caches) -> None:
        from condauv.pypi.uv import Uv, find_uv

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
        uv = Uv(index_args=manifest.pypi_options.uv_args())  # credentials move into the environment
        self.index_args, self.index_env = uv.index_args, uv.index_env
        folder = ctx.scratch / "uv-only"
        folder.mkdir(parents=True, exist_ok=True)
        requirements, wanted = self._requirements(manifest)
        pinned = {canonicalize_name(Requirement(r).name) for r in requirements}
        constraints = [
            f"{p.name}=={p.version}" for p in ctx.lock.pypi_for(ctx.platform) if p.name not in pinned
        ]
        (folder / "requirements.in").write_text("".join(f"{r}\n" for r in requirements), encoding="utf-8")
        (folder / "constraints.txt").write_text("".join(f"{c}\n" for c in constraints), encoding="utf-8")
        self.pylock = folder / "pylock.toml"
        command: list[str | Path] = [
            find_uv(),
            "pip",
            "compile",
            "--no-config",
            "--color",
            "never",
            "--quiet",
            folder / "requirements.in",
            "--constraints",
            folder / "constraints.txt",
            "--format",
            "pylock.toml",
            "--generate-hashes",
            "--python",
            ctx.base_python,
            "--output-file",
            self.pylock,
            *self.index_args,
        ]
        if not requirements:
            self.pylock.write_text(
                'lock-version = "1.0"\ncreated-by = "condauv"\npackages = []\n', encoding="utf-8"
            )
            self.lock_s = 0.0
        else:
            self.lock_s = timed(
                command,
                what="uv pip compile (uv-only, everything from PyPI)",
                env={**_UV_ENV, **self.index_env, "UV_CACHE_DIR": str(caches.uv)},
            )
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
            conda, pypi = locked_side(entry, self.ctx.lock, self.ctx.platform)
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
        from condauv.pypi.uv import find_uv

        if self.pylock is None or self.ctx.base_python is None:
            raise CondauvError("uv-only was not prepared", hint="report it")
        env = {**_UV_ENV, **self.index_env, "UV_CACHE_DIR": str(caches.uv)}
        base = [find_uv(), "--no-config", "--color", "never", "--quiet"]
        _process.run(
            [*base[:1], "venv", *base[1:], "--python", self.ctx.base_python, prefix],
            what="uv venv (uv-only)",
            env=env,
            own_group=True,
        )
        _process.run(
            [
                *base[:1],
                "pip",
                "install",
                *base[1:],
                "--python",
                self.python(prefix),
                "--no-deps",
                "--require-hashes",
                *(() if self.index_env else ("--no-index",)),
                "--preview-features",
                "pylock",
                "-r",
                self.pylock,
            ],
            what="uv pip install (uv-only)",
            env=env,
            own_group=True,
        )


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
