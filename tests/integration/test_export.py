"""condauv export against real tools: each export of a synced project (numpy from conda, requests
and its dependencies from PyPI) read back by the tool that reads it: the real uv installs the
requirements and pylock exports into a prefix holding only the lock's conda side, ``condauv init
--from`` turns the environment.yml back into a manifest that locks to the same packages, the
explicit file is checked line by line against CEP 23, conda-lock (pinned, from PyPI) reads its file.
"""

from __future__ import annotations

import json
import os
import re
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

pytestmark = pytest.mark.slow

HERE = current_subdir()
CONDA_LOCK = "4.0.3"  # pinned: the conda-lock whose reader checks the conda-lock export


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory, conda_channel: Path, wheelhouse: Path) -> Iterator[Path]:
    """One project for the module: init against the local channel and wheelhouse, add, sync."""
    folder = tmp_path_factory.mktemp("export") / "proj"
    folder.mkdir()
    with chdir(folder):
        assert main(["init", "--channel", conda_channel.as_uri(), "-q"]) == 0
        with (folder / "condauv.toml").open("a") as handle:
            handle.write(f'\n[pypi-options]\nfind-links = ["{wheelhouse}"]\nno-index = true\n')
        assert main(["add", "numpy", "requests", "tqdm", "-q"]) == 0
    yield folder


def _lock(folder: Path) -> Lock:
    lock = load_lock(folder / "condauv.lock")
    assert lock is not None
    return lock


def _export(cli: CLI, folder: Path, fmt: str, output: Path) -> str:
    result = cli("export", "--format", fmt, "-o", output, cwd=folder)
    assert result.exit_code == 0, result.stderr
    assert "note: " in result.stderr
    return output.read_text()


def _conda_only_prefix(lock: Lock, prefix: Path) -> Path:
    """A fresh prefix holding exactly the lock's conda side (rattler, the lock's records)."""
    from condauv.conda import engine

    engine.install(lock.conda_for(HERE), prefix)
    return prefix / "bin" / "python"


def _pypi_installed(prefix: Path) -> dict[str, tuple[str, str]]:
    """name -> (version, INSTALLER) of every distribution not installed by conda."""
    found = {}
    for dist in prefix.glob("lib/python3.*/site-packages/*.dist-info"):
        installer = (dist / "INSTALLER").read_text().strip()
        if installer == "conda":
            continue
        name, version = dist.name.removesuffix(".dist-info").split("-", 1)
        found[name.lower().replace("_", "-")] = (version, installer)
    return found


def _uv_install(python: Path, file: Path, *extra: str) -> None:
    done = subprocess.run(
        [
            find_uv(),
            "pip",
            "install",
            "--no-config",
            "--python",
            str(python),
            "--no-deps",
            "--require-hashes",
            *extra,
            "-r",
            str(file),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("fmt", "name", "extra"),
    [
        ("requirements", "requirements-uv.txt", ()),
        ("pylock", "pylock.toml", ("--preview-features", "pylock")),
    ],
)
def test_uv_installs_the_export_into_the_conda_side_and_gets_the_locked_pypi_side(
    cli: CLI, synced: Path, tmp_path: Path, fmt: str, name: str, extra: tuple[str, ...]
) -> None:
    lock = _lock(synced)
    exported = tmp_path / name
    _export(cli, synced, fmt, exported)
    prefix = tmp_path / "env"
    python = _conda_only_prefix(lock, prefix)
    assert _pypi_installed(prefix) == {}
    _uv_install(python, exported, *extra)
    expected = {p.name: (p.version, "uv") for p in lock.pypi_for(HERE)}
    assert {"requests", "urllib3", "idna", "certifi", "tqdm"} <= expected.keys()
    assert _pypi_installed(prefix) == expected
    done = subprocess.run(
        [python, "-c", "import numpy, requests, tqdm"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_environment_yml_through_init_from_locks_to_the_same_packages(
    cli: CLI, synced: Path, tmp_path: Path
) -> None:
    lock = _lock(synced)
    exported = tmp_path / "environment.yml"
    _export(cli, synced, "environment-yml", exported)
    again = tmp_path / "again"
    again.mkdir()
    result = cli("init", "--from", exported, cwd=again)
    assert result.exit_code == 0, result.stderr
    result = cli("lock", cwd=again)
    assert result.exit_code == 0, result.stderr
    relocked = _lock(again)
    assert {(p.name, p.version, p.build) for p in relocked.conda_for(HERE)} == {
        (p.name, p.version, p.build) for p in lock.conda_for(HERE)
    }
    assert {(p.name, p.version) for p in relocked.pypi_for(HERE)} == {
        (p.name, p.version) for p in lock.pypi_for(HERE)
    }
    assert {p.sha256 for p in relocked.conda} | {p.sha256 for p in relocked.pypi} == {
        p.sha256 for p in lock.conda
    } | {p.sha256 for p in lock.pypi}


_CEP23 = re.compile(
    r"(?:(?P<url_p>.+)(?:[/\\]))?(?P<fn>[^/\\#]+(?:\.tar\.bz2|\.conda))"
    r"(?:#((?P<md5>[0-9a-f]{32})|((sha256:)?(?P<sha256>[0-9a-f]{64}))))?$"
)


def test_explicit_lines_are_cep23_and_the_lock(cli: CLI, synced: Path, tmp_path: Path) -> None:
    lock = _lock(synced)
    text = _export(cli, synced, "explicit", tmp_path / "explicit.txt")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    marker = lines.index("@EXPLICIT")
    assert f"# platform: {HERE}" in lines[:marker]
    assert all(line.startswith("#") for line in lines[:marker])
    entries = {}
    for line in lines[marker + 1 :]:
        found = _CEP23.fullmatch(line)
        assert found is not None and found["sha256"], line
        entries[line.split("#", 1)[0]] = found["sha256"]
    assert entries == {p.url: p.sha256 for p in lock.conda_for(HERE)}
    names = [line.rsplit("/", 1)[1] for line in lines[marker + 1 :]]
    assert names.index(next(n for n in names if n.startswith("python-"))) < names.index(
        next(n for n in names if n.startswith("numpy-"))
    )  # python before numpy, which depends on it


@pytest.mark.network
def test_conda_lock_reads_the_conda_lock_export(cli: CLI, synced: Path, tmp_path: Path) -> None:
    lock = _lock(synced)
    exported = tmp_path / "conda-lock.yml"
    _export(cli, synced, "conda-lock", exported)
    target = tmp_path / "conda-lock-pkg"
    done = subprocess.run(
        [
            find_uv(),
            "pip",
            "install",
            "--no-config",
            "--quiet",
            "--python",
            sys.executable,
            "--target",
            str(target),
            # conda-lock's dependencies as PyPI had them when this test was written: a release
            # published later cannot change what is tested
            "--exclude-newer",
            "2026-12-01T00:00:00Z",
            f"conda-lock=={CONDA_LOCK}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    script = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); from pathlib import Path\n"
        "from conda_lock.lockfile import parse_conda_lock_file\n"
        "lf = parse_conda_lock_file(Path(sys.argv[2]))\n"
        "rows = [[p.manager, p.platform, p.name, p.version, p.url, p.hash.sha256] for p in lf.package]\n"
        "print(json.dumps(sorted(rows)))"
    )
    read = subprocess.run(
        [sys.executable, "-I", "-c", script, str(target), str(exported)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert read.returncode == 0, read.stderr
    expected = sorted(
        [["conda", p.platform, p.name, p.version, p.url, p.sha256] for p in lock.conda]
        + [["pip", p.platform, p.name, p.version, p.url, p.sha256] for p in lock.pypi]
    )
    assert json.loads(read.stdout) == expected
