"""condauv.conda.verify's pure parts: link resolution, noarch paths, stamps, hashing copies."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from condauv.conda import verify
from condauv.errors import ArchiveError
from condauv.lock.model import CondaPackage

SITE = "lib/python3.11/site-packages"


def _package(name: str = "pkg", sha: str = "a" * 64, noarch: str | None = None) -> CondaPackage:
    return CondaPackage(
        platform="linux-64",
        name=name,
        version="1.0",
        build="h_0",
        build_number=0,
        subdir="noarch" if noarch else "linux-64",
        channel="file:///channel",
        url=f"file:///channel/noarch/{name}-1.0-h_0.conda",
        sha256=sha,
        noarch=noarch,
    )


@pytest.mark.parametrize(
    ("path", "links", "expected"),
    [
        ("share/x", {}, "share/x"),
        ("share/./x", {}, "share/x"),
        ("../x", {}, None),
        ("share/../../x", {}, None),
        ("share/../x", {}, "x"),
        ("share/out", {"share/out": "../../outside"}, None),
        ("share/out", {"share/out": "../inside"}, "inside"),
        ("share/root", {"share/root": ".."}, ""),
        ("share/abs", {"share/abs": "/etc"}, None),
        ("share/nul", {"share/nul": "a\x00b"}, None),
        ("share/empty", {"share/empty": ""}, None),
        ("bin/python", {"bin/python": "python3.11"}, "bin/python3.11"),
        # a chain the lexical view calls inside: t -> s/.. where s -> ../../.. (the prefix root)
        ("t", {"lib/x/y/s": "../../..", "t": "lib/x/y/s/.."}, None),
        ("t", {"lib/x/y/s": "../..", "t": "lib/x/y/s/.."}, ""),
        # a file written under one of the package's links
        ("d/file", {"d": "../elsewhere"}, None),
        ("d/file", {"d": "share"}, "share/file"),
        ("loop", {"loop": "loop2", "loop2": "loop"}, None),
    ],
)
def test_resolve(path: str, links: dict[str, str], expected: str | None) -> None:
    assert verify.resolve(path, links) == expected


@pytest.mark.parametrize(
    ("path", "noarch_python", "expected"),
    [
        ("site-packages/six.py", True, f"{SITE}/six.py"),
        ("python-scripts/tool", True, "bin/tool"),
        ("site-packages-not/x", True, "site-packages-not/x"),
        ("site-packages/six.py", False, "site-packages/six.py"),
        ("info/x", True, "info/x"),
    ],
)
def test_linked_path(path: str, noarch_python: bool, expected: str) -> None:
    assert verify.linked_path(path, noarch_python=noarch_python, site_packages=SITE) == expected


def test_a_noarch_python_link_up_is_resolved_from_where_it_is_linked() -> None:
    # three folders up from lib/python3.11/site-packages/pkg is the prefix's lib: inside
    link = verify.linked_path("site-packages/pkg/data", noarch_python=True, site_packages=SITE)
    assert verify.resolve(link, {link: "../../../../share/pkg"}) == "share/pkg"
    assert (
        verify.resolve("site-packages/pkg/data", {"site-packages/pkg/data": "../../../../share/pkg"}) is None
    )


def test_stamps(tmp_path: Path) -> None:
    entry = tmp_path / "pkg-1.0-h_0"
    (entry / "info").mkdir(parents=True)
    assert verify.read_stamp(entry) is None
    (entry / verify.STAMP).write_text("not json")
    assert verify.read_stamp(entry) is None
    (entry / verify.STAMP).write_text(json.dumps({"version": 0, "sha256": "a" * 64}))
    assert verify.read_stamp(entry) is None  # an older stamp no longer counts
    extracted = tmp_path / "extracted"
    (extracted / "info").mkdir(parents=True)
    (tmp_path / "pkg-1.0-h_0.lock").write_bytes(b"\x00" * 8 + b"\x01" * 32)
    verify.place_entry(tmp_path, extracted, entry, "b" * 64)
    assert not extracted.exists()
    assert verify.is_verified(entry, "b" * 64) and not verify.is_verified(entry, "a" * 64)
    assert (tmp_path / "pkg-1.0-h_0.lock").read_bytes() == b""  # rattler's recorded hash forgotten
    assert verify.unverified(tmp_path, [_package(sha="b" * 64), _package(sha="c" * 64)]) == [
        _package(sha="c" * 64)
    ]


def test_copy_hashing_hashes_the_bytes_copied(tmp_path: Path) -> None:
    source = tmp_path / "a.conda"
    source.write_bytes(b"x" * 3_000_000)
    assert verify.copy_hashing(source, tmp_path / "b.conda") == hashlib.sha256(b"x" * 3_000_000).hexdigest()
    assert (tmp_path / "b.conda").read_bytes() == source.read_bytes()


def test_a_cache_entry_name_never_leaves_the_cache(tmp_path: Path) -> None:
    assert verify.cache_entry(tmp_path, _package()) == tmp_path / "pkg-1.0-h_0"
    with pytest.raises(ArchiveError):
        verify.cache_entry(tmp_path, _package(name=".."))


@pytest.mark.parametrize(
    ("paths", "symlinks", "named"),
    [
        (["../x"], {}, "../x"),
        (["/etc/passwd"], {}, "/etc/passwd"),
        (["share/a\x00b"], {}, "share/a"),
        (["share/out"], {"share/out": "../../up"}, "share/out"),
        (["share/d", "share/d/f"], {"share/d": "/tmp"}, "share/d"),
    ],
)
def test_check_entry_refuses_paths_that_leave(
    tmp_path: Path, paths: list[str], symlinks: dict[str, str], named: str
) -> None:
    entry = tmp_path / "entry"
    (entry / "info").mkdir(parents=True)
    (entry / "info" / "paths.json").write_text(
        json.dumps({"paths": [{"_path": p, "path_type": "hardlink"} for p in paths], "paths_version": 1})
    )
    for link, target in symlinks.items():
        (entry / link).parent.mkdir(parents=True, exist_ok=True)
        (entry / link).symlink_to(target)
    with pytest.raises(ArchiveError) as caught:
        verify.check_entry(entry, _package(), site_packages=SITE)
    assert "pkg 1.0" in caught.value.message and named in caught.value.message


def test_check_entry_accepts_a_normal_package(tmp_path: Path) -> None:
    entry = tmp_path / "entry"
    (entry / "info").mkdir(parents=True)
    (entry / "bin").mkdir()
    (entry / "bin" / "python3.11").write_text("")
    (entry / "bin" / "python").symlink_to("python3.11")
    (entry / "info" / "files").write_text("bin/python3.11\nbin/python\n")  # an old package: no paths.json
    verify.check_entry(entry, _package(), site_packages=SITE)


# round 2: what the tar holds besides what paths.json lists --------------------------------


def _entry(tmp_path: Path, listed: list[str]) -> Path:
    entry = tmp_path / "entry"
    (entry / "info").mkdir(parents=True)
    (entry / "info" / "paths.json").write_text(
        json.dumps({"paths": [{"_path": p, "path_type": "hardlink"} for p in listed], "paths_version": 1})
    )
    return entry


def test_an_unlisted_link_that_a_listed_path_goes_through_is_refused(tmp_path: Path) -> None:
    """rattler links ``lib/secret`` from the entry: through an unlisted link ``lib -> /outside``,
    that is a hard link to a file outside (the prefix then shares its inode)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("secret\n")
    entry = _entry(tmp_path, ["lib/secret"])
    (entry / "lib").symlink_to(outside)
    with pytest.raises(ArchiveError) as caught:
        verify.check_entry(entry, _package(), site_packages=SITE)
    assert "'lib'" in caught.value.message


def test_a_link_the_archive_puts_in_info_is_refused(tmp_path: Path) -> None:
    """``info/condauv-verified -> /outside/owned``: stamping the entry would write through it."""
    entry = _entry(tmp_path, ["share/a"])
    (entry / "share").mkdir()
    (entry / "share" / "a").write_text("a")
    (entry / verify.STAMP).symlink_to(tmp_path / "owned")
    with pytest.raises(ArchiveError) as caught:
        verify.check_entry(entry, _package(), site_packages=SITE)
    assert "info/condauv-verified" in caught.value.message
    assert not (tmp_path / "owned").exists()


def test_a_paths_json_that_is_a_link_is_refused(tmp_path: Path) -> None:
    entry = tmp_path / "entry"
    (entry / "info").mkdir(parents=True)
    (tmp_path / "elsewhere.json").write_text(json.dumps({"paths": [], "paths_version": 1}))
    (entry / "info" / "paths.json").symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(ArchiveError) as caught:
        verify.check_entry(entry, _package(), site_packages=SITE)
    assert "info/paths.json" in caught.value.message


def test_a_listed_path_the_archive_lacks_is_refused(tmp_path: Path) -> None:
    """rattler would link the rest and fail half-way (exit 1, a half-built prefix)."""
    entry = _entry(tmp_path, ["share/a", "share/missing"])
    (entry / "share").mkdir()
    (entry / "share" / "a").write_text("a")
    with pytest.raises(ArchiveError) as caught:
        verify.check_entry(entry, _package(), site_packages=SITE)
    assert "share/missing" in caught.value.message


def test_a_fifo_in_the_entry_is_refused(tmp_path: Path) -> None:
    entry = _entry(tmp_path, ["share/fifo"])
    (entry / "share").mkdir()
    os.mkfifo(entry / "share" / "fifo")
    with pytest.raises(ArchiveError) as caught:
        verify.check_entry(entry, _package(), site_packages=SITE)
    assert "share/fifo" in caught.value.message


def test_place_entry_never_writes_the_stamp_through_a_link(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    extracted = tmp_path / "extracted"
    (extracted / "info").mkdir(parents=True)
    cache.mkdir()
    (extracted / verify.STAMP).symlink_to(tmp_path / "owned")
    verify.place_entry(cache, extracted, cache / "pkg-1.0-h_0", "a" * 64)
    assert not (tmp_path / "owned").exists()
    assert verify.is_verified(cache / "pkg-1.0-h_0", "a" * 64)
    assert not (cache / "pkg-1.0-h_0" / verify.STAMP).is_symlink()


def test_check_hashes_only_regular_files_inside_the_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record is untrusted: a NUL in a path was "unexpected ValueError" (exit 1), and a path
    with ``..`` or an absolute one was opened outside the prefix. Both count as changed, unread."""
    from condauv.health.hashing import CHANGED, OK, verify_files

    monkeypatch.setenv("CONDAUV_CACHE_DIR", str(tmp_path / "cache"))
    prefix = tmp_path / "env"
    prefix.mkdir()
    (prefix / "ok").write_bytes(b"ok")
    (tmp_path / "outside").write_bytes(b"ok")
    ok = hashlib.sha256(b"ok").hexdigest()
    jobs = [
        (f"{prefix}/ok", ok, None, False),
        (f"{prefix}/a\x00b", ok, None, False),
        (f"{prefix}/../outside", ok, None, False),
        (f"{prefix}/a\x00b", None, None, True),
    ]
    assert verify_files(jobs, prefix) == [OK, CHANGED, CHANGED, CHANGED]


def test_copy_hashing_stops_at_the_locked_size(tmp_path: Path) -> None:
    """A channel file that is a link to ``/dev/zero`` (or a huge file) filled the package cache
    before its sha256 was ever compared: the copy stops at the lock's size."""
    source = tmp_path / "a.conda"
    source.symlink_to("/dev/zero")
    with pytest.raises(verify.TooLarge):
        verify.copy_hashing(source, tmp_path / "b.conda", limit=1_000_000)
    assert (tmp_path / "b.conda").stat().st_size <= 1_000_000
