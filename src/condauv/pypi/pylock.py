"""PEP 751 ``pylock.toml``: condauv's one writer of that format.

``condauv sync`` installs its PyPI side from this writer's file (:func:`condauv.pypi.uv.write_pylock`);
``condauv export --format pylock`` (:mod:`condauv.export.pylock`) writes every exported
platform into one. Every artifact's fields are checked again here, whatever the caller checked:
installers parse this file strictly, and nothing in it is pasted text.

The file is written straight as text, in the layout tomli-w gives packaging's model
(:class:`packaging.pylock.Pylock`) of the same document, every string escaped as TOML asks;
what packaging's validation would refuse (a wheel or sdist file name that does not name the
package and its version) is refused here, one file name at a time. For 250 packages this takes
milliseconds, where building, validating and dumping packaging's model took 0.1-0.2 s (its
``to_dict`` is a deep ``dataclasses.asdict``); the tests hold the text to tomli-w's and
packaging's model to every file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote, urlsplit

from condauv import validation
from condauv.errors import LockfileError

__all__ = ["Artifact", "Pylock", "PylockFile", "PylockPackage", "build_pylock", "pylock_text"]

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


@dataclass(frozen=True, slots=True)
class PylockFile:
    """A wheel or sdist: its URL and sha256."""

    url: str
    sha256: str


@dataclass(frozen=True, slots=True)
class PylockPackage:
    """One ``[[packages]]`` entry: a normalised name, a normalised version, a marker or none."""

    name: str
    version: str
    marker: str | None
    sdist: PylockFile | None
    wheels: tuple[PylockFile, ...]


@dataclass(frozen=True, slots=True)
class Pylock:
    """A checked pylock document (its strings normalised as packaging writes them)."""

    packages: tuple[PylockPackage, ...]
    environments: tuple[str, ...] = ()
    requires_python: str | None = None


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


def _invalid(message: str, where: str) -> LockfileError:
    return LockfileError(
        f"the pylock.toml condauv would write is not valid PEP 751: {message} in {where!r}", hint=_HINT
    )


def _check_file_name(path: str, *, wheel: bool, name: str, version: str, where: str) -> None:
    """The check packaging's model makes of each file: its name (the last segment of the URL's
    ``path``, its ``;params`` left out as :func:`urllib.parse.urlparse` leaves them, decoded)
    is a wheel's or an sdist's of this package and version."""
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )
    from packaging.version import Version

    filename = unquote(path.rsplit("/", 1)[-1].split(";", 1)[0])
    kind = "wheel" if wheel else "sdist"
    try:
        found, found_version = parse_wheel_filename(filename)[:2] if wheel else parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename):
        raise _invalid(f"Invalid {kind} filename {filename!r}", where) from None
    if found != name:
        raise _invalid(f"Name in {filename!r} is not consistent with package name {name!r}", where)
    if found_version != Version(version):
        raise _invalid(f"Version in {filename!r} is not consistent with package version {version!r}", where)


def _package(artifacts: Sequence[Artifact], marker: str | None, index: int) -> PylockPackage:
    """One package entry from artifacts of one release (wheels deduplicated by URL)."""
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    checked = [_checked(a) for a in artifacts]
    name, version = canonicalize_name(checked[0][0]), str(Version(checked[0][1]))
    wheels: dict[str, tuple[PylockFile, str]] = {}
    sdist: tuple[PylockFile, str] | None = None
    for _, _, url, digest in checked:
        path = urlsplit(url).path
        if path.endswith(".whl"):
            wheels.setdefault(url, (PylockFile(url, digest), path))
        else:
            sdist = (PylockFile(url, digest), path)
    for position, (_, path) in enumerate(wheels.values()):  # in packaging's order: wheels, then the sdist
        where = f"packages[{index}].wheels[{position}]"
        _check_file_name(path, wheel=True, name=name, version=version, where=where)
    if sdist is not None:
        _check_file_name(sdist[1], wheel=False, name=name, version=version, where=f"packages[{index}].sdist")
    if marker:
        from packaging.markers import Marker

        marker = str(Marker(marker))
    files = tuple(file for file, _ in wheels.values())
    return PylockPackage(name, version, marker or None, sdist[0] if sdist else None, files)


def build_pylock(
    releases: Sequence[tuple[Sequence[Artifact], str | None]],
    *,
    requires_python: str | None = None,
    environments: Sequence[str] = (),
) -> Pylock:
    """A checked :class:`Pylock`: one package per (artifacts of one release, marker) of
    ``releases``, in that order."""
    if environments:
        from packaging.markers import Marker

        environments = tuple(str(Marker(e)) for e in environments)
    if requires_python:
        from packaging.specifiers import SpecifierSet

        requires_python = str(SpecifierSet(requires_python))
    return Pylock(
        packages=tuple(_package(artifacts, marker, i) for i, (artifacts, marker) in enumerate(releases)),
        environments=tuple(environments),
        requires_python=requires_python or None,
    )


#: TOML's escapes in a basic string, as tomli-w writes them (a tab stays as it is)
_ESCAPES = {i: f"\\u{i:04x}" for i in (*range(0x20), 0x7F) if i != 0x09}
_ESCAPES |= {0x08: "\\b", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r", 0x22: '\\"', 0x5C: "\\\\"}


def _string(value: str) -> str:
    return f'"{value.translate(_ESCAPES)}"'


def _file_lines(header: str, table: str, file: PylockFile) -> list[str]:
    """A wheel's or sdist's table (``header``) and its ``hashes`` sub-table, as tomli-w writes them."""
    return [
        f"\n{header}\n",
        f"url = {_string(file.url)}\n",
        f"\n[{table}.hashes]\n",
        f"sha256 = {_string(file.sha256)}\n",
    ]


def pylock_text(document: Pylock) -> str:
    """The TOML text of ``document``: deterministic, fields in packaging's order, laid out as
    tomli-w lays out packaging's ``to_dict()`` of the same document."""
    lines = ['lock-version = "1.0"\n']
    if document.environments:
        lines += ["environments = [\n", *(f"    {_string(e)},\n" for e in document.environments), "]\n"]
    if document.requires_python:
        lines.append(f"requires-python = {_string(document.requires_python)}\n")
    lines.append('created-by = "condauv"\n')
    if not document.packages:
        lines.append("packages = []\n")
    for package in document.packages:
        lines += ["\n[[packages]]\n", f"name = {_string(package.name)}\n"]
        lines.append(f"version = {_string(package.version)}\n")
        if package.marker:
            lines.append(f"marker = {_string(package.marker)}\n")
        if package.sdist is not None:
            lines += _file_lines("[packages.sdist]", "packages.sdist", package.sdist)
        for wheel in package.wheels:
            lines += _file_lines("[[packages.wheels]]", "packages.wheels", wheel)
    return "".join(lines)
