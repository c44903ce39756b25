"""A new prefix's installs side by side (``condauv.sync.overlap``): which conda packages come
before uv, when not to overlap at all, and how the two steps' errors come out."""

from __future__ import annotations

import threading
import time

import pytest

from condauv.lock.model import CondaPackage, PypiPackage
from condauv.sync.overlap import beside, python_first
from tests.helpers.records import conda_package


def _conda(name: str, *depends: str) -> CondaPackage:
    return conda_package(name, *depends, channel="file:///ch")


def _pypi(name: str, file: str) -> PypiPackage:
    return PypiPackage(
        platform="linux-64", name=name, version="1.0", url=f"file:///wheels/{file}", sha256="1" * 64
    )


WHEEL = _pypi("tqdm", "tqdm-1.0-py3-none-any.whl")
CONDA = [
    _conda("python", "libffi >=3.4,<4.0a0", "__glibc >=2.17", "tzdata", "openssl"),
    _conda("libffi", "libgcc-ng>=12"),
    _conda("libgcc-ng"),
    _conda("tzdata"),
    _conda("openssl", "ca-certificates", "libgcc-ng >=12"),
    _conda("ca-certificates"),
    _conda("numpy", "python >=3.11", "libblas"),
    _conda("libblas", "libgcc-ng"),
]


def test_python_and_what_it_needs_come_first() -> None:
    early = python_first(CONDA, [WHEEL])
    assert early is not None
    assert [p.name for p in early] == [
        "python",
        "libffi",
        "libgcc-ng",
        "tzdata",
        "openssl",
        "ca-certificates",
    ]


@pytest.mark.parametrize(
    ("conda", "pypi"),
    [
        (CONDA, []),  # nothing for uv to do
        ([p for p in CONDA if p.name != "python"], [WHEEL]),  # no python
        (CONDA[:6], [WHEEL]),  # nothing left for rattler beside uv
        (CONDA, [WHEEL, _pypi("pkg", "pkg-1.0.tar.gz")]),  # an sdist's build may need it all
    ],
    ids=["no-pypi", "no-python", "python-only", "sdist"],
)
def test_no_overlap(conda: list[CondaPackage], pypi: list[PypiPackage]) -> None:
    assert python_first(conda, pypi) is None


def test_both_steps_run_at_once() -> None:
    started = threading.Event()
    seen: list[str] = []

    def main() -> None:
        assert started.wait(10), "the other step did not start while this one ran"
        seen.append("main")

    def other() -> None:
        started.set()
        time.sleep(0.05)
        seen.append("other")

    beside(main, other)
    assert sorted(seen) == ["main", "other"]


def test_the_main_steps_error_comes_first_after_the_other_ended() -> None:
    ended = threading.Event()

    def main() -> None:
        raise ValueError("conda")

    def other() -> None:
        time.sleep(0.05)
        ended.set()
        raise RuntimeError("uv")

    with pytest.raises(ValueError, match="conda"):
        beside(main, other)
    assert ended.is_set()


def test_the_other_steps_error_is_raised_here() -> None:
    def other() -> None:
        raise RuntimeError("uv")

    with pytest.raises(RuntimeError, match="uv"):
        beside(lambda: None, other)
