from __future__ import annotations

import pytest

from condauv.errors import LockfileError
from condauv.lock import CondaPackage, Lock, PypiPackage, parse_lock

SHA = "a" * 64


def _lock() -> Lock:
    return Lock(
        content_hash="sha256:x",
        channels=("file:///chan",),
        platforms=("osx-arm64", "linux-64"),
        conda=(
            CondaPackage(
                platform="linux-64",
                name="python",
                version="3.11.7",
                build="h_0",
                build_number=0,
                subdir="linux-64",
                channel="file:///chan/",
                url="file:///chan/linux-64/python-3.11.7-h_0.conda",
                sha256=SHA,
                requested="3.11.*",
                reason="[environment] python",
            ),
            CondaPackage(
                platform="linux-64",
                name="numpy",
                version="2.3.4",
                build="py311_0",
                build_number=0,
                subdir="linux-64",
                channel="file:///chan/",
                url="file:///chan/linux-64/numpy-2.3.4-py311_0.conda",
                sha256=SHA,
                depends=("python >=3.11,<3.12",),
                provides=("numpy==2.3.4",),
            ),
        ),
        pypi=(
            PypiPackage(
                platform="linux-64",
                name="requests",
                version="2.32.3",
                url="https://files.example/requests-2.32.3-py3-none-any.whl",
                sha256=SHA,
                requested="*",
            ),
        ),
    )


def test_round_trip_is_deterministic_and_sorted() -> None:
    text = _lock().to_toml()
    again = parse_lock(text)
    assert again.to_toml() == text
    assert text.index('name = "numpy"') < text.index('name = "python"')
    assert 'platforms = ["linux-64", "osx-arm64"]' in text
    assert again.python_version("linux-64") == "3.11.7"
    assert again.conda_for("linux-64")[0].provided_names() == {"numpy": "2.3.4"}
    assert again.pypi_for("osx-arm64") == []


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda t: t.replace("version = 1\n", "version = 99\n", 1), "unknown lockfile version 99"),
        (lambda t: t.replace(f'sha256 = "{SHA}"', 'sha256 = "nothex"', 1), "conda[0].sha256 is not a sha256"),
        (lambda t: t.replace('name = "requests"\n', "", 1), "pypi[0].name is missing"),
        (lambda t: t + "[[[", "not valid TOML"),
        (
            lambda t: t.replace("build-number = 0", 'build-number = "0"', 1),
            "conda[0].build-number must be an integer",
        ),
    ],
)
def test_bad_locks_name_the_field(mutate: object, fragment: str) -> None:
    text = mutate(_lock().to_toml())  # type: ignore[operator]
    with pytest.raises(LockfileError) as info:
        parse_lock(text)
    assert fragment in str(info.value)
    assert info.value.hint


def test_conda_reasons_breadth_first_from_the_requested() -> None:
    from condauv.lock.reasons import conda_reasons, pypi_dependency_reason, python_reason

    depends = {
        "python": ["libzlib"],
        "numpy": ["python", "libblas"],
        "libblas": ["libgfortran"],
        "libgfortran": [],
        "libzlib": [],
        "orphan": ["not-installed"],
    }
    reasons = conda_reasons(depends, {"python": python_reason("3.11.*"), "numpy": "listed"})
    assert reasons == {
        "python": "[environment] python = '3.11.*'",
        "numpy": "listed",
        "libzlib": "dependency of python (conda)",
        "libblas": "dependency of numpy (conda)",
        "libgfortran": "dependency of libblas (conda)",
        "orphan": "dependency (conda)",
    }
    assert pypi_dependency_reason(["a", "b"]) == "required by a, b (PyPI); conda does not provide it"
    assert pypi_dependency_reason([]) == "required by the PyPI packages (PyPI); conda does not provide it"


def test_system_requirements_round_trip() -> None:
    from dataclasses import replace

    lock = replace(_lock(), system_requirements=(("cuda", "12.4"), ("glibc", "2.28")))
    text = lock.to_toml()
    assert 'system-requirements = {cuda = "12.4", glibc = "2.28"}' in text
    again = parse_lock(text)
    assert again.system_requirements == (("cuda", "12.4"), ("glibc", "2.28"))
    assert again.to_toml() == text
    assert "system-requirements" not in _lock().to_toml()  # old locks are written as before
    assert parse_lock(_lock().to_toml()).system_requirements == ()


@pytest.mark.parametrize(
    ("table", "fragment"),
    [
        ('{gpu = "12.4"}', "environment.system-requirements: unknown key 'gpu'"),
        ('{cuda = "12.4; rm"}', "environment.system-requirements.cuda is not a version"),
        ("{cuda = 12}", "environment.system-requirements.cuda is not a version"),
        ('"cuda"', "environment.system-requirements must be a table"),
    ],
)
def test_bad_system_requirements_in_a_lock(table: str, fragment: str) -> None:
    text = _lock().to_toml().replace("[environment]\n", f"[environment]\nsystem-requirements = {table}\n", 1)
    with pytest.raises(LockfileError) as info:
        parse_lock(text)
    assert fragment in str(info.value)
    assert info.value.hint
