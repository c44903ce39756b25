from __future__ import annotations

import pytest

from condauv.classification import decide, seed_manager
from condauv.classification.names import conda_name_for, pypi_names_for
from condauv.errors import UserError
from condauv.manifest.model import Requested
from condauv.platforms import uv_python_platform, wheel_platform_tags


def test_uv_platforms() -> None:
    assert uv_python_platform("linux-64") == "x86_64-manylinux_2_28"
    assert uv_python_platform("osx-arm64") == "aarch64-apple-darwin"
    assert uv_python_platform("win-64") == "x86_64-pc-windows-msvc"
    with pytest.raises(UserError):
        uv_python_platform("linux-65")


def test_glibc_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDA_OVERRIDE_GLIBC", "2.17")
    assert uv_python_platform("linux-64") == "x86_64-manylinux_2_17"
    tags = wheel_platform_tags("linux-64")
    assert tags[0] == "manylinux_2_17_x86_64"
    assert "manylinux_2_28_x86_64" not in tags
    assert "manylinux2014_x86_64" in tags and tags[-1] == "linux_x86_64"


def test_wheel_tags_most_specific_first() -> None:
    tags = wheel_platform_tags("linux-64")
    assert tags.index("manylinux_2_28_x86_64") < tags.index("manylinux_2_17_x86_64")
    assert "macosx_11_0_arm64" in wheel_platform_tags("osx-arm64")


def _entry(name: str, table: str = "dependencies") -> Requested:
    return Requested(name=name, spec="*", table=table)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "manager", "as_name"),
    [
        ("numpy", "conda", "numpy"),
        ("torch", "conda", "pytorch"),  # PyPI's spelling of a seed conda package
        ("pytorch-cuda", "conda", "pytorch-cuda"),
        ("requests", "pypi", "requests"),
        ("scikit-learn", "pypi", "scikit-learn"),
    ],
)
def test_seed_lists(name: str, manager: str, as_name: str) -> None:
    decision = decide(_entry(name), in_channels=set())
    assert (decision.manager, decision.name) == (manager, as_name)
    assert "built-in knowledge" in decision.reason


def test_channel_evidence_and_tables() -> None:
    assert decide(_entry("tiny-a"), in_channels={"tiny-a"}).manager == "conda"
    assert decide(_entry("tiny-a"), in_channels=set()).manager == "pypi"
    offline = decide(_entry("tiny-a"), in_channels=None)
    assert offline.manager == "pypi" and "not consulted" in offline.reason
    assert decide(_entry("numpy", "pypi-dependencies"), in_channels=set()).manager == "pypi"
    assert decide(_entry("requests", "conda-dependencies"), in_channels=set()).manager == "conda"


def test_name_table() -> None:
    assert pypi_names_for("pytorch") == ("torch",)
    assert pypi_names_for("cudatoolkit") == ()
    assert pypi_names_for("Some_Pkg") == ("some-pkg",)
    assert conda_name_for("opencv-python") == "opencv"
    assert seed_manager("TQDM") == "pypi"


def test_conda_override_cuda_reaches_the_solver_on_this_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    from condauv.conda.engine import virtual_packages
    from condauv.platforms import current_subdir

    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")
    names = {str(vp.name.normalized): str(vp.version) for vp in virtual_packages(current_subdir())}
    assert names.get("__cuda") == "12.4"
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "")  # conda's way of saying "no CUDA"
    assert "__cuda" not in {str(vp.name.normalized) for vp in virtual_packages(current_subdir())}
