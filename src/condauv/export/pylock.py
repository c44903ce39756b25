"""``pylock``: PEP 751 ``pylock.toml``, condauv's one writer of that format.

Built with packaging's model (:mod:`packaging.pylock`), validated by it, written with tomlkit
(fixed key order, sorted packages). ``condauv sync`` installs its PyPI side from this writer's
file (:func:`condauv.pypi.uv.write_pylock`); ``condauv export --format pylock`` writes every
exported platform into one file: a release present on all of them has no marker and the union of
their artifacts; one present on some has a ``marker`` naming those platforms. Read by
``uv pip install -r pylock.toml`` (and by any PEP 751 installer); its PyPI dependencies are not
in condauv.lock, so each package lists none (the file is complete: install it with no resolving).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from condauv import validation
from condauv.errors import LockfileError
from condauv.export._shared import Exported, locked_python_spec, platform_marker

if TYPE_CHECKING:
    from packaging.pylock import Package, Pylock

    from condauv.lock.model import Lock, PypiPackage

__all__ = ["FILE_NAME", "Artifact", "build_pylock", "export", "pylock_text"]

FILE_NAME = "pylock.toml"
_HINT = "the lock was edited or written by another tool: run `condauv lock` again"


class Artifact(Protocol):
    """A locked PyPI artifact (:class:`condauv.lock.model.PypiPackage` is one)."""

    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def sha256(self) -> str: ...


def _checked(artifact: Artifact) -> tuple[str, str, str, str]:
    """(name, version, url, sha256) of ``artifact``, every field checked again whatever the
    caller checked: a structured file that installers parse strictly, never pasted text."""
    what = f"the PyPI artifact {artifact.name!r:.80}"
    name = validation.pypi_name(artifact.name, what=what, error=LockfileError, hint=_HINT)
    if not validation.is_pypi_version(artifact.version):
        raise LockfileError(f"{what} has no PEP 440 version: {artifact.version!r:.80}", hint=_HINT)
    url = validation.url(
        artifact.url,
        schemes=("https", "http", "file"),
        what=f"{what}: its URL",
        error=LockfileError,
        hint=_HINT,
    )
    if "#" in url:
        raise LockfileError(f"{what}: its URL carries a fragment: {url:.200}", hint=_HINT)
    digest = validation.sha256(artifact.sha256, what=f"{what}: its sha256", error=LockfileError, hint=_HINT)
    return name, artifact.version, url, digest


def _package(artifacts: Sequence[Artifact], marker: str | None) -> Package:
    """One package entry from artifacts of one release (wheels deduplicated by URL)."""
    from packaging.markers import Marker
    from packaging.pylock import Package, PackageSdist, PackageWheel
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    checked = [_checked(a) for a in artifacts]
    name, version = checked[0][0], checked[0][1]
    wheels: dict[str, PackageWheel] = {}
    sdist: PackageSdist | None = None
    for _, _, url, digest in checked:
        if urlsplit(url).path.endswith(".whl"):
            wheels.setdefault(url, PackageWheel(url=url, hashes={"sha256": digest}))
        else:
            sdist = PackageSdist(url=url, hashes={"sha256": digest})
    return Package(
        name=canonicalize_name(name),
        version=Version(version),
        marker=Marker(marker) if marker else None,
        sdist=sdist,
        wheels=list(wheels.values()) or None,
    )


def build_pylock(
    releases: Sequence[tuple[Sequence[Artifact], str | None]],
    *,
    requires_python: str | None = None,
    environments: Sequence[str] = (),
) -> Pylock:
    """A validated :class:`packaging.pylock.Pylock`: one package per (artifacts of one release,
    marker) of ``releases``, in that order."""
    from packaging.markers import Marker
    from packaging.pylock import Pylock, PylockValidationError
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    document = Pylock(
        lock_version=Version("1.0"),
        environments=[Marker(e) for e in environments] or None,
        requires_python=SpecifierSet(requires_python) if requires_python else None,
        created_by="condauv",
        packages=[_package(artifacts, marker) for artifacts, marker in releases],
    )
    try:
        document.validate()
    except PylockValidationError as exc:
        raise LockfileError(
            f"the pylock.toml condauv would write is not valid PEP 751: {exc}", hint=_HINT
        ) from None
    return document


def pylock_text(document: Pylock) -> str:
    """The TOML text of ``document`` (deterministic: fields in the model's order)."""
    import tomlkit

    return tomlkit.dumps(_plain(document.to_dict()))


def _plain(value: Any) -> Any:
    """packaging's dict with its read-only mappings made plain, for tomlkit."""
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def releases_for(lock: Lock, platforms: Sequence[str]) -> list[tuple[list[PypiPackage], str | None]]:
    """The lock's PyPI side on ``platforms`` as pylock releases: a (name, version) on all of them
    unmarked with every artifact, one on some marked for those; sorted by name and version."""
    from packaging.version import Version

    groups: dict[tuple[str, str], list[PypiPackage]] = {}
    for platform in platforms:
        for package in lock.pypi_for(platform):
            groups.setdefault((package.name, package.version), []).append(package)
    releases: list[tuple[list[PypiPackage], str | None]] = []
    for _, packages in sorted(groups.items(), key=lambda kv: (kv[0][0], Version(kv[0][1]))):
        sdists = {p.url for p in packages if not urlsplit(p.url).path.endswith(".whl")}
        split = [[p] for p in packages] if len(sdists) > 1 else [packages]  # two sdists: one per platform
        for group in split:
            on = {p.platform for p in group}
            marker = None if on == set(platforms) else platform_marker(on)
            releases.append((group, marker))
    return releases


def export(lock: Lock, platforms: Sequence[str], *, output_name: str | None = None) -> Exported:
    """Every exported platform in one ``pylock.toml``."""
    from pathlib import Path

    from packaging.pylock import is_valid_pylock_path

    document = build_pylock(
        releases_for(lock, platforms),
        requires_python=locked_python_spec(lock, platforms),
        environments=[platform_marker([p]) for p in sorted(platforms)],
    )
    notes = [
        "pylock.toml holds the PyPI side only (export --format explicit for the conda side); "
        "condauv.lock has no PyPI dependency lists, so each package lists none (install it as it is)"
    ]
    if not any(lock.pypi_for(p) for p in platforms):
        notes.append("condauv.lock has no PyPI packages for the exported platforms: the file lists none")
    if output_name is not None and not is_valid_pylock_path(Path(output_name)):
        notes.append(
            f"PEP 751 names the file pylock.toml or pylock.NAME.toml; uv reads {output_name} as a "
            "requirements file, not as a pylock"
        )
    return Exported(
        format="pylock", platform=None, file_name=FILE_NAME, text=pylock_text(document), notes=tuple(notes)
    )
