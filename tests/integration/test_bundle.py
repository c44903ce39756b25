"""condauv pack --bundle: every locked artifact in one archive, installed on the other side with
no network and none of the original sources (the channel and wheelhouse copies are deleted)."""

from __future__ import annotations

import shutil
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from condauv.__main__ import main
from condauv.errors import LockfileError, UserError
from condauv.lock.model import Lock, load_lock
from condauv.pack.bundle import make_bundle, relocate_bundle, unpack_bundle
from condauv.project import Project
from tests.clirunner import CLI, chdir

pytestmark = pytest.mark.slow


def _identity(lock: Lock) -> tuple[set[tuple[str, ...]], set[tuple[str, ...]]]:
    conda: set[tuple[str, ...]] = {(p.platform, p.name, p.version, p.build, p.sha256) for p in lock.conda}
    pypi: set[tuple[str, ...]] = {(p.platform, p.name, p.version, p.sha256) for p in lock.pypi}
    return conda, pypi


@pytest.fixture(scope="module")
def bundled(
    tmp_path_factory: pytest.TempPathFactory, conda_channel: Path, wheelhouse: Path
) -> Iterator[tuple[Path, Lock]]:
    """A locked project (numpy from conda, tqdm from the wheelhouse) on copies of the channel and
    wheelhouse, bundled; the copies then deleted. Yields the bundle and the original lock."""
    base = tmp_path_factory.mktemp("bundle")
    channel, wheels = base / "channel-copy", base / "wheels-copy"
    shutil.copytree(conda_channel, channel)
    shutil.copytree(wheelhouse, wheels)
    folder = base / "proj"
    folder.mkdir()
    with chdir(folder):
        assert main(["init", "--channel", channel.as_uri(), "-q"]) == 0
        with (folder / "condauv.toml").open("a") as handle:
            handle.write(f'\n[pypi-options]\nfind-links = ["{wheels}"]\nno-index = true\n')
        assert main(["add", "numpy", "tqdm", "--no-sync", "-q"]) == 0
    project = Project.load(folder / "condauv.toml")
    lock = load_lock(project.lock_path)
    assert lock is not None
    assert {p.name for p in lock.pypi} == {"tqdm"} and "numpy" in {p.name for p in lock.conda}
    (base / "out").mkdir()
    output = make_bundle(project, base / "out" / "site.tar.gz")
    assert output.is_file()
    shutil.rmtree(channel)
    shutil.rmtree(wheels)
    yield output, lock


@pytest.fixture
def fresh_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Empty caches: nothing verified earlier is reused, nothing can come from elsewhere."""
    monkeypatch.setenv("CONDAUV_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    monkeypatch.setenv("UV_OFFLINE", "1")


def test_archive_holds_only_plain_files_of_one_folder(bundled: tuple[Path, Lock]) -> None:
    with tarfile.open(bundled[0]) as tar:
        members = tar.getmembers()
    names = {m.name for m in members}
    assert all(m.isfile() or m.isdir() for m in members)
    assert all(name == "site" or name.startswith("site/") for name in names)
    assert {"site/condauv.toml", "site/condauv.lock", "site/channel/noarch/repodata.json"} <= names
    assert any(n.startswith("site/wheels/tqdm-") and n.endswith(".whl") for n in names)
    assert any(n.startswith("site/channel/") and "/numpy-" in n for n in names)


def test_unpacked_bundle_syncs_offline_to_the_same_packages(
    bundled: tuple[Path, Lock], tmp_path: Path, cli: CLI, fresh_caches: None
) -> None:
    folder = unpack_bundle(bundled[0], tmp_path / "site-a")
    lock = load_lock(folder / "condauv.lock")
    assert lock is not None
    assert _identity(lock) == _identity(bundled[1])
    urls = [p.url for p in lock.conda] + [p.url for p in lock.pypi]
    assert all(url.startswith(folder.as_uri() + "/") for url in urls)
    result = cli("sync", "--frozen", "--offline", cwd=folder)
    assert result.exit_code == 0, result.stderr
    result = cli("check", cwd=folder)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert relocate_bundle(folder) == lock  # moved already: nothing changes


def test_tampered_artifact_is_refused_before_anything_is_installed(
    bundled: tuple[Path, Lock], tmp_path: Path, cli: CLI, fresh_caches: None
) -> None:
    with tarfile.open(bundled[0]) as tar:
        tar.extractall(tmp_path / "site-b", filter="data")  # a plain tar: `tar -xzf` does the same
    folder = tmp_path / "site-b" / "site"
    relocate_bundle(folder)
    numpy = next((folder / "channel").glob("*/numpy-*.conda"))
    data = bytearray(numpy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    numpy.write_bytes(bytes(data))
    result = cli("sync", "--frozen", "--offline", cwd=folder)
    assert result.exit_code == 2, result.stderr
    assert "sha256" in result.stderr and "numpy" in result.stderr
    assert not list((folder / ".condauv" / "env").glob("conda-meta/*.json"))  # nothing installed


def test_tampered_wheel_is_refused(
    bundled: tuple[Path, Lock], tmp_path: Path, cli: CLI, fresh_caches: None
) -> None:
    (tmp_path / "site-c").mkdir()
    result = cli("unbundle", bundled[0], "-C", tmp_path / "site-c", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    folder = tmp_path / "site-c" / "site"
    wheel = next((folder / "wheels").glob("tqdm-*.whl"))
    wheel.write_bytes(wheel.read_bytes() + b"\0")
    result = cli("sync", "--frozen", "--offline", cwd=folder)
    assert result.exit_code != 0
    assert "tqdm" in result.stderr and "hash" in result.stderr.lower()
    assert not list((folder / ".condauv" / "env").glob("lib/python*/site-packages/tqdm"))


def test_edited_bundle_lock_is_not_relocated(bundled: tuple[Path, Lock], tmp_path: Path) -> None:
    with tarfile.open(bundled[0]) as tar:
        tar.extractall(tmp_path, filter="data")
    folder = tmp_path / "site"
    manifest = folder / "condauv.toml"
    manifest.write_text(manifest.read_text().replace("[pypi-dependencies]", '[pypi-dependencies]\nsix = "*"'))
    before = (folder / "condauv.lock").read_text()
    with pytest.raises(LockfileError, match="not the bundle's lock"):
        relocate_bundle(folder)
    assert (folder / "condauv.lock").read_text() == before


def test_refuses_stale_lock_and_owned_outputs(tmp_path: Path, make_project: object, cli: CLI) -> None:
    folder = make_project()  # type: ignore[operator]
    assert isinstance(folder, Path)
    project = Project.load(folder / "condauv.toml")
    with pytest.raises(LockfileError, match=r"no condauv\.lock"):
        make_bundle(project, tmp_path / "b.tar.gz")
    assert cli("lock", "-q", cwd=folder).exit_code == 0
    for bad in (folder / "condauv.lock", folder / ".condauv" / "b.tar.gz"):
        with pytest.raises(UserError):
            make_bundle(project, bad)
    with (folder / "condauv.toml").open("a") as handle:
        handle.write('\n[classify]\n"tiny-*" = "pypi"\n')
    with pytest.raises(LockfileError, match="out of date"):
        make_bundle(Project.load(folder / "condauv.toml"), tmp_path / "b.tar.gz")
    assert not (tmp_path / "b.tar.gz").exists()
