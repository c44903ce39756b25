"""The lock is input too: it arrives in pull requests, so every field of it is checked on load.

Two steps. :func:`check_conda` and :func:`check_pypi` (the model runs them as it reads each
entry) hold every field to its grammar and each artifact's file name to its name and version.
:func:`check_sources` then holds every URL to the sources of the manifest, never to anything the
lock itself says: a conda URL must be ``<channel>/<subdir>/<file>`` for a channel of
condauv.toml, a PyPI URL must be on the host of one of its indexes or under one of its
find-links folders. Anything else is a :class:`LockfileError` naming the entry.

Match specs (``requested``, ``depends``, ``constrains``) need rattler's parser, whose import costs
more than the rest of a lock's load: a reader that hands them to nothing may read the lock
within :func:`match_specs_deferred` and call :func:`check_match_specs` before rattler meets them
(``sync`` does, before the conda side changes). Every other reader checks them on load.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from condauv import validation
from condauv.errors import LockfileError
from condauv.platforms import KNOWN_SUBDIRS, SYSTEM_REQUIREMENTS, requirement_problem

if TYPE_CHECKING:
    from condauv.lock.model import CondaPackage, Lock, PypiPackage
    from condauv.manifest.model import Manifest, PypiOptions

__all__ = [
    "CONDA_SUBDIRS",
    "LOCK_NAME",
    "REGENERATE",
    "URL_SCHEMES",
    "check_conda",
    "check_environment",
    "check_match_specs",
    "check_pypi",
    "check_sources",
    "check_system_requirements",
    "conda_channel_of",
    "foreign_entries",
    "load_previous",
    "match_specs_deferred",
    "pypi_sources",
]

log = logging.getLogger("condauv.lock")

LOCK_NAME = "condauv.lock"
REGENERATE = "run `condauv lock` to write it again"
URL_SCHEMES = ("https", "http", "file")
CONDA_SUBDIRS = (*KNOWN_SUBDIRS, "noarch")
CONDA_EXTENSIONS = (".conda", ".tar.bz2")
#: the index uv asks when the manifest names none, and where the files of PyPI's indexes live.
DEFAULT_INDEX = "https://pypi.org/simple"
#: where uv's ``--torch-backend`` finds PyTorch's wheels (``/whl/cu126``, ``/whl/cpu``, ...).
TORCH_INDEX = "https://download.pytorch.org/whl/"
_FILE_HOSTS = {"pypi.org": "files.pythonhosted.org", "test.pypi.org": "test-files.pythonhosted.org"}

# conda's version and build grammars, as a strict charset: no ``-`` (it separates name, version
# and build in a file name), no ``*`` (a pattern, not a version), no ``/`` or ``%``.
_CONDA_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+!]*$")
_CONDA_BUILD = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+]*$")
_MD5 = re.compile(r"^[0-9a-f]{32}$")
_NOARCH = (None, "python", "generic")
#: set within :func:`match_specs_deferred`: :func:`check_conda` leaves the match specs alone
_SPECS_DEFERRED: ContextVar[bool] = ContextVar("condauv_match_specs_deferred", default=False)


def _error(message: str) -> LockfileError:
    return LockfileError(f"{LOCK_NAME}: {message}", hint=REGENERATE)


def check_environment(channels: Sequence[str], platforms: Sequence[str]) -> None:
    """``[environment]``: channel URLs of an allowed scheme, platforms condauv knows."""
    for index, channel in enumerate(channels):
        _url(channel, f"environment.channels[{index}]")
    for index, platform in enumerate(platforms):
        _platform(platform, f"environment.platforms[{index}]")


def check_system_requirements(raw: object) -> tuple[tuple[str, str], ...]:
    """``[environment] system-requirements``: a table of known keys and versions, as pairs."""
    where = "environment.system-requirements"
    if not isinstance(raw, dict):
        raise _error(f"{where} must be a table")
    for key, value in raw.items():
        if key not in SYSTEM_REQUIREMENTS:
            raise _error(f"{where}: unknown key {key!r:.40} (known: {', '.join(SYSTEM_REQUIREMENTS)})")
        problem = requirement_problem(key, value) if isinstance(value, str) else "is not a version"
        if problem:
            raise _error(f"{where}.{key} {problem}: {value!r:.40}")
    return tuple(sorted(raw.items()))


def check_conda(package: CondaPackage, where: str) -> None:
    """One ``[[conda]]`` entry, field by field; its URL must be
    ``<channel>/<subdir>/<name>-<version>-<build>.conda`` (or ``.tar.bz2``)."""
    p = package
    validation.conda_name(p.name, what=f"{LOCK_NAME}: {where}.name", error=LockfileError, hint=REGENERATE)
    if not _CONDA_VERSION.match(p.version):
        raise _error(f"{where}.version is not a conda version: {p.version!r:.80}")
    if not _CONDA_BUILD.match(p.build):
        raise _error(f"{where}.build is not a conda build string: {p.build!r:.80}")
    label = f"{where} ({p.name} {p.version})"
    _platform(p.platform, f"{where}.platform")
    if p.subdir not in (p.platform, "noarch"):
        raise _error(f"{label}: subdir {p.subdir!r:.40} is neither its platform nor noarch")
    if p.build_number < 0 or (p.size is not None and p.size < 0):
        raise _error(f"{label}: build-number and size cannot be negative")
    if p.md5 is not None and not _MD5.match(p.md5):
        raise _error(f"{label}: md5 is not an md5 hex digest (32 lowercase hex digits)")
    if p.noarch not in _NOARCH:
        raise _error(f"{label}: noarch {p.noarch!r:.40} is not python or generic")
    if p.python_site_packages_path is not None:
        validation.relative_path(
            p.python_site_packages_path,
            what=f"{LOCK_NAME}: {label}: python-site-packages-path",
            error=LockfileError,
            hint=REGENERATE,
        )
    _check_provides(p.provides, label)
    if not _SPECS_DEFERRED.get():
        _check_match_specs(p, label)
    _url(p.url, f"{label}: URL")
    _url(p.channel, f"{label}: channel")
    parts = urlsplit(p.url).path.rsplit("/", 2)
    stem = f"{p.name}-{p.version}-{p.build}"
    if len(parts) < 3 or unquote(parts[2]) not in [stem + ext for ext in CONDA_EXTENSIONS]:
        raise _error(f"{label}: the URL's file is not {stem}.conda or {stem}.tar.bz2: {p.url:.200}")
    if unquote(parts[1]) != p.subdir:
        raise _error(f"{label}: the URL is not in the {p.subdir} folder of a channel: {p.url:.200}")
    home = conda_channel_of(p.url)
    # the channel's URL; real conda records (and so adopted locks) write it with the subdir
    if not any(_same_url(p.channel, channel) for channel in (home, f"{home}/{p.subdir}")):
        raise _error(f"{label}: the URL {p.url:.200} is not in its channel {p.channel:.200}")


def check_pypi(package: PypiPackage, where: str) -> None:
    """One ``[[pypi]]`` entry: PEP 503 name, PEP 440 version, and a wheel or sdist file name
    that agrees with both."""
    p = package
    validation.pypi_name(p.name, what=f"{LOCK_NAME}: {where}.name", error=LockfileError, hint=REGENERATE)
    if canonicalize_name(p.name) != p.name:  # condauv writes PEP 503 names: one spelling per project
        raise _error(f"{where}.name {p.name!r:.80} is not in its normal form (PEP 503)")
    if not validation.is_pypi_version(p.version):
        raise _error(f"{where}.version is not a PEP 440 version: {p.version!r:.80}")
    label = f"{where} ({p.name} {p.version})"
    _platform(p.platform, f"{where}.platform")
    _url(p.url, f"{label}: URL")
    file = unquote(urlsplit(p.url).path.rsplit("/", 1)[-1])
    try:
        if file.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(file)
        else:
            name, version = parse_sdist_filename(file)
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        raise _error(f"{label}: the URL's file is neither a wheel nor an sdist: {file!r:.120}") from None
    if name != canonicalize_name(p.name) or version != Version(p.version):
        raise _error(f"{label}: the URL's file {file!r:.120} is not {p.name} {p.version}")
    for index, item in enumerate(p.requires):
        if not validation.is_pypi_name(item) or canonicalize_name(item) != item:
            raise _error(f"{label}: requires[{index}] is not a PyPI name in its normal form: {item!r:.80}")


def _check_provides(provides: Sequence[str], label: str) -> None:
    """``name==version`` each, the name in its PEP 503 form (as sync and check compare it)."""
    for index, item in enumerate(provides):
        name, _, version = item.partition("==")
        if not validation.is_pypi_name(name) or not validation.is_pypi_version(version):
            raise _error(f"{label}: provides[{index}] is not name==version: {item!r:.80}")
        if canonicalize_name(name) != name:
            raise _error(f"{label}: provides[{index}] {name!r:.80} is not in its normal form (PEP 503)")


@contextlib.contextmanager
def match_specs_deferred() -> Iterator[None]:
    """Locks read within leave their match specs unchecked, and rattler unloaded: for a reader
    that calls :func:`check_match_specs` before anything hands them to rattler (or to a file)."""
    token = _SPECS_DEFERRED.set(True)
    try:
        yield
    finally:
        _SPECS_DEFERRED.reset(token)


def check_match_specs(lock: Lock) -> None:
    """The check :func:`check_conda` does on load for every conda entry's match specs, with the
    same message: for a lock read within :func:`match_specs_deferred`."""
    for index, package in enumerate(lock.conda):
        _check_match_specs(package, f"conda[{index}] ({package.name} {package.version})")


def _check_match_specs(package: CondaPackage, label: str) -> None:
    """``requested``, ``depends`` and ``constrains`` become conda match specs (in the solver, in
    conda-meta): parsed on load (or by :func:`check_match_specs`), never first where rattler
    meets them after changes began."""
    specs = [("requested", f"{package.name} {package.requested}")] if package.requested else []
    specs += [(f"depends[{i}]", spec) for i, spec in enumerate(package.depends)]
    specs += [(f"constrains[{i}]", spec) for i, spec in enumerate(package.constrains)]
    if not specs:
        return
    from rattler import MatchSpec

    for field, spec in specs:
        try:
            MatchSpec(spec)
        except Exception:  # rattler's InvalidMatchSpecError and kin: any failure is the lock's
            value = spec if field != "requested" else package.requested
            raise _error(f"{label}: {field} is not a conda match spec: {value!r:.80}") from None


def check_sources(lock: Lock, manifest: Manifest) -> None:
    """Every URL of ``lock`` belongs to a channel, index or find-links folder of ``manifest``."""
    for _, problem in foreign_entries(lock, manifest):
        raise _error(problem)


def foreign_entries(lock: Lock, manifest: Manifest) -> Iterator[tuple[CondaPackage | PypiPackage, str]]:
    """The entries of ``lock`` whose URL is not from a source of ``manifest``, each with what is wrong."""
    from condauv.conda.channels import channel_url

    validation.forget_resolved()  # the folders as they are now, resolved once for this lock
    channels = [channel_url(c, manifest.root, must_exist=False) for c in manifest.environment.channels]
    for index, conda in enumerate(lock.conda):
        home = conda_channel_of(conda.url)
        if not any(_same_url(home, channel) for channel in channels):
            yield (
                conda,
                (
                    f"conda[{index}] ({conda.name} {conda.version}): URL {conda.url:.200} "
                    "is not in a channel of condauv.toml"
                ),
            )
    sources = pypi_sources(manifest.pypi_options)
    for index, pypi in enumerate(lock.pypi):
        if not any(validation.url_within(pypi.url, source) for source in sources):
            yield (
                pypi,
                (
                    f"pypi[{index}] ({pypi.name} {pypi.version}): URL {pypi.url:.200} "
                    "is not on an index of condauv.toml, nor in one of its find-links folders"
                ),
            )


def load_previous(path: Path, manifest: Manifest) -> Lock | None:
    """The lock a new lock starts from (the solver prefers its records), or ``None``.

    It is about to be replaced and must not steer the solver: an invalid one is not used, and
    entries from outside the manifest's sources (a hostile edit, or a channel since changed)
    are left out; both with a warning. The logger's name is the file's, so the warning reads
    ``condauv.lock: pypi[3] (...): ...``.
    """
    from condauv.lock.model import load_lock

    try:
        lock = load_lock(path)
    except LockfileError as exc:
        log.warning("%s; the new lock is made without it", exc.message.removeprefix(f"{LOCK_NAME}: "))
        return None
    if lock is None:
        return None
    foreign = list(foreign_entries(lock, manifest))
    if not foreign:
        return lock
    more = f" (and {len(foreign) - 1} more)" if len(foreign) > 1 else ""
    log.warning("%s%s; the new lock is made without them", foreign[0][1], more)
    left_out = {package for package, _ in foreign}
    return replace(
        lock,
        conda=tuple(p for p in lock.conda if p not in left_out),
        pypi=tuple(p for p in lock.pypi if p not in left_out),
    )


def conda_channel_of(url: str) -> str:
    """The channel of a conda artifact URL: what precedes ``/<subdir>/<file>``."""
    return url.rsplit("/", 2)[0]


def pypi_sources(options: PypiOptions) -> list[str]:
    """The URLs under which the manifest's indexes and find-links folders serve files: an HTTP
    index's whole host (PyPI's files host too), a ``file:`` index's folder, a find-links folder
    (the folder of a find-links HTML page)."""
    sources: list[str] = []
    indexes = () if options.no_index else options.public_index_urls()  # no names, no credentials
    if not options.no_index and not options.index_url:
        indexes = (DEFAULT_INDEX, *indexes)
    for index in indexes:
        try:
            parts = urlsplit(index)
            port = f":{parts.port}" if parts.port else ""
        except ValueError:
            continue  # the manifest's reader refuses these; nothing of it is trusted here
        if parts.scheme == "file":
            sources.append(index)
        elif parts.scheme in ("http", "https") and parts.hostname:
            host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
            schemes = ("https",) if parts.scheme == "https" else ("http", "https")
            sources += [f"{scheme}://{host}{port}/" for scheme in schemes]
            if parts.hostname in _FILE_HOSTS:
                sources.append(f"https://{_FILE_HOSTS[parts.hostname]}/")
    for link in options.find_links:
        sources.append(_find_links_source(link))
    if options.torch_backend:  # uv's --torch-backend adds PyTorch's index: its wheels are served here
        sources.append(TORCH_INDEX)
    return sources


def _find_links_source(link: str) -> str:
    """Where a find-links entry serves files: a folder is itself (on disk, a file's folder); an
    ``http(s)`` page of links (``.../torch_stable.html``) serves what lies beside it; any other
    URL is a folder. Never wider: a dot in a folder's name does not make it a page."""
    from condauv._process import strip_credentials

    if "://" not in link:
        folder = Path(link)
        return (folder if not folder.is_file() else folder.parent).as_uri()
    link = strip_credentials(link)
    parts = urlsplit(link)
    if parts.scheme == "file":
        folder = Path(unquote(parts.path))
        return (folder if not folder.is_file() else folder.parent).as_uri()
    if parts.path.lower().endswith((".html", ".htm")):
        return link.rsplit("/", 1)[0] + "/"
    return link if link.endswith("/") else link + "/"


def _url(value: str, what: str) -> None:
    validation.url(
        value, schemes=URL_SCHEMES, what=f"{LOCK_NAME}: {what}", error=LockfileError, hint=REGENERATE
    )
    if validation.has_query(value):
        raise _error(f"{what} carries a query or fragment: {value:.200}")


def _same_url(a: str, b: str) -> bool:
    return validation.url_within(a, b) and validation.url_within(b, a)


def _platform(value: str, what: str) -> None:
    if value not in KNOWN_SUBDIRS:
        raise _error(f"{what} {value!r:.40} is not a platform condauv knows ({', '.join(KNOWN_SUBDIRS)})")
