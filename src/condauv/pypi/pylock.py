"""PEP 751 ``pylock.toml``: condauv's one writer of that format.

Built with packaging's model (:mod:`packaging.pylock`), validated by it, written with tomli-w
(fixed key order; for 250 packages 0.01 s, where tomlkit took 0.15 s). ``condauv sync``
installs its PyPI side from this writer's file (:func:`condauv.pypi.uv.write_pylock`);
``condauv export --format pylock`` (:mod:`condauv.export.pylock`) writes every exported
platform into one. Every artifact's fields
are checked again here, whatever the caller checked: installers parse this file strictly, and
nothing in it is pasted text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from condauv import validation
from condauv.errors import LockfileError

if TYPE_CHECKING:
    from packaging.pylock import Package, Pylock

__all__ = ["Artifact", "build_pylock", "pylock_text"]

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
    import tomli_w

    return tomli_w.dumps(_plain(document.to_dict()))


def _plain(value: Any) -> Any:
    """packaging's dict with its read-only mappings made plain, for the writer."""
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
