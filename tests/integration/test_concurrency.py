"""Concurrent commands on one project: one project lock, taken before the manifest is read."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from condauv.lock.model import load_lock
from condauv.manifest.model import load_manifest
from tests.integration.conftest import MakeProject

pytestmark = pytest.mark.slow

#: three at once, each a different wheelhouse project, so that every one must survive.
NAMES = ("tqdm", "click", "idna")


def _condauv(folder: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "condauv", *args],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str]:
    _, err = process.communicate(timeout=timeout)
    return process.returncode, err


@pytest.mark.parametrize("round_", range(4))
def test_adds_at_once_keep_every_package(make_project: MakeProject, round_: int) -> None:
    folder = make_project()
    sync = round_ == 0  # one round syncs too (a prefix three commands build at once)
    processes = [_condauv(folder, "add", "--pypi", name, *(() if sync else ("--no-sync",))) for name in NAMES]
    results = [_finish(p) for p in processes]
    assert all(code == 0 for code, _ in results), results
    manifest = load_manifest(folder / "condauv.toml")
    assert set(NAMES) <= {r.name for r in manifest.requested}
    lock = load_lock(folder / "condauv.lock")
    assert lock is not None
    assert lock.content_hash == manifest.content_hash()
    assert set(NAMES) <= {p.name for p in lock.pypi}
    if sync:
        check = subprocess.run(
            [sys.executable, "-m", "condauv", "check"],
            cwd=folder,
            capture_output=True,
            text=True,
            check=False,
        )
        assert check.returncode == 0, check.stdout + check.stderr


def test_a_waiting_command_says_who_it_waits_for(make_project: MakeProject) -> None:
    from condauv.project import Project

    folder = make_project()
    project = Project.load(folder / "condauv.toml")
    with project.locked():
        process = _condauv(folder, "lock")
        deadline = time.monotonic() + 60
        waited = False
        assert process.stderr is not None
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            if "waiting" in line:
                waited = True
                assert "pid" in line, line
                break
            if not line and process.poll() is not None:
                break
        assert waited, "the second command did not say that it waits"
        assert process.poll() is None  # still waiting while the lock is held
    code, err = _finish(process)
    assert code == 0, err
    assert load_lock(folder / "condauv.lock") is not None
