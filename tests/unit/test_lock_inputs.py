"""What a lock keeps in condauv's cache: stub wheels (pypi/resolve.py) and the distributions
inside conda archives (conda/provided.py). Each is reused only for exactly what it was made
from; anything else is a miss, and a cache that cannot be written is no error."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import zipfile
from pathlib import Path

import pytest

from condauv.conda import provided
from condauv.pypi.resolve import Owner, _build_interpreter, _stub


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("CONDAUV_CACHE_DIR", str(folder))
    return folder


NUMPY = Owner(distribution="numpy", version="2.3.4", package="numpy 2.3.4 (py311_0)")


def _metadata(stub: Path) -> str:
    with zipfile.ZipFile(stub) as archive:
        return archive.read(f"numpy-{stub.name.split('-')[1]}.dist-info/METADATA").decode()


# -- stub wheels ------------------------------------------------------------------------------------


def test_a_stub_is_made_once_and_then_the_same_file(tmp_path: Path, cache: Path) -> None:
    first = _stub(NUMPY, tmp_path / "work1")
    assert first.is_relative_to(cache / "stubs") and first.name == "numpy-2.3.4-py3-none-any.whl"
    assert "Version: 2.3.4" in _metadata(first) and "numpy 2.3.4 (py311_0)" in _metadata(first)
    made = first.stat()
    again = _stub(NUMPY, tmp_path / "work2")
    assert again == first
    assert (again.stat().st_ino, again.stat().st_mtime_ns) == (made.st_ino, made.st_mtime_ns)
    assert not (tmp_path / "work2").exists()  # nothing made


@pytest.mark.parametrize(
    "other",
    [
        Owner(distribution="numpy", version="2.3.5", package="numpy 2.3.5 (py311_0)"),
        Owner(distribution="numpy", version="2.3.4", package="numpy 2.3.4 (py311_1)"),
    ],
)
def test_another_version_or_package_is_another_stub(tmp_path: Path, other: Owner) -> None:
    first = _stub(NUMPY, tmp_path / "work1")
    second = _stub(other, tmp_path / "work2")
    assert second.parent != first.parent
    assert f"Version: {other.version}" in _metadata(second) and other.package in _metadata(second)
    assert "Version: 2.3.4" in _metadata(first)  # the first untouched


def test_locks_making_the_same_stub_at_once_all_get_one_whole_file(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=8) as pool:
        stubs = list(pool.map(lambda i: _stub(NUMPY, tmp_path / f"work{i}"), range(16)))
    assert all("Version: 2.3.4" in _metadata(stub) for stub in stubs)
    assert len({stub.parent for stub in stubs if stub.is_relative_to(tmp_path / "cache")}) == 1
    (kept,) = (tmp_path / "cache" / "stubs").glob("*/*.whl")
    assert _stub(NUMPY, tmp_path / "later") == kept


def test_an_empty_folder_in_the_stubs_place_is_filled(tmp_path: Path) -> None:
    folder = _stub(NUMPY, tmp_path / "work1").parent
    for path in folder.iterdir():
        path.unlink()
    assert _stub(NUMPY, tmp_path / "work2").is_file()


def test_a_cache_that_cannot_take_the_stub_leaves_it_in_the_scratch_folder(
    tmp_path: Path, cache: Path
) -> None:
    cache.mkdir()
    (cache / "stubs").write_text("not a folder\n")
    stub = _stub(NUMPY, tmp_path / "work")
    assert stub.is_relative_to(tmp_path / "work") and "Version: 2.3.4" in _metadata(stub)


def test_uv_builds_with_this_interpreter_only_for_its_minor_version() -> None:
    major, minor = sys.version_info[:2]
    assert _build_interpreter(f"{major}.{minor}.99") == Path(sys.executable)
    assert _build_interpreter(f"{major}.{minor}") == Path(sys.executable)
    assert _build_interpreter(f"{major}.{minor + 1}.0") is None
    assert _build_interpreter("not a version") is None


# -- distributions inside conda archives -----------------------------------------------------------


def _archive(tmp_path: Path, data: bytes = b"an archive\n") -> tuple[Path, str, os.stat_result]:
    path = tmp_path / "numpy-2.3.4-py311_0.conda"
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest(), path.stat()


def test_a_local_archive_whose_bytes_are_its_sha256_is_kept(tmp_path: Path) -> None:
    path, sha256, read = _archive(tmp_path)
    url = path.as_uri()
    assert provided.kept(sha256, url) is None
    provided.keep(sha256, url, {"numpy": "2.3.4"}, read=read)
    assert provided.kept(sha256, url) == {"numpy": "2.3.4"}
    assert provided.kept(sha256, (tmp_path / "elsewhere.conda").as_uri()) == {"numpy": "2.3.4"}  # by sha
    assert provided.kept("c" * 64, url) is None  # another archive


def test_a_local_archive_that_is_not_its_sha256_or_changed_is_not_kept(tmp_path: Path) -> None:
    path, sha256, read = _archive(tmp_path)
    provided.keep("c" * 64, path.as_uri(), {"numpy": "2.3.4"}, read=read)  # repodata says another
    assert provided.kept("c" * 64, path.as_uri()) is None
    os.utime(path, ns=(read.st_atime_ns, read.st_mtime_ns + 10**9))  # touched after it was read
    provided.keep(sha256, path.as_uri(), {"numpy": "2.3.4"}, read=read)
    assert provided.kept(sha256, path.as_uri()) is None
    provided.keep(sha256, path.as_uri(), {"numpy": "2.3.4"}, read=None)
    assert provided.kept(sha256, path.as_uri()) is None


def test_remote_archives_are_kept_by_url_and_sha256_over_https_only() -> None:
    sha256 = "d" * 64
    url = "https://conda.example/conda-forge/linux-64/numpy-2.3.4-py311_0.conda"
    provided.keep(sha256, url, {"numpy": "2.3.4"}, read=None)
    assert provided.kept(sha256, url) == {"numpy": "2.3.4"}
    assert provided.kept(sha256, url.replace("conda.example", "mirror.example")) is None
    plain = url.replace("https:", "http:")
    provided.keep(sha256, plain, {"numpy": "2.3.4"}, read=None)
    assert provided.kept(sha256, plain) is None
    provided.keep(None, url, {"numpy": "2.3.4"}, read=None)  # no sha256: never kept
    assert provided.kept(None, url) is None


@pytest.mark.parametrize(
    "entry",
    [
        "not json",
        json.dumps([1]),
        json.dumps({"format": 1, "sha256": "d" * 64, "distributions": {"../x": "1"}}),
        json.dumps({"format": 1, "sha256": "d" * 64, "distributions": {"numpy": "2==3"}}),
        json.dumps({"format": 1, "sha256": "d" * 64, "distributions": {"numpy": 2}}),
        json.dumps({"format": 1, "sha256": "d" * 64, "distributions": {"NumPy": "2.3.4"}}),
        json.dumps({"format": 1, "sha256": "d" * 64, "distributions": {"numpy": "2.3-4"}}),
        json.dumps({"format": 1, "sha256": "d" * 64, "distributions": {"numpy": "2.3 4"}}),
        json.dumps({"format": 1, "sha256": "e" * 64, "distributions": {"numpy": "2.3.4"}}),
        json.dumps({"format": 99, "sha256": "d" * 64, "distributions": {"numpy": "2.3.4"}}),
    ],
)
def test_an_entry_that_does_not_read_back_is_a_miss(entry: str) -> None:
    sha256 = "d" * 64
    url = "https://conda.example/linux-64/numpy-2.3.4-py311_0.conda"
    provided.keep(sha256, url, {"numpy": "2.3.4"}, read=None)
    (path,) = (Path(os.environ["CONDAUV_CACHE_DIR"]) / "provides").glob("*.json")
    path.write_text(entry)
    assert provided.kept(sha256, url) is None


def test_a_cache_that_cannot_be_written_is_no_error(tmp_path: Path, cache: Path) -> None:
    cache.mkdir()
    (cache / "provides").write_text("not a folder\n")
    path, sha256, read = _archive(tmp_path)
    provided.keep(sha256, path.as_uri(), {"numpy": "2.3.4"}, read=read)
    assert provided.kept(sha256, path.as_uri()) is None
