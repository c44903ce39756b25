"""What uv installs is what was locked, and a repair makes it so again (red-team findings on sync).

Real uv, real rattler: a ``file://`` wheel changed after locking is refused before the prefix
changes (as the conda side's archives are); uv hard-links files from its cache, so an edit in a
prefix alters the cache too: ``sync --repair`` fetches the artifact again rather than relinking
the cache, and a sync of another prefix does not spread the altered file. Each test's package
name is its own, since uv's cache is shared by the session.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.clirunner import CLI
from tests.helpers.index import SimpleIndex, index_entry, serve_index
from tests.helpers.projects import clone_project
from tests.helpers.sdists import write_backend_wheel, write_sdist
from tests.helpers.wheels import write_wheel

pytestmark = pytest.mark.slow

ENV = Path(".condauv") / "env"
#: a module big enough that one changed byte lands in a member's compressed data
SOURCE = "".join(f"VALUE_{i} = {i * 7919}\n" for i in range(400))


def _project(cli: CLI, tmp_path: Path, conda_channel: Path, options: str, name: str = "proj") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    result = cli("init", "--channel", conda_channel.as_uri(), cwd=folder)
    assert result.exit_code == 0, result.stderr
    with (folder / "condauv.toml").open("a", encoding="utf-8") as handle:
        handle.write(f"\n[pypi-options]\n{options}\n")
    return folder


def _links(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A find-links folder holding one wheel of ``name`` 1.0; (folder, wheel)."""
    links = tmp_path / "links"
    module = name.replace("-", "_")
    wheel = write_wheel(links, name, "1.0", modules={module: SOURCE})
    return links, wheel


def _module(folder: Path, name: str) -> Path:
    return next((folder / ENV).glob("lib/python3.*/site-packages")) / name.replace("-", "_") / "__init__.py"


def _check(cli: CLI, folder: Path) -> tuple[int, dict[str, Any]]:
    result = cli("check", "--json", cwd=folder)
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, json.loads(result.stdout)


def _nothing_installed(folder: Path) -> None:
    meta = folder / ENV / "conda-meta"
    assert not list(meta.glob("*.json")), "the conda side was installed"
    assert not (folder / ENV / "bin").exists()
    assert not list(meta.glob("*journal*")), "a journal was written"


def test_a_local_wheel_changed_after_locking_is_refused_before_anything_changes(
    cli: CLI, tmp_path: Path, conda_channel: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    links, wheel = _links(tmp_path, "integrity-one")
    folder = _project(cli, tmp_path, conda_channel, f'find-links = ["{links}"]\nno-index = true')
    assert cli("add", "--no-sync", "--pypi", "integrity-one==1.0", cwd=folder).exit_code == 0
    genuine = wheel.read_bytes()
    locked = hashlib.sha256(genuine).hexdigest()
    assert locked in (folder / "condauv.lock").read_text(encoding="utf-8")
    changed = bytearray(genuine)
    changed[len(changed) // 3] ^= 0x01  # one byte, in the module's compressed data
    wheel.write_bytes(bytes(changed))
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "fresh-uv-cache"))  # uv must read the file

    result = cli("sync", "--frozen", "--offline", cwd=folder)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "integrity-one" in result.stderr and "does not match condauv.lock" in result.stderr
    assert locked in result.stderr and hashlib.sha256(changed).hexdigest() in result.stderr
    _nothing_installed(folder)

    wheel.unlink()  # gone: one error, before anything changes, too
    result = cli("sync", "--frozen", "--offline", cwd=folder)
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert "integrity-one" in result.stderr and str(wheel) in result.stderr
    _nothing_installed(folder)

    wheel.write_bytes(genuine)
    result = cli("sync", "--frozen", "--offline", cwd=folder)
    assert result.exit_code == 0, result.stderr
    assert _module(folder, "integrity-one").read_text(encoding="utf-8") == SOURCE


def _tamper(path: Path) -> None:
    with path.open("ab") as handle:  # in place: uv's cache shares the inode when it hard-linked
        handle.write(b"# tampered\n")


def test_repair_fetches_a_local_wheel_again_rather_than_relinking_uvs_cache(
    cli: CLI, tmp_path: Path, conda_channel: Path
) -> None:
    links, _ = _links(tmp_path, "integrity-two")
    folder = _project(cli, tmp_path, conda_channel, f'find-links = ["{links}"]\nno-index = true')
    assert cli("add", "--pypi", "integrity-two==1.0", cwd=folder).exit_code == 0
    module = _module(folder, "integrity-two")
    _tamper(module)
    code, report = _check(cli, folder)
    assert code == 1 and any(f["kind"] == "clobbered" for f in report["findings"])

    repaired = cli("sync", "--repair", cwd=folder)
    assert repaired.exit_code == 0, repaired.stderr
    assert "reinstalled integrity-two 1.0 (pypi)" in repaired.stderr
    assert module.read_text(encoding="utf-8") == SOURCE
    assert _check(cli, folder)[0] == 0

    clone = clone_project(folder, "clone")  # uv's cache holds the genuine file again
    assert cli("sync", "--frozen", cwd=clone).exit_code == 0
    assert _module(clone, "integrity-two").read_text(encoding="utf-8") == SOURCE


@pytest.fixture
def wheel_index(tmp_path: Path) -> Iterator[SimpleIndex]:
    """integrity-three 1.0 on a localhost index that says, as PyPI does, that its files never change."""
    wheel = write_wheel(tmp_path / "served", "integrity-three", "1.0", modules={"integrity_three": SOURCE})
    data = wheel.read_bytes()
    with serve_index() as start:
        yield start({"integrity-three": [index_entry(wheel.name, data)]}, {wheel.name: data}, immutable=True)


def test_repair_downloads_an_index_wheel_again(
    cli: CLI, tmp_path: Path, conda_channel: Path, wheel_index: SimpleIndex
) -> None:
    folder = _project(cli, tmp_path, conda_channel, f'index-url = "{wheel_index.url}"')
    assert cli("add", "--pypi", "integrity-three==1.0", cwd=folder).exit_code == 0
    downloads = wheel_index.downloads
    module = _module(folder, "integrity-three")
    _tamper(module)

    # offline, uv's cache holds the only copy, altered too: the repair says it failed
    offline = cli("sync", "--repair", "--offline", cwd=folder)
    assert offline.exit_code == 1, offline.stderr
    assert "could not repair: integrity-three 1.0 (pypi)" in offline.stderr and "--offline" in offline.stderr
    assert "reinstalled integrity-three" not in offline.stderr
    assert module.read_text(encoding="utf-8") != SOURCE
    assert wheel_index.downloads == downloads

    repaired = cli("sync", "--repair", cwd=folder)
    assert repaired.exit_code == 0, repaired.stderr
    assert "reinstalled integrity-three 1.0 (pypi)" in repaired.stderr
    assert module.read_text(encoding="utf-8") == SOURCE
    assert wheel_index.downloads == downloads + 1
    assert _check(cli, folder)[0] == 0


def test_a_file_altered_in_uvs_cache_does_not_reach_another_prefix(
    cli: CLI, tmp_path: Path, conda_channel: Path
) -> None:
    links, _ = _links(tmp_path, "integrity-four")
    folder = _project(cli, tmp_path, conda_channel, f'find-links = ["{links}"]\nno-index = true')
    assert cli("add", "--pypi", "integrity-four==1.0", cwd=folder).exit_code == 0
    _tamper(_module(folder, "integrity-four"))  # and, through the hard link, uv's cache

    clone = clone_project(folder, "clone")
    synced = cli("sync", "--frozen", "--json", cwd=clone)
    assert synced.exit_code == 0, synced.stderr
    assert _module(clone, "integrity-four").read_text(encoding="utf-8") == SOURCE
    repaired = json.loads(synced.stdout)["repaired"]
    assert any("integrity-four" in item and "uv's cache" in item for item in repaired), repaired
    assert _check(cli, clone)[0] == 0
    assert _check(cli, folder)[0] == 1  # the first prefix's damage is its own: check still says so


def test_sync_says_it_builds_an_sdist(cli: CLI, tmp_path: Path, conda_channel: Path) -> None:
    links = tmp_path / "sdists"
    write_sdist(links, "integrity-sdist", "1.0")
    write_backend_wheel(links)
    folder = _project(cli, tmp_path, conda_channel, f'find-links = ["{links}"]\nno-index = true')
    assert cli("add", "--no-sync", "--pypi", "integrity-sdist==1.0", cwd=folder).exit_code == 0
    notice = "building integrity-sdist 1.0 from its sdist: this runs its build code"

    synced = cli("sync", cwd=folder)
    assert synced.exit_code == 0, synced.stderr
    assert synced.stderr.count(notice) == 1, synced.stderr
    for quiet in ("-q", "--json"):
        shutil.rmtree(folder / ENV)
        synced = cli("sync", quiet, cwd=folder)
        assert synced.exit_code == 0, synced.stderr
        assert "building" not in synced.stderr, synced.stderr
