"""``condauv doctor`` on real environments synced from the local channel (real numpy, real uv)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from condauv.health.cuda import detect_driver_cuda
from tests.clirunner import CLI
from tests.helpers.wheels import write_wheel
from tests.integration.conftest import MakeProject

pytestmark = pytest.mark.slow

ENV = Path(".condauv") / "env"


def _doctor(cli: CLI, folder: Path, *extra: str, code: int = 0) -> dict[str, Any]:
    result = cli("doctor", "--json", *extra, cwd=folder)
    assert result.exit_code == code, result.stdout + result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    assert report["schema"] == 1
    return report


def _imports(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["distribution"]: r for r in report["sections"]["imports"]["data"]["results"]}


def _no_real_gpu() -> bool:
    return detect_driver_cuda().version is None


def test_doctor_reports_blas_import_times_and_no_cuda(cli: CLI, make_project: MakeProject) -> None:
    folder = make_project()
    assert cli("add", "--conda", "numpy", cwd=folder).exit_code == 0
    assert cli("add", "--pypi", "six", cwd=folder).exit_code == 0
    report = _doctor(cli, folder)
    sections = report["sections"]
    assert sections["python"]["status"] == "ok"
    assert sections["python"]["data"]["conda_python"] == sections["python"]["data"]["version"]
    assert Path(sections["python"]["data"]["prefix"]) == (folder / ENV).resolve()
    blas = sections["blas"]
    assert blas["status"] == "ok", blas["findings"]
    runtime = [lib for lib in blas["data"]["libraries"] if lib["user_api"] == "blas"]
    assert [lib["internal_api"] for lib in runtime] == ["openblas"]  # numpy's bundled scipy-openblas
    assert runtime[0]["num_threads"] >= 1 and "numpy.libs" in runtime[0]["filepath"]
    assert "openblas" in blas["data"]["numpy_build"]["blas"]["name"]
    imports = _imports(report)
    assert set(imports) == {"numpy", "six"}
    assert imports["numpy"]["status"] == "ok" and imports["numpy"]["modules"] == ["numpy"]
    assert imports["numpy"]["ms"] > 0 and imports["numpy"]["rss_mb"] > 0
    assert sections["imports"]["status"] == "ok"
    if _no_real_gpu():
        assert sections["cuda"]["status"] == "skip"
        assert sections["cuda"]["summary"] == "no CUDA"
        assert sections["cuda"]["data"]["driver"] == {"cuda_version": None, "source": "detected"}
    # the same for a person: one table, exit 0
    table = cli("doctor", cwd=folder)
    assert table.exit_code == 0, table.stderr
    assert "openblas" in table.stdout and " ms, +" in table.stdout
    if _no_real_gpu():
        assert "no CUDA" in table.stdout


def test_doctor_reports_an_overridden_cuda_driver(
    cli: CLI, make_project: MakeProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_project()
    assert cli("sync", cwd=folder).exit_code == 0
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")
    cuda = _doctor(cli, folder)["sections"]["cuda"]
    assert cuda["status"] == "ok"
    assert cuda["data"]["driver"] == {"cuda_version": "12.4", "source": "override"}
    assert cuda["summary"] == "CUDA 12.4 driver (CONDA_OVERRIDE_CUDA)"
    assert cuda["data"]["required_by"] == []


def test_a_prefix_that_requires_cuda_fails_without_it(
    cli: CLI, make_project: MakeProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_project()
    assert cli("add", "--conda", "cudatoolkit", cwd=folder).exit_code == 0
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "")  # conda's way to say "no CUDA driver here"
    cuda = _doctor(cli, folder, code=1)["sections"]["cuda"]
    assert cuda["status"] == "fail"
    assert cuda["data"]["required_by"] == ["cudatoolkit 12.1.0 (h_0)"]
    assert [f["message"] for f in cuda["findings"]] == [
        "no CUDA driver, but the environment requires CUDA: cudatoolkit 12.1.0 (h_0)"
    ]
    # a driver new enough: fine; one too old for cudatoolkit 12.1: a finding
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")
    assert _doctor(cli, folder)["sections"]["cuda"]["status"] == "ok"
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "11.8")
    old = _doctor(cli, folder, code=1)["sections"]["cuda"]
    assert [f["message"] for f in old["findings"]] == [
        "cudatoolkit 12.1.0 needs CUDA 12.1, the driver supports only 11.8"
    ]


def test_failing_and_hanging_imports(cli: CLI, make_project: MakeProject, tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    write_wheel(
        wheels, "broken-thing", "1.0", modules={"broken_thing": "raise RuntimeError('boom: no libfoo')\n"}
    )
    write_wheel(wheels, "sleepy-thing", "1.0", modules={"sleepy_thing": "import time\ntime.sleep(60)\n"})
    folder = make_project()
    manifest = folder / "condauv.toml"
    manifest.write_text(manifest.read_text().replace('find-links = ["', f'find-links = ["{wheels}", "'))
    assert cli("add", "--pypi", "broken-thing", "sleepy-thing", "six", cwd=folder).exit_code == 0

    report = _doctor(cli, folder, "--timeout", "1.5", code=1)
    imports = _imports(report)
    assert imports["broken-thing"]["status"] == "fail"
    assert imports["broken-thing"]["error"] == "RuntimeError: boom: no libfoo"
    assert imports["sleepy-thing"]["status"] == "fail"
    assert imports["sleepy-thing"]["error"] == "timed out after 1.5 s"
    assert imports["six"]["status"] == "ok"
    assert report["sections"]["imports"]["status"] == "fail"
    assert "broken-thing: broken_thing: RuntimeError: boom: no libfoo" in [
        f["message"] for f in report["sections"]["imports"]["findings"]
    ]

    # --skip leaves them out; --prefix works where there is no manifest at all
    prefix = str(folder / ENV)
    skipped = _doctor(cli, tmp_path, "--prefix", prefix, "--skip", "broken-thing", "--skip", "Sleepy_Thing")
    assert {name: r["status"] for name, r in _imports(skipped).items()} == {
        "broken-thing": "skip",
        "sleepy-thing": "skip",
        "six": "ok",
    }
    table = cli("doctor", "--prefix", prefix, "--timeout", "1.5", cwd=tmp_path)
    assert table.exit_code == 1
    assert "RuntimeError: boom: no libfoo" in table.stdout
    assert "timed out after 1.5 s" in table.stdout


@pytest.mark.network
def test_doctor_on_the_demo_environment(cli: CLI, tmp_path: Path) -> None:
    assert cli("demo", "demo", cwd=tmp_path).exit_code == 0
    report = _doctor(cli, tmp_path / "demo")
    blas = report["sections"]["blas"]["data"]["libraries"]
    assert "openblas" in [lib["internal_api"] for lib in blas if lib["user_api"] == "blas"]
    imports = _imports(report)
    assert {"numpy", "requests", "tqdm", "click"} <= set(imports)
    assert all(r["status"] == "ok" and r["ms"] > 0 for r in imports.values() if r["status"] != "skip")
