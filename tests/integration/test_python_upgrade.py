"""A new Python minor version: the conda side swaps the interpreter, the PyPI side follows."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from condauv.channel import atomic_channel, build_python_package, channel_key
from condauv.manifest.edit import ManifestDocument
from tests.clirunner import CLI
from tests.conftest import _sources_digest, persistent_cache

pytestmark = pytest.mark.slow

#: A second interpreter to repackage: pyenv builds on this project's machines.
OTHER_PYTHON = sorted(Path("/root/.pyenv/versions").glob("3.12.*"))


@pytest.fixture(scope="session")
def two_pythons(conda_channel: Path) -> Path:
    """A channel with this interpreter (3.11) and a 3.12 one, for the minor-version change."""
    if not OTHER_PYTHON:
        pytest.skip("no second CPython (3.12) on this machine to repackage")
    other = OTHER_PYTHON[-1]

    def populate(folder: Path) -> None:
        for package in (conda_channel / "linux-64").glob("python-*.conda"):
            (folder / "linux-64").mkdir(parents=True, exist_ok=True)
            shutil.copy2(package, folder / "linux-64" / package.name)
        build_python_package(folder, base_prefix=other)

    key = channel_key(
        _sources_digest(), str(other), *(p.name for p in (conda_channel / "linux-64").glob("python-*"))
    )
    return atomic_channel(persistent_cache() / f"two-pythons-{key}", populate)


def test_minor_version_change_reinstalls_the_pypi_side(
    cli: CLI, tmp_path: Path, two_pythons: Path, wheelhouse: Path
) -> None:
    folder = tmp_path / "proj"
    folder.mkdir()
    assert cli("init", "--channel", two_pythons.as_uri(), cwd=folder).exit_code == 0
    with (folder / "condauv.toml").open("a") as handle:
        handle.write(f'\n[pypi-options]\nfind-links = ["{wheelhouse}"]\nno-index = true\n')
    assert cli("add", "requests", cwd=folder).exit_code == 0
    env = folder / ".condauv" / "env"
    assert (env / "lib/python3.11/site-packages/requests/__init__.py").is_file()

    document = ManifestDocument.open(folder / "condauv.toml")
    (folder / "condauv.toml").write_text(document.text().replace('python = "3.11.*"', 'python = "3.12.*"'))
    result = cli("sync", cwd=folder)
    assert result.exit_code == 0, result.stderr
    assert "requests" in result.stderr
    assert (env / "lib/python3.12/site-packages/requests/__init__.py").is_file()
    assert not list(env.glob("lib/python3.11/site-packages/requests*"))  # uv removed them first
    done = subprocess.run(
        [
            env / "bin" / "python",
            "-c",
            "import sys, requests; print(sys.version_info[:2], requests.__version__)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "(3, 12) 2.32.3"
