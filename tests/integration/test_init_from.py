"""``condauv init --from``: the CLI over real files; nothing is locked or synced, nothing written on error."""

from __future__ import annotations

import hashlib
import json
import shutil
import tomllib
from pathlib import Path

import pytest

from condauv.lock.model import load_lock
from condauv.platforms import current_subdir
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


# -- the strategy's two files: environment.yml + requirements-uv.txt -----------------------------

ENVIRONMENT_YML = """\
name: aiml
channels:
  - conda-forge
dependencies:
  - numpy=2.4.6=py311_0
  - python=3.11.7=h_condauv_0
  - pip:
    - requests==2.32.3
prefix: /opt/envs/aiml
"""


def test_init_from_two_files_reports_every_source(cli: CLI, tmp_path: Path) -> None:
    (tmp_path / "environment.yml").write_text(ENVIRONMENT_YML)
    (tmp_path / "requirements-uv.txt").write_text(
        "# header\nrequests==2.32.3 \\\n    --hash=sha256:" + "0" * 64 + "\nclick==8.1.7 \\\n"
        "    --hash=sha256:" + "1" * 64 + "\n"
    )
    args = ("init", "--from", "requirements-uv.txt", "--from", "environment.yml", "--platform", "linux-64")
    result = cli(*args, "--json", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["sources"] == [
        {"path": "environment.yml", "kind": "environment"},
        {"path": "requirements-uv.txt", "kind": "requirements"},
    ]
    assert (payload["source"], payload["kind"]) == ("environment.yml", "environment")  # the first read
    assert payload["entries"] == {"dependencies": 0, "conda-dependencies": 1, "pypi-dependencies": 2}
    data = tomllib.loads((tmp_path / "condauv.toml").read_text())
    assert data["conda-dependencies"] == {"numpy": "2.4.6 py311_0"}
    assert data["pypi-dependencies"] == {"requests": "==2.32.3", "click": "==8.1.7"}
    texts = [f"{n['file']}:{n['line']}: {n['text']}: {n['reason']}" for n in payload["notes"]]
    assert texts[-2:] == [
        "requirements-uv.txt:2: --hash on 2 requirements: hashes are not kept: condauv.lock records its own",
        "requirements-uv.txt:2: requests==2.32.3: the same package and version as in environment.yml; "
        "kept once",
    ]
    (tmp_path / "condauv.toml").unlink()
    result = cli(*args, cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "wrote " in result.stderr and "from environment.yml, requirements-uv.txt:" in result.stderr
    assert all(line.startswith(("note: ", "wrote ")) for line in result.stderr.splitlines())


def test_bad_lists_of_from_files_write_nothing(cli: CLI, tmp_path: Path) -> None:
    (tmp_path / "environment.yml").write_text(ENVIRONMENT_YML)
    (tmp_path / "sub").mkdir()
    env = ("--from", "environment.yml")
    _one_line_error(cli("init", *env, "--from", "./environment.yml", cwd=tmp_path), "given twice")
    _one_line_error(cli("init", *env, "--from", "sub", cwd=tmp_path), "is a folder")
    _one_line_error(cli("init", *env, "--from", "absent.txt", cwd=tmp_path), "no file absent.txt")
    _one_line_error(cli("init", *(env * 17), cwd=tmp_path), "at most 16")
    assert sorted(_files(tmp_path)) == ["environment.yml"]


@pytest.mark.slow
def test_strategy_files_round_trip_through_init_and_lock(
    cli: CLI, tmp_path: Path, conda_channel: Path, wheelhouse: Path
) -> None:
    """The shapes `condauv export` writes (environment-yml, requirements), for the test channel and
    wheelhouse, made into a project by `init --from A --from B` and locked with nothing added by hand."""
    hashes = {
        wheel.name.split("-")[0]: hashlib.sha256(wheel.read_bytes()).hexdigest()
        for wheel in wheelhouse.glob("*.whl")
    }
    repodata = json.loads((conda_channel / current_subdir() / "repodata.json").read_text())
    records = [*repodata.get("packages", {}).values(), *repodata.get("packages.conda", {}).values()]
    builds = {r["name"]: (r["version"], r["build"]) for r in records if r["name"] in ("python", "numpy")}
    pins = {"requests": "2.32.3", "urllib3": "2.2.3", "idna": "3.10", "certifi": "2024.8.30"}
    (tmp_path / "environment.yml").write_text(
        f"name: roundtrip\nchannels:\n  - {conda_channel.as_uri()}\ndependencies:\n"
        + "".join(f"  - {name}={version}={build}\n" for name, (version, build) in builds.items())
        + "  - pip:\n"
        f"    - --find-links {wheelhouse.as_uri()}\n"
        + "".join(f"    - {name}=={version}\n" for name, version in pins.items())
    )
    (tmp_path / "requirements-uv.txt").write_text(
        "# This file was autogenerated by condauv export --format requirements\n"
        f"--no-index\n--find-links {wheelhouse}\n"
        + "".join(
            f"{name}=={version} \\\n    --hash=sha256:{hashes[name]}\n" for name, version in pins.items()
        )
    )
    init_args = ("init", "--from", "environment.yml", "--from", "requirements-uv.txt")
    result = cli(*init_args, cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    result = cli("lock", "--offline", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    lock = load_lock(tmp_path / "condauv.lock")
    assert lock is not None
    assert {p.name: (p.version, p.build) for p in lock.conda if p.name in builds} == builds
    assert builds["numpy"][0] == "2.4.6"
    assert {p.name: p.version for p in lock.pypi} == pins
