"""A PEP 691 JSON simple index served from memory on localhost, for tests of index clients."""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

__all__ = ["IndexFactory", "SimpleIndex", "index_entry", "serve_index"]

Page = list[dict[str, Any]]


class SimpleIndex:
    """Project pages at ``{url}<project>/``, files at ``/files/<name>``; counts file downloads.

    Pages are answered only when ``Accept`` names ``application/vnd.pypi.simple.v1+json``, as
    PEP 691 asks, with an ``ETag`` that a conditional request (``If-None-Match``) turns into 304.
    """

    def __init__(self, pages: Mapping[str, Page], files: Mapping[str, bytes]) -> None:
        self.pages = dict(pages)
        self.files = dict(files)
        self.downloads = 0
        self.page_requests = 0
        index = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                project = self.path.removeprefix("/simple/").rstrip("/")
                name = self.path.removeprefix("/files/")
                if self.path.startswith("/simple/") and project in index.pages:
                    index.page_requests += 1
                    if "application/vnd.pypi.simple.v1+json" not in (self.headers["Accept"] or ""):
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
                    self.wfile.write(data)
                    return
                if self.path.startswith("/files/") and name in index.files:
                    index.downloads += 1
                    data = index.files[name]
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                del format, args  # quiet: pytest shows failures, not access logs

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/simple/"


IndexFactory = Callable[[Mapping[str, Page], Mapping[str, bytes]], SimpleIndex]


@contextlib.contextmanager
def serve_index() -> Iterator[IndexFactory]:
    """Start indexes on demand (``factory(pages, files)``); all stop when the block ends."""
    started: list[SimpleIndex] = []

    def start(pages: Mapping[str, Page], files: Mapping[str, bytes]) -> SimpleIndex:
        index = SimpleIndex(pages, files)
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
