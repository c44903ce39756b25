"""The hash check of the lock's ``file://`` PyPI artifacts, before sync changes anything."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from condauv.errors import ArchiveError, CondauvError
from condauv.lock.model import PypiPackage
from condauv.pypi.uv import Uv
from condauv.sync.integrity import PypiInstaller, check_local_artifacts


def _package(url: str, sha256: str, name: str = "six") -> PypiPackage:
    return PypiPackage(platform="linux-64", name=name, version="1.17.0", url=url, sha256=sha256)


def test_a_local_artifact_is_held_to_the_lock(tmp_path: Path) -> None:
    wheel = tmp_path / "six-1.17.0-py3-none-any.whl"
    wheel.write_bytes(b"genuine")
    genuine = hashlib.sha256(b"genuine").hexdigest()
    check_local_artifacts([_package(wheel.as_uri(), genuine)])
    wheel.write_bytes(b"changed")
    with pytest.raises(ArchiveError, match=r"does not match condauv\.lock") as caught:
        check_local_artifacts([_package(wheel.as_uri(), genuine)])
    assert genuine in caught.value.message
    assert hashlib.sha256(b"changed").hexdigest() in caught.value.message
    assert caught.value.exit_code == 2


def test_a_missing_or_endless_local_artifact_is_one_error(tmp_path: Path) -> None:
    missing = tmp_path / "gone.whl"
    with pytest.raises(CondauvError, match=r"cannot read PyPI package six 1\.17\.0") as caught:
        check_local_artifacts([_package(missing.as_uri(), "a" * 64)])
    assert str(missing) in caught.value.message and caught.value.exit_code == 1
    with pytest.raises(ArchiveError, match="no regular file"):  # never read: it would never end
        check_local_artifacts([_package("file:///dev/zero", "a" * 64)])


def test_index_urls_are_left_to_uv_and_each_file_is_hashed_once(tmp_path: Path) -> None:
    check_local_artifacts([_package("https://files.example/six-1.17.0-py3-none-any.whl", "a" * 64)])
    wheel = tmp_path / "six-1.17.0-py3-none-any.whl"
    wheel.write_bytes(b"genuine")
    package = _package(wheel.as_uri(), hashlib.sha256(b"genuine").hexdigest())
    installer = PypiInstaller(Uv(offline=True), tmp_path / "prefix", "3.11.7")
    installer.check([package])
    wheel.unlink()
    installer.check([package])  # hashed already in this sync: not read again
    with pytest.raises(CondauvError):
        PypiInstaller(Uv(offline=True), tmp_path / "prefix", "3.11.7").check([package])
