"""The hash check of the lock's ``file://`` PyPI artifacts, accelerated by a stat cache
(condauv.health.hashing.verify_files): a file known good is not read again, any change is."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from condauv.errors import ArchiveError
from condauv.lock.model import PypiPackage
from condauv.sync.integrity import check_local_artifacts


def _package(url: str, sha256: str, name: str = "six") -> PypiPackage:
    return PypiPackage(platform="linux-64", name=name, version="1.17.0", url=url, sha256=sha256)


def test_a_local_artifact_known_good_is_trusted_by_its_stat_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hashed right once, unchanged since (inode, size, mtime, ctime): not read again; changed in
    place with its mtime set back (ctime moves): hashed, and refused."""
    import os

    from condauv.health import hashing
    from condauv.sync import integrity

    monkeypatch.setenv("CONDAUV_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(hashing, "_SETTLE_NS", 0)  # remembered at once, not 2 s after a change
    wheel = tmp_path / "six-1.17.0-py3-none-any.whl"
    wheel.write_bytes(b"genuine")
    package = _package(wheel.as_uri(), hashlib.sha256(b"genuine").hexdigest())
    check_local_artifacts([package])
    opened: list[Path] = []

    def hash_local(item: tuple[PypiPackage, Path]) -> str:
        opened.append(item[1])
        return ""

    monkeypatch.setattr(integrity, "_hash_local", hash_local)
    check_local_artifacts([package])
    assert opened == []  # the stat cache vouched for it
    monkeypatch.undo()
    monkeypatch.setenv("CONDAUV_CACHE_DIR", str(tmp_path / "cache"))
    before = wheel.stat()
    wheel.write_bytes(b"changed")  # the same size
    os.utime(wheel, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(ArchiveError, match=r"does not match condauv\.lock"):
        check_local_artifacts([package])
    (tmp_path / "cache" / "check").mkdir(parents=True, exist_ok=True)
    for stale in (tmp_path / "cache" / "check").iterdir():
        stale.write_bytes(b"\xff not a stat cache")  # damaged: only slower, never wrong
    with pytest.raises(ArchiveError):
        check_local_artifacts([package])
