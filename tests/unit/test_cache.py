"""``condauv cache size`` and ``cache clean`` on caches made here: hard links counted once, what a
clean frees, what it never touches, and the lock that keeps it away from a running sync."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from condauv import _fs, cache
from condauv.cli.commands.cache import PARTS
from condauv.errors import UserError
from condauv.project import project_lock
from tests.clirunner import CLI

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """condauv's cache and uv's, both in tmp_path: no test here may see a user's cache."""
    root, uv_cache = tmp_path / "condauv-cache", tmp_path / "uv-cache"
    monkeypatch.setenv("CONDAUV_CACHE_DIR", str(root))
    monkeypatch.setenv("UV_CACHE_DIR", str(uv_cache))
    monkeypatch.delenv("UV_LINK_MODE", raising=False)
    return root, uv_cache


def _write(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    return path


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


def _fill(root: Path, env: Path) -> None:
    """A package cache whose one file an environment links, an unlinked one, repodata, a demo
    channel (kept), and the temp folders of a running and of a finished command."""
    linked = _write(root / "pkgs" / "numpy-2.4.6-0" / "lib" / "core.so", 1000)
    env.mkdir(parents=True)
    os.link(linked, env / "core.so")
    _write(root / "pkgs" / "numpy-2.4.6-0" / "info" / "index.json", 100)
    os.link(
        root / "pkgs" / "numpy-2.4.6-0" / "info" / "index.json", root / "pkgs" / "twice.json"
    )  # one inode
    _write(root / "repodata" / "abc.json", 50)
    _write(root / "channels" / "demo-1" / "noarch" / "repodata.json", 7)
    host = _fs._HOST  # the temp folders' naming is the contract here
    _write(root / "tmp" / f"{host}-{os.getpid()}" / "work", 10)  # this process: running
    _write(root / "tmp" / f"{host}-{_dead_pid()}" / "left", 20)  # a killed command's
    _write(root / "pkgs" / ".condauv-tmp" / f"{host}-{_dead_pid()}" / "partial.conda", 30)


def test_size_counts_each_inode_once_and_what_a_clean_frees(
    caches: tuple[Path, Path], tmp_path: Path
) -> None:
    root, _ = caches
    _fill(root, tmp_path / "env")
    parts = {p.name: p for p in cache.size().parts}
    # core.so (1000, linked from the env), index.json (100, two links both in the cache), partial (30)
    assert (parts["conda"].size, parts["conda"].files) == (1130, 3)
    assert parts["conda"].frees == 130  # the env's link keeps core.so on disk
    assert (parts["repodata"].size, parts["repodata"].frees) == (50, 50)
    assert (parts["tmp"].size, parts["tmp"].frees) == (30, 20)  # the running command's stays
    assert (parts["other"].size, parts["other"].frees, parts["other"].cleaned) == (7, 0, False)
    assert cache.size().size == 1130 + 50 + 30 + 7


def test_dry_run_removes_nothing(caches: tuple[Path, Path], tmp_path: Path) -> None:
    root, _ = caches
    _fill(root, tmp_path / "env")
    before = sorted(p for p in root.rglob("*"))
    report = cache.clean(dry_run=True)
    assert sorted(p for p in root.rglob("*")) == before
    assert root / "pkgs" / "numpy-2.4.6-0" in report.removed["conda"]
    assert report.frees["conda"] == 130


def test_clean_keeps_environments_and_what_is_not_a_cache(caches: tuple[Path, Path], tmp_path: Path) -> None:
    root, _ = caches
    env = tmp_path / "env"
    _fill(root, env)
    report = cache.clean()
    assert report.errors == []
    assert sorted(p.name for p in (root / "pkgs").iterdir()) == [".condauv-tmp"]
    assert list((root / "pkgs" / ".condauv-tmp").iterdir()) == []
    assert list((root / "repodata").iterdir()) == []
    assert [p.name for p in (root / "tmp").iterdir()] == [f"{_fs._HOST}-{os.getpid()}"]
    assert (root / "channels" / "demo-1" / "noarch" / "repodata.json").is_file()
    assert (env / "core.so").read_bytes() == b"x" * 1000  # the environment's file is intact


def test_a_part_that_is_a_link_is_not_followed(caches: tuple[Path, Path], tmp_path: Path) -> None:
    root, _ = caches
    elsewhere = _write(tmp_path / "big-disk" / "keep.me", 5)
    root.mkdir()
    (root / "pkgs").symlink_to(elsewhere.parent)
    report = cache.clean(["conda"])
    assert "not followed" in report.skipped["conda"]
    assert elsewhere.is_file()


@pytest.mark.parametrize("where", ["root", "home", "project"])
def test_clean_refuses_a_folder_that_is_no_condauv_cache(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    project = _write(home / "work" / "condauv.toml", 3).parent
    _write(project / "pkgs" / "mine.txt", 3)  # a user's own folder of a cache part's name
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv"))
    monkeypatch.setenv("CONDAUV_CACHE_DIR", {"root": "/", "home": str(home), "project": str(project)}[where])
    with pytest.raises(UserError, match="refusing to clean"):
        cache.clean()
    assert (project / "pkgs" / "mine.txt").is_file()


def test_uv_cache_inside_condauv_cache_is_no_stranger(
    caches: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = caches
    _write(root / "uv" / "wheels" / "x.whl", 4)
    monkeypatch.setenv("UV_CACHE_DIR", str(root / "uv"))
    report = cache.clean()  # uv's own clean, through the Uv wrapper
    assert report.errors == [] and report.removed["uv"] == [root / "uv"]
    assert not (root / "uv" / "wheels").exists()


def test_uv_link_mode_symlink_leaves_uv_cache_alone(
    caches: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, uv_cache = caches
    _write(uv_cache / "archive-v0" / "f", 4)
    monkeypatch.setenv("UV_LINK_MODE", "symlink")
    report = cache.clean(["uv"])
    assert "UV_LINK_MODE=symlink" in report.skipped["uv"]
    assert (uv_cache / "archive-v0" / "f").is_file()


def test_clean_waits_for_a_project_lock(caches: tuple[Path, Path], tmp_path: Path) -> None:
    """A sync holds the project lock, and with it the cache shared: a clean waits, then runs."""
    root, _ = caches
    _write(root / "repodata" / "abc.json", 5)
    manifest = _write(tmp_path / "proj" / "condauv.toml", 1)
    with project_lock(manifest):
        cleaner = subprocess.Popen(
            [sys.executable, "-m", "condauv", "cache", "clean"],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        )
        assert cleaner.stderr is not None
        first = cleaner.stderr.readline()
        assert first.startswith("waiting for condauv's cache"), first
        assert (root / "repodata" / "abc.json").is_file()  # nothing removed while the lock is held
    assert cleaner.wait(timeout=30) == 0, cleaner.stderr.read()
    cleaner.stderr.close()
    assert not (root / "repodata" / "abc.json").exists()


def test_cli_size_and_clean(caches: tuple[Path, Path], tmp_path: Path, cli: CLI) -> None:
    root, _ = caches
    _fill(root, tmp_path / "env")
    result = cli("cache", "size", "--human", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert re.search(r"conda\s.*1\.1 KiB", result.stdout) and "total" in result.stdout
    result = cli("cache", "clean", "--dry-run", "repodata", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert str(root / "repodata" / "abc.json") in result.stdout
    assert "would free 50 B" in result.stderr and (root / "repodata" / "abc.json").exists()
    result = cli("cache", "clean", "repodata", "--json", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert '"frees": 50' in result.stdout and not (root / "repodata" / "abc.json").exists()
    assert cli("cache", "dir", cwd=tmp_path).stdout.strip() == str(root)


def test_cli_refuses_an_unknown_part(caches: tuple[Path, Path], tmp_path: Path, cli: CLI) -> None:
    result = cli("cache", "clean", "everything", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr.startswith("error:") and "unknown part 'everything'" in result.stderr
    assert "hint:" in result.stderr


def test_parts_agree_with_the_library() -> None:
    assert tuple(cache.CLEANED) == PARTS


def test_every_name_condauv_writes_in_its_cache_root_is_known() -> None:
    """A new ``cache_dir() / "name"`` must be added to KNOWN_ENTRIES, or clean refuses every cache."""
    used = set()
    for source in (ROOT / "src" / "condauv").rglob("*.py"):
        used |= set(re.findall(r'cache_dir\(\) / "([^"]+)"', source.read_text(encoding="utf-8")))
    assert used, "the pattern no longer finds the cache's folders"
    assert used <= cache.KNOWN_ENTRIES, used - cache.KNOWN_ENTRIES


def test_a_uv_cache_set_to_the_home_folder_is_left_alone(
    caches: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    _write(home / "notes.txt", 3)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("UV_CACHE_DIR", str(home))
    report = cache.clean(["uv"], dry_run=True)
    assert "not a cache folder" in report.skipped["uv"]
    assert "not a cache folder" in cache.clean(["uv"]).skipped["uv"]
    assert (home / "notes.txt").is_file()
