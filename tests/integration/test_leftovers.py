"""Killed and interrupted commands, seen from the next one: what they leave is found and removed,
and only that; a half-finished sync is never mistaken for a finished one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from condauv.sync import journal
from tests.clirunner import CLI
from tests.integration.conftest import MakeProject

pytestmark = pytest.mark.slow

ENV = Path(".condauv") / "env"

#: SIGKILL the process at the moment condauv checks an archive it has just extracted into its
#: private folder in the package cache (a real kill; verify.check_entry is only the kill point)
_KILLED_WHILE_FETCHING = """
import os, signal, sys
from condauv.conda import verify
verify.check_entry = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)
from condauv.__main__ import main
main(sys.argv[1:])
"""


def test_a_sync_killed_while_fetching_leaves_nothing_in_the_package_cache(
    cli: CLI, make_project: MakeProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cold-cache"  # cold: the sync must fetch every archive
    monkeypatch.setenv("CONDAUV_CACHE_DIR", str(cache))
    folder = make_project()
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_WHILE_FETCHING, "sync"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "CONDAUV_CACHE_DIR": str(cache)},
    )
    assert killed.returncode == -9, killed.stderr
    pkgs = cache / "pkgs"
    assert any(pkgs.iterdir())  # the kill left its private folder there
    result = cli("sync", cwd=folder)
    assert result.exit_code == 0, result.stderr
    left = [p.name for p in pkgs.glob(".condauv*") if p.name != ".condauv-tmp"]
    left += [p.name for p in (pkgs / ".condauv-tmp").glob("*")]  # condauv's temp folders' root
    assert left == []
    assert cli("check", cwd=folder).exit_code == 0


def test_adopt_says_that_a_sync_into_the_prefix_did_not_finish(
    cli: CLI, make_project: MakeProject, tmp_path: Path
) -> None:
    folder = make_project()
    assert cli("add", "--pypi", "tqdm", cwd=folder).exit_code == 0
    journal.begin(folder / ENV, conda=[], pypi=["tqdm"])  # what a sync killed part-way leaves
    elsewhere = tmp_path / "adopted"
    elsewhere.mkdir()
    result = cli("adopt", str(folder / ENV), "--offline", cwd=elsewhere)
    assert result.exit_code == 0, result.stderr
    assert "interrupted" in result.stdout + result.stderr
    strict = tmp_path / "strict"
    strict.mkdir()
    refused = cli("adopt", str(folder / ENV), "--offline", "--strict", cwd=strict)
    assert refused.exit_code == 2, refused.stderr
    assert "did not finish" in refused.stderr
    assert not (strict / "condauv.toml").exists()


def test_a_sync_killed_while_writing_its_copies_leaves_no_temp_file(
    cli: CLI, make_project: MakeProject
) -> None:
    """Killed as it wrote conda-meta's copy of the manifest: nothing left to change, so the next
    sync opens no journal of its own; it must still remove the half-written copy."""
    from condauv import _fs
    from condauv.conda.prefix import MANIFEST_COPY

    folder = make_project()
    assert cli("sync", cwd=folder).exit_code == 0
    meta = folder / ENV / "conda-meta"
    journal.begin(folder / ENV, conda=[], pypi=[])
    half = _fs._write_temp(meta / MANIFEST_COPY, "half")  # the kill's temp file, never renamed
    result = cli("sync", cwd=folder)
    assert result.exit_code == 0, result.stderr
    assert journal.pending(folder / ENV) is None
    assert not half.exists()
