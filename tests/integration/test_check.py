"""``condauv check`` and the repairs of ``condauv sync``, on environments damaged for real.

The damage is done the way users do it: real uv installing ``numpy<2`` straight into the
prefix, and files edited or deleted by hand.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from condauv.channel import build_package, index_local_channel
from condauv.platforms import python_site_packages
from condauv.pypi.uv import find_uv
from tests.clirunner import CLI
from tests.helpers.wheels import write_wheel
from tests.integration.conftest import MakeProject

pytestmark = pytest.mark.slow

ENV = Path(".condauv") / "env"
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
SITE = python_site_packages(PYTHON)


def _check(cli: CLI, folder: Path) -> tuple[int, dict[str, Any]]:
    result = cli("check", "--json", cwd=folder)
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, json.loads(result.stdout)


def _kinds_naming(report: dict[str, Any], name: str) -> set[str]:
    return {f["kind"] for f in report["findings"] if name in f["packages"]}


def _numpy_version(folder: Path) -> str:
    done = subprocess.run(
        [folder / ENV / "bin" / "python", "-c", "import numpy; print(numpy.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def _uv_installs_old_numpy(folder: Path, tmp_path: Path) -> None:
    """What a user does: ``uv pip install 'numpy<2'`` into the environment, with a real uv."""
    wheels = tmp_path / "old-numpy"
    wheels.mkdir()
    write_wheel(
        wheels,
        "numpy",
        "1.26.4",
        modules={"numpy": '__version__ = "1.26.4"\n'},
        files={"numpy/version.py": b'version = "1.26.4"\n'},
    )
    subprocess.run(
        [
            find_uv(),
            "pip",
            "install",
            "--no-config",
            "--python",
            folder / ENV / "bin" / "python",
            "--no-index",
            "--find-links",
            wheels,
            "numpy<2",
        ],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def conda_forge_like_numpy(tmp_path: Path) -> Path:
    """A channel with a numpy packaged the way conda-forge does it: dist-info without a RECORD."""
    channel = tmp_path / "cf-channel"
    dist = f"{SITE}/numpy-2.3.4.dist-info"
    build_package(
        name="numpy",
        version="2.3.4",
        output_dir=channel,
        build_string=f"py{PYTHON.replace('.', '')}_cf",
        depends=[f"python >={PYTHON},<{sys.version_info.major}.{sys.version_info.minor + 1}.0a0"],
        files={
            f"{SITE}/numpy/__init__.py": b'__version__ = "2.3.4"\nfrom numpy.version import version\n',
            f"{SITE}/numpy/version.py": b'version = "2.3.4"\n',
            f"{SITE}/numpy/_core/__init__.py": b"",
            f"{dist}/METADATA": b"Metadata-Version: 2.1\nName: numpy\nVersion: 2.3.4\n",
            f"{dist}/INSTALLER": b"conda\n",
        },
    )
    index_local_channel(channel)
    return channel


def test_uv_over_conda_forge_numpy_is_found_and_repaired(
    cli: CLI, tmp_path: Path, conda_channel: Path, wheelhouse: Path, conda_forge_like_numpy: Path
) -> None:
    folder = tmp_path / "proj"
    folder.mkdir()
    channels = ["--channel", conda_forge_like_numpy.as_uri(), "--channel", conda_channel.as_uri()]
    assert cli("init", *channels, cwd=folder).exit_code == 0
    with (folder / "condauv.toml").open("a") as handle:
        handle.write(f'\n[pypi-options]\nfind-links = ["{wheelhouse}"]\nno-index = true\n')
    assert cli("add", "numpy", "requests", cwd=folder).exit_code == 0
    assert _numpy_version(folder) == "2.3.4"
    assert _check(cli, folder)[0] == 0

    _uv_installs_old_numpy(folder, tmp_path)
    assert _numpy_version(folder) == "1.26.4"
    code, report = _check(cli, folder)
    assert code == 1
    assert {"overlap", "installer-mismatch", "duplicate", "clobbered"} <= _kinds_naming(report, "numpy")
    duplicate = next(f for f in report["findings"] if f["kind"] == "duplicate")
    assert sorted(Path(f).name for f in duplicate["files"]) == [
        "numpy-1.26.4.dist-info",
        "numpy-2.3.4.dist-info",
    ]
    clobbered = next(f for f in report["findings"] if f["kind"] == "clobbered")
    assert f"{SITE}/numpy/version.py" in clobbered["files"]
    assert all(f["fix"] for f in report["findings"])
    table = cli("check", cwd=folder)
    assert table.exit_code == 1
    assert "overlap" in table.stdout and "numpy" in table.stdout

    synced = cli("sync", "--json", cwd=folder)
    assert synced.exit_code == 0, synced.stderr
    repaired = json.loads(synced.stdout)["repaired"]
    assert "relinked numpy (conda)" in repaired
    assert any("numpy-1.26.4.dist-info" in item for item in repaired)
    code, report = _check(cli, folder)
    assert (code, report["findings"]) == (0, [])
    assert _numpy_version(folder) == "2.3.4"
    assert [p.name for p in (folder / ENV / SITE).glob("numpy-*")] == ["numpy-2.3.4.dist-info"]
    assert cli("sync", cwd=folder).stderr.strip().endswith("is in sync")


def test_uv_over_converted_numpy_is_found_and_repaired(
    cli: CLI, make_project: MakeProject, tmp_path: Path
) -> None:
    """condauv's own conda numpy keeps a RECORD: uv uninstalls it first, then writes its own."""
    folder = make_project()
    assert cli("add", "numpy", cwd=folder).exit_code == 0
    version = _numpy_version(folder)
    _uv_installs_old_numpy(folder, tmp_path)
    code, report = _check(cli, folder)
    assert code == 1
    assert {"overlap", "installer-mismatch", "clobbered"} <= _kinds_naming(report, "numpy")
    assert cli("sync", cwd=folder).exit_code == 0
    assert _check(cli, folder)[0] == 0
    assert _numpy_version(folder) == version


def test_hand_edited_and_deleted_files_are_found_and_repaired(cli: CLI, make_project: MakeProject) -> None:
    folder = make_project()
    assert cli("add", "--no-sync", "numpy", cwd=folder).exit_code == 0
    # six on PyPI: in [dependencies] it would be conda's, as the test channel has it
    assert cli("add", "--pypi", "six", cwd=folder).exit_code == 0
    site = folder / ENV / SITE
    edited, deleted = site / "numpy" / "version.py", site / "numpy" / "__config__.py"
    deleted_pypi = next(p for p in (site / "six.py", site / "six" / "__init__.py") if p.exists())
    original = edited.read_bytes()
    with edited.open("ab") as handle:  # in place: the package cache's hard link changes too
        handle.write(b"# edited by hand\n")
    deleted.unlink()
    deleted_pypi.unlink()

    code, report = _check(cli, folder)
    assert code == 1
    found = {f["packages"][0]: f for f in report["findings"] if f["kind"] == "clobbered"}
    assert set(found) == {"numpy", "six"}
    assert sorted(found["numpy"]["files"]) == sorted(
        p.relative_to(folder / ENV).as_posix() for p in (edited, deleted)
    )
    assert "1 changed and 1 missing" in found["numpy"]["message"]
    assert "conda package numpy" in found["numpy"]["message"]
    assert found["six"]["files"] == [deleted_pypi.relative_to(folder / ENV).as_posix()]
    assert "PyPI distribution six" in found["six"]["message"]

    # a plain sync does not hash files: the damage stays, and check still says so
    assert cli("sync", cwd=folder).exit_code == 0
    assert _check(cli, folder)[0] == 1
    repaired = cli("sync", "--repair", cwd=folder)
    assert repaired.exit_code == 0, repaired.stderr
    assert "relinked numpy (conda)" in repaired.stderr
    assert "reinstalled six" in repaired.stderr
    assert edited.read_bytes() == original
    assert deleted.is_file() and deleted_pypi.is_file()
    assert _check(cli, folder)[0] == 0


def test_check_any_prefix_and_bad_input(cli: CLI, make_project: MakeProject, tmp_path: Path) -> None:
    folder = make_project()
    assert cli("add", "six", cwd=folder).exit_code == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = cli("check", "--prefix", folder / ENV, cwd=elsewhere)
    assert result.exit_code == 0, result.stderr
    assert "is clean" in result.stderr
    # an extra PyPI package is drift from the lock; without a lock it is not
    (folder / ENV / SITE / "stray-1.0.dist-info").mkdir()
    (folder / ENV / SITE / "stray-1.0.dist-info" / "INSTALLER").write_text("pip\n")
    code, report = _check(cli, folder)
    assert code == 1
    assert [f["kind"] for f in report["findings"]] == ["drift"]
    assert cli("check", "--prefix", folder / ENV, cwd=elsewhere).exit_code == 0

    missing = cli("check", "--prefix", tmp_path / "nothing", cwd=elsewhere)
    assert missing.exit_code == 2
    assert missing.stderr.startswith("error: no environment at")
    assert "hint: " in missing.stderr
    not_conda = cli("check", "--prefix", elsewhere, cwd=elsewhere)
    assert not_conda.exit_code == 2
    assert "is not a conda prefix" in not_conda.stderr
