"""The README's main job, `condauv demo`, as a new user runs it (real PyPI)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.clirunner import CLI

pytestmark = [pytest.mark.network, pytest.mark.slow]


def test_demo_builds_a_hybrid_environment(cli: CLI, tmp_path: Path) -> None:
    result = cli("demo", "--json", "demo", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    managers = {p["name"]: p["manager"] for p in report["packages"]}
    assert managers["python"] == managers["numpy"] == "conda"
    assert managers["requests"] == managers["tqdm"] == managers["click"] == "pypi"
    assert "numpy" in report["check"] and "(conda)" in report["check"]
    # run again: the same folder is reused and nothing changes
    again = cli("demo", "demo", cwd=tmp_path)
    assert again.exit_code == 0, again.stderr
    assert "is in sync" in again.stderr
    # the channel is cached now: the second run says so and builds nothing
    assert "building" not in again.stderr, again.stderr
    assert "using the cached demo channel at " in again.stderr, again.stderr


def test_demo_refuses_a_foreign_folder(cli: CLI, tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    result = cli("demo", "mine", cwd=tmp_path)
    assert result.exit_code == 2
    assert "is not empty" in result.stderr
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["notes.txt"]


def test_real_uv_numpy_over_conda_numpy_is_found_and_repaired(cli: CLI, tmp_path: Path) -> None:
    """The damage users do by hand: `uv pip install "numpy<2"` (the real wheel from PyPI)
    straight into an environment whose numpy came from conda."""
    from condauv._process import run
    from condauv.pypi.uv import find_uv

    assert cli("demo", "demo", cwd=tmp_path).exit_code == 0
    project = tmp_path / "demo"
    python = project / ".condauv" / "env" / "bin" / "python"
    run([str(find_uv()), "pip", "install", "--python", str(python), "numpy<2"], what="uv pip install")
    found = cli("check", "--json", cwd=project)
    assert found.exit_code == 1, found.stderr
    kinds = {f["kind"] for f in json.loads(found.stdout)["findings"] if f["packages"] == ["numpy"]}
    assert kinds == {"overlap", "clobbered", "installer-mismatch"}
    repaired = cli("sync", cwd=project)
    assert repaired.exit_code == 0, repaired.stderr
    assert "relinked numpy (conda)" in repaired.stderr
    assert cli("check", cwd=project).exit_code == 0
    version = run([str(python), "-c", "import numpy; print(numpy.__version__)"], what="import numpy")
    assert not version.stdout.strip().startswith("1.")
