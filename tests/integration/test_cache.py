"""``condauv cache clean`` after a real sync (rattler's hard links, uv's cache): the environment
keeps working, and the next sync fills the caches again. Real rattler and uv."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.clirunner import CLI
from tests.integration.conftest import MakeProject

pytestmark = pytest.mark.slow


def test_clean_after_sync_leaves_a_working_environment(
    cli: CLI, make_project: MakeProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # this test's own caches: cleaning the session's would cost every later test a cold cache
    root, uv_cache = tmp_path / "own-cache", tmp_path / "own-uv-cache"
    monkeypatch.setenv("CONDAUV_CACHE_DIR", str(root))
    monkeypatch.setenv("UV_CACHE_DIR", str(uv_cache))
    folder = make_project()
    result = cli("add", "--pypi", "six==1.17.0", cwd=folder)  # and python, from conda
    assert result.exit_code == 0, result.stderr
    size = json.loads(cli("cache", "size", "--json", cwd=folder).stdout)
    parts = {p["name"]: p for p in size["parts"]}
    assert parts["conda"]["bytes"] > 1_000_000 and parts["uv"]["files"] > 0
    assert parts["conda"]["frees"] < parts["conda"]["bytes"] / 2  # the environment links most of it

    result = cli("cache", "clean", cwd=folder)
    assert result.exit_code == 0, result.stderr
    assert [p.name for p in (root / "pkgs").iterdir()] in ([], [".condauv-tmp"])
    assert not any(uv_cache.glob("wheels-*/**/*.whl"))
    python = folder / ".condauv" / "env" / "bin" / "python"
    done = subprocess.run(
        [python, "-c", "import six; print(six.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "1.17.0"
    assert cli("check", cwd=folder).exit_code == 0  # every file as conda-meta and RECORD say

    (folder / ".condauv" / "env").rename(tmp_path / "old-env")
    assert cli("sync", "--frozen", cwd=folder).exit_code == 0  # fetched and extracted again
    assert any((root / "pkgs").iterdir())
