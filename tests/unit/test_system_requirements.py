"""``[system-requirements]`` as pure logic: the target's virtual packages and wheel platform,
and how ``sync`` names a machine that falls short."""

from __future__ import annotations

import pytest

from condauv.platforms import applicable_requirements, uv_python_platform, version_tuple, wheel_platform_tags
from condauv.sync.target import machine_shortfall


@pytest.mark.parametrize(
    ("glibc", "expected"),
    [
        (None, "x86_64-manylinux_2_28"),
        ("2.17", "x86_64-manylinux_2_17"),
        ("2.28", "x86_64-manylinux_2_28"),
        ("2.30", "x86_64-manylinux_2_28"),  # uv 0.13.9 has no 2_29 / 2_30: the newest below
        ("2.35", "x86_64-manylinux_2_35"),
        ("2.99", "x86_64-manylinux_2_40"),
    ],
)
def test_uv_python_platform_follows_glibc(glibc: str | None, expected: str) -> None:
    assert uv_python_platform("linux-64", glibc=glibc) == expected
    assert uv_python_platform("osx-arm64", glibc=glibc) == "aarch64-apple-darwin"


def test_wheel_tags_follow_glibc() -> None:
    tags = wheel_platform_tags("linux-64", glibc="2.34")
    assert tags[0] == "manylinux_2_34_x86_64"
    assert "manylinux_2_35_x86_64" not in tags
    assert wheel_platform_tags("linux-64", glibc="2.17")[0] == "manylinux_2_17_x86_64"


def test_which_requirements_apply_where() -> None:
    every = {"cuda": "12.4", "glibc": "2.28", "linux": "5.10", "macos": "13.0"}
    assert applicable_requirements(every, "linux-64") == {"cuda": "12.4", "glibc": "2.28", "linux": "5.10"}
    assert applicable_requirements(every, "osx-arm64") == {"macos": "13.0"}
    assert applicable_requirements(every, "win-64") == {"cuda": "12.4"}


def test_version_tuples_compare_numerically() -> None:
    assert version_tuple("12.10") > version_tuple("12.4")
    assert version_tuple("13") == version_tuple("13.0")
    assert version_tuple("5.15.0-91-generic") == (5, 15)


@pytest.mark.parametrize(
    ("machine", "message"),
    [
        ({}, "this machine has no CUDA driver; the lock targets cuda 12.4; set CONDA_OVERRIDE_CUDA"),
        ({"__cuda": "11.8"}, "this machine has a CUDA driver for cuda 11.8; the lock targets cuda 12.4"),
        ({"__cuda": "12.4", "__glibc": "2.17"}, "this machine has glibc 2.17; the lock targets glibc 2.28"),
        ({"__cuda": "12.6", "__glibc": "2.36"}, None),
    ],
)
def test_a_machine_short_of_the_target_is_named(machine: dict[str, str], message: str | None) -> None:
    problem = machine_shortfall({"cuda": "12.4", "glibc": "2.28"}, machine, "linux-64")
    if message is None:
        assert problem is None
    else:
        assert problem is not None and message in str(problem)
        assert problem.hint
    # on osx, cuda does not apply: nothing to fall short of
    assert machine_shortfall({"cuda": "12.4"}, {}, "osx-arm64") is None


def test_the_target_sets_virtual_packages_whatever_machine_solves(monkeypatch: pytest.MonkeyPatch) -> None:
    from condauv.conda.engine import virtual_packages
    from condauv.platforms import current_subdir

    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "")
    wanted = {"cuda": "12.4", "glibc": "2.28", "linux": "5.10", "macos": "13.5"}
    for subdir in {current_subdir(), "linux-64", "osx-arm64", "win-64"}:
        found = {vp.name.normalized: str(vp.version) for vp in virtual_packages(subdir, wanted)}
        names = [vp.name.normalized for vp in virtual_packages(subdir, wanted)]
        assert len(names) == len(set(names))  # each once
        if subdir.startswith("linux"):
            assert (found["__cuda"], found["__glibc"], found["__linux"]) == ("12.4", "2.28", "5.10")
        elif subdir.startswith("osx"):
            assert "__cuda" not in found and found["__osx"] == "13.5"
        else:
            assert found["__cuda"] == "12.4" and "__glibc" not in found


@pytest.mark.parametrize(
    ("conda", "pypi", "backend", "clash"),
    [
        ({"cuda-version": "12.4"}, (), "cu126", False),
        ({"cuda-version": "12.4"}, (), "cu118", True),
        ({"cuda-version": "12.4"}, ("nvidia-cublas-cu11",), None, True),
        ({"cuda-version": "12.4"}, ("nvidia-cublas-cu12",), "auto", False),
        ({}, ("nvidia-cublas-cu12",), "cu118", True),
        ({}, (), "cpu", False),
        ({"cuda-version": "11.8"}, (), "cpu", False),
    ],
)
def test_one_cuda_line_per_environment(
    conda: dict[str, str], pypi: tuple[str, ...], backend: str | None, clash: bool
) -> None:
    from condauv.classification.guards import check_cuda_line
    from condauv.errors import ConflictError

    if not clash:
        check_cuda_line(conda, pypi, backend, "linux-64")
        return
    with pytest.raises(ConflictError) as info:
        check_cuda_line(conda, pypi, backend, "linux-64")
    assert "two CUDA lines in one environment on linux-64" in str(info.value)
    assert info.value.hint


def test_a_torch_backend_lets_the_lock_hold_pytorch_wheels() -> None:
    from condauv.lock.validate import pypi_sources
    from condauv.manifest.model import PypiOptions
    from condauv.pypi.uv import Uv
    from condauv.validation import url_within

    wheel = "https://download.pytorch.org/whl/cu126/torch-2.7.0%2Bcu126-cp311-cp311-manylinux_2_28_x86_64.whl"
    assert not any(url_within(wheel, s) for s in pypi_sources(PypiOptions()))
    options = PypiOptions(torch_backend="cu126")
    assert any(url_within(wheel, s) for s in pypi_sources(options))
    assert Uv(index_args=options.uv_args()).index_args[-2:] == ["--torch-backend", "cu126"]


@pytest.mark.parametrize(
    ("pypi", "backend", "driver", "too_new"),
    [
        ((), "cu126", "11.8", "torch-backend"),
        (("nvidia-cublas-cu12",), None, "11.8", "nvidia-cublas-cu12"),
        ((), "cu118", "12.4", None),  # a newer driver runs an older line
        (("nvidia-cublas-cu12",), "cu126", "12.4", None),  # minor versions: CUDA 12's compatibility
        ((), "cu126", None, None),  # no target driver named: nothing to compare
    ],
)
def test_the_pypi_cuda_line_must_run_on_the_target_driver(
    pypi: tuple[str, ...], backend: str | None, driver: str | None, too_new: str | None
) -> None:
    from condauv.classification.guards import check_cuda_line
    from condauv.errors import ConflictError

    if too_new is None:
        check_cuda_line({}, pypi, backend, "linux-64", driver=driver)
        return
    with pytest.raises(ConflictError) as info:
        check_cuda_line({}, pypi, backend, "linux-64", driver=driver)
    assert f'the target\'s CUDA driver ([system-requirements] cuda = "{driver}")' in info.value.message
    assert too_new in info.value.message
    assert "cuda" in (info.value.hint or "")
