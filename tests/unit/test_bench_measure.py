"""The probes' answers read into bench's model: numpy's matmul and torch on CUDA (no GPU needed)."""

from __future__ import annotations

from typing import Any

from condauv.bench.measure import matmul_result, torch_result
from condauv.bench.model import TorchCheck

OPENBLAS = {
    "user_api": "blas",
    "internal_api": "openblas",
    "version": "0.3.29",
    "threading_layer": "pthreads",
    "num_threads": 2,
}


def _matmul(**changes: Any) -> dict[str, Any]:
    data = {
        "numpy": "2.4.6",
        "seconds": 0.02,
        "relative_error": 3e-15,
        "finite": True,
        "libraries": [OPENBLAS, {"user_api": "openmp", "internal_api": "openmp", "num_threads": 2}],
        "errors": [],
    }
    return {**data, **changes}


def test_matmul_gives_gflops_and_the_blas() -> None:
    found = matmul_result(_matmul(), 1000)
    assert found.ok and found.error is None
    assert found.gflops is not None and abs(found.gflops - 100.0) < 1e-9  # 2e9 flops in 0.02 s
    assert found.blas == "openblas 0.3.29 (pthreads, 2 threads)"
    assert found.numpy == "2.4.6"
    two = matmul_result(
        _matmul(libraries=[OPENBLAS, {**OPENBLAS, "internal_api": "mkl", "version": None}]), 10
    )
    assert two.blas == "openblas 0.3.29 (pthreads, 2 threads) + mkl (pthreads, 2 threads)"
    assert matmul_result(_matmul(libraries=[]), 10).blas is None


def test_a_wrong_product_is_not_ok() -> None:
    wrong = matmul_result(_matmul(relative_error=0.7), 1000)
    assert not wrong.ok and wrong.gflops is not None
    assert wrong.error is not None and "A @ (B @ x) by 0.7 (relative" in wrong.error
    nan = matmul_result(_matmul(finite=False), 1000)
    assert not nan.ok and nan.error == "the product holds NaN or infinite values"


def test_numpy_that_fails_gives_the_error_and_no_speed() -> None:
    failed = matmul_result(_matmul(seconds=None, errors=["numpy: ImportError: libgfortran.so.5"]), 1024)
    assert failed.gflops is None and not failed.ok
    assert failed.error == "ImportError: libgfortran.so.5"


def test_torch_without_cuda_says_why() -> None:
    cpu = torch_result({"version": "2.5.1+cpu", "built_cuda": None, "available": False})
    assert cpu == TorchCheck(
        version="2.5.1+cpu", cuda_available=False, reason="no CUDA: torch is a CPU-only build"
    )
    cuda = torch_result({"version": "2.5.1", "built_cuda": "12.4", "available": False})
    assert cuda.reason == "no CUDA: torch built for CUDA 12.4 sees no GPU"
    broken = torch_result({"error": "ImportError: libcudnn.so.9"})
    assert broken.version is None and broken.reason == "torch does not import: ImportError: libcudnn.so.9"


def test_torch_on_a_gpu() -> None:
    data = {
        "version": "2.5.1",
        "built_cuda": "12.4",
        "available": True,
        "device": "NVIDIA H200",
        "matmul_max_abs_diff": 1.5e-5,
        "matmul_ok": True,
        "gpu_matmul_size": 4096,
        "gpu_seconds": 0.004,
    }
    found = torch_result(data)
    assert found.cuda_available and found.ok and found.device == "NVIDIA H200"
    assert found.gflops is not None and round(found.gflops) == round(2 * 4096**3 / 0.004 / 1e9)
    failed = torch_result({**data, "matmul_error": "RuntimeError: CUDA error: out of memory"})
    assert (
        failed.ok is None
        and failed.reason == "the GPU matmul failed: RuntimeError: CUDA error: out of memory"
    )
