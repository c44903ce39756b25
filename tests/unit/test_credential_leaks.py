"""Credentials that must not leak: odd characters in passwords, imports that carry them, a CA
bundle that is not there. Found by the round-2 red team (private indexes); each failed before."""

from __future__ import annotations

from pathlib import Path

import pytest

from condauv import _process
from condauv.errors import CondauvError, ManifestError
from condauv.importing import import_file
from condauv.manifest.model import parse_manifest
from condauv.pypi.index import read_project_page
from tests.helpers.index import IndexFactory, index_entry, serve_index

SECRET = "Zq9-secret-77"  # noqa: S105 (a made-up token)
_MANIFEST = (
    '[environment]\nname = "x"\npython = "3.11"\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n'
    "[pypi-options]\n"
)


@pytest.fixture(autouse=True)
def _no_ambient_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NETRC", str(tmp_path / "absent-netrc"))
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)


def test_mask_hides_a_password_with_raw_at_signs() -> None:
    # urlsplit and uv (WHATWG) both end the user info at the LAST "@" of the authority
    assert _process.mask(f"see http://me:p@{SECRET}@host:81/simple/x") == "see http://****@host:81/simple/x"
    assert _process.mask(f"'https://a@b:{SECRET}@h/s' and git+https://github.com/o/r@v1") == (
        "'https://****@h/s' and git+https://github.com/o/r@v1"
    )


@pytest.mark.parametrize("password", [f"ab/{SECRET}", f"ab#{SECRET}", f"ab?{SECRET}"])
def test_index_url_with_an_unencoded_password_is_refused_without_showing_it(password: str) -> None:
    """A base64 token holds "/": unencoded, it ends the host; the error must not quote it."""
    text = _MANIFEST + f'index-url = "https://alice:{password}@pkgs.example/simple/"\n'
    with pytest.raises(ManifestError) as failed:
        parse_manifest(text, Path("condauv.toml"))
    shown = failed.value.message + (failed.value.hint or "")
    assert SECRET not in shown and "alice" not in shown
    assert "percent-encode" in shown


def test_import_keeps_credentials_out_of_the_manifest_and_its_notes(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        f"--index-url https://alice:{SECRET}@pkgs.example/simple\n"
        f"-i https://carol:{SECRET}@other.example/simple\n"
        f"--extra-index-url=corp=https://bob:{SECRET}@extra.example/simple\n"
        f"-r https://dave:{SECRET}@files.example/more.txt\n"
        "requests\n",
        encoding="utf-8",
    )
    imported = import_file(requirements)
    assert imported.index_url == "https://pkgs.example/simple"
    assert imported.extra_index_urls == ("corp=https://extra.example/simple",)
    notes = "\n".join(str(n) for n in imported.notes)
    assert SECRET not in notes and "alice" not in notes
    assert "credentials" in notes and "netrc" in notes


def test_missing_ssl_cert_file_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Seen: "cannot read https://…: [Errno 2] No such file or directory" (which file?)."""
    missing = tmp_path / "corp-ca.pem"
    monkeypatch.setenv("SSL_CERT_FILE", str(missing))
    with serve_index() as start:
        index = _demo(start)
        with pytest.raises(CondauvError) as failed:
            read_project_page(index, "demo")
    assert "SSL_CERT_FILE" in failed.value.message and str(missing) in failed.value.message


def _demo(start: IndexFactory) -> str:
    wheel = "demo-1.0-py3-none-any.whl"
    return start({"demo": [index_entry(wheel, b"w")]}, {wheel: b"w"}).url


def test_find_links_credentials_stay_off_uv_command_line() -> None:
    """Seen: ``--find-links https://bob:TOKEN@host/links/`` on uv's argv (``ps`` shows it to all)."""
    from condauv.pypi.uv import split_index_args

    args, env = split_index_args(
        ["--find-links", f"https://bob:{SECRET}@wheels.example/links/", "--find-links", "/w", "--no-index"]
    )
    assert args == ["--no-index"]
    assert env == {"UV_FIND_LINKS": f"https://bob:{SECRET}@wheels.example/links/,/w"}


def test_import_keeps_find_links_credentials_out_of_the_manifest(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        f"--find-links https://bob:{SECRET}@wheels.example/links/\nsix\n", encoding="utf-8"
    )
    imported = import_file(requirements)
    assert imported.find_links == ("https://wheels.example/links/",)
    assert SECRET not in "\n".join(str(n) for n in imported.notes)
