"""Resolving the PyPI side around what conda owns.

Each conda-owned distribution enters uv's resolution as a direct-URL requirement on a
metadata-only stub wheel (``numpy @ file:///.../numpy-2.3.4-py3-none-any.whl``): uv then
treats it as fixed at conda's version, asks no index about it (conda versions PyPI lacks and
``--offline`` both work), adds none of PyPI's dependencies for it (conda met them), and any
PyPI package that needs another version fails the resolution. The stubs are dropped from the
result. pixi reaches the same end inside uv's library; this is the CLI-level equivalent.

The stubs lie in condauv's cache under a name made of what they hold (the same stub is the same
file, never rewritten), so that uv reuses what it read of them; uv is given the interpreter
that runs condauv to build with, so that it does not search for one (through a pyenv shim, that
cost it 0.15 s a run).
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import canonicalize_name, parse_wheel_filename

from condauv import _fs, paths, progress
from condauv.errors import ConflictError, ProcessError, UserError
from condauv.platforms import uv_python_platform, wheel_platform_tags
from condauv.pypi.uv import Artifact, Uv, write_pylock

__all__ = ["Owner", "ResolvedArtifact", "requires_from_parents", "resolve"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Owner:
    """A conda package that provides a PyPI distribution."""

    distribution: str  # normalised PyPI name
    version: str  # the distribution's version (from its dist-info)
    package: str  # the conda package, "numpy 2.3.4 (py311_0)"


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolvedArtifact:
    name: str
    version: str
    url: str
    sha256: str
    required_by: tuple[str, ...] = ()  # the PyPI packages that need it ("" for none: asked for directly)
    requires: tuple[str, ...] = ()  # the distributions it needs, conda-owned ones included


_VIA = re.compile(r"^([A-Za-z0-9][\w.\-]*)(?:\[[^\]]*\])?\s*(?:==|@)\s*\S+.*?#\s*via\s+(.+)$")


def _required_by(annotated: str) -> dict[str, tuple[str, ...]]:
    """``idna==3.10  # via requests`` -> {"idna": ("requests",)}; ``-r`` sources are left out."""
    found: dict[str, tuple[str, ...]] = {}
    for line in annotated.splitlines():
        match = _VIA.match(line.strip())
        if match:
            parents = [p.strip() for p in match.group(2).split(",")]
            found[canonicalize_name(match.group(1))] = tuple(
                canonicalize_name(p) for p in parents if p and not p.startswith("-")
            )
    return found


def requires_from_parents(parents: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """``{child: parents}`` (uv's ``# via``) turned round: ``{parent: its children}``, sorted."""
    found: dict[str, set[str]] = {}
    for child, who in parents.items():
        for parent in who:
            found.setdefault(parent, set()).add(child)
    return {parent: tuple(sorted(children)) for parent, children in sorted(found.items())}


def resolve(
    requirements: Sequence[str],
    owned: Mapping[str, Owner],
    *,
    python_version: str,
    subdir: str,
    uv: Uv,
    glibc: str | None = None,
    preferences: Sequence[Artifact] = (),
) -> list[ResolvedArtifact]:
    """Resolve ``requirements`` for ``subdir`` and ``python_version`` with ``owned`` fixed;
    ``glibc`` (``[system-requirements]``) picks the manylinux level of a linux target;
    ``preferences`` (the previous lock's artifacts) are kept where the requirements allow."""
    if not requirements:
        return []
    python_platform = uv_python_platform(subdir, glibc=glibc)
    target: dict[str, Any] = {
        "python_version": python_version,
        "python_platform": python_platform,
        "python": _build_interpreter(python_version),
    }
    with _fs.scratch_dir("condauv-resolve-") as tmp:  # in condauv's cache: a killed lock's is removed
        work = Path(tmp)
        lines = list(requirements)
        stubs = paths.cache_dir() / "stubs"
        for owner in owned.values():
            lines.append(f"{owner.distribution} @ {_stub(owner, work, stubs).as_uri()}")
        reqs = work / "requirements.in"
        reqs.write_text("\n".join(lines) + "\n", encoding="utf-8")
        out = work / "pylock.toml"
        annotated = work / "requirements.txt"
        if preferences:  # uv prefers what an existing output file pins (``--upgrade`` drops it)
            write_pylock(work, preferences)
            _write_pins(annotated, preferences)
        with progress.task(f"resolving the PyPI packages for {subdir} with uv"):
            # the same resolution twice, side by side: a pylock.toml (what to lock) and an
            # annotated requirements.txt (who needs what: explain, list, tree), which no single
            # uv run writes. At 500 packages on two idle cores the pair took 0.10 s side by side,
            # 0.14 s in turn (the same CPU time); on busy cores, the same. uv's cache takes both
            # runs' writes (atomic files, locked builds).
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="condauv-uv") as pool:
                edges = pool.submit(uv.compile, reqs, annotated, annotated=True, **target)
                done = uv.compile(reqs, out, **target)
                if done.returncode != 0:
                    raise _explain_failure(done.stderr, owned, subdir)
                data = tomllib.loads(out.read_text(encoding="utf-8"))
                edges.result()  # its own failure leaves the edges out, as it always did
        parents = _required_by(annotated.read_text(encoding="utf-8")) if annotated.exists() else {}
    supported = _supported_tags(python_version, subdir, glibc)
    requires = requires_from_parents(parents)  # the stubs' "via" too: PyPI -> conda edges
    artifacts = []
    for package in data.get("packages", []):
        name = canonicalize_name(package["name"])
        if name in owned:
            continue
        chosen = _choose_artifact(package, supported, subdir)
        artifacts.append(replace(chosen, required_by=parents.get(name, ()), requires=requires.get(name, ())))
    return sorted(artifacts, key=lambda a: a.name)


#: bump when the stubs write_wheel makes change: a stub's folder is named by what went into it
_STUB_FORMAT = "1"


def _stub(owner: Owner, work: Path, stubs: Path | None = None) -> Path:
    """The metadata-only stub wheel of ``owner`` in condauv's cache (``stubs/<key>/``, the key a
    hash of all the stub is made of): written once, the same file in every later lock, so that
    uv reuses what it read of it (a new stub costs uv a read and a hash each time). Made in
    ``work`` and moved in whole; where the cache cannot take it, used from ``work``. ``stubs``:
    that folder of the cache, when the caller has it."""
    summary = f"stands for conda package {owner.package}"
    made_of = "\0".join((_STUB_FORMAT, owner.distribution, owner.version, summary))
    folder = (stubs or paths.cache_dir() / "stubs") / hashlib.sha256(made_of.encode()).hexdigest()[:32]
    cached = _wheel_in(folder)
    if cached is not None:
        return cached
    from condauv.pypi.wheelfile import write_wheel  # zipfile, only when a stub is new

    stub = write_wheel(work / "stubs" / folder.name, owner.distribution, owner.version, summary=summary)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        stub.parent.rename(folder)  # a whole folder: others see none or a complete one
    except OSError:  # another lock's moved in first, a read-only cache, another file system
        return _wheel_in(folder) or stub
    return folder / stub.name


def _wheel_in(folder: Path) -> Path | None:
    """The wheel a stub folder holds (one listing: the folder is moved in whole), if any."""
    try:
        names = os.listdir(folder)  # noqa: PTH208 - a name, not a glob's Path per entry
    except OSError:
        return None
    return next((folder / name for name in sorted(names) if name.endswith(".whl")), None)


def _build_interpreter(python_version: str) -> Path | None:
    """The interpreter running condauv, when it is of the target's minor version: uv builds
    sdists with it while resolving. ``None`` for another version: uv then looks for one, as it
    always did (an sdist's metadata may depend on the Python that builds it)."""
    version = re.match(r"(\d+)\.(\d+)", python_version)
    if version is None or (int(version[1]), int(version[2])) != sys.version_info[:2]:
        return None
    return Path(sys.executable) if sys.executable and not getattr(sys, "frozen", False) else None


def _write_pins(path: Path, preferences: Sequence[Artifact]) -> None:
    """``name==version`` lines, each checked again as the pylock writer checks its fields: a
    line that is not a plain pin never reaches uv."""
    from condauv import validation
    from condauv.errors import LockfileError

    hint = "the lock was edited or written by another tool: run `condauv lock --upgrade`"
    lines = []
    for artifact in preferences:
        name = validation.pypi_name(artifact.name, what="a locked PyPI name", error=LockfileError, hint=hint)
        if not validation.is_pypi_version(artifact.version):
            raise LockfileError(f"{name} has no PEP 440 version: {artifact.version!r:.80}", hint=hint)
        lines.append(f"{canonicalize_name(name)}=={artifact.version}\n")
    path.write_text("".join(lines), encoding="utf-8")


def _supported_tags(python_version: str, subdir: str, glibc: str | None = None) -> dict[Tag, int]:
    major, minor = (int(part) for part in python_version.split(".")[:2])
    platforms = wheel_platform_tags(subdir, glibc=glibc)
    interpreter = f"cp{major}{minor}"
    ordered = [
        *cpython_tags((major, minor), abis=[interpreter, "abi3", "none"], platforms=platforms),
        *compatible_tags((major, minor), interpreter, platforms),
    ]
    return {tag: rank for rank, tag in enumerate(ordered)}


def _url_of(entry: Mapping[str, Any]) -> str:
    if "url" in entry:
        return str(entry["url"])
    return Path(entry["path"]).resolve().as_uri()


def _sha256_of(entry: Mapping[str, Any], name: str) -> str:
    digest = entry.get("hashes", {}).get("sha256")
    if not digest:
        raise UserError(
            f"uv gave no sha256 for {name} ({_url_of(entry)})",
            hint="use an index or find-links source that serves hashes",
        )
    return str(digest)


def _choose_artifact(
    package: Mapping[str, Any], supported: Mapping[Tag, int], subdir: str
) -> ResolvedArtifact:
    """The best wheel for the target's tags; else the sdist; else a direct archive."""
    name, version = canonicalize_name(package["name"]), str(package["version"])
    best: tuple[int, Mapping[str, Any]] | None = None
    for wheel in package.get("wheels", []):
        filename = _url_of(wheel).rsplit("/", 1)[-1]
        ranks = [supported[t] for t in parse_wheel_filename(filename)[3] if t in supported]
        if ranks and (best is None or min(ranks) < best[0]):
            best = (min(ranks), wheel)
    chosen = best[1] if best else package.get("sdist") or package.get("archive")
    if chosen is None:
        raise UserError(
            f"no artifact of {name} {version} installs on {subdir}",
            hint="pin a version that publishes a wheel for this platform, or drop the platform",
        )
    return ResolvedArtifact(name=name, version=version, url=_url_of(chosen), sha256=_sha256_of(chosen, name))


def _condense(stderr: str) -> str:
    """uv's explanation as one line: its 'Because ...' sentences, joined."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    lines = [re.sub(r"^(error|cause|hint|\u2570\u2500\u25b6|\u00d7):?\s*", "", line) for line in lines]
    text = " ".join(line for line in lines if line and not line.startswith("No solution found"))
    return re.sub(r"\s+", " ", text).strip()


def _explain_failure(stderr: str, owned: Mapping[str, Owner], subdir: str) -> Exception:
    text = _condense(stderr)
    mentioned = [
        owner
        for name, owner in owned.items()
        if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text, re.IGNORECASE)
    ]
    if "unsatisfiable" in text or "cannot be used" in text or "No solution" in stderr:
        if mentioned:
            return _conflict(text, mentioned, subdir)
        missing = re.search(
            r"Because ([\w.\-]+) was not found in the (?:package registry|provided package locations)", text
        )
        if missing:
            return UserError(
                f"no PyPI package {missing.group(1)!r} for {subdir}: {text}",
                hint="check the name; conda-only packages belong in [conda-dependencies]",
            )
        return UserError(
            f"the PyPI requirements cannot be resolved for {subdir}: {text}",
            hint="relax the clashing requirements named above",
        )
    return ProcessError(
        f"uv could not resolve the PyPI side: {text or 'no output'}",
        command=["uv", "pip", "compile"],
        returncode=1,
        stderr=stderr,
        hint="add -v for uv's full output; with --offline, uv needs a warm cache",
    )


def _conflict(text: str, mentioned: Sequence[Owner], subdir: str) -> ConflictError:
    """Name both sides: who on PyPI needs what, and which conda package provides what instead."""
    needs = []
    for owner in mentioned:
        name = re.escape(owner.distribution)
        pattern = rf"(?:versions of |\b)([\w.\-]+?)(?:==[\w.]+)? depends? on {name}([^\s,]*)"
        for who, spec in re.findall(pattern, text, re.IGNORECASE):
            needs.append(f"{who} requires {owner.distribution}{spec.rstrip('.')}")
    provided = ", ".join(
        f"{o.distribution} {o.version} comes from conda package {o.package}" for o in mentioned
    )
    first = mentioned[0].distribution
    detail = "; ".join(dict.fromkeys(needs)) or f"uv: {text}"
    return ConflictError(
        f"PyPI/conda conflict on {subdir}: {detail}, but {provided}",
        hint=(
            f"let conda provide a {first} that fits (change its spec in [dependencies] or "
            f"[conda-dependencies]), or relax the PyPI requirement that needs another {first}"
        ),
    )
