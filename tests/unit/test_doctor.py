"""``condauv doctor``'s pure logic: nvidia-smi parsing, CUDA versions and needs, modules, the report."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import pytest

from condauv.cli.render.doctor import item_row, table_rows, torch_detail
from condauv.conda.prefix import InstalledConda
from condauv.health import cuda, probes
from condauv.health.doctor import (
    DoctorReport,
    Finding,
    Item,
    Section,
    _driver_check,
    _torch_findings,
    blas_findings,
    conda_blas_vendor,
    worst,
)
from tests.clirunner import CLI

SMI = """\
Mon Nov 25 12:00:00 2026
+-----------------------------------------------------------------------------------------+
| NVIDIA-SMI 550.54.15              Driver Version: 550.54.15      CUDA Version: 12.4     |
|-----------------------------------------+------------------------+----------------------+
| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |
|   0  NVIDIA H100 80GB HBM3          On  |   00000000:19:00.0 Off |                    0 |
+-----------------------------------------+------------------------+----------------------+
"""
SMI_LIST = """\
GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-0a1b2c3d-1111-2222-3333-444455556666)
GPU 1: NVIDIA A100-SXM4-40GB (UUID: GPU-ffffffff-1111-2222-3333-444455556666)
"""


def test_nvidia_smi_header_and_listing_are_parsed() -> None:
    smi = cuda.parse_nvidia_smi(SMI, SMI_LIST)
    assert (smi.driver_version, smi.cuda_version) == ("550.54.15", "12.4")
    assert smi.gpus == ("NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-40GB")
    assert smi.error is None


def test_nvidia_smi_without_a_driver_says_nothing() -> None:
    smi = cuda.parse_nvidia_smi("NVIDIA-SMI has failed because it couldn't communicate with the driver", "")
    assert (smi.driver_version, smi.cuda_version, smi.gpus) == (None, None, ())


@pytest.mark.parametrize(
    ("version", "expected"),
    [("12.1.0", (12, 1)), ("12", (12, 0)), ("11.8", (11, 8)), ("", None), (None, None), ("abc", None)],
)
def test_major_minor(version: str | None, expected: tuple[int, int] | None) -> None:
    assert cuda.major_minor(version) == expected


@pytest.mark.parametrize(
    ("required", "available", "too_old"),
    [
        ("12.1", "11.8", True),  # pytorch-cuda 12.1 with a driver for 11.x: the classic mismatch
        ("12.1.0", "12.4", False),
        ("12.4", "12.4", False),
        ("11.8", "12.0", False),
        ("12.10", "12.9", True),  # numeric, not string, comparison
        (None, "12.4", False),
        ("12.1", None, False),  # no driver is reported separately, not as a version mismatch
    ],
)
def test_newer_than(required: str | None, available: str | None, too_old: bool) -> None:
    assert cuda.newer_than(required, available) is too_old


def _conda(*packages: tuple[str, str, str]) -> dict[str, InstalledConda]:
    return {name: InstalledConda(name, version, build) for name, version, build in packages}


def test_cuda_requirement_names_conda_packages_cuda_builds_and_nvidia_wheels() -> None:
    need = cuda.cuda_requirement(
        _conda(
            ("pytorch", "2.3.0", "py3.11_cuda12.1_cudnn8.9.2_0"),
            ("pytorch-cuda", "12.1", "ha16c6d3_5"),
            ("cuda-cudart", "12.1.105", "0"),
            ("numpy", "2.0.0", "py311_0"),
        ),
        ["nvidia-cublas-cu12", "requests", "nvidia-ml-py"],
    )
    assert need.required
    assert need.reasons == (
        "cuda-cudart 12.1.105 (0)",
        "pytorch 2.3.0 (py3.11_cuda12.1_cudnn8.9.2_0)",
        "pytorch-cuda 12.1 (ha16c6d3_5)",
        "nvidia-cublas-cu12 (PyPI)",
    )
    assert (need.version, need.version_from) == ("12.1", "pytorch-cuda 12.1")


def test_cpu_builds_need_no_cuda() -> None:
    need = cuda.cuda_requirement(_conda(("pytorch", "2.3.0", "py3.11_cpu_0"), ("numpy", "2", "0")), ["torch"])
    assert not need.required and need.version is None


def test_cudatoolkit_gives_the_required_version() -> None:
    need = cuda.cuda_requirement(_conda(("cudatoolkit", "11.8.0", "h_0")), [])
    assert need.reasons == ("cudatoolkit 11.8.0 (h_0)",)
    assert need.version_from == "cudatoolkit 11.8.0"


def test_modules_from_record_skips_private_tests_metadata_scripts_and_pth() -> None:
    record = [
        "pkg/__init__.py,sha256=x,1",
        "pkg/sub/mod.py,sha256=x,1",
        "single.py,sha256=x,1",
        "fast.cpython-311-x86_64-linux-gnu.so,sha256=x,1",
        "nspkg/inner/mod.py,sha256=x,1",  # a namespace package: still importable
        "_private/__init__.py,sha256=x,1",
        "_speedups.py,sha256=x,1",
        "tests/test_pkg.py,sha256=x,1",
        "pkg-1.0.dist-info/METADATA,sha256=x,1",
        "pkg-1.0.data/scripts/tool,sha256=x,1",
        "pkg.libs/libopenblas.so,sha256=x,1",
        "__pycache__/single.cpython-311.pyc,,",
        "distutils-precedence.pth,sha256=x,1",
        "../../bin/tool,sha256=x,1",
        "data/readme.txt,sha256=x,1",
    ]
    assert probes.modules_from_record(record) == ["fast", "nspkg", "pkg", "single"]


def test_modules_from_top_level() -> None:
    assert probes.modules_from_top_level("yaml\n_yaml\n\ngoogle/protobuf\ntests\n") == ["google", "yaml"]


def test_distribution_modules_fall_back_to_the_name(tmp_path: Path) -> None:
    (tmp_path / "my_pkg").mkdir()
    dist = tmp_path / "my_pkg-1.0.dist-info"
    dist.mkdir()
    assert probes.distribution_modules(dist, "my-pkg") == ["my_pkg"]
    (dist / "top_level.txt").write_text("other\n")
    assert probes.distribution_modules(dist, "my-pkg") == ["other"]


@pytest.mark.parametrize(
    ("build", "vendor"),
    [("20_linux64_openblas", "openblas"), ("16_linux64_mkl", "mkl"), ("4_h_netlib", None), ("0", None)],
)
def test_conda_blas_vendor_reads_libblas_build_string(build: str, vendor: str | None) -> None:
    assert conda_blas_vendor(_conda(("libblas", "3.9.0", build))) == vendor
    assert conda_blas_vendor({}) is None


def test_worst_status() -> None:
    assert worst([]) == "skip"
    assert worst(["skip", "ok"]) == "ok"
    assert worst(["ok", "warn", "skip"]) == "warn"
    assert worst(["warn", "fail", "ok"]) == "fail"


def _report(*statuses: str) -> DoctorReport:
    sections = tuple(
        Section(
            name=f"s{i}",
            status=status,  # type: ignore[arg-type]
            summary=f"summary {i}",
            findings=(Finding("fail", "broken"),) if status == "fail" else (),
            items=(Item("sys.prefix", "ok", {"path": "/env"}),),
            data={"n": i},
        )
        for i, status in enumerate(statuses)
    )
    return DoctorReport(prefix=Path("/env"), sections=sections)


def test_report_exit_code_and_status() -> None:
    assert _report("ok", "skip", "warn").exit_code == 0
    assert _report("ok", "skip", "warn").status == "warn"
    assert _report("skip", "skip").status == "ok"  # "no CUDA" and no numpy: nothing failed
    assert _report("ok", "fail").exit_code == 1


def test_report_json_has_schema_and_sections_by_name() -> None:
    data = json.loads(json.dumps(_report("ok", "fail").to_dict()))
    assert data["schema"] == 1
    assert data["status"] == "fail"
    assert list(data["sections"]) == ["s0", "s1"]
    assert data["sections"]["s1"] == {
        "status": "fail",
        "summary": "summary 1",
        "findings": [{"level": "fail", "message": "broken"}],
        "data": {"n": 1},
    }


def test_table_rows_put_each_section_first_and_its_findings_last() -> None:
    assert table_rows(_report("ok", "fail")) == [
        ["s0", "", "ok", "summary 0"],
        ["", "sys.prefix", "ok", "/env"],
        ["s1", "", "fail", "summary 1"],
        ["", "sys.prefix", "ok", "/env"],
        ["", "finding", "fail", "broken"],
    ]


def test_doctor_on_a_missing_prefix_is_bad_input(cli: CLI, tmp_path: Path) -> None:
    result = cli("doctor", "--prefix", tmp_path / "nowhere", cwd=tmp_path)
    assert result.exit_code == 2
    assert "no environment at" in result.stderr and "hint:" in result.stderr
    assert "Traceback" not in result.stderr


def test_doctor_refuses_a_non_positive_timeout(cli: CLI, tmp_path: Path) -> None:
    (tmp_path / "env" / "conda-meta").mkdir(parents=True)
    result = cli("doctor", "--prefix", tmp_path / "env", "--timeout", "0", cwd=tmp_path)
    assert result.exit_code == 2
    assert "--timeout must be positive" in result.stderr


def test_a_driver_older_than_pytorch_cuda_is_a_failure() -> None:
    driver = cuda.DriverCuda("11.8", "detected")
    items, findings = _driver_check(
        driver, "detected", ["pytorch-cuda 12.1 (h_5)"], [("12.1", "pytorch-cuda 12.1")]
    )
    assert [item_row(item) for item in items] == [["driver", "ok", "CUDA 11.8 (detected)"]]
    assert findings == [Finding("fail", "pytorch-cuda 12.1 needs CUDA 12.1, the driver supports only 11.8")]
    assert _driver_check(cuda.DriverCuda("12.4", "detected"), "x", ["a"], [("12.1", "a")])[1] == []


def test_no_driver_is_a_status_unless_something_requires_cuda() -> None:
    none = cuda.DriverCuda(None, "detected")
    items, findings = _driver_check(none, "detected", [], [])
    assert ([item_row(item) for item in items], findings) == (
        [["driver", "skip", "no CUDA (no __cuda; detected)"]],
        [],
    )
    items, findings = _driver_check(none, "detected", ["cudatoolkit 12.1.0 (h_0)"], [])
    assert items[0].status == "fail"
    assert findings == [
        Finding("fail", "no CUDA driver, but the environment requires CUDA: cudatoolkit 12.1.0 (h_0)")
    ]


def test_torch_findings() -> None:
    good = {"version": "2.3.0", "built_cuda": "12.1", "available": True, "device": "NVIDIA H100"}
    good |= {"matmul_ok": True, "matmul_max_abs_diff": 1e-5}
    assert _torch_findings(good, "12.4") == []
    assert "on NVIDIA H100" in torch_detail(good) and "matches CPU" in torch_detail(good)
    wrong = {**good, "matmul_ok": False, "matmul_max_abs_diff": 0.5}
    assert _torch_findings(wrong, "12.4") == [
        Finding("fail", "a GPU matmul differs from the CPU result (max diff 0.5)")
    ]
    unavailable = {"version": "2.3.0", "built_cuda": "12.1", "available": False}
    assert _torch_findings(unavailable, "12.4") == [
        Finding("fail", "torch.cuda.is_available() is False with a CUDA 12.4 driver")
    ]
    cpu_build = {"version": "2.3.0", "built_cuda": None, "available": False}
    assert _torch_findings(cpu_build, None) == []
    assert torch_detail(cpu_build) == "2.3.0, CPU build, torch.cuda.is_available() is False"
    assert _torch_findings({"error": "ImportError: libcudart.so.12"}, None) == [
        Finding("fail", "torch does not import: ImportError: libcudart.so.12")
    ]


def _lib(api: str, path: str) -> dict[str, object]:
    return {"user_api": "blas", "internal_api": api, "filepath": path, "version": "1", "num_threads": 2}


def test_blas_findings() -> None:
    one = {"numpy": "2.0", "errors": [], "libraries": [_lib("openblas", "/env/numpy.libs/libopenblas.so")]}
    assert blas_findings(one, None) == []
    assert blas_findings(one, "openblas") == []
    assert blas_findings(one, "mkl") == [
        Finding("warn", "the conda side installed libblas for mkl, but openblas runs")
    ]
    two = {**one, "libraries": [*one["libraries"], _lib("openblas", "/env/scipy.libs/libopenblas32.so")]}
    [finding] = blas_findings(two, None)
    assert finding.level == "warn" and finding.message.startswith("2 BLAS libraries are loaded at once")
    none = {"numpy": "2.0", "errors": [], "libraries": []}
    assert [f.level for f in blas_findings(none, None)] == ["warn"]
    broken = {"numpy": None, "errors": ["numpy: ImportError: libgfortran.so.5"], "libraries": []}
    assert blas_findings(broken, None) == [Finding("fail", "numpy: ImportError: libgfortran.so.5")]


def test_a_vanished_scratch_folder_is_named_not_python(tmp_path: Path) -> None:
    """The probe's working folder (doctor's temp folder) is gone: say so, not "install python"."""
    result = probes.run_probe(
        Path(sys.executable),
        "print(1)",
        env=dict(os.environ),
        cwd=tmp_path / "gone",
        timeout=30,
        what="probe",
    )
    assert result.error is not None
    assert f"the folder to run in, {tmp_path / 'gone'}, does not exist" in result.error
    assert "cannot run" not in result.error


def test_no_usable_temp_folder_is_one_error(
    cli: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "env" / "conda-meta").mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-tmp"))
    result = cli("doctor", "--prefix", tmp_path / "env", cwd=tmp_path)
    assert result.exit_code == 2, result
    assert result.stderr.startswith(f"error: no usable temporary folder: {tmp_path / 'no-such-tmp'}"), (
        result.stderr
    )
    assert "hint: set TMPDIR" in result.stderr
