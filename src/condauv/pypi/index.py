"""Reading a package index's project page: PEP 691 JSON, or PEP 503 HTML where that is all there is.

Private indexes (the PyTorch wheel index among them) often serve HTML only, so both forms are
read into the same :class:`ProjectFile` list. Requests go through :mod:`condauv.pypi.http` (httpx:
proxies, CA bundles, credentials, kept-alive connections, gzip: PyPI's page of numpy is 2 MB of
JSON, about ten times less on the wire).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urldefrag, urljoin, urlparse

from packaging.utils import canonicalize_name

from condauv.errors import CondauvError
from condauv.pypi.auth import remember

if TYPE_CHECKING:
    from condauv.pypi.http import Response

__all__ = [
    "DEFAULT_INDEX_URL",
    "IndexPage",
    "ProjectFile",
    "fetch_bytes",
    "files_in_folder",
    "project_url",
    "read_project_page",
    "split_filename",
]

DEFAULT_INDEX_URL = "https://pypi.org/simple/"
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
        """A compact form for caches (no hash: the evidence never downloads the file)."""
        return [self.filename, self.url, self.requires_python, int(self.core_metadata)]

    @classmethod
    def from_row(cls, row: list[Any]) -> ProjectFile:
        return cls(str(row[0]), str(row[1]), requires_python=str(row[2]), core_metadata=bool(row[3]))


@dataclass(frozen=True, slots=True)
class IndexPage:
    """A project page as read: ``files`` is ``None`` when the index does not know the project."""

    files: tuple[ProjectFile, ...] | None
    etag: str = ""
    not_modified: bool = False


def project_url(index_url: str, project: str) -> str:
    base = index_url if index_url.endswith("/") else f"{index_url}/"
    return urljoin(base, f"{canonicalize_name(project)}/")


def _absolute(page_url: str, url: str) -> str:
    """``url`` resolved against the page; PyPI's are absolute already (and pages hold thousands)."""
    return url if url.startswith(("https://", "http://")) else urljoin(page_url, url)


#: Chooses, from all of a page's file names, those worth reading (pages hold thousands).
Select = Callable[[Sequence[str]], Collection[str]]


def _from_json(page_url: str, data: Mapping[str, Any], select: Select | None) -> tuple[ProjectFile, ...]:
    raw = data.get("files", [])
    chosen = set(select([str(info.get("filename", "")) for info in raw])) if select else None
    files = []
    for info in raw:
        if chosen is not None and info.get("filename") not in chosen:
            continue
        metadata = info.get("core-metadata", info.get("data-dist-info-metadata", False))
        files.append(
            ProjectFile(
                filename=str(info.get("filename", "")),
                url=_absolute(page_url, str(info.get("url", ""))),
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


def _fetch(url: str, headers: dict[str, str]) -> Response:
    from condauv.pypi.http import get

    return get(url, headers)


def read_project_page(
    index_url: str, project: str, *, etag: str = "", select: Select | None = None
) -> IndexPage:
    """The files of ``project`` on the index at ``index_url``; ``etag`` makes it a conditional GET,
    ``select`` keeps only the files it names. Credentials in ``index_url`` are used, never shown."""
    from condauv.pypi.http import HttpError

    index_url = remember(index_url)
    url = project_url(index_url, project)
    headers = {"Accept": _ACCEPT}
    if etag:
        headers["If-None-Match"] = etag
    try:
        response = _fetch(url, headers)
    except HttpError as exc:
        raise CondauvError(
            f"cannot read {url}: {exc}",
            hint="check the network (and HTTPS_PROXY/SSL_CERT_FILE), or pass --offline to use what is cached",
        ) from None
    if response.status == 304:
        return IndexPage(None, etag, not_modified=True)
    if response.status == 404:
        return IndexPage(None)
    if response.status in (401, 403):
        raise CondauvError(
            f"the index answered {response.status} for {url}",
            hint="give its credentials in the index URL, UV_INDEX_<NAME>_USERNAME/PASSWORD or ~/.netrc",
        )
    if response.status != 200:
        raise CondauvError(f"the index answered {response.status} for {url}", hint="try again later")
    new_etag = response.headers.get("etag", "")
    body = response.body
    try:
        if response.content_type.endswith("json") or body.lstrip()[:1] == b"{":
            return IndexPage(_from_json(response.url, json.loads(body), select), new_etag)
        files = _from_html(response.url, body.decode("utf-8", errors="replace"))
        if select is not None:
            chosen = set(select([f.filename for f in files]))
            files = tuple(f for f in files if f.filename in chosen)
        return IndexPage(files, new_etag)
    except ValueError as exc:
        raise CondauvError(
            f"{url} answered with a page condauv cannot read: {exc}", hint="check the URL"
        ) from None


def fetch_bytes(url: str) -> bytes | None:
    """A small file (``.metadata``) over the same kept-alive connections; ``None`` when absent."""
    from condauv.pypi.http import HttpError

    try:
        response = _fetch(url, {})
    except HttpError:
        return None
    return response.body if response.status == 200 else None


def files_in_folder(folder: Path, project: str) -> tuple[ProjectFile, ...]:
    """The wheels and sdists of ``project`` in a ``--find-links`` folder."""
    key = canonicalize_name(project)
    return tuple(
        ProjectFile(filename=path.name, url=path.resolve().as_uri())
        for path in sorted(_distributions(folder))
        if canonicalize_name(split_filename(path.name)[0]) == key
    )


def _distributions(folder: Path) -> Iterable[Path]:
    if not folder.is_dir():
        return ()
    return (p for p in folder.iterdir() if p.name.endswith((".whl", ".tar.gz", ".zip")))


def split_filename(filename: str) -> tuple[str, str]:
    """``(project, version)`` of a wheel or sdist file name by string splitting alone (pages list
    thousands); ``("", "")`` for a name that is neither."""
    if filename.endswith(".whl"):
        parts = filename.split("-")
        return (parts[0], parts[1]) if len(parts) >= 5 else ("", "")
    stem = filename.removesuffix(".tar.gz").removesuffix(".zip").removesuffix(".tar.bz2")
    if stem == filename or "-" not in stem:
        return ("", "")
    project, _, version = stem.rpartition("-")
    return project, version
