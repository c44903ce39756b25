"""Reading a package index's project page: PEP 691 JSON, or PEP 503 HTML where that is all there is.

Private indexes (the PyTorch wheel index among them) often serve HTML only, so both forms are
read into the same :class:`ProjectFile` list. Responses are asked for gzip-compressed: PyPI's
page of numpy is 2 MB of JSON, about ten times less on the wire.
"""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlparse

from packaging.utils import canonicalize_name

from condauv.errors import CondauvError

__all__ = [
    "DEFAULT_INDEX_URL",
    "IndexPage",
    "ProjectFile",
    "files_in_folder",
    "project_url",
    "read_project_page",
]

DEFAULT_INDEX_URL = "https://pypi.org/simple/"
TIMEOUT_S = 30
_ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"


@dataclass(frozen=True, slots=True)
class ProjectFile:
    """One file of a project on an index (a wheel or an sdist)."""

    filename: str
    url: str  # absolute
    sha256: str = ""
    requires_python: str = ""
    yanked: bool = False
    core_metadata: bool = False  # the index serves ``<url>.metadata`` (PEP 658/714)

    def to_row(self) -> list[object]:
        return [self.filename, self.url, self.sha256, self.requires_python, self.yanked, self.core_metadata]

    @classmethod
    def from_row(cls, row: list[Any]) -> ProjectFile:
        return cls(str(row[0]), str(row[1]), str(row[2]), str(row[3]), bool(row[4]), bool(row[5]))


@dataclass(frozen=True, slots=True)
class IndexPage:
    """A project page as read: ``files`` is ``None`` when the index does not know the project."""

    files: tuple[ProjectFile, ...] | None
    etag: str = ""
    not_modified: bool = False


def project_url(index_url: str, project: str) -> str:
    base = index_url if index_url.endswith("/") else f"{index_url}/"
    return urljoin(base, f"{canonicalize_name(project)}/")


def _from_json(page_url: str, data: Mapping[str, Any]) -> tuple[ProjectFile, ...]:
    files = []
    for info in data.get("files", []):
        metadata = info.get("core-metadata", info.get("data-dist-info-metadata", False))
        files.append(
            ProjectFile(
                filename=str(info.get("filename", "")),
                url=urljoin(page_url, str(info.get("url", ""))),
                sha256=str((info.get("hashes") or {}).get("sha256", "")),
                requires_python=str(info.get("requires-python") or ""),
                yanked=bool(info.get("yanked")),
                core_metadata=bool(metadata),
            )
        )
    return tuple(files)


class _Anchors(HTMLParser):
    def __init__(self, page_url: str) -> None:
        super().__init__()
        self.page_url = page_url
        self.files: list[ProjectFile] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "a":
            return
        attr = dict(attrs)
        href = attr.get("href")
        if not href:
            return
        url, fragment = urldefrag(urljoin(self.page_url, href))
        sha256 = fragment.removeprefix("sha256=") if fragment.startswith("sha256=") else ""
        metadata = attr.get("data-core-metadata", attr.get("data-dist-info-metadata"))
        self.files.append(
            ProjectFile(
                filename=unquote(urlparse(url).path.rsplit("/", 1)[-1]),
                url=url,
                sha256=sha256,
                requires_python=attr.get("data-requires-python") or "",
                yanked="data-yanked" in attr,
                core_metadata=metadata is not None and metadata != "false",
            )
        )


def _from_html(page_url: str, text: str) -> tuple[ProjectFile, ...]:
    parser = _Anchors(page_url)
    parser.feed(text)
    return tuple(parser.files)


def read_project_page(index_url: str, project: str, *, etag: str = "") -> IndexPage:
    """The files of ``project`` on the index at ``index_url``; ``etag`` makes it a conditional GET."""
    url = project_url(index_url, project)
    headers = {"Accept": _ACCEPT, "Accept-Encoding": "gzip"}
    if etag:
        headers["If-None-Match"] = etag
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (http(s) index URLs)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310
            body = response.read()
            if response.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            kind = response.headers.get_content_type()
            new_etag = response.headers.get("ETag", "")
            final = response.geturl()
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return IndexPage(None, etag, not_modified=True)
        if exc.code == 404:
            return IndexPage(None)
        raise CondauvError(f"the index answered {exc.code} for {url}", hint="try again later") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise CondauvError(
            f"cannot read {url}: {getattr(exc, 'reason', exc)}",
            hint="check the network, or pass --offline to use what is cached",
        ) from exc
    try:
        if kind.endswith("json"):
            return IndexPage(_from_json(final, json.loads(body)), new_etag)
        return IndexPage(_from_html(final, body.decode("utf-8", errors="replace")), new_etag)
    except ValueError as exc:
        raise CondauvError(
            f"{url} answered with a page condauv cannot read: {exc}", hint="check the URL"
        ) from exc


def files_in_folder(folder: Path, project: str) -> tuple[ProjectFile, ...]:
    """The wheels and sdists of ``project`` in a ``--find-links`` folder."""
    key = canonicalize_name(project)
    return tuple(
        ProjectFile(filename=path.name, url=path.resolve().as_uri())
        for path in sorted(_distributions(folder))
        if canonicalize_name(_project_of(path.name)) == key
    )


def _distributions(folder: Path) -> Iterable[Path]:
    if not folder.is_dir():
        return ()
    return (p for p in folder.iterdir() if p.name.endswith((".whl", ".tar.gz", ".zip")))


def _project_of(filename: str) -> str:
    """The project part of a wheel or sdist file name (``foo_bar-1.0-py3-none-any.whl`` → foo_bar)."""
    stem = filename.removesuffix(".whl").removesuffix(".tar.gz").removesuffix(".zip")
    return stem.rsplit("-", 1)[0] if filename.endswith((".tar.gz", ".zip")) else stem.split("-", 1)[0]
