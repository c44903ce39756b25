"""classify/explain against a real local channel, and [classify] rules at lock time."""

from __future__ import annotations

import json
from pathlib import Path

from condauv.classification.policy import CHANNEL_HELD
from condauv.lock import load_lock
from tests.clirunner import CLI
from tests.integration.conftest import MakeProject


def test_classify_consults_the_channels_and_writes_nothing(cli: CLI, make_project: MakeProject) -> None:
    folder = make_project()
    before = sorted(p.name for p in folder.iterdir())
    result = cli("classify", "--json", "tiny-a", "six", "idna", "requests", "torch", cwd=folder)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["schema"] == 1
    by_spec = {p["spec"]: p for p in report["packages"]}
    held = f"[dependencies]: {CHANNEL_HELD}"
    assert (by_spec["tiny-a"]["manager"], by_spec["tiny-a"]["reason"]) == ("conda", held)
    assert by_spec["tiny-a"]["channels-consulted"] is True
    assert by_spec["tiny-a"]["pypi-evidence"] is None  # a name the channels hold: index not asked
    # six: the channel has it, so conda, though the wheelhouse has a pure wheel (never asked)
    assert (by_spec["six"]["manager"], by_spec["six"]["reason"]) == ("conda", held)
    assert by_spec["six"]["pypi-evidence"] is None
    # idna: the channel lacks it; the wheelhouse's wheel is pure Python, so uv installs it
    assert by_spec["idna"]["manager"] == "pypi"
    assert by_spec["idna"]["reason"].startswith("[dependencies]: PyPI has a pure-Python wheel (idna")
    assert by_spec["idna"]["pypi-evidence"]["platforms"]["linux-64"]["kind"] == "pure"
    assert by_spec["requests"]["manager"] == "pypi"
    assert (by_spec["torch"]["manager"], by_spec["torch"]["name"]) == ("conda", "pytorch")
    assert sorted(p.name for p in folder.iterdir()) == before


def test_explain_reads_well_and_says_how_to_override(cli: CLI, make_project: MakeProject) -> None:
    folder = make_project()
    result = cli("explain", "tiny-a", cwd=folder)
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert text.startswith("tiny-a: installed by conda as 'tiny-a'")
    assert "built-in PyPI list: tiny-a is not on it" in text
    assert f"=> conda: [dependencies]: {CHANNEL_HELD}" in text
    assert "package index: not asked (a name the channels hold is never looked up on an index)" in text
    assert "package index: not consulted" in text
    assert "condauv add --pypi tiny-a" in text
    assert '[classify] "tiny-a" = "pypi"' in text


def test_classify_rules_drive_the_lock(cli: CLI, make_project: MakeProject, tmp_path: Path) -> None:
    folder = make_project()
    with (folder / "condauv.toml").open("a") as handle:
        handle.write('\n[classify]\n"six" = "conda"\n')
    assert cli("add", "--no-sync", "six", "tiny-a", cwd=folder).exit_code == 0
    lock = load_lock(folder / "condauv.lock")
    assert lock is not None
    assert "six" in {p.name for p in lock.conda}  # the rule beat "PyPI has a pure-Python wheel"
    assert "six" not in {p.name for p in lock.pypi}
    assert "tiny-a" in {p.name for p in lock.conda}
    reason = next(p.reason for p in lock.conda if p.name == "six")
    assert reason == "[classify] rule 'six' = 'conda'"


def test_cuda_from_both_managers_fails_the_lock(cli: CLI, make_project: MakeProject) -> None:
    folder = make_project()
    manifest = (folder / "condauv.toml").read_bytes()
    result = cli("add", "--no-sync", "cudatoolkit", "gpu-thing", cwd=folder)
    assert result.exit_code == 2
    assert (
        "CUDA libraries from both managers on linux-64: conda cudatoolkit and PyPI nvidia-cudnn-cu12"
        in result.stderr
    )
    assert (folder / "condauv.toml").read_bytes() == manifest
    assert not (folder / "condauv.lock").exists()


def test_transitive_view_shows_what_conda_already_provides(cli: CLI, make_project: MakeProject) -> None:
    folder = make_project()
    before = cli("classify", "--json", "needs-new-numpy", "requests", cwd=folder)
    assert before.exit_code == 0, before.stderr
    by_spec = {p["spec"]: p for p in json.loads(before.stdout)["packages"]}
    (numpy,) = by_spec["needs-new-numpy"]["dependencies"]
    assert (numpy["name"], numpy["conda-package"]) == ("numpy", None)  # not on the conda side yet
    assert "built-in knowledge prefers conda: add it to the manifest" in numpy["note"]
    assert [d["name"] for d in by_spec["requests"]["dependencies"]] == ["urllib3", "idna", "certifi"]
    assert cli("add", "--no-sync", "numpy", cwd=folder).exit_code == 0
    after = cli("classify", "needs-new-numpy", cwd=folder)
    assert after.exit_code == 0, after.stderr
    assert "needs-new-numpy: dependencies conda provides: numpy (numpy 2." in after.stderr
    assert "(condauv.lock))" in after.stderr
