"""The shortcuts of the validation layer and of check's sweep give the answers of the long way:
one search over every string of a document, answers remembered per string, folders resolved
once per round (and afresh in the next), a prefix whose own path has a dot folder."""

from __future__ import annotations

import hashlib
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from condauv import validation
from condauv.errors import LockfileError
from condauv.health.hashing import CHANGED, MISSING, OK, verify_files
from condauv.lock import CondaPackage, Lock, PypiPackage
from condauv.lock.validate import check_sources
from condauv.manifest.model import load_manifest

SHA = "a" * 64


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDAUV_CACHE_DIR", str(tmp_path / "cache"))


def test_the_whitespace_pattern_is_str_isspace() -> None:
    pattern = validation._SPACE
    assert all(bool(pattern.match(chr(c))) == chr(c).isspace() for c in range(sys.maxunicode + 1))


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"a": [{"b": "x\x00"}]}, "a[0].b"),
        ({"a": {"b\u2028": 1}}, "the key 'a.b\\u2028'"),
        ({"a": ["ok", ["deep", "\x85"]]}, "a[1][1]"),
        ("\x1b", "the document"),
    ],
)
def test_a_control_character_anywhere_is_named_where_it_is(document: object, field: str) -> None:
    with pytest.raises(LockfileError) as info:
        validation.check_strings(document, what="doc", error=LockfileError, hint="")
    assert f"doc: {field}" in info.value.message


def test_a_document_without_control_characters_passes() -> None:
    document = {"a": ["x", {"b": "y z\u00e9", "n": 1, "t": True}], "c": [[]], "d": {}}
    validation.check_strings(document, what="doc", error=LockfileError, hint="")


def test_depth_is_counted_as_before() -> None:
    deepest: object = "x"
    for _ in range(validation.MAX_DEPTH):
        deepest = [deepest]
    validation.check_depth(deepest, what="doc", error=LockfileError, hint="")  # "x" at depth 32
    for deeper in ([deepest], {"a": deepest}, [[{}] * 3, {"b": deepest}]):
        with pytest.raises(LockfileError, match="more than 32 levels deep"):
            validation.check_depth(deeper, what="doc", error=LockfileError, hint="")
    validation.check_depth({"a": [[]] * 3, "b": {"c": 1}}, what="doc", error=LockfileError, hint="")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("https://host/a b", "is not a URL"),
        ("https://host/a\u3000b", "is not a URL"),  # an ideographic space: str.isspace's
        ("https://host/a\\b", "holds a backslash"),
        ("https://host/a%00b", "once decoded"),
        ("https://host:99999/x", "is not a URL"),
        ("ftp://host/x", "has the scheme 'ftp'"),
        ("https:///x", "has no host"),
        ("https://user:secret@host/x", "holds credentials"),
    ],
)
def test_a_url_refused_once_is_refused_again(value: str, problem: str) -> None:
    for _ in range(2):  # the second answer is the remembered one
        with pytest.raises(LockfileError, match=problem):
            validation.url(value, schemes=("https", "file"), what="u", error=LockfileError, hint="")


def _manifest(root: Path) -> Path:
    (root / "condauv.toml").write_text(
        f'[environment]\nname = "x"\npython = "3.11.*"\nchannels = ["{(root / "chan").as_uri()}"]\n\n'
        '[pypi-options]\nfind-links = ["wheels"]\nno-index = true\n',
        encoding="utf-8",
    )
    return root / "condauv.toml"


def test_a_folder_replaced_by_a_link_is_seen_in_the_next_round(tmp_path: Path) -> None:
    """Within a round a folder is resolved once; every lock read (a round) sees it as it is now."""
    (tmp_path / "chan" / "linux-64").mkdir(parents=True)
    sub = tmp_path / "wheels" / "sub"
    sub.mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    manifest = load_manifest(_manifest(tmp_path))
    channel = (tmp_path / "chan").as_uri()
    lock = Lock(
        content_hash="sha256:x",
        channels=(channel,),
        platforms=("linux-64",),
        conda=(
            CondaPackage(
                platform="linux-64",
                name="zlib",
                version="1.3",
                build="h_0",
                subdir="linux-64",
                build_number=0,
                channel=channel,
                url=f"{channel}/linux-64/zlib-1.3-h_0.conda",
                sha256=SHA,
            ),
        ),
        pypi=tuple(
            PypiPackage(
                platform="linux-64",
                name=name,
                version="1.0",
                url=f"{sub.as_uri()}/{name}-1.0-py3-none-any.whl",
                sha256=SHA,
            )
            for name in ("one", "two")
        ),
    )
    check_sources(lock, manifest)
    sub.rmdir()
    sub.symlink_to(outside)
    with pytest.raises(LockfileError, match=r"pypi\[0\] \(one 1.0\).*is not on an index"):
        check_sources(lock, manifest)
    sub.unlink()
    sub.mkdir()
    check_sources(replace(lock, pypi=lock.pypi[1:]), manifest)


def test_a_prefix_below_a_dot_folder_is_swept_like_any_other(tmp_path: Path) -> None:
    """``project/.condauv/env``: the dot in the prefix's own path is no ``.`` part of a record's."""
    prefix = tmp_path / ".condauv" / "env"
    (prefix / "sub").mkdir(parents=True)
    (prefix / "sub" / "f").write_bytes(b"data")
    (tmp_path / ".condauv" / "outside").write_bytes(b"data")
    (prefix / "sub" / ".hidden").write_bytes(b"data")
    digest = hashlib.sha256(b"data").hexdigest()
    base = f"{prefix}/"
    jobs = [
        (base + "sub/f", digest, 4, False),
        (base + "sub/./f", digest, 4, False),
        (base + "sub/.hidden", digest, 4, False),
        (base + "../outside", digest, 4, False),
        (base + "sub/../../outside", digest, 4, False),
        (base + "sub/.gone", digest, 4, False),
        (base + ".", digest, 4, False),
    ]
    expected = [OK, OK, OK, CHANGED, CHANGED, MISSING, CHANGED]
    assert verify_files(jobs, prefix) == expected
    assert verify_files(jobs, prefix) == expected  # from the stat cache
