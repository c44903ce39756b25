"""Integration tests: real rattler, real uv, a real local conda channel, a local wheelhouse."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.clirunner import CLI


@pytest.fixture(scope="session", autouse=True)
def _isolated_caches(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """condauv's and uv's caches for this session only: tests never see a user's cache."""
    root = tmp_path_factory.mktemp("caches")
    saved = {k: os.environ.get(k) for k in ("CONDAUV_CACHE_DIR", "UV_CACHE_DIR", "CONDA_OVERRIDE_CUDA")}
    os.environ["CONDAUV_CACHE_DIR"] = str(root / "condauv")
    os.environ["UV_CACHE_DIR"] = str(root / "uv")
    os.environ.pop("CONDA_OVERRIDE_CUDA", None)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> CLI:
    return CLI(capsys)


MakeProject = Callable[..., Path]


@pytest.fixture
def make_project(tmp_path: Path, conda_channel: Path, wheelhouse: Path, cli: CLI) -> MakeProject:
    """A project folder with `condauv init` done against the local channel and wheelhouse."""

    def make(name: str = "proj") -> Path:
        folder = tmp_path / name
        folder.mkdir()
        result = cli("init", "--channel", conda_channel.as_uri(), cwd=folder)
        assert result.exit_code == 0, result.stderr
        with (folder / "condauv.toml").open("a") as handle:
            handle.write(f'\n[pypi-options]\nfind-links = ["{wheelhouse}"]\nno-index = true\n')
        return folder

    return make
