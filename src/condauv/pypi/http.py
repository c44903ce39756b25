"""The HTTP requests condauv makes itself (index pages, ``.metadata`` files, single wheels), over httpx.

They honour what uv and rattler honour: ``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY``/``NO_PROXY``
and ``SSL_CERT_FILE``/``SSL_CERT_DIR`` (httpx's ``trust_env``), and the credentials of
:mod:`condauv.pypi.auth` (URL, ``UV_INDEX_<NAME>_*``, netrc, keyring), sent as basic auth to the
realm they belong to; httpx drops them on a redirect to another host. One client per process
keeps connections alive across threads: a TLS handshake costs more CPU than a project page, and
classification reads a hundred pages at once. httpx is imported on first use only.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from urllib.request import url2pathname

from condauv.pypi.auth import credentials_for, split_credentials

if TYPE_CHECKING:
    import httpx

__all__ = ["HttpError", "Response", "get", "stream"]

TIMEOUT_S = 30.0
_MAX_CONNECTIONS = 16
#: The variables a client is built from: a change (a test, an embedding program) builds another.
_ENV_KEYS = (
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
)


class HttpError(OSError):
    """A request that got no answer (connection, proxy, TLS, timeout); the message has no credentials."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    url: str  # the final URL, after redirects

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


class _Clients:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_env: dict[tuple[str | None, ...], httpx.Client] = {}

    def get(self) -> httpx.Client:
        debug = logging.getLogger().isEnabledFor(logging.DEBUG)  # httpx logs a line per request: -vv only
        logging.getLogger("httpx").setLevel(logging.NOTSET if debug else logging.WARNING)
        key = tuple(os.environ.get(k) for k in _ENV_KEYS)
        with self.lock:
            client = self.by_env.get(key)
            if client is None:
                import httpx

                limits = httpx.Limits(
                    max_connections=_MAX_CONNECTIONS, max_keepalive_connections=_MAX_CONNECTIONS
                )
                try:
                    client = httpx.Client(
                        timeout=TIMEOUT_S, limits=limits, trust_env=True, follow_redirects=True
                    )
                except OSError as exc:  # ssl.SSLError too: the CA bundle is read here
                    raise HttpError(_bundle_problem(exc)) from None
                self.by_env[key] = client
            return client


def _bundle_problem(exc: OSError) -> str:
    """Which CA bundle could not be read, and why (seen: a bare "[Errno 2] No such file")."""
    variable = "SSL_CERT_FILE" if os.environ.get("SSL_CERT_FILE") else "SSL_CERT_DIR"
    where = os.environ.get(variable)
    if not where:
        return _describe(exc)
    why = exc.strerror if exc.strerror and not hasattr(exc, "reason") else str(exc)
    return f"{variable}={where} cannot be used as the CA bundle: {why}"


_clients = _Clients()


def _split(url: str) -> tuple[str, httpx.BasicAuth | None]:
    """``url`` without credentials, and the credentials to send: its own, else those found for it."""
    import httpx

    clean, user, password = split_credentials(url)
    found = (
        (user or "", password or "") if user is not None or password is not None else credentials_for(clean)
    )
    return clean, httpx.BasicAuth(*found) if found else None


def _describe(exc: BaseException) -> str:
    """An httpx error as one line; httpx messages may quote a URL, so credentials are masked."""
    from condauv._process import mask

    return mask(str(exc) or type(exc).__name__)


def get(url: str, headers: Mapping[str, str] | None = None) -> Response:
    """GET ``url`` (``file://`` reads the file: 404 when absent); raises :class:`HttpError`."""
    if urlsplit(url).scheme == "file":
        path = Path(url2pathname(urlsplit(url).path))
        if path.is_dir():
            path = path / "index.html"
        try:
            return Response(200, {"content-type": "text/html"}, path.read_bytes(), url)
        except OSError:
            return Response(404, {}, b"", url)
    import httpx

    url, auth = _split(url)
    try:
        response = _clients.get().get(url, headers=dict(headers or {}), auth=auth)
    except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
        raise HttpError(_describe(exc)) from None
    return Response(
        response.status_code,
        {k.lower(): v for k, v in response.headers.items()},
        response.content,
        split_credentials(str(response.url))[0],
    )


@contextlib.contextmanager
def stream(url: str) -> Iterator[Iterator[bytes]]:
    """The body of ``url`` in chunks (``http(s)`` or ``file``); a status other than 200 raises."""
    if urlsplit(url).scheme == "file":
        with Path(url2pathname(urlsplit(url).path)).open("rb") as handle:
            yield iter(lambda: handle.read(1 << 20), b"")
        return
    import httpx

    url, auth = _split(url)
    try:
        with _clients.get().stream("GET", url, auth=auth) as response:
            if response.status_code != 200:
                raise HttpError(f"the server answered {response.status_code}")
            yield response.iter_bytes(1 << 20)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise HttpError(_describe(exc)) from None
