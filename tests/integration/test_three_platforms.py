"""One lock for linux-64, osx-arm64 and win-64 from this one machine: each platform solved with
its own virtual packages and resolved with uv's ``--python-platform``; a platform that cannot be
solved is named with its reason. A local channel of stand-ins for all three (lockable, never
installed) and a find-links folder of one platform wheel per platform."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import tomlkit

from condauv.channel.build import build_package
from condauv.channel.local import index_local_channel
from tests.clirunner import CLI
from tests.helpers.wheels import write_wheel

pytestmark = pytest.mark.slow

PLATFORMS = ("linux-64", "osx-arm64", "win-64")
#: where each platform's conda Python keeps site-packages
SITE = {"linux-64": "lib/python3.11/site-packages", "osx-arm64": "lib/python3.11/site-packages"}
SITE["win-64"] = "Lib/site-packages"
#: a compiled PyPI package, one wheel per platform
FAST = {
    "linux-64": "fastlib-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "osx-arm64": "fastlib-1.0-cp311-cp311-macosx_11_0_arm64.whl",
    "win-64": "fastlib-1.0-cp311-cp311-win_amd64.whl",
}


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("three-platforms")
    for subdir in PLATFORMS:
        build_package(
            name="python", version="3.11.7", output_dir=folder, files={"README": b"stand-in\n"}, subdir=subdir
        )
        build_package(
            name="numpy",
            version="2.4.6",
            output_dir=folder,
            subdir=subdir,
            files={f"{SITE[subdir]}/numpy-2.4.6.dist-info/INSTALLER": b"conda\n"},
            depends=["python >=3.11,<3.12.0a0"],
        )
        # a library whose win-64 build needs a newer Windows than any machine has: __win is
        # there, __unix is not; the posix builds need __unix
        build_package(
            name="shmlib",
            version="1.0",
            output_dir=folder,
            subdir=subdir,
            files={"share/shmlib/VERSION": b"1.0\n"},
            depends=["__win >=99"] if subdir == "win-64" else ["__unix"],
        )
    index_local_channel(folder)
    return folder


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("three-platform-wheels")
    for name in FAST.values():
        write_wheel(folder, "fastlib", "1.0", tag=name.removeprefix("fastlib-1.0-").removesuffix(".whl"))
    write_wheel(folder, "puretool", "2.0", requires=["numpy>=2"])
    return folder


def _project(tmp_path: Path, channel: Path, wheels: Path, conda: dict[str, str]) -> Path:
    folder = tmp_path / "proj"
    folder.mkdir(exist_ok=True)
    doc: Any = tomlkit.document()
    doc["environment"] = {
        "name": "three",
        "channels": [channel.as_uri()],
        "platforms": list(PLATFORMS),
        "python": "3.11.*",
    }
    doc["conda-dependencies"] = conda
    doc["pypi-dependencies"] = {"fastlib": "==1.0", "puretool": "*"}
    doc["pypi-options"] = {"find-links": [str(wheels)], "no-index": True}
    (folder / "condauv.toml").write_text(tomlkit.dumps(doc), encoding="utf-8")
    return folder


def test_one_lock_for_three_platforms(cli: CLI, tmp_path: Path, channel: Path, wheels: Path) -> None:
    folder = _project(tmp_path, channel, wheels, {"numpy": "2.4.*"})
    result = cli("lock", cwd=folder)
    assert result.exit_code == 0, result.stderr
    lock: dict[str, Any] = tomlkit.parse((folder / "condauv.lock").read_text(encoding="utf-8")).unwrap()
    assert lock["environment"]["platforms"] == list(PLATFORMS)
    conda = {(p["platform"], p["name"]): p for p in lock["conda"]}
    for subdir in PLATFORMS:
        assert conda[(subdir, "python")]["subdir"] == subdir
        assert conda[(subdir, "numpy")]["url"].endswith(".conda")
        assert f"/{subdir}/" in conda[(subdir, "numpy")]["url"]
    pypi = {(p["platform"], p["name"]): p["url"].rsplit("/", 1)[-1] for p in lock["pypi"]}
    # uv resolved each platform with its own --python-platform: its own wheel of fastlib
    assert {s: pypi[(s, "fastlib")] for s in PLATFORMS} == FAST
    # puretool's numpy is conda's on every platform: the PyPI side holds no numpy
    assert {name for _, name in pypi} == {"fastlib", "puretool"}


def test_a_platform_that_cannot_be_solved_is_named_with_its_reason(
    cli: CLI, tmp_path: Path, channel: Path, wheels: Path
) -> None:
    folder = _project(tmp_path, channel, wheels, {"numpy": "2.4.*", "shmlib": "*"})
    result = cli("lock", cwd=folder)
    assert result.exit_code == 2, result.stderr
    assert "win-64" in result.stderr and "__win" in result.stderr, result.stderr
    assert "linux-64" not in result.stderr.split("hint:")[0]  # the posix platforms solved
    assert result.stderr.count("error:") == 1 and "hint:" in result.stderr
    assert not (folder / "condauv.lock").exists()
