"""A PEP 691 JSON / PEP 503 HTML simple index served from memory on localhost (optionally behind
HTTP basic auth), and a recording forwarding proxy, for tests of index clients."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import http.client
import http.server
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

__all__ = ["IndexFactory", "RecordingProxy", "SimpleIndex", "index_entry", "serve_index", "serve_proxy"]

Page = list[dict[str, Any]]


class SimpleIndex:
    """Project pages at ``{url}<project>/``, files at ``/files/<name>``; counts file downloads.

    Pages are answered only when ``Accept`` names ``application/vnd.pypi.simple.v1+json``, as
    PEP 691 asks, with an ``ETag`` that a conditional request (``If-None-Match``) turns into 304.
    ``html`` answers other requests with a PEP 503 page instead of 406. ``auth`` (user, password)
    answers 401 to every request without those basic-auth credentials; ``unauthorized`` counts them.
    ``immutable`` serves files with PyPI's ``Cache-Control`` (a year, immutable): uv then never
    asks for a file again while its cache holds it.
    """

    def __init__(
        self,
        pages: Mapping[str, Page],
        files: Mapping[str, bytes],
        *,
        auth: tuple[str, str] | None = None,
        html: bool = False,
        immutable: bool = False,
    ) -> None:
        self.pages = dict(pages)
        self.files = dict(files)
        self.downloads = 0
        self.page_requests = 0
        self.unauthorized = 0
        self.requested: list[str] = []  # every project page asked for, found or not
        self.html = html
        expected = "Basic " + base64.b64encode(":".join(auth).encode()).decode() if auth else None
        index = self

        class Handler(http.server.BaseHTTPRequestHandler):
            head = False

            def do_HEAD(self) -> None:  # uv asks HEAD first (range requests for metadata)
                self.head = True
                self.do_GET()

            def do_GET(self) -> None:
                if expected is not None and self.headers["Authorization"] != expected:
                    index.unauthorized += 1
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="test index"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                project = self.path.removeprefix("/simple/").rstrip("/")
                name = self.path.removeprefix("/files/")
                if self.path.startswith("/simple/"):
                    index.requested.append(project)
                if self.path.startswith("/simple/") and project in index.pages:
                    index.page_requests += 1
                    if "application/vnd.pypi.simple.v1+json" not in (self.headers["Accept"] or ""):
                        if index.html:
                            self._send(_html_page(index.pages[project]), "text/html")
                        else:
                            self.send_error(406)
                        return
                    page = {"meta": {"api-version": "1.0"}, "name": project, "files": index.pages[project]}
                    data = json.dumps(page).encode()
                    etag = f'"{hashlib.sha256(data).hexdigest()[:16]}"'
                    if self.headers["If-None-Match"] == etag:
                        self.send_response(304)
                        self.end_headers()
                        return
                    self.send_response(200)
                    self.send_header("Content-Type", "application/vnd.pypi.simple.v1+json")
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if not self.head:
                        self.wfile.write(data)
                    return
                if self.path.startswith("/files/") and name in index.files:
                    index.downloads += not self.head
                    data = index.files[name]
                else:
                    self.send_error(404)
                    return
                self._send(data, "application/octet-stream", immutable=immutable)

            def _send(self, data: bytes, content_type: str, *, immutable: bool = False) -> None:
                self.send_response(200)
                if immutable:
                    self.send_header("Cache-Control", "max-age=365000000, immutable, public")
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if not self.head:
                    self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                del format, args  # quiet: pytest shows failures, not access logs

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/simple/"


def _html_page(files: Page) -> bytes:
    links = "".join(
        f'<a href="{html.escape(f["url"])}#sha256={f["hashes"]["sha256"]}">{html.escape(f["filename"])}</a>\n'
        for f in files
    )
    return f"<!DOCTYPE html><html><body>\n{links}</body></html>\n".encode()


IndexFactory = Callable[..., SimpleIndex]


@contextlib.contextmanager
def serve_index() -> Iterator[IndexFactory]:
    """Start indexes on demand (``factory(pages, files)``); all stop when the block ends."""
    started: list[SimpleIndex] = []

    def start(pages: Mapping[str, Page], files: Mapping[str, bytes], **options: Any) -> SimpleIndex:
        index = SimpleIndex(pages, files, **options)
        threading.Thread(target=index.server.serve_forever, args=(0.05,), daemon=True).start()
        started.append(index)
        return index

    try:
        yield start
    finally:
        for index in started:
            index.server.shutdown()
            index.server.server_close()


def index_entry(filename: str, data: bytes, **extra: object) -> dict[str, Any]:
    """A file entry of a project page, with the sha256 of ``data`` and a URL on the same index."""
    digest = hashlib.sha256(data).hexdigest()
    return {"filename": filename, "url": f"../../files/{filename}", "hashes": {"sha256": digest}, **extra}


class RecordingProxy:
    """A forwarding HTTP proxy on 127.0.0.1 (plain ``http://`` targets only) that records the
    absolute URLs asked of it; requests that bypass it are simply not in ``seen``."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                proxy.seen.append(self.path)
                target = urlsplit(self.path)
                if target.scheme != "http" or not target.hostname:
                    self.send_error(400)
                    return
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("proxy-connection", "connection")
                }
                upstream = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=10)
                try:
                    path = target.path + (f"?{target.query}" if target.query else "")
                    upstream.request("GET", path or "/", headers=headers)
                    response = upstream.getresponse()
                    body = response.read()
                finally:
                    upstream.close()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                del format, args

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@contextlib.contextmanager
def serve_proxy() -> Iterator[RecordingProxy]:
    """A :class:`RecordingProxy`, stopped when the block ends."""
    proxy = RecordingProxy()
    threading.Thread(target=proxy.server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield proxy
    finally:
        proxy.server.shutdown()
        proxy.server.server_close()
