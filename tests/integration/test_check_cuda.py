"""``check`` meets the virtual packages the solver and ``doctor`` meet: ``CONDA_OVERRIDE_CUDA`` too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from condauv.conda import engine
from condauv.health.cuda import detect_driver_cuda
from condauv.platforms import current_subdir
from tests.clirunner import CLI


@pytest.fixture
def needs_cuda(tmp_path: Path, conda_channel: Path) -> Path:
    """A prefix whose one package (tiny-b, linked by py-rattler) depends on ``__cuda >=12``."""
    prefix = tmp_path / "env"
    subdir = current_subdir()
    records = engine.solve([conda_channel.as_uri()], ["tiny-b 2.0"], subdir)
    engine.install([engine.record_to_package(r, subdir) for r in records], prefix, requested=["tiny-b"])
    record_file = next((prefix / "conda-meta").glob("tiny-b-*.json"))
    raw = json.loads(record_file.read_text(encoding="utf-8"))
    raw["depends"] = [*raw.get("depends", []), "__cuda >=12"]
    record_file.write_text(json.dumps(raw), encoding="utf-8")
    return prefix


def _findings(cli: CLI, prefix: Path) -> tuple[int, list[dict[str, Any]]]:
    result = cli("check", "--prefix", prefix, "--json", cwd=prefix.parent)
    assert result.exit_code in (0, 1), result.stderr
    findings: list[dict[str, Any]] = json.loads(result.stdout)["findings"]
    return result.exit_code, findings


def test_an_overridden_cuda_satisfies_a_record(
    cli: CLI, needs_cuda: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")
    assert _findings(cli, needs_cuda) == (0, [])
    # one source: the solver's virtual packages and doctor's driver say the same
    solver = {vp.name.normalized: str(vp.version) for vp in engine.virtual_packages(current_subdir())}
    assert solver["__cuda"] == "12.4"
    assert detect_driver_cuda().version == "12.4"


@pytest.mark.parametrize("override", ["", "11.8"])
def test_no_cuda_or_an_old_one_breaks_the_record(
    cli: CLI, needs_cuda: Path, monkeypatch: pytest.MonkeyPatch, override: str
) -> None:
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", override)  # "": no CUDA, as conda reads it
    code, findings = _findings(cli, needs_cuda)
    assert code == 1
    assert [(f["kind"], f["packages"]) for f in findings] == [("broken-dependency", ["tiny-b", "__cuda"])]
    message = findings[0]["message"]
    assert "depends on '__cuda >=12'" in message
    assert ("no CUDA driver" if not override else "this machine has __cuda 11.8") in message
    assert "CONDA_OVERRIDE_CUDA" in findings[0]["fix"]


def test_unset_means_what_the_machine_has(
    cli: CLI, needs_cuda: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONDA_OVERRIDE_CUDA", raising=False)
    driver = detect_driver_cuda().version
    code, findings = _findings(cli, needs_cuda)
    if driver is None:
        assert code == 1 and "no CUDA driver" in findings[0]["message"]
    else:  # pragma: no cover - a machine with an NVIDIA driver
        assert (code == 0) == (int(driver.split(".")[0]) >= 12)
