"""Credentials for package indexes, found where uv finds them, kept out of every URL condauv shows.

An index may be written ``https://user:token@host/simple`` or named, ``private=https://host/simple``
(uv's ``--index`` syntax). condauv's own requests (the classifier's index reader, single-wheel
downloads) take credentials, like uv, from, in order:

1. the index URL itself (they then apply to its whole realm: scheme, host and port, as uv's
   credential cache does);
2. ``UV_INDEX_<NAME>_USERNAME`` / ``UV_INDEX_<NAME>_PASSWORD`` for a named index;
3. the netrc file (``$NETRC``, else ``~/.netrc``);
4. ``keyring get <index-url> <username>`` when ``UV_KEYRING_PROVIDER=subprocess`` and a username
   is known.

URLs are stored and shown without credentials (:func:`split_credentials`); the credentials stay
in this process and reach uv through its environment, never its command line.
"""

from __future__ import annotations

import contextlib
import netrc
import os
import re
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

__all__ = ["Index", "credentials_for", "env_name", "parse_index", "remember", "split_credentials"]

_NAMED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)=(?=[A-Za-z][A-Za-z0-9+.-]*://)")


@dataclass(frozen=True, slots=True)
class Index:
    """One index as the manifest names it: ``url`` without credentials."""

    url: str
    name: str | None = None
    username: str | None = None
    password: str | None = None

    @property
    def has_credentials(self) -> bool:
        return self.username is not None or self.password is not None

    def for_uv(self) -> str:
        """The ``[name=]url`` form uv's ``UV_INDEX`` / ``UV_DEFAULT_INDEX`` read, credentials included."""
        url = self.url
        if self.has_credentials:
            parts = urlsplit(url)
            user = _quote(self.username or "")
            secret = f":{_quote(self.password)}" if self.password is not None else ""
            url = urlunsplit(parts._replace(netloc=f"{user}{secret}@{parts.netloc}"))
        return f"{self.name}={url}" if self.name else url


def _quote(text: str) -> str:
    return quote(text, safe="")


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """``(url without user info, username, password)``; a URL that cannot be split comes back whole."""
    try:
        parts = urlsplit(url)
        if parts.username is None and parts.password is None:
            return url, None, None
        host = parts.netloc.rpartition("@")[2]
    except ValueError:
        return url, None, None
    user = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    return urlunsplit(parts._replace(netloc=host)), user, password


def parse_index(value: str) -> Index:
    """``[name=]url`` with optional user info, as the manifest writes an index."""
    name = None
    match = _NAMED.match(value)
    if match:
        name, value = match.group(1), value[match.end() :]
    url, user, password = split_credentials(value)
    return Index(url, name, user, password)


def env_name(name: str) -> str:
    """uv's spelling of a named index in variable names: upper case, other characters ``_``."""
    return re.sub(r"[^A-Z0-9]", "_", name.upper())


def _realm(url: str) -> tuple[str, str, int | None]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ("", "", None)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    return (parts.scheme, (parts.hostname or "").lower(), port if port is not None else default)


class _Registry:
    """The indexes this process was told of, by realm (uv keeps a cache of the same kind)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.indexes: list[Index] = []

    def add(self, index: Index) -> None:
        with self.lock:
            if index not in self.indexes:
                self.indexes.append(index)

    def matching(self, url: str) -> list[Index]:
        realm = _realm(url)
        with self.lock:
            found = [i for i in self.indexes if _realm(i.url) == realm]
        # the index whose URL is the longest prefix of ``url`` first
        return sorted(found, key=lambda i: not url.startswith(i.url.rstrip("/")))


_registry = _Registry()


def remember(value: str) -> str:
    """Register an index (``[name=]url``, credentials allowed) for later requests; its clean URL."""
    index = parse_index(value)
    _registry.add(index)
    return index.url


def credentials_for(url: str) -> tuple[str, str] | None:
    """``(username, password)`` for a request to ``url`` (itself without credentials), or ``None``."""
    indexes = _registry.matching(url)
    for index in indexes:
        if index.has_credentials:
            return index.username or "", index.password or ""
    for index in indexes:
        if index.name:
            key = env_name(index.name)
            user = os.environ.get(f"UV_INDEX_{key}_USERNAME")
            password = os.environ.get(f"UV_INDEX_{key}_PASSWORD")
            if user is not None or password is not None:
                return user or "", password or ""
    found = _from_netrc(url)
    if found is not None:
        return found
    return _from_keyring(url, indexes)


def _from_netrc(url: str) -> tuple[str, str] | None:
    path = Path(os.environ.get("NETRC") or Path.home() / ".netrc")
    host = urlsplit(url).hostname
    if not host or not path.is_file():
        return None
    try:
        entry = netrc.netrc(str(path)).authenticators(host)
    except (OSError, netrc.NetrcParseError):
        return None
    if entry is None:
        return None
    login, _, password = entry
    return login, password or ""


def _from_keyring(url: str, indexes: list[Index]) -> tuple[str, str] | None:
    """uv's ``subprocess`` keyring provider: ``keyring get SERVICE USERNAME`` (a username is needed)."""
    if os.environ.get("UV_KEYRING_PROVIDER") != "subprocess":
        return None
    user = next((i.username for i in indexes if i.username), None)
    keyring = shutil.which("keyring")
    if not user or not keyring:
        return None
    from condauv import _process

    for service in dict.fromkeys([*(i.url for i in indexes), urlsplit(url).hostname or ""]):
        with contextlib.suppress(Exception):
            done = _process.run(
                [keyring, "get", service, user], what="keyring looks up a password", check=False, timeout=30
            )
            if done.returncode == 0 and done.stdout.strip():
                return user, done.stdout.rstrip("\n")
    return None
