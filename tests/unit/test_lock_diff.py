"""What ``condauv lock`` reports as changed, and which locked versions ``--upgrade`` releases."""

from __future__ import annotations

import pytest

from condauv.errors import UserError
from condauv.lock.diff import VersionChange, version_changes
from condauv.lock.model import CondaPackage, Lock, PypiPackage
from condauv.sync.locking import Upgrade

PLATFORMS = ("linux-64", "osx-arm64")


def _conda(name: str, version: str, platform: str = "linux-64", build: str = "h_0") -> CondaPackage:
    return CondaPackage(
        platform=platform,
        name=name,
        version=version,
        build=build,
        build_number=0,
        subdir=platform,
        channel="file:///channel",
        url=f"file:///channel/{platform}/{name}-{version}-{build}.conda",
        sha256="0" * 64,
    )


def _pypi(name: str, version: str, platform: str = "linux-64") -> PypiPackage:
    return PypiPackage(
        platform=platform,
        name=name,
        version=version,
        url=f"file:///wheels/{name}-{version}-py3-none-any.whl",
        sha256="0" * 64,
    )


def _lock(conda: tuple[CondaPackage, ...] = (), pypi: tuple[PypiPackage, ...] = ()) -> Lock:
    return Lock(content_hash="x", channels=("file:///channel",), platforms=PLATFORMS, conda=conda, pypi=pypi)


def test_changes_group_platforms_that_changed_alike() -> None:
    old = _lock(
        conda=(_conda("numpy", "2.3.4"), _conda("numpy", "2.3.4", "osx-arm64"), _conda("zlib", "1.3")),
        pypi=(_pypi("six", "1.16.0"), _pypi("gone", "1.0")),
    )
    new = _lock(
        conda=(
            _conda("numpy", "2.4.6"),
            _conda("numpy", "2.4.6", "osx-arm64"),
            _conda("zlib", "1.3", build="h_1"),
        ),
        pypi=(_pypi("six", "1.17.0"), _pypi("idna", "3.10", "osx-arm64")),
    )
    assert version_changes(old, new) == [
        VersionChange("conda", "numpy", "2.3.4", "2.4.6", PLATFORMS),
        VersionChange("conda", "zlib", "1.3 (h_0)", "1.3 (h_1)", ("linux-64",)),  # a new build
        VersionChange("pypi", "gone", "1.0", None, ("linux-64",)),
        VersionChange("pypi", "idna", None, "3.10", ("osx-arm64",)),
        VersionChange("pypi", "six", "1.16.0", "1.17.0", ("linux-64",)),
    ]
    assert version_changes(new, new) == []


def test_upgrade_releases_only_the_named_packages_on_both_sides() -> None:
    previous = _lock(conda=(_conda("tiny-b", "1.0"), _conda("zlib", "1.3")), pypi=(_pypi("six", "1.16.0"),))
    kept = Upgrade.of(["Tiny_B", "SIX"]).kept(previous)
    assert kept is not None
    assert [p.name for p in kept.conda] == ["zlib"] and kept.pypi == ()
    assert Upgrade().kept(previous) is None  # everything: nothing is preferred


def test_upgrade_of_an_unlocked_name_is_a_user_error() -> None:
    previous = _lock(pypi=(_pypi("six", "1.16.0"),))
    Upgrade.of(["six"]).check(previous)
    with pytest.raises(UserError, match=r"sixx: not in condauv\.lock"):
        Upgrade.of(["sixx", "six"]).check(previous)
    with pytest.raises(UserError, match="there is none yet"):
        Upgrade.of(["six"]).check(None)
    Upgrade().check(None)  # upgrading everything needs no lock
