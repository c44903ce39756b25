"""What ``condauv lock`` hands uv and keeps between locks, with the real rattler and uv.

The conda-owned distributions' stub wheels lie in condauv's cache and are the same files lock
after lock (uv reuses what it read of them); uv builds with condauv's own interpreter instead
of searching PATH for one; and the distributions inside a conda archive are read once per
archive (by sha256) and kept, never from an archive whose bytes are not the repodata's.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from condauv.platforms import current_subdir
from tests.clirunner import CLI
from tests.conftest import NUMPY_VERSION
from tests.integration.conftest import MakeProject

pytestmark = pytest.mark.slow


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """condauv's cache for this test alone (uv's stays the session's)."""
    folder = tmp_path / "condauv-cache"
    monkeypatch.setenv("CONDAUV_CACHE_DIR", str(folder))
    return folder


def _lock_again(cli: CLI, folder: Path) -> bytes:
    lock = folder / "condauv.lock"
    before = lock.read_bytes()
    lock.unlink()
    result = cli("lock", cwd=folder)
    assert result.exit_code == 0, result.stderr
    return before


def test_stub_wheels_are_made_once_and_reused(cli: CLI, make_project: MakeProject, cache: Path) -> None:
    folder = make_project()
    result = cli("add", "numpy", "needs-new-numpy", "--no-sync", cwd=folder)
    assert result.exit_code == 0, result.stderr
    (stub,) = (cache / "stubs").glob("*/*.whl")
    assert stub.name == f"numpy-{NUMPY_VERSION}-py3-none-any.whl"
    made = stub.stat()
    before = _lock_again(cli, folder)
    assert (folder / "condauv.lock").read_bytes() == before  # the same lock
    assert list((cache / "stubs").glob("*/*.whl")) == [stub]
    again = stub.stat()
    assert (again.st_ino, again.st_mtime_ns) == (made.st_ino, made.st_mtime_ns)  # never rewritten


def test_uv_does_not_search_path_for_an_interpreter(
    cli: CLI, make_project: MakeProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uv ran every python on PATH it found (a pyenv shim: 0.15 s a run) to build with; it is
    given the interpreter running condauv instead, of the locked Python's minor version."""
    shims = tmp_path / "shims"
    shims.mkdir()
    marker = tmp_path / "ran"
    for name in ("python", "python3", f"python3.{sys.version_info.minor}"):
        shim = shims / name
        shim.write_text(f'#!/bin/sh\necho "$0" >> {marker}\nexec {sys.executable} "$@"\n')
        shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{shims}{os.pathsep}{os.environ['PATH']}")
    for variable in ("VIRTUAL_ENV", "CONDA_PREFIX", "UV_PYTHON"):
        monkeypatch.delenv(variable, raising=False)
    folder = make_project()
    result = cli("add", "requests", "--no-sync", cwd=folder)
    assert result.exit_code == 0, result.stderr
    assert "requests" in (folder / "condauv.lock").read_text()
    assert not marker.exists(), marker.read_text()


def _numpy_archive(channel: Path) -> Path:
    (archive,) = (channel / current_subdir()).glob(f"numpy-{NUMPY_VERSION}-*.conda")
    return archive


def test_distributions_in_archives_are_read_once(
    cli: CLI, make_project: MakeProject, cache: Path, conda_channel: Path, tmp_path: Path
) -> None:
    folder = make_project()
    result = cli("add", "numpy", "--no-sync", cwd=folder)
    assert result.exit_code == 0, result.stderr
    entries = {p.name: json.loads(p.read_text()) for p in (cache / "provides").glob("*.json")}
    assert {"numpy": NUMPY_VERSION} in [e["distributions"] for e in entries.values()]
    assert {} in [e["distributions"] for e in entries.values()]  # python holds none: kept too
    stamps = {p.name: p.stat().st_mtime_ns for p in (cache / "provides").glob("*.json")}
    before = _lock_again(cli, folder)
    assert (folder / "condauv.lock").read_bytes() == before
    assert {p.name: p.stat().st_mtime_ns for p in (cache / "provides").glob("*.json")} == stamps


def test_an_archive_that_is_not_the_repodatas_is_read_and_not_kept(
    cli: CLI, make_project: MakeProject, cache: Path, conda_channel: Path, tmp_path: Path
) -> None:
    """A channel folder whose numpy archive was swapped after indexing (rattler does not check
    the sha256 of file: archives): its distributions are read from it, as always, but not kept
    under the repodata's sha256, which names another archive."""
    channel = tmp_path / "channel"
    shutil.copytree(conda_channel, channel)
    archive = _numpy_archive(channel)
    python = next((channel / current_subdir()).glob("python-3*.conda"))
    folder = make_project()
    manifest = folder / "condauv.toml"
    manifest.write_text(manifest.read_text().replace(conda_channel.as_uri(), channel.as_uri()))
    original = archive.read_bytes()
    archive.write_bytes(python.read_bytes())  # another archive's bytes: no numpy dist-info in it
    result = cli("add", "numpy", "--no-sync", cwd=folder)
    assert result.exit_code == 0, result.stderr
    kept = [json.loads(p.read_text())["distributions"] for p in (cache / "provides").glob("*.json")]
    assert {"numpy": NUMPY_VERSION} not in kept
    archive.write_bytes(original)  # the genuine archive again: read, and now kept
    _lock_again(cli, folder)
    kept = [json.loads(p.read_text())["distributions"] for p in (cache / "provides").glob("*.json")]
    assert {"numpy": NUMPY_VERSION} in kept
    assert f'provides = ["numpy=={NUMPY_VERSION}"]' in (folder / "condauv.lock").read_text()
