"""The one validation layer for what condauv reads from disk or from another person.

A manifest, a lock, an environment.yml, a requirements file, a conda record, an archive's
``paths.json`` and a prefix can all come from someone else. Every reader goes through these
functions, which turn bad input into the caller's :class:`~condauv.errors.UserError` subclass
(one line naming the problem, a hint, exit code 2) before anything is changed. Plain stdlib:
no rattler, so readers stay fast to import.
"""

from __future__ import annotations

import functools
import os
import re
import stat
import tomllib
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple
from urllib.parse import unquote, urlsplit

from condauv.errors import UserError

__all__ = [
    "MAX_DEPTH",
    "MAX_INPUT_BYTES",
    "MAX_URL_LENGTH",
    "check_depth",
    "check_strings",
    "check_text",
    "conda_name",
    "contained",
    "forget_resolved",
    "has_query",
    "is_conda_name",
    "is_pypi_name",
    "is_pypi_version",
    "is_sha256",
    "load_toml",
    "pypi_name",
    "read_text",
    "relative_path",
    "sha256",
    "shown",
    "url",
    "url_within",
]

#: The deepest nesting of tables and arrays any condauv input needs (real files use 3-4).
MAX_DEPTH = 32
#: The largest input file condauv reads as text (a lock of 100k packages is ~40 MB).
MAX_INPUT_BYTES = 256 * 1024 * 1024
#: The longest URL condauv accepts (real ones are under 300 characters; Linux's PATH_MAX is 4096).
MAX_URL_LENGTH = 8192
#: The most path segments a URL may have (real ones have under 20).
MAX_URL_SEGMENTS = 128

_PYPI_NAME = re.compile(r"^(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])$")
_PYPI_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.!+_-]*$")
_CONDA_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: C0 and C1 controls, DEL, and the Unicode line and paragraph separators: every character that
#: ``str.splitlines`` (pip's reader of requirement files) or a YAML reader breaks a line at.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
#: ``str.isspace``'s characters: both are CPython's ``Py_UNICODE_ISSPACE``
_SPACE = re.compile(r"\s")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def read_text(
    path: Path, *, what: str, error: type[UserError], hint: str, limit: int = MAX_INPUT_BYTES
) -> str:
    """A file's text: strict UTF-8, no NUL bytes, at most ``limit`` bytes; any failure is ``error``."""
    check_text(str(path), what=f"the path of {what}", error=error, hint=hint)
    try:
        # O_NONBLOCK: a FIFO in the file's place must not make condauv wait for a writer
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise error(f"cannot read {what} ({path}): {exc.strerror or exc}", hint=hint) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):  # a folder, a FIFO, a device (/dev/zero), a socket
        os.close(fd)
        raise error(f"{what} ({path}) is not a regular file", hint=hint)
    os.set_blocking(fd, True)
    with os.fdopen(fd, "rb") as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise error(f"cannot read {what} ({path}): {exc.strerror or exc}", hint=hint) from None
    if len(data) > limit:
        raise error(f"{what} ({path}) is larger than {limit / 2**20:g} MiB", hint=hint)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise error(f"{what} ({path}) is not UTF-8 text: bad byte at line {line}", hint=hint) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise error(f"{what} ({path}) holds a NUL byte at line {line}", hint=hint)
    return text.removeprefix("\ufeff")


def load_toml(text: str, *, what: str, error: type[UserError], hint: str) -> dict[str, Any]:
    """Parse TOML; malformed text (with line and column) or nesting past :data:`MAX_DEPTH` is ``error``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{what} is not valid TOML: {exc}", hint=hint) from None
    except RecursionError:
        raise error(f"{what} nests tables or arrays too deeply", hint=hint) from None
    check_depth(data, what=what, error=error, hint=hint)
    return data


def check_depth(data: Any, *, what: str, error: type[UserError], hint: str, limit: int = MAX_DEPTH) -> None:
    """Refuse a parsed document nested deeper than ``limit`` (walked without recursion)."""
    level: list[Any] = [data]  # every value at one depth, level by level
    depth = 0
    while level:
        if depth > limit:
            raise error(f"{what} nests tables or arrays more than {limit} levels deep", hint=hint)
        below: list[Any] = []
        for value in level:
            if isinstance(value, dict):
                below += value.values()
            elif isinstance(value, list):
                below += value
        level = below
        depth += 1


def check_strings(data: Any, *, what: str, error: type[UserError], hint: str) -> None:
    """Refuse a control character (NUL included) in any key or string of a parsed document,
    naming its field (``environment.channels[0]``); walked without recursion."""
    if not _CONTROL.search(" ".join(_strings(data))):
        return  # the common case, in one search: the walk below names the field
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            check_text(value, what=f"{what}: {where or 'the document'}", error=error, hint=hint)
        elif isinstance(value, dict):
            for key, child in value.items():
                field = f"{where}.{key}" if where else str(key)
                check_text(str(key), what=f"{what}: the key {field!r}", error=error, hint=hint)
                stack.append((child, field))
        elif isinstance(value, list):
            stack.extend((child, f"{where}[{index}]") for index, child in enumerate(value))


def _strings(data: Any) -> list[str]:
    """Every key and string of a parsed document, in no particular order."""
    found: list[str] = []
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            found.extend(map(str, value))
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return found


def shown(value: object, width: int = 80) -> str:
    """``value`` as an error message quotes it: credentials masked first, then cut to ``width``
    (cut first, a password's ``@`` could fall past the cut and leave the mask nothing to match)."""
    from condauv._process import mask

    text = repr(mask(value)) if isinstance(value, str) else repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def check_text(value: str, *, what: str, error: type[UserError], hint: str) -> str:
    """A string that becomes a path, an argument, a file name or one line of a file: no NUL,
    control character or line break of any kind (see ``_CONTROL``)."""
    if _CONTROL.search(value):
        raise error(f"{what} holds a control character: {shown(value)}", hint=hint)
    return value


def is_pypi_name(value: str) -> bool:
    """A valid PyPI project name (PEP 508 / PEP 503, before normalisation)."""
    return bool(_PYPI_NAME.match(value))


def pypi_name(value: str, *, what: str, error: type[UserError], hint: str) -> str:
    if not isinstance(value, str) or not is_pypi_name(value):
        raise error(f"{what} is not a valid PyPI name: {value!r:.80}", hint=hint)
    return value


def is_pypi_version(value: str) -> bool:
    """A PEP 440 version as written in a lock or file name: no spaces or other padding."""
    from packaging.version import InvalidVersion, Version

    if not isinstance(value, str) or not _PYPI_VERSION.match(value):
        return False
    try:
        Version(value)
    except InvalidVersion:
        return False
    return True


def is_conda_name(value: str) -> bool:
    """A valid conda package name: letters, digits, ``_ . -``, not a path."""
    return bool(_CONDA_NAME.match(value)) and value not in (".", "..")


def conda_name(value: str, *, what: str, error: type[UserError], hint: str) -> str:
    if not isinstance(value, str) or not is_conda_name(value):
        raise error(f"{what} is not a valid conda package name: {value!r:.80}", hint=hint)
    return value


def is_sha256(value: str) -> bool:
    return bool(_SHA256.match(value))


def sha256(value: str, *, what: str, error: type[UserError], hint: str) -> str:
    if not isinstance(value, str) or not is_sha256(value):
        raise error(f"{what} is not a sha256 hex digest (64 lowercase hex digits)", hint=hint)
    return value


def url(value: str, *, schemes: Iterable[str], what: str, error: type[UserError], hint: str) -> str:
    """An absolute URL of one of ``schemes``, without whitespace, control characters or credentials."""
    if not isinstance(value, str) or not value:
        raise error(f"{what} is not a URL: {shown(value)}", hint=hint)
    problem = _url_problem(value, tuple(schemes))
    if problem is not None:
        raise error(f"{what} {problem}", hint=hint)
    return value


@functools.lru_cache(maxsize=4096)
def _url_problem(value: str, allowed: tuple[str, ...]) -> str | None:
    """What is wrong with ``value`` as a URL of ``allowed`` schemes (the end of the message), or
    ``None``: a function of the strings alone, remembered (a lock names one channel per entry)."""
    if _CONTROL.search(value) or _SPACE.search(value):
        return f"is not a URL: {shown(value)}"
    if len(value) > MAX_URL_LENGTH:  # comparing paths resolves them: quadratic in their segments
        return f"is longer than {MAX_URL_LENGTH} characters: {shown(value)}"
    if "\\" in value:  # uv (WHATWG URLs) reads a backslash as "/": "dir/..\\x" would leave dir
        return f"holds a backslash: {shown(value)}"
    parts = _split(value)
    if parts is None or not parts.scheme:
        return f"is not a URL: {shown(value)}"
    decoded = parts.decoded
    if _CONTROL.search(decoded) or "\\" in decoded:
        return f"holds a control character or backslash once decoded: {shown(value)}"
    if decoded.count("/") > MAX_URL_SEGMENTS:  # resolving a path costs per segment
        return f"has more than {MAX_URL_SEGMENTS} path segments: {shown(value)}"
    if parts.scheme not in allowed:
        return f"has the scheme {parts.scheme or 'none'!r}; allowed: {', '.join(allowed)}"
    if parts.scheme != "file" and not parts.hostname:
        return f"has no host: {shown(value)}"
    if parts.credentials:
        return "holds credentials; they never belong in a lock or a record"
    return None


class _Parts(NamedTuple):
    """What :func:`url` and :func:`url_within` read of a URL (``urlsplit``'s, percent-decoded)."""

    scheme: str
    netloc: str
    hostname: str | None
    port: int | None
    path: str
    decoded: str  # the path, percent-decoded
    credentials: bool
    query: bool  # a query or a fragment


@functools.lru_cache(maxsize=4096)
def _split(value: str) -> _Parts | None:
    """``value`` split once, or ``None`` when ``urlsplit`` (or its port) refuses it."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    return _Parts(
        scheme=parts.scheme,
        netloc=parts.netloc,
        hostname=parts.hostname,
        port=port,
        path=parts.path,
        decoded=unquote(parts.path),
        credentials=bool(parts.username or parts.password),
        query=bool(parts.query or parts.fragment),
    )


def has_query(value: str) -> bool:
    """Whether URL ``value`` carries a query or a fragment (a ``#`` anywhere counts)."""
    parts = _split(value)
    return "#" in value or (parts is not None and parts.query)


def url_within(candidate: str, base: str) -> bool:
    """Whether URL ``candidate`` is ``base`` or lies under it: the same scheme, host and port, and
    a path inside base's, compared percent-decoded. ``file:`` paths are compared with every link
    resolved; for other schemes a ``.`` or ``..`` segment never passes."""
    got, want = _split(candidate), _split(base)
    if got is None or want is None:
        return False
    scheme = want.scheme.lower()
    if got.scheme.lower() != scheme:
        return False
    if scheme == "file":
        if {got.netloc, want.netloc} - {"", "localhost"}:
            return False
        root, path = _local_path(want.decoded), _local_path(got.decoded)
        if root is None or path is None:
            return False
        return _contained_memo(root, path)
    default = _DEFAULT_PORTS.get(scheme)
    if got.hostname is None or got.hostname != want.hostname:
        return False
    if (got.port or default) != (want.port or default):
        return False
    if "\\" in got.path or "\\" in got.decoded:
        return False  # uv reads a backslash as "/"
    segments = got.decoded.split("/")
    if "." in segments or ".." in segments:
        return False
    root = want.decoded.rstrip("/")
    path = got.decoded
    return path.rstrip("/") == root or path.startswith(root + "/")


@functools.lru_cache(maxsize=4096)
def _local_path(decoded: str) -> str | None:
    """A ``file:`` URL's decoded path as ``Path`` spells it (no repeated or trailing ``/``, no
    ``.`` part), or ``None`` for one with a NUL or a backslash: a function of the string alone."""
    if "\x00" in decoded or "\\" in decoded:
        return None
    return os.fspath(Path(decoded))


def relative_path(value: str, *, what: str, error: type[UserError], hint: str) -> PurePosixPath:
    """A path that must stay inside the folder it is relative to: not absolute, no ``..``."""
    check_text(value, what=what, error=error, hint=hint)
    path = PurePosixPath(value)
    if not value or path.is_absolute() or "\\" in value or ".." in path.parts:
        raise error(f"{what} leaves its folder: {value!r:.80}", hint=hint)
    return path


def contained(root: Path, candidate: Path) -> bool:
    """Whether ``candidate``, with every symbolic link resolved, lies inside ``root`` (resolved).

    The final component is resolved too: a link inside ``root`` that points outside is outside.
    Resolved afresh on every call: what decides a deletion must see the folders as they are now.
    """
    real_root = os.path.realpath(root)
    real = os.path.realpath(candidate)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def forget_resolved() -> None:
    """Start a new round of :func:`url_within` checks: folders are resolved afresh."""
    _real_folder.cache_clear()
    _contained_memo.cache_clear()


@functools.lru_cache(maxsize=4096)
def _contained_memo(root: str, candidate: str) -> bool:
    """:func:`contained` with each folder resolved once per round (see :func:`forget_resolved`),
    and each answer given once per round: the URLs of a lock of 100k entries lie in a few
    folders, and its channel URL is compared with them once per entry."""
    real_root = _real_folder(root)
    real = _realpath(candidate)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def _realpath(path: str) -> str:
    """``os.path.realpath``, with the folder's part resolved once per process: a lock of 100k
    entries in a few channel folders costs one ``lstat`` per entry, not one per path segment."""
    folder, name = os.path.split(path)
    if name in ("", ".", "..") or not folder:
        return os.path.realpath(path)
    joined = os.path.join(_real_folder(folder), name)  # noqa: PTH118 - str paths: this runs per entry
    return os.path.realpath(joined) if os.path.islink(joined) else joined  # noqa: PTH114


@functools.lru_cache(maxsize=4096)
def _real_folder(path: str) -> str:
    return os.path.realpath(path)
