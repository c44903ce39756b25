"""The lockfile's model: frozen dataclasses with ``from_dict``/``to_dict`` and strict validation.

Format (documented in docs/lockfile.md): a TOML file with a ``version``, the manifest's
``content-hash``, the ``[environment]`` it was solved for, and one ``[[conda]]`` or ``[[pypi]]``
table per package and platform, sorted. Reading uses tomllib (once per text: the document is kept
in condauv's cache, see :func:`parse_lock`); writing is deterministic.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from condauv import validation
from condauv.errors import LockfileError
from condauv.lock.validate import (
    LOCK_NAME,
    REGENERATE,
    check_conda,
    check_environment,
    check_pypi,
    check_system_requirements,
)

if TYPE_CHECKING:
    from condauv.manifest.model import Manifest

__all__ = [
    "LOCK_NAME",
    "LOCK_VERSION",
    "CondaPackage",
    "Lock",
    "PypiPackage",
    "load_lock",
    "parse_lock",
]

LOCK_VERSION = 1

_HEADER = "# This file is written by condauv (`condauv lock`). Do not edit it by hand.\n"


class _Fields:
    """Reads one table of the lock, naming the failing field path in every error."""

    def __init__(self, raw: Any, where: str) -> None:
        if not isinstance(raw, dict):
            raise LockfileError(f"{LOCK_NAME}: {where} must be a table", hint=_REGENERATE)
        self.raw = raw
        self.where = where

    def _get(self, key: str, kind: type | tuple[type, ...], want: str, default: Any = ...) -> Any:
        if key not in self.raw:
            if default is ...:
                raise LockfileError(f"{LOCK_NAME}: {self.where}.{key} is missing", hint=_REGENERATE)
            return default
        value = self.raw[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise LockfileError(f"{LOCK_NAME}: {self.where}.{key} must be {want}", hint=_REGENERATE)
        return value

    def text(self, key: str, default: Any = ...) -> Any:
        return self._get(key, str, "a string", default)

    def integer(self, key: str, default: Any = ...) -> Any:
        return self._get(key, int, "an integer", default)

    def strs(self, key: str) -> tuple[str, ...]:
        value = self._get(key, list, "a list of strings", [])
        if not all(isinstance(item, str) for item in value):
            raise LockfileError(
                f"{LOCK_NAME}: {self.where}.{key} must be a list of strings", hint=_REGENERATE
            )
        return tuple(value)

    def sha256(self, key: str = "sha256") -> str:
        value = self.text(key)
        if not validation.is_sha256(value):
            raise LockfileError(
                f"{LOCK_NAME}: {self.where}.{key} is not a sha256 hex digest", hint=_REGENERATE
            )
        return str(value)


_REGENERATE = REGENERATE


@dataclass(frozen=True, slots=True, kw_only=True)
class CondaPackage:
    """One conda artifact for one platform: enough to install it again without solving."""

    platform: str
    name: str
    version: str
    build: str
    build_number: int
    subdir: str
    channel: str
    url: str
    sha256: str
    md5: str | None = None
    size: int | None = None
    noarch: str | None = None
    depends: tuple[str, ...] = ()
    constrains: tuple[str, ...] = ()
    python_site_packages_path: str | None = None
    requested: str | None = None  # the manifest spec that asked for it, if any
    reason: str = ""
    provides: tuple[str, ...] = ()  # PyPI distributions inside it, "name==version"
    entry: str | None = None  # the [dependencies] entry whose evidence-based decision this is

    @property
    def file_name(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    def provided_names(self) -> dict[str, str]:
        """PyPI name -> version of the distributions this package provides."""
        return dict(item.split("==", 1) for item in self.provides)

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)

    @classmethod
    def from_dict(cls, raw: Any, where: str) -> CondaPackage:
        f = _Fields(raw, where)
        package = cls(
            platform=f.text("platform"),
            name=f.text("name"),
            version=f.text("version"),
            build=f.text("build"),
            build_number=f.integer("build-number", 0),
            subdir=f.text("subdir"),
            channel=f.text("channel"),
            url=f.text("url"),
            sha256=f.sha256(),
            md5=f.text("md5", None),
            size=f.integer("size", None),
            noarch=f.text("noarch", None),
            depends=f.strs("depends"),
            constrains=f.strs("constrains"),
            python_site_packages_path=f.text("python-site-packages-path", None),
            requested=f.text("requested", None),
            reason=f.text("reason", ""),
            provides=f.strs("provides"),
            entry=f.text("entry", None),
        )
        check_conda(package, where)
        return package


@dataclass(frozen=True, slots=True, kw_only=True)
class PypiPackage:
    """One PyPI artifact (a wheel, or an sdist when no wheel fits) for one platform."""

    platform: str
    name: str
    version: str
    url: str
    sha256: str
    requested: str | None = None
    reason: str = ""
    entry: str | None = None  # the [dependencies] entry whose evidence-based decision this is
    #: the distributions it needs in its platform's resolution (PEP 503 names; conda-owned
    #: ones included): the PyPI edges of ``condauv tree``. Empty in locks written before it.
    requires: tuple[str, ...] = ()

    @property
    def file_name(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)

    @classmethod
    def from_dict(cls, raw: Any, where: str) -> PypiPackage:
        f = _Fields(raw, where)
        package = cls(
            platform=f.text("platform"),
            name=f.text("name"),
            version=f.text("version"),
            url=f.text("url"),
            sha256=f.sha256(),
            requested=f.text("requested", None),
            reason=f.text("reason", ""),
            entry=f.text("entry", None),
            requires=f.strs("requires"),
        )
        check_pypi(package, where)
        return package


@dataclass(frozen=True, slots=True, kw_only=True)
class Lock:
    """A whole lockfile."""

    content_hash: str
    channels: tuple[str, ...]
    platforms: tuple[str, ...]
    conda: tuple[CondaPackage, ...] = ()
    pypi: tuple[PypiPackage, ...] = ()
    version: int = LOCK_VERSION
    #: the manifest's ``[system-requirements]`` the solve targeted, sorted (key, version) pairs
    system_requirements: tuple[tuple[str, str], ...] = ()

    def conda_for(self, platform: str) -> list[CondaPackage]:
        return [p for p in self.conda if p.platform == platform]

    def pypi_for(self, platform: str) -> list[PypiPackage]:
        return [p for p in self.pypi if p.platform == platform]

    def python_version(self, platform: str) -> str | None:
        return next((p.version for p in self.conda_for(platform) if p.name == "python"), None)

    def to_toml(self) -> str:
        """Deterministic text: sorted packages, fixed key order, one table per artifact."""
        environment: dict[str, Any] = {"channels": list(self.channels), "platforms": sorted(self.platforms)}
        if self.system_requirements:  # only when set: a lock without them reads as before
            environment["system-requirements"] = dict(sorted(self.system_requirements))
        top = {"version": self.version, "content-hash": self.content_hash}
        tables = {
            "conda": [p.to_dict() for p in sorted(self.conda, key=lambda p: (p.platform, p.name))],
            "pypi": [p.to_dict() for p in sorted(self.pypi, key=lambda p: (p.platform, p.name))],
        }
        return _HEADER + _document(top, environment, tables)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Lock:
        """Every field checked (see :mod:`condauv.lock.validate`), the first failure named."""
        validation.check_strings(raw, what=LOCK_NAME, error=LockfileError, hint=_REGENERATE)
        version = raw.get("version")
        if version != LOCK_VERSION:
            raise LockfileError(
                f"{LOCK_NAME}: unknown lockfile version {version!r} (this condauv reads {LOCK_VERSION})",
                hint="upgrade condauv, or run `condauv lock` to write a lock this version reads",
            )
        top = _Fields(raw, "lock")
        env = _Fields(raw.get("environment"), "environment")
        conda = raw.get("conda", [])
        pypi = raw.get("pypi", [])
        if not isinstance(conda, list) or not isinstance(pypi, list):
            raise LockfileError(
                f"{LOCK_NAME}: [[conda]] and [[pypi]] must be arrays of tables", hint=_REGENERATE
            )
        lock = cls(
            content_hash=top.text("content-hash"),
            channels=env.strs("channels"),
            platforms=env.strs("platforms"),
            conda=tuple(CondaPackage.from_dict(p, f"conda[{i}]") for i, p in enumerate(conda)),
            pypi=tuple(PypiPackage.from_dict(p, f"pypi[{i}]") for i, p in enumerate(pypi)),
            system_requirements=check_system_requirements(env.raw.get("system-requirements", {})),
        )
        check_environment(lock.channels, lock.platforms)
        _check_entries("conda", lock.conda, lock.platforms)
        _check_entries("pypi", lock.pypi, lock.platforms)
        _check_provided(lock)
        return lock


def _check_entries(
    side: str, packages: Sequence[CondaPackage | PypiPackage], platforms: Sequence[str]
) -> None:
    """One entry per package and platform, for a platform the lock is for; names compared as
    the tools compare them (conda's case-folded, PyPI's are checked to be PEP 503 already)."""
    seen: set[tuple[str, str]] = set()
    for index, package in enumerate(packages):
        key = (package.platform, package.name.lower())
        if package.platform not in platforms or key in seen:
            raise LockfileError(
                f"{LOCK_NAME}: {side}[{index}] ({package.name} {package.version}): "
                + ("a second entry for" if key in seen else "a platform the lock is not for:")
                + f" {key[1]} on {package.platform}",
                hint=_REGENERATE,
            )
        seen.add(key)


def _check_provided(lock: Lock) -> None:
    """A PyPI entry for a distribution a conda entry of its platform provides would make uv
    write over conda's files: refused on load, before any change (sync's own check came later)."""
    provided: dict[tuple[str, str], tuple[int, CondaPackage]] = {}
    for index, conda in enumerate(lock.conda):
        for name in conda.provided_names():
            provided.setdefault((conda.platform, name), (index, conda))
    for index, pypi in enumerate(lock.pypi):
        owner = provided.get((pypi.platform, pypi.name))
        if owner is not None:
            raise LockfileError(
                f"{LOCK_NAME}: pypi[{index}] ({pypi.name} {pypi.version}): {pypi.name} is provided by "
                f"the conda package {owner[1].name} on {pypi.platform} (conda[{owner[0]}]); "
                "one of the two must go",
                hint=_REGENERATE,
            )


def _to_dict(package: CondaPackage | PypiPackage) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(package):
        value = getattr(package, f.name)
        if value in (None, (), ""):
            continue
        out[f.name.replace("_", "-")] = list(value) if isinstance(value, tuple) else value
    return out


# -- the writer ----------------------------------------------------------------------------------
# The layout tomlkit gave every lock so far, byte for byte (tests/unit/test_lock_writer.py holds
# tomlkit's writer as the reference): a lock is left untouched when its text is unchanged, so an
# existing lock must come out identical. Written directly: tomlkit took 0.1-0.45 s per lock.

_ESCAPED = re.compile(r'[\x00-\x1f\x7f"\\]')
_SHORT_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _escape(match: re.Match[str]) -> str:
    char = match[0]
    return _SHORT_ESCAPES.get(char) or f"\\u{ord(char):04x}"


def _string(text: str) -> str:
    """A basic string: quotes, backslashes and control characters escaped, the rest as it is."""
    return f'"{_ESCAPED.sub(_escape, text)}"'


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _value(value: Any) -> str:
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    if isinstance(value, dict):  # inline, on one line
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"the lock writer has no TOML form for {type(value).__name__}")


def _lines(table: dict[str, Any]) -> str:
    return "".join(f"{_key(key)} = {_value(value)}\n" for key, value in table.items())


def _document(
    top: dict[str, Any], environment: dict[str, Any], tables: dict[str, list[dict[str, Any]]]
) -> str:
    """The top-level values (an array with no table is ``name = []`` among them), then
    ``[environment]``, then one ``[[name]]`` table per entry of each array, in order."""
    head = top | {name: [] for name, entries in tables.items() if not entries}
    parts = [_lines(head), "\n[environment]\n", _lines(environment)]
    parts += [f"\n[[{name}]]\n{_lines(entry)}" for name, entries in tables.items() for entry in entries]
    return "".join(parts)


def parse_lock(text: str) -> Lock:
    """Parse lockfile text; a malformed, invalid or unknown-version lock is a :class:`LockfileError`.

    The TOML is parsed once per text: the document is kept (:func:`_remembered`) and every
    later read of the same text validates that, as it would validate the TOML's.
    """
    key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    raw = _remembered(key)
    remembered = raw is not None
    if raw is None:
        raw = validation.load_toml(text, what=LOCK_NAME, error=LockfileError, hint=_REGENERATE)
    else:
        validation.check_depth(raw, what=LOCK_NAME, error=LockfileError, hint=_REGENERATE)
    validation.forget_resolved()  # file: URLs are compared with the folders as they are now
    lock = Lock.from_dict(raw)
    if not remembered:
        _remember(key, raw)
    return lock


# -- the parsed locks ----------------------------------------------------------------------------
# tomllib is pure Python (50 ms for a lock of 500 entries), json is C (1 ms): the document of a
# lock that read as valid is kept as JSON in condauv's cache, under the sha256 of its text. Only
# an accelerator: what comes back is validated in full, and an entry that is missing, damaged,
# for other text or of another format is a miss (the TOML is parsed).

#: The folder in condauv's cache (:data:`condauv.cache.KNOWN_ENTRIES` knows it).
PARSED_FOLDER = "parsed-locks"
_PARSED_FORMAT = 1
#: At most this many entries (one a lock text) and bytes are kept: the newest written.
_PARSED_KEEP = 32
_PARSED_BYTES = 256 << 20


def _parsed_path(key: str) -> Path:
    from condauv import paths

    return paths.cache_dir() / PARSED_FOLDER / f"{key}.json"


def _remembered(key: str) -> dict[str, Any] | None:
    """The kept document of the text whose sha256 is ``key``, else ``None``."""
    try:
        text = validation.read_text(_parsed_path(key), what="a parsed lock", error=LockfileError, hint="")
        entry = json.loads(text)
    except (LockfileError, OSError, ValueError, RecursionError):
        return None
    if not isinstance(entry, dict) or entry.get("format") != _PARSED_FORMAT or entry.get("sha256") != key:
        return None
    raw = entry.get("lock")
    return raw if isinstance(raw, dict) else None


def _remember(key: str, raw: dict[str, Any]) -> None:
    """Keep ``raw``, the document of the text whose sha256 is ``key``, when JSON gives it back
    as it is (a TOML date or a float that is no number is not kept); the oldest entries go."""
    entry = {"format": _PARSED_FORMAT, "sha256": key, "lock": raw}
    try:
        data = json.dumps(entry, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        if json.loads(data) != entry:  # a float JSON spells otherwise, a key that is no string
            return
        path = _parsed_path(key)
        from condauv import _fs

        _fs.atomic_write_text(path, data, durable=False)
        _prune(path.parent)
    except (OSError, ValueError, TypeError, RecursionError):  # a read-only cache: no harm
        return


def _prune(folder: Path) -> None:
    """Leave the newest :data:`_PARSED_KEEP` entries, at most :data:`_PARSED_BYTES` in all."""
    entries = []
    with os.scandir(folder) as found:
        for item in found:
            if item.name.endswith(".json") and item.is_file(follow_symlinks=False):
                stat = item.stat(follow_symlinks=False)
                entries.append((stat.st_mtime_ns, stat.st_size, item.path))
    entries.sort(reverse=True)
    total = 0
    for count, (_, size, path) in enumerate(entries):
        total += size
        if count >= _PARSED_KEEP or total > _PARSED_BYTES:
            with contextlib.suppress(OSError):
                os.unlink(path)  # noqa: PTH108 - str paths from scandir


def load_lock(path: Path, *, manifest: Manifest | None = None) -> Lock | None:
    """The lock at ``path``, or ``None`` when there is none.

    With ``manifest``, every URL must also belong to one of its channels, indexes or find-links
    folders (:func:`condauv.lock.validate.check_sources`): do that wherever the lock is installed.
    """
    if not path.exists() and not path.is_symlink():
        return None
    text = validation.read_text(path, what=LOCK_NAME, error=LockfileError, hint=_REGENERATE)
    lock = parse_lock(text)
    if manifest is not None:
        from condauv.lock.validate import check_sources

        check_sources(lock, manifest)
    return lock
