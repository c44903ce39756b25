"""``condauv init --from``: the CLI over real files; nothing is locked or synced, nothing written on error."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

from tests.clirunner import CLI, RunResult

DATA = Path(__file__).resolve().parents[1] / "data"
DINOV2 = DATA / "environments" / "facebookresearch-dinov2-conda.yml"


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _one_line_error(result: RunResult, fragment: str) -> None:
    assert result.exit_code == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("error: ") and lines[1].startswith("hint: "), result.stderr
    assert fragment in lines[0], result.stderr


def test_init_from_environment_yml_writes_the_manifest_and_reports_notes(cli: CLI, tmp_path: Path) -> None:
    shutil.copy(DINOV2, tmp_path / "environment.yml")
    result = cli("init", "--from", "environment.yml", "--platform", "linux-64", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    data = tomllib.loads((tmp_path / "condauv.toml").read_text())
    assert data["environment"]["python"] == "3.9.*"
    assert data["environment"]["channels"][-1] == "conda-forge"
    assert data["conda-dependencies"]["xformers"] == "0.0.18.*"
    assert data["pypi-dependencies"] == {"cuml-cu11": "*"}
    assert data["pypi-options"] == {"extra-index-urls": ["https://pypi.nvidia.com"]}
    assert "note: environment.yml:11: pytorch::pytorch=2.0.0: the pin to 'pytorch'" in result.stderr
    assert "note: environment.yml:21: git+https://github.com/facebookincubator/submitit" in result.stderr
    assert sorted(_files(tmp_path)) == ["condauv.toml", "environment.yml"]  # no lock, no environment


def test_init_from_json_lists_notes(cli: CLI, tmp_path: Path) -> None:
    requirements = DATA / "requirements" / "home-assistant-core-requirements.txt"
    result = cli("init", "--from", requirements, "--json", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["kind"] == "requirements"
    assert payload["entries"]["pypi-dependencies"] == 60
    assert payload["notes"][0] == {
        "file": "home-assistant-core-requirements.txt",
        "line": 4,
        "text": "-c homeassistant/package_constraints.txt",
        "reason": "constraints are not kept: condauv.lock pins every version",
    }


def test_init_from_reclassify(cli: CLI, tmp_path: Path) -> None:
    result = cli("init", "--from", DINOV2, "--reclassify", "--python", "3.11.*", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    data = tomllib.loads((tmp_path / "condauv.toml").read_text())
    assert data["environment"]["python"] == "3.11.*"  # the flag wins over the file
    assert data["dependencies"]["omegaconf"] == "*"
    assert data["dependencies"]["cuml-cu11"] == "*"
    assert data["conda-dependencies"]["pytorch"] == "2.0.0.*"  # pinned to a channel: stays conda


def test_malformed_file_is_one_line_with_its_line_number_and_writes_nothing(cli: CLI, tmp_path: Path) -> None:
    (tmp_path / "environment.yml").write_text("name: x\ndependencies:\n  - numpy\n  scipy\n")
    before = _files(tmp_path)
    _one_line_error(
        cli("init", "--from", "environment.yml", cwd=tmp_path),
        "environment.yml:4: while scanning a simple key could not find expected ':'",  # ruamel.yaml's words
    )
    assert _files(tmp_path) == before


def test_bad_requirement_line_and_bad_flags(cli: CLI, tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("numpy\nnot a requirement!!\n")
    _one_line_error(cli("init", "--from", "requirements.txt", cwd=tmp_path), "requirements.txt:2:")
    _one_line_error(cli("init", "--reclassify", cwd=tmp_path), "--reclassify needs --from")
    _one_line_error(cli("init", "--from", "absent.yml", cwd=tmp_path), "no file absent.yml")
    assert sorted(_files(tmp_path)) == ["requirements.txt"]


def test_existing_manifest_is_never_overwritten(cli: CLI, tmp_path: Path) -> None:
    (tmp_path / "condauv.toml").write_text("# mine\n")
    _one_line_error(cli("init", "--from", DINOV2, cwd=tmp_path), "already exists")
    assert (tmp_path / "condauv.toml").read_text() == "# mine\n"
