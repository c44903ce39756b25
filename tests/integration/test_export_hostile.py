"""condauv export and init --from where the suite's tidy project does not go: a find-links folder
whose name pip's option parser splits (installed by the real uv and the real pip), and a round
trip that must keep every build, python's included."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from condauv.__main__ import main
from condauv.lock import Lock, load_lock
from condauv.platforms import current_subdir
from condauv.pypi.uv import find_uv
from tests.clirunner import CLI, chdir
from tests.integration.test_export import _conda_only_prefix, _pypi_installed

pytestmark = pytest.mark.slow

HERE = current_subdir()
#: a space and a quote: pip splits option lines like a shell; uv reads them whole
AWKWARD = "wheel house's"


@pytest.fixture(scope="module")
def awkward(
    tmp_path_factory: pytest.TempPathFactory, conda_channel: Path, wheelhouse: Path
) -> Iterator[Path]:
    """A locked project whose only PyPI source is a find-links folder with an awkward name."""
    root = tmp_path_factory.mktemp("hostile")
    links = root / AWKWARD
    shutil.copytree(wheelhouse, links)
    folder = root / "proj"
    folder.mkdir()
    with chdir(folder):
        assert main(["init", "--channel", conda_channel.as_uri(), "-q"]) == 0
        with (folder / "condauv.toml").open("a") as handle:
            handle.write(f'\n[pypi-options]\nfind-links = ["../{AWKWARD}"]\nno-index = true\n')
        assert main(["add", "--pypi", "requests", "-q"]) == 0
        assert main(["lock", "-q"]) == 0
    yield folder


def _lock(folder: Path) -> Lock:
    lock = load_lock(folder / "condauv.lock")
    assert lock is not None
    return lock


def test_requirements_with_an_awkward_find_links_folder_install_with_uv_and_pip(
    cli: CLI, awkward: Path, tmp_path: Path
) -> None:
    lock = _lock(awkward)
    exported = tmp_path / "elsewhere" / "requirements-uv.txt"  # read from another folder
    result = cli("export", "--format", "requirements", "-o", exported, cwd=awkward)
    assert result.exit_code == 0, result.stderr
    expected = {p.name: p.version for p in lock.pypi_for(HERE)}
    assert {"requests", "urllib3", "idna", "certifi"} <= expected.keys()
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "PIP_CONFIG_FILE": os.devnull}
    installers = {
        "uv": [find_uv(), "pip", "install", "--no-config", "--python"],
        "pip": [sys.executable, "-m", "pip", "--disable-pip-version-check", "--python"],
    }
    for installer, command in installers.items():
        prefix = tmp_path / f"env-{installer}"
        python = _conda_only_prefix(lock, prefix)
        args = [*command, str(python)] + (["install"] if installer == "pip" else [])
        args += ["--no-deps", "--require-hashes", "-r", str(exported)]
        done = subprocess.run(args, capture_output=True, text=True, check=False, env=env, cwd=tmp_path)
        assert done.returncode == 0, (installer, done.stdout, done.stderr)
        found = _pypi_installed(prefix)
        assert {name: version for name, (version, _) in found.items()} == expected, installer
        assert {who for _, who in found.values()} == {installer}


def test_environment_yml_round_trip_keeps_python_s_build(cli: CLI, awkward: Path, tmp_path: Path) -> None:
    """export environment-yml, init --from it in a new folder, lock: the same conda builds (python's
    too: ``python=3.11.7=BUILD`` pins the build), the same PyPI artifacts."""
    lock = _lock(awkward)
    exported = tmp_path / "environment.yml"
    result = cli("export", "--format", "environment-yml", "-o", exported, cwd=awkward)
    assert result.exit_code == 0, result.stderr
    again = tmp_path / "again"
    again.mkdir()
    result = cli("init", "--from", exported, cwd=again)
    assert result.exit_code == 0, result.stderr
    assert "python build string" not in result.stderr
    python = next(p for p in lock.conda_for(HERE) if p.name == "python")
    assert f'python = "{python.version} {python.build}"' in (again / "condauv.toml").read_text()
    result = cli("lock", "--offline", cwd=again)
    assert result.exit_code == 0, result.stderr
    relocked = _lock(again)
    assert {(p.name, p.version, p.build, p.sha256) for p in relocked.conda_for(HERE)} == {
        (p.name, p.version, p.build, p.sha256) for p in lock.conda_for(HERE)
    }
    assert {(p.name, p.version, p.url, p.sha256) for p in relocked.pypi_for(HERE)} == {
        (p.name, p.version, p.url, p.sha256) for p in lock.pypi_for(HERE)
    }
