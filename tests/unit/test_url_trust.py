"""Review of issue 7's URL and credential checks: cases an independent review found.

Each was confirmed against the code before the fix; pure logic, no network.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from condauv.errors import LockfileError, ManifestError, UserError
from condauv.lock import parse_lock
from condauv.lock.validate import check_sources, pypi_sources
from condauv.manifest import parse_manifest
from condauv.manifest.model import Manifest, PypiOptions
from condauv.pypi.uv import Uv
from condauv.validation import check_text, url
from tests.unit.test_lock_trust import PYTHON, REQUESTS, _lock, _text

NAME = "requests-2.32.3-py3-none-any.whl"


def _manifest(tmp_path: Path, options: str) -> Manifest:
    text = '[environment]\nname = "t"\npython = "3.11.*"\nchannels = ["conda-forge"]\n'
    text += f"[pypi-options]\n{options}\n"
    return parse_manifest(text, tmp_path / "condauv.toml")


def test_a_backslash_never_passes_for_a_slash(tmp_path: Path) -> None:
    """uv reads ``\\`` as ``/`` (WHATWG URLs): ``wheels/..\\other/x.whl`` installed from
    ``other/`` although Python's URL parsing put it inside ``wheels/``."""
    (tmp_path / "wheels").mkdir()
    manifest = _manifest(tmp_path, 'find-links = ["wheels"]\nno-index = true')
    hostile = f"{(tmp_path / 'wheels').as_uri()}/..\\other/{NAME}"
    with pytest.raises(LockfileError, match="backslash"):
        parse_lock(_text(pypi=(replace(REQUESTS, url=hostile),)))
    with pytest.raises(LockfileError, match="is not on an index"):
        check_sources(_lock(pypi=(replace(REQUESTS, url=hostile),)), manifest)


def test_a_nul_once_decoded_is_one_error_not_a_crash() -> None:
    """``file:///tmp/chan%00/...`` reached ``realpath`` and ended as "unexpected ValueError"."""
    channel = "file:///tmp/chan%00"
    bad = replace(PYTHON, channel=channel + "/", url=f"{channel}/linux-64/python-3.11.7-h_0.conda")
    with pytest.raises(LockfileError, match="control character"):
        parse_lock(_text(conda=(bad,)))


def test_a_url_with_too_many_segments_is_refused_at_once() -> None:
    hostile = "file:///" + "a/" * 4000 + NAME
    with pytest.raises(LockfileError, match="path segments"):
        url(hostile, schemes=("file",), what="u", error=LockfileError, hint="h")


@pytest.mark.parametrize(
    ("link", "inside", "outside"),
    [
        # a dot in a folder's name made its parent the trusted folder
        (
            "file:///home/alice/wheels.v2",
            f"file:///home/alice/wheels.v2/{NAME}",
            f"file:///home/alice/.ssh/{NAME}",
        ),
        (
            "https://h.example/~alice/wheels-1.0",
            f"https://h.example/~alice/wheels-1.0/{NAME}",
            f"https://h.example/~alice/{NAME}",
        ),
        # a page of links serves what lies beside it
        (
            "https://dl.example/whl/torch_stable.html",
            f"https://dl.example/whl/cu121/{NAME}",
            f"https://dl.example/{NAME}",
        ),
    ],
)
def test_a_find_links_source_is_never_wider_than_its_folder(
    tmp_path: Path, link: str, inside: str, outside: str
) -> None:
    manifest = _manifest(tmp_path, f'find-links = ["{link}"]\nno-index = true')
    check_sources(_lock(pypi=(replace(REQUESTS, url=inside),)), manifest)
    with pytest.raises(LockfileError, match="is not on an index"):
        check_sources(_lock(pypi=(replace(REQUESTS, url=outside),)), manifest)


def test_a_bare_host_find_links_is_that_host() -> None:
    """``https://wheels.example.com`` (no path) became the source ``https://``: every wheel refused."""
    assert pypi_sources(PypiOptions(find_links=("https://wheels.example.com",), no_index=True)) == [
        "https://wheels.example.com/"
    ]


def test_find_links_may_carry_credentials_kept_out_of_the_hash(tmp_path: Path) -> None:
    """uv takes them (condauv hands them over in its environment); the manifest refused them."""
    with_token = _manifest(tmp_path, 'find-links = ["https://u:tok1@wheels.example/simple/"]')
    other_token = _manifest(tmp_path, 'find-links = ["https://u:tok2@wheels.example/simple/"]')
    assert with_token.content_hash() == other_token.content_hash()
    assert pypi_sources(with_token.pypi_options)[-1] == "https://wheels.example/simple/"


TOKEN = "https://__token__:" + "S" * 100 + "@pkgs.example.com/simple"


@pytest.mark.parametrize("checker", ["check_text", "url"])
def test_a_credential_is_masked_before_a_message_cuts_the_value(checker: str) -> None:
    """Cut first, the ``@`` fell past the cut and the mask had nothing to match: 62 characters
    of the token were printed."""
    with pytest.raises(ManifestError) as info:
        if checker == "check_text":
            check_text(TOKEN + "\t", what="index-url", error=ManifestError, hint="h")
        else:
            url(TOKEN + "/ x", schemes=("https",), what="index-url", error=ManifestError, hint="h")
    assert "SSS" not in info.value.message
    assert "****@" in info.value.message


def test_uv_is_never_asked_to_uninstall_an_option() -> None:
    """Names come from dist-info folder names: ``-rreqs-1.0.dist-info`` gave the name ``-rreqs``,
    which uv read as ``-r reqs``."""
    with pytest.raises(UserError, match="not a PyPI name"):
        Uv().uninstall(Path("/nonexistent/bin/python"), ["six", "-rreqs"])
