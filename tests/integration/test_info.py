"""``condauv info``: versions, this machine's virtual packages, caches, and the project's manifest,
lock and prefix; outside a project too; never a credential. Real rattler and uv."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from condauv.platforms import current_subdir
from tests.clirunner import CLI
from tests.integration.conftest import MakeProject

SECRET = "Zq9-secret-77"  # noqa: S105 (a made-up token)


def _info(cli: CLI, cwd: Path, *args: str) -> dict[str, Any]:
    result = cli("info", "--json", *args, cwd=cwd)
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.mark.slow
def test_info_in_a_synced_project(cli: CLI, make_project: MakeProject) -> None:
    folder = make_project()
    with (folder / "condauv.toml").open("a") as handle:
        handle.write('\n[system-requirements]\nglibc = "2.28"\n')
    before = _info(cli, folder)
    assert before["project"]["lock"]["state"] == "missing"
    assert before["prefix"] == {"path": str((folder / ".condauv" / "env").resolve()), "exists": False}
    assert cli("sync", cwd=folder).exit_code == 0
    data = _info(cli, folder)
    assert data["versions"]["py-rattler"] == metadata.version("py-rattler")
    assert data["versions"]["uv"][0].isdigit()
    assert data["platform"] == current_subdir()
    project = data["project"]
    assert project["manifest"] == str(folder / "condauv.toml")
    assert project["platforms"] == [current_subdir()]
    assert project["system-requirements"] == {"glibc": "2.28"}
    assert project["lock"]["state"] == "fresh"
    assert data["prefix"]["exists"] is True
    text = cli("info", cwd=folder).stdout
    assert "condauv.lock is up to date" in text and "glibc = 2.28" in text and "(exists)" in text


def test_info_outside_a_project_honours_conda_override_cuda(
    cli: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")
    data = _info(cli, tmp_path)
    assert data["project"] is None and data["prefix"] is None
    assert "__cuda=12.4=0" in data["virtual-packages"]
    assert data["overrides"] == {"CONDA_OVERRIDE_CUDA": "12.4"}
    assert data["caches"]["uv"] == str(Path(__import__("os").environ["UV_CACHE_DIR"]).resolve())
    text = cli("info", cwd=tmp_path)
    assert text.exit_code == 0 and "not in a project" in text.stdout and "__cuda=12.4=0" in text.stdout


def test_info_never_shows_a_channel_token(cli: CLI, tmp_path: Path) -> None:
    (tmp_path / "condauv.toml").write_text(
        "[environment]\n"
        'name = "x"\npython = "3.11.*"\n'
        f'channels = ["https://conda.example.com/t/{SECRET}/private", "https://bob:{SECRET}@c.example/ch"]\n',
        encoding="utf-8",
    )
    for args in ((), ("--json",)):
        result = cli("info", *args, cwd=tmp_path)
        assert result.exit_code == 0, result.stderr
        assert SECRET not in result.stdout + result.stderr
        assert "conda.example.com/t/****/private" in result.stdout


def test_info_with_a_broken_manifest_is_one_error(cli: CLI, tmp_path: Path) -> None:
    (tmp_path / "condauv.toml").write_text("[environment\n", encoding="utf-8")
    result = cli("info", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr.startswith("error:") and "hint:" in result.stderr
