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


@pytest.mark.parametrize(
    ("driver", "way_out"),
    [("12.4", "cu124"), ("11.8", "cu118"), ("12.7", "cu126"), ("13.1", "cu130"), ("12", "cu120")],
)
def test_auto_cannot_lock_for_a_target_driver(driver: str, way_out: str) -> None:
    """uv's ``auto`` reads the LOCKING machine's driver: with a target cuda, the backend of that line."""
    from condauv.classification.guards import check_cuda_line
    from condauv.errors import ConflictError

    with pytest.raises(ConflictError) as info:
        check_cuda_line({}, (), "auto", "linux-64", driver=driver)
    assert 'torch-backend = "auto"' in info.value.message
    assert f'[system-requirements] cuda = "{driver}"' in info.value.message
    assert f'torch-backend = "{way_out}"' in (info.value.hint or "")
    check_cuda_line({}, (), "auto", "linux-64")  # no target driver: uv's auto is the only guess


def test_no_cuda_on_macos_whatever_the_locking_machine_says(monkeypatch: pytest.MonkeyPatch) -> None:
    from condauv.conda.engine import virtual_packages

    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")
    for subdir in ("osx-arm64", "osx-64"):
        for requirements in (None, {"cuda": "12.4"}):
            names = {vp.name.normalized for vp in virtual_packages(subdir, requirements)}
            assert "__cuda" not in names, (subdir, requirements)
    assert "__cuda" in {vp.name.normalized for vp in virtual_packages("win-64")}


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CONDA_OVERRIDE_CUDA", " 12.4"),
        ("CONDA_OVERRIDE_CUDA", "12.4;x"),
        ("CONDA_OVERRIDE_CUDA", "garbage"),
        ("CONDA_OVERRIDE_GLIBC", "2.28 "),
        ("CONDA_OVERRIDE_LINUX", "five"),
        ("CONDA_OVERRIDE_OSX", "v13"),
    ],
)
def test_a_malformed_override_is_one_user_error(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    from condauv.conda.engine import virtual_packages
    from condauv.errors import UserError
    from condauv.platforms import current_subdir

    monkeypatch.setenv(variable, value)
    for subdir in (current_subdir(), "linux-64", "osx-arm64"):
        with pytest.raises(UserError) as info:
            virtual_packages(subdir)
        assert info.value.message == f"{variable}={value!r} is not a version"
        assert info.value.exit_code == 2
        assert variable in (info.value.hint or "")


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("glibc", "3.1", "glibc 2."),
        ("glibc", "1.9", "glibc 2.17"),
        ("glibc", "2.16", "glibc 2.17"),
        ("glibc", "2.17", None),
        ("glibc", "2.99", None),
        ("cuda", "0", "not a CUDA version"),
        ("cuda", "0.9", "not a CUDA version"),
        ("cuda", "1", None),
        ("cuda", "12.4", None),
    ],
)
def test_requirement_versions_that_no_machine_has_are_refused(
    key: str, value: str, problem: str | None
) -> None:
    from condauv.platforms import requirement_problem

    found = requirement_problem(key, value)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


@pytest.mark.parametrize(
    ("backend", "accepted"),
    [
        ("cu124", True),
        ("cu80", True),
        ("cu132", True),
        ("rocm6.2.4", True),
        ("rocm4.0.1", True),
        ("auto", True),
        ("cpu", True),
        ("xpu", True),
        ("cu999", False),
        ("cu127", False),  # the grammar's, not uv's
        ("rocm99.99.99", False),
        ("rocm6.5", False),
    ],
)
def test_the_torch_backend_is_one_uv_accepts(backend: str, accepted: bool) -> None:
    from pathlib import Path

    from condauv.errors import ManifestError
    from condauv.manifest.model import parse_manifest

    text = f'[pypi-options]\ntorch-backend = "{backend}"\n'
    if accepted:
        assert parse_manifest(text, Path("condauv.toml")).pypi_options.torch_backend == backend
        return
    with pytest.raises(ManifestError) as info:
        parse_manifest(text, Path("condauv.toml"))
    assert "is not one of uv's PyTorch backends" in info.value.message
    assert "cu126" in (info.value.hint or "") and "rocm6.2.4" in (info.value.hint or "")


def test_an_override_that_says_what_the_machine_has_is_named() -> None:
    machine = {"__cuda": "11.8"}
    problem = machine_shortfall(
        {"cuda": "12.4"}, machine, "linux-64", overrides={"CONDA_OVERRIDE_CUDA": "11.8"}
    )
    assert problem is not None
    assert (
        problem.message
        == "CONDA_OVERRIDE_CUDA=11.8 says this machine has cuda 11.8; the lock targets cuda 12.4"
    )
    assert "set CONDA_OVERRIDE_CUDA to install anyway" not in problem.message
    assert "unset CONDA_OVERRIDE_CUDA" in (problem.hint or "")
    # not set (or empty, as conda's "no CUDA"): the machine's own driver is named
    plain = machine_shortfall({"cuda": "12.4"}, machine, "linux-64", overrides={"CONDA_OVERRIDE_CUDA": ""})
    assert plain is not None and plain.message.startswith("this machine has a CUDA driver for cuda 11.8")


def test_every_requirement_that_does_not_apply_is_noted_once_per_platform(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from condauv.sync.locking import _note_inapplicable

    system = {"cuda": "12.4", "glibc": "2.28", "linux": "5.10", "macos": "13.0"}
    with caplog.at_level("WARNING", logger="condauv"):
        _note_inapplicable(system, ("linux-64", "osx-arm64", "win-64"))
    notes = [r.getMessage() for r in caplog.records]
    assert notes.count("note: cuda does not apply to osx-arm64; locked without __cuda") == 1
    assert notes.count("note: glibc does not apply to osx-arm64; locked without __glibc") == 1
    assert notes.count("note: linux does not apply to osx-arm64; locked without __linux") == 1
    assert notes.count("note: macos does not apply to linux-64; locked without __osx") == 1
    assert notes.count("note: glibc does not apply to win-64; locked without __glibc") == 1
    assert not [
        n for n in notes if "cuda does not apply to linux-64" in n or "win-64; locked without __cuda" in n
    ]
    assert len(notes) == 7  # osx: cuda, glibc, linux; linux-64: macos; win-64: glibc, linux, macos


def test_a_solve_error_on_macos_does_not_suggest_a_cuda_driver() -> None:
    from condauv.conda.engine import _explain_solver_error

    text = (
        "Cannot solve the request because of: gpu-thing * cannot be installed because there are no "
        "viable options:\n└─ gpu-thing 1.0 would require\n"
        "   └─ __cuda >=12, for which no candidates were found."
    )
    linux = _explain_solver_error(text, ["python 3.11.*", "gpu-thing"], "linux-64")
    assert 'set cuda = "<version>" in [system-requirements]' in (linux.hint or "")
    osx = _explain_solver_error(text, ["python 3.11.*", "gpu-thing"], "osx-arm64")
    assert "CONDA_OVERRIDE_CUDA" not in (osx.hint or "") and "set cuda" not in (osx.hint or "")
    assert "osx-arm64" in (osx.hint or "")
