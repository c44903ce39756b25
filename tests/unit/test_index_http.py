"""condauv's own HTTP: credentials (URL, netrc, uv's variables), masking, proxies, lazy httpx."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from condauv import _process
from condauv.errors import CondauvError
from condauv.manifest.model import PypiOptions
from condauv.pypi import auth
from condauv.pypi.index import read_project_page
from condauv.pypi.simple import fetch_wheel
from condauv.pypi.uv import Uv, split_index_args
from tests.helpers.index import IndexFactory, index_entry, serve_index, serve_proxy

USER, TOKEN = "bob", "s3cr3t-t0ken"
WHEEL = "demo-1.0-py3-none-any.whl"
_PROXY_VARS = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")


@pytest.fixture
def indexes() -> Iterator[IndexFactory]:
    with serve_index() as factory:
        yield factory


@pytest.fixture(autouse=True)
def _no_ambient_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NETRC", str(tmp_path / "absent-netrc"))
    for name in (*_PROXY_VARS, "NO_PROXY", "no_proxy", "UV_KEYRING_PROVIDER"):
        monkeypatch.delenv(name, raising=False)


def _auth_index(indexes: IndexFactory, *, html: bool = False) -> tuple[str, str]:
    """An index needing bob's token: (its URL, the same with credentials)."""
    index = indexes(
        {"demo": [index_entry(WHEEL, b"wheel")]}, {WHEEL: b"wheel"}, auth=(USER, TOKEN), html=html
    )
    return index.url, index.url.replace("http://", f"http://{USER}:{TOKEN}@")


def test_mask_hides_user_info_in_any_text() -> None:
    text = f"cannot read https://{USER}:{TOKEN}@host:8443/simple/x/ (and 'http://tok@h/a')"
    masked = _process.mask(text)
    assert TOKEN not in masked and "tok@" not in masked
    assert "https://****@host:8443/simple/x/" in masked and "http://****@h/a" in masked
    assert (
        _process.mask("mail bob@example.org, see https://host/simple")
        == "mail bob@example.org, see https://host/simple"
    )
    assert TOKEN not in _process.describe(["uv", "--index-url", f"https://{USER}:{TOKEN}@h/simple"])


def test_parse_index_names_and_credentials() -> None:
    index = auth.parse_index("corp=https://me%40corp:p%3Ass@pkgs.corp:8443/simple/")
    assert (index.name, index.url, index.username, index.password) == (
        "corp",
        "https://pkgs.corp:8443/simple/",
        "me@corp",
        "p:ss",
    )
    assert index.for_uv() == "corp=https://me%40corp:p%3Ass@pkgs.corp:8443/simple/"
    assert auth.parse_index("https://host/simple?a=b").name is None
    assert auth.env_name("private-co.x") == "PRIVATE_CO_X"


def test_uv_gets_credentials_through_its_environment_only() -> None:
    options = PypiOptions(
        index_url=f"https://{USER}:{TOKEN}@pkgs.example/simple", extra_index_urls=("https://pypi.org/simple",)
    )
    uv = Uv(index_args=options.uv_args())
    assert not any(TOKEN in a or "index" in a for a in uv.index_args)
    assert uv.index_env == {
        "UV_DEFAULT_INDEX": f"https://{USER}:{TOKEN}@pkgs.example/simple",
        "UV_INDEX": "https://pypi.org/simple",
    }
    plain = PypiOptions(index_url="https://pkgs.example/simple", find_links=("/w",))
    assert split_index_args(plain.uv_args()) == (
        ["--index-url", "https://pkgs.example/simple", "--find-links", "/w"],
        {},
    )
    named = PypiOptions(index_url="corp=https://pkgs.example/simple")
    assert split_index_args(named.uv_args()) == ([], {"UV_DEFAULT_INDEX": "corp=https://pkgs.example/simple"})


def test_credentials_never_reach_the_content_hash(tmp_path: Path) -> None:
    from dataclasses import replace

    from condauv.manifest.model import load_manifest

    manifest_path = tmp_path / "condauv.toml"
    manifest_path.write_text(
        '[environment]\nname = "x"\npython = "3.11"\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n',
        encoding="utf-8",
    )
    manifest = load_manifest(manifest_path)
    one = replace(manifest, pypi_options=PypiOptions(index_url=f"https://{USER}:{TOKEN}@h/simple"))
    other = replace(manifest, pypi_options=PypiOptions(index_url="https://bob:rotated@h/simple"))
    assert one.content_hash() == other.content_hash()


def test_index_url_credentials_are_used_and_never_shown(indexes: IndexFactory) -> None:
    url, with_credentials = _auth_index(indexes)
    page = read_project_page(with_credentials, "demo")
    assert page.files is not None and [f.filename for f in page.files] == [WHEEL]
    assert all(TOKEN not in f.url for f in page.files)
    # the realm's credentials were remembered: the clean URL works in the same process
    assert read_project_page(url, "demo").files is not None


def test_html_index_and_wheel_download_with_credentials(indexes: IndexFactory, tmp_path: Path) -> None:
    _, with_credentials = _auth_index(indexes, html=True)
    page = read_project_page(with_credentials, "demo")
    assert page.files is not None and page.files[0].sha256 == hashlib.sha256(b"wheel").hexdigest()
    path = fetch_wheel(
        "demo", "", tmp_path, python_version=(3, 11), subdir="linux-64", index_url=with_credentials
    )
    assert path.read_bytes() == b"wheel"


def test_netrc_credentials(indexes: IndexFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url, _ = _auth_index(indexes)
    with pytest.raises(CondauvError, match="401") as refused:
        read_project_page(url, "demo")
    assert "netrc" in (refused.value.hint or "")
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login {USER} password {TOKEN}\n", encoding="utf-8")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    assert read_project_page(url, "demo").files is not None


def test_uv_index_variables_for_a_named_index(indexes: IndexFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    url, _ = _auth_index(indexes)
    monkeypatch.setenv("UV_INDEX_MY_CORP_USERNAME", USER)
    monkeypatch.setenv("UV_INDEX_MY_CORP_PASSWORD", TOKEN)
    assert read_project_page(f"my-corp={url}", "demo").files is not None


@pytest.mark.parametrize("where", ["http://127.0.0.1:9", "https://127.0.0.1"])
def test_unreachable_index_with_credentials_says_so_without_them(where: str) -> None:
    # nothing listens there (seen: "nonnumeric port: 's3cr3t-t0ken@127.0.0.1'" from http.client)
    with pytest.raises(CondauvError) as failed:
        read_project_page(where.replace("://", f"://{USER}:{TOKEN}@") + "/simple/", "demo")
    message = failed.value.message
    assert TOKEN not in message and USER not in message and "nonnumeric" not in message
    assert f"{where}/simple/demo/" in message


def test_requests_go_through_http_proxy_unless_no_proxy(
    indexes: IndexFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = indexes({"demo": [index_entry(WHEEL, b"wheel")]}, {WHEEL: b"wheel"})
    with serve_proxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        assert read_project_page(index.url, "demo").files is not None
        assert proxy.seen == [f"{index.url}demo/"]
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        assert read_project_page(index.url, "demo").files is not None
        assert len(proxy.seen) == 1


def test_ssl_cert_file_is_honoured(
    indexes: IndexFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """SSL_CERT_FILE reaches the client: a bundle without certificates is one clear error."""
    index = indexes({"demo": [index_entry(WHEEL, b"wheel")]}, {WHEEL: b"wheel"})
    bundle = tmp_path / "bundle.pem"
    bundle.write_text("not a certificate\n", encoding="utf-8")
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    with pytest.raises(CondauvError, match=r"(?i)certificate") as failed:
        read_project_page(index.url, "demo")
    assert "SSL_CERT_FILE" in (failed.value.hint or "")


def test_httpx_is_not_imported_at_start_up() -> None:
    code = (
        "import sys; import condauv.cli.app, condauv.sync.apply, condauv.pypi.evidence, condauv.pypi.simple; "
        "sys.exit('httpx' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
