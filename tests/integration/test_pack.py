"""condauv pack against the real conda-pack: a synced project (numpy from the local conda channel,
tqdm from the wheelhouse) packed, unpacked into another folder, relocated with ``bin/conda-unpack``
and used there with the original prefix deleted; damaged, drifted or stale projects are refused."""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from condauv.__main__ import main
from tests.clirunner import CLI, chdir

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory, conda_channel: Path, wheelhouse: Path) -> Iterator[Path]:
    """One project for the module: numpy (conda) and tqdm (PyPI), synced."""
    folder = tmp_path_factory.mktemp("pack") / "proj"
    folder.mkdir()
    with chdir(folder):
        assert main(["init", "--channel", conda_channel.as_uri(), "-q"]) == 0
        with (folder / "condauv.toml").open("a") as handle:
            handle.write(f'\n[pypi-options]\nfind-links = ["{wheelhouse}"]\nno-index = true\n')
        assert main(["add", "numpy", "tqdm", "-q"]) == 0
    yield folder


def _prefix(folder: Path) -> Path:
    return folder / ".condauv" / "env"


def _numpy_file(prefix: Path) -> Path:
    """A file of conda's numpy package (from its conda-meta record)."""
    record = next((prefix / "conda-meta").glob("numpy-*.json"))
    files = json.loads(record.read_text())["files"]
    return prefix / next(str(f) for f in files if str(f).endswith("numpy/version.py"))


def test_refuses_a_damaged_prefix(synced: Path, cli: CLI, tmp_path: Path) -> None:
    target = _numpy_file(_prefix(synced))
    original = target.read_bytes()
    target.write_bytes(original + b"\n# edited\n")
    try:
        result = cli("pack", "-o", tmp_path / "env.tar.gz", cwd=synced)
    finally:
        target.write_bytes(original)
    assert result.exit_code == 2, result.stderr
    assert "error:" in result.stderr and "hint:" in result.stderr
    assert "clobbered" in result.stderr or "numpy" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_refuses_a_stale_lock(synced: Path, cli: CLI, tmp_path: Path) -> None:
    manifest = synced / "condauv.toml"
    original = manifest.read_text()
    manifest.write_text(original.replace('tqdm = "*"', 'tqdm = "*"\nclick = "*"', 1))
    try:
        changed = manifest.read_text() != original
        result = cli("pack", "-o", tmp_path / "env.tar.gz", cwd=synced)
    finally:
        manifest.write_text(original)
    assert changed
    assert result.exit_code == 2, result.stderr
    assert "condauv.lock" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where", ["prefix", "state", "lock", "manifest"])
def test_refuses_outputs_condauv_owns(synced: Path, cli: CLI, where: str) -> None:
    target = {
        "prefix": _prefix(synced) / "env.tar.gz",
        "state": synced / ".condauv" / "env.tar.gz",
        "lock": synced / "condauv.lock",
        "manifest": synced / "condauv.toml",
    }[where]
    before = target.read_bytes() if target.exists() else None
    result = cli("pack", "-o", target, cwd=synced)
    assert result.exit_code == 2, result.stderr
    assert "error:" in result.stderr and "hint:" in result.stderr
    assert (target.read_bytes() if target.exists() else None) == before


def test_refuses_an_unknown_suffix(synced: Path, cli: CLI, tmp_path: Path) -> None:
    result = cli("pack", "-o", tmp_path / "env.rar", cwd=synced)
    assert result.exit_code == 2, result.stderr
    assert ".tar.gz" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_pack_unpack_elsewhere(synced: Path, cli: CLI, tmp_path: Path) -> None:
    archive = tmp_path / "out" / "env.tar.gz"
    archive.parent.mkdir()
    result = cli("pack", "-o", archive, "--json", cwd=synced)
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["path"] == str(archive) and payload["size"] == archive.stat().st_size
    assert payload["files"] > 100
    assert [p.name for p in archive.parent.iterdir()] == ["env.tar.gz"]  # no temp file left
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {"conda-meta/condauv-lock.toml", "conda-meta/condauv-manifest.toml", "bin/conda-unpack"} <= names

    unpacked = tmp_path / "elsewhere" / "env"
    unpacked.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="tar")
    subprocess.run([unpacked / "bin" / "conda-unpack"], check=True, capture_output=True)
    shutil.rmtree(_prefix(synced))
    try:
        done = subprocess.run(
            [unpacked / "bin" / "python", "-c", "import numpy, tqdm; print(numpy.__file__, tqdm.__file__)"],
            check=True,
            capture_output=True,
            text=True,
        )
        for path in done.stdout.split():
            assert Path(path).is_relative_to(unpacked), done.stdout
        checked = cli("check", "--prefix", unpacked, cwd=tmp_path)
        assert checked.exit_code == 0, checked.stdout + checked.stderr
        assert "is clean" in checked.stderr
    finally:
        assert cli("sync", "-q", cwd=synced).exit_code == 0  # the module's project, whole again


def test_default_output_and_zip(synced: Path, cli: CLI, tmp_path: Path) -> None:
    zipped = tmp_path / "env.zip"
    assert cli("pack", "-o", zipped, "-q", cwd=synced).exit_code == 0
    assert zipped.read_bytes()[:2] == b"PK"
    assert zipped.stat().st_mode & 0o777 == 0o644
    default = synced / "proj.tar.gz"
    default.write_bytes(b"an older archive")  # replaced
    try:
        result = cli("pack", cwd=synced)
        assert result.exit_code == 0, result.stderr
        assert f"wrote {default}" in result.stderr and "conda-unpack" in result.stderr
        assert tarfile.is_tarfile(default)
        assert default.stat().st_mode & 0o777 == 0o644  # the replaced file's, not mkstemp's 0600
        assert not [p for p in synced.iterdir() if p.name.startswith(".proj.tar.gz")]
    finally:
        default.unlink()


def test_bundle_flag(synced: Path, cli: CLI, tmp_path: Path) -> None:
    """``--bundle`` reaches :func:`condauv.pack.bundle.make_bundle` (its contents: test_bundle.py)."""
    target = tmp_path / "site.tar.gz"
    result = cli("pack", "--bundle", "-o", target, "--json", cwd=synced)
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["path"] == str(target) and payload["size"] == target.stat().st_size
    with tarfile.open(target) as tar:
        names = tar.getnames()
    assert any(name.endswith("condauv.lock") for name in names)
    assert any(name.endswith(".conda") for name in names)
