"""The kept documents of locks read before (``parsed-locks/`` in condauv's cache): an accelerator
only. A hit skips tomllib, never the validation; a missing, damaged or mismatching entry is
a miss, silently; an entry is found by the sha256 of the lock's text, so an edited lock never
meets the document of the text it had."""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from pathlib import Path

import pytest

from condauv import cache, validation
from condauv.errors import LockfileError
from condauv.lock import CondaPackage, Lock, PypiPackage, model, parse_lock

SHA = "a" * 64


@pytest.fixture(autouse=True)
def cache_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("CONDAUV_CACHE_DIR", str(root))
    return root


def _text(version: str = "2.32.3") -> str:
    return Lock(
        content_hash="sha256:x",
        channels=("file:///chan",),
        platforms=("linux-64",),
        conda=(
            CondaPackage(
                platform="linux-64",
                name="python",
                version="3.11.7",
                build="h_0",
                build_number=0,
                subdir="linux-64",
                channel="file:///chan/",
                url="file:///chan/linux-64/python-3.11.7-h_0.conda",
                sha256=SHA,
                depends=("libzlib >=1.3",),
            ),
        ),
        pypi=(
            PypiPackage(
                platform="linux-64",
                name="requests",
                version=version,
                url=f"https://files.example/requests-{version}-py3-none-any.whl",
                sha256=SHA,
            ),
        ),
    ).to_toml()


def _entry(text: str) -> Path:
    key = hashlib.sha256(text.encode()).hexdigest()
    return Path(os.environ["CONDAUV_CACHE_DIR"]) / model.PARSED_FOLDER / f"{key}.json"


def _no_toml(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(text: str) -> object:
        raise AssertionError("tomllib was asked")

    monkeypatch.setattr(tomllib, "loads", refuse)


def test_a_lock_read_twice_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _text()
    first = parse_lock(text)
    assert _entry(text).is_file()
    _no_toml(monkeypatch)
    assert parse_lock(text) == first
    assert parse_lock(text).to_toml() == text


def test_the_kept_document_is_validated_in_full(monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry that reads as the lock's but holds a field no lock may have is refused as the
    TOML would be: the validation runs on whatever comes back."""
    text = _text()
    parse_lock(text)
    entry = json.loads(_entry(text).read_text(encoding="utf-8"))
    entry["lock"]["pypi"][0]["sha256"] = "not-hex"
    _entry(text).write_text(json.dumps(entry), encoding="utf-8")
    _no_toml(monkeypatch)
    with pytest.raises(LockfileError, match=r"pypi\[0\]\.sha256 is not a sha256"):
        parse_lock(text)


def test_a_kept_document_too_deep_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _text()
    parse_lock(text)
    entry = json.loads(_entry(text).read_text(encoding="utf-8"))
    deep: object = "x"
    for _ in range(validation.MAX_DEPTH + 2):
        deep = [deep]
    entry["lock"]["extra"] = deep
    _entry(text).write_text(json.dumps(entry), encoding="utf-8")
    _no_toml(monkeypatch)
    with pytest.raises(LockfileError, match="levels deep"):
        parse_lock(text)


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"\x00\xff not json",
        b'{"format": 1, "sha256": "',  # cut short
        b"[1, 2, 3]",
        b'{"format": 99, "sha256": "KEY", "lock": {}}',
        b'{"format": 1, "sha256": "KEY", "lock": []}',
        b'{"format": 1, "sha256": "0000", "lock": {}}',  # another text's entry, renamed
        b"[" * 100_000 + b"]" * 100_000,  # deeper than json's recursion limit
    ],
)
def test_a_damaged_entry_is_a_miss_and_is_written_again(damage: bytes) -> None:
    text = _text()
    expected = parse_lock(text)
    path = _entry(text)
    path.write_bytes(damage.replace(b"KEY", path.stem.encode()))
    assert parse_lock(text) == expected
    assert json.loads(path.read_text(encoding="utf-8"))["sha256"] == path.stem


def test_an_entry_that_is_no_file_is_a_miss() -> None:
    text = _text()
    path = _entry(text)
    path.parent.mkdir(parents=True)
    os.mkfifo(path)  # a reader that opened it would wait for a writer
    assert parse_lock(text).pypi[0].version == "2.32.3"
    path.unlink()
    path.mkdir()
    assert parse_lock(text).pypi[0].version == "2.32.3"


def test_a_lock_edited_by_one_byte_misses(monkeypatch: pytest.MonkeyPatch) -> None:
    before = _text("2.32.3")
    after = _text("2.32.4")
    assert sum(a != b for a, b in zip(before, after, strict=True)) == 2  # version and URL
    one_byte = before.replace("sha256:x", "sha256:y")
    parse_lock(before)
    assert parse_lock(after).pypi[0].version == "2.32.4"
    assert parse_lock(one_byte).content_hash == "sha256:y"
    assert _entry(after).is_file() and _entry(one_byte).is_file()


def test_a_document_of_other_text_is_never_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """The entry is found by the sha256 of the text being read: another text's document, even
    one left at this text's place with its own sha256, is not this lock's."""
    old, new = _text("2.32.3"), _text("2.32.4")
    parse_lock(old)
    _entry(new).write_bytes(_entry(old).read_bytes())  # stale: it names the old text's sha256
    assert parse_lock(new).pypi[0].version == "2.32.4"


def test_an_invalid_lock_is_not_kept() -> None:
    text = _text().replace(f'sha256 = "{SHA}"', 'sha256 = "nothex"', 1)
    with pytest.raises(LockfileError):
        parse_lock(text)
    assert not _entry(text).exists()


def test_a_document_json_cannot_give_back_is_not_kept() -> None:
    """A TOML date (in a key condauv does not read) has no JSON form: parsed, not kept."""
    text = _text().replace("version = 1\n", "version = 1\nwritten = 1979-05-27T07:32:00Z\n", 1)
    assert parse_lock(text).version == 1
    assert not _entry(text).exists()


def test_a_cache_that_cannot_be_written_is_no_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "file").write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("CONDAUV_CACHE_DIR", str(tmp_path / "file" / "cache"))  # even root cannot
    assert parse_lock(_text()).pypi[0].version == "2.32.3"
    assert parse_lock(_text()).pypi[0].version == "2.32.3"


def test_only_the_newest_entries_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model, "_PARSED_KEEP", 3)
    texts = [_text(f"2.32.{i}") for i in range(6)]
    for index, text in enumerate(texts):
        parse_lock(text)
        os.utime(_entry(text), ns=(index * 10**9, index * 10**9))  # written in this order
    parse_lock(texts[-1])  # a hit writes nothing
    kept = sorted(p.name for p in _entry(texts[0]).parent.iterdir())
    assert kept == sorted(_entry(t).name for t in texts[-3:])


def test_the_cache_knows_the_folder(cache_root: Path) -> None:
    parse_lock(_text())
    assert model.PARSED_FOLDER in cache.KNOWN_ENTRIES
    cache.check_root(cache_root)  # a root holding it is condauv's own
