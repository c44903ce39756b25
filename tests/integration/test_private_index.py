"""A private index behind HTTP basic auth, end to end: classify, explain, lock, sync (real uv).

Credentials come from the index URL, a netrc file, or uv's ``UV_INDEX_<NAME>_*`` variables; they
must work for condauv's own index reader and for uv (which gets the lock's credential-less wheel
URLs), and appear in no output (``-vv`` included) and not in the lock.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clirunner import CLI, RunResult
from tests.helpers.index import SimpleIndex, index_entry, serve_index
from tests.integration.conftest import MakeProject

USER, TOKEN = "alice", "tok-9f8e7d6c5b4a"


@pytest.fixture
def private_index(wheelhouse: Path) -> Iterator[SimpleIndex]:
    """The wheelhouse's wheels on a localhost index that answers 401 without alice's token."""
    pages: dict[str, list[dict[str, object]]] = {}
    files: dict[str, bytes] = {}
    for wheel in sorted(wheelhouse.glob("*.whl")):
        data = wheel.read_bytes()
        project = wheel.name.split("-")[0].replace("_", "-").lower()
        pages.setdefault(project, []).append(index_entry(wheel.name, data))
        files[wheel.name] = data
    with serve_index() as start:
        yield start(pages, files, auth=(USER, TOKEN), html=True)


def _project(make_project: MakeProject, options: str) -> Path:
    """A project whose [pypi-options] are ``options`` (the wheelhouse's find-links removed)."""
    folder = make_project()
    manifest = folder / "condauv.toml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text[: text.rindex("[pypi-options]")] + f"[pypi-options]\n{options}\n", "utf-8")
    return folder


def _with_credentials(index: SimpleIndex) -> str:
    return index.url.replace("http://", f"http://{USER}:{TOKEN}@")


def _no_secret(*results: RunResult) -> None:
    for result in results:
        assert TOKEN not in result.stdout + result.stderr


def _installed(prefix: Path) -> set[str]:
    site = next(prefix.glob("lib/python3*/site-packages"))
    return {p.name.split("-")[0].lower() for p in site.glob("*.dist-info")}


def _lock_and_sync(cli: CLI, folder: Path, index: SimpleIndex) -> None:
    classified = cli("classify", "-vv", "--json", "requests", cwd=folder)
    assert classified.exit_code == 0, classified.stderr
    assert json.loads(classified.stdout)
    explained = cli("explain", "-vv", "requests", cwd=folder)
    assert explained.exit_code == 0, explained.stderr
    add = cli("add", "-vv", "requests", cwd=folder)
    assert add.exit_code == 0, add.stderr
    lock_text = (folder / "condauv.lock").read_text(encoding="utf-8")
    assert TOKEN not in lock_text and f"{USER}:" not in lock_text and f"{USER}@" not in lock_text
    assert re.search(r"127\.0\.0\.1:\d+/files/requests-2\.32\.3-py3-none-any\.whl", lock_text)
    assert {"requests", "urllib3", "idna", "certifi"} <= _installed(folder / ".condauv" / "env")
    # the lock's wheel URLs have no credentials: a new prefix still installs them (uv gets the
    # indexes, credentials and all, through its environment) and asks no index page
    pages = index.page_requests
    fresh = cli("sync", "-vv", "--prefix", folder / "second", cwd=folder)
    assert fresh.exit_code == 0, fresh.stderr
    assert "requests" in _installed(folder / "second")
    assert index.page_requests == pages
    _no_secret(classified, explained, add, fresh)


def test_credentials_in_the_index_url(
    cli: CLI, make_project: MakeProject, private_index: SimpleIndex
) -> None:
    folder = _project(make_project, f'index-url = "{_with_credentials(private_index)}"')
    _lock_and_sync(cli, folder, private_index)
    assert private_index.unauthorized == 0  # credentials were sent up front, never refused


def test_without_credentials_the_index_says_401(
    cli: CLI,
    make_project: MakeProject,
    private_index: SimpleIndex,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    folder = _project(make_project, f'index-url = "{private_index.url}"')
    result = cli("add", "requests", cwd=folder)
    assert result.exit_code != 0
    assert "401" in result.stderr


def test_credentials_from_a_netrc_file(
    cli: CLI,
    make_project: MakeProject,
    private_index: SimpleIndex,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login {USER} password {TOKEN}\n", encoding="utf-8")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    folder = _project(make_project, f'index-url = "{private_index.url}"')
    _lock_and_sync(cli, folder, private_index)


def test_credentials_from_uv_index_variables(
    cli: CLI,
    make_project: MakeProject,
    private_index: SimpleIndex,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    monkeypatch.setenv("UV_INDEX_PRIVATE_CO_USERNAME", USER)
    monkeypatch.setenv("UV_INDEX_PRIVATE_CO_PASSWORD", TOKEN)
    folder = _project(make_project, f'index-url = "private-co={private_index.url}"')
    _lock_and_sync(cli, folder, private_index)
    assert "private-co" not in (folder / "condauv.lock").read_text(encoding="utf-8").split("[[pypi]]", 1)[-1]


def test_the_prefix_keeps_no_credentials(
    cli: CLI, make_project: MakeProject, private_index: SimpleIndex
) -> None:
    """Seen: conda-meta/condauv-manifest.toml held the manifest's token (a prefix is packed,
    shared and read by other users); ``adopt`` reads the copy and still finds it valid."""
    folder = _project(make_project, f'index-url = "{_with_credentials(private_index)}"')
    add = cli("add", "requests", cwd=folder)
    assert add.exit_code == 0, add.stderr
    prefix = folder / ".condauv" / "env"
    for path in prefix.rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert TOKEN.encode() not in path.read_bytes(), path
    copy = (prefix / "conda-meta" / "condauv-manifest.toml").read_text(encoding="utf-8")
    assert f'index-url = "{private_index.url}"' in copy
    again = cli("sync", cwd=folder)
    assert again.exit_code == 0 and "in sync" in again.stderr, again.stderr
    elsewhere = folder.parent / "adopter"
    elsewhere.mkdir()
    adopted = cli("adopt", prefix, cwd=elsewhere)
    assert adopted.exit_code == 0, adopted.stderr
    assert "cannot be read" not in adopted.stderr and "was not made from" not in adopted.stderr
    _no_secret(add, again, adopted)


def test_verbose_tracebacks_show_no_credentials(cli: CLI, make_project: MakeProject) -> None:
    """Seen with -v: the traceback of a refused entry quoted ``six @ http://alice:TOKEN@…``."""
    folder = make_project()
    result = cli("add", "-v", f"six @ http://{USER}:{TOKEN}@127.0.0.1:9/six-1.0-py3-none-any.whl", cwd=folder)
    assert result.exit_code == 2
    assert "Traceback" in result.stderr
    _no_secret(result)


def test_init_from_requirements_prints_and_writes_no_credentials(
    cli: CLI, tmp_path: Path, conda_channel: Path
) -> None:
    """Seen: the note on a second ``-i`` printed both tokens; condauv.toml (committed) got them."""
    folder = tmp_path / "imported"
    folder.mkdir()
    (folder / "requirements.txt").write_text(
        f"--index-url https://{USER}:{TOKEN}@pkgs.example/simple\n"
        f"-i https://carol:{TOKEN}@other.example/simple\nrequests\n",
        encoding="utf-8",
    )
    result = cli("init", "-v", "--channel", conda_channel.as_uri(), "--from", "requirements.txt", cwd=folder)
    assert result.exit_code == 0, result.stderr
    _no_secret(result)
    manifest = (folder / "condauv.toml").read_text(encoding="utf-8")
    assert TOKEN not in manifest and 'index-url = "https://pkgs.example/simple"' in manifest
