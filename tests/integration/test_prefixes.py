"""Which folders `sync` may write, and what it owes the conda packages it removes.

A prefix is new (missing or empty: condauv makes it and marks it), managed (condauv made it or
adopted it in place) or a foreign conda prefix (condauv adds to it and removes nothing of it
without --force). Any other non-empty folder (a venv, ``~/.local``, the project folder) is
refused before anything is written. Removing a conda package removes its files, whoever wrote
its record: real conda's noarch records (from the conda 26.7.1 fixture) are not unlinked by rattler.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from condauv.conda import engine
from condauv.conda.prefix import LOCK_COPY, MANIFEST_COPY, MARKER
from condauv.platforms import current_subdir, python_site_packages
from tests.clirunner import CLI
from tests.integration.conftest import MakeProject

pytestmark = pytest.mark.slow

ENV = Path(".condauv") / "env"
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
SITE = python_site_packages(PYTHON)
FIXTURE = Path(__file__).resolve().parents[1] / "data" / "conda-26.7.1" / "conda-meta"


def _tree(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every entry under ``folder`` with its size, mtime and (for files) content."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.name == "project.lock":
            continue  # the project lock every writing command takes: not the folder's content
        stat = path.lstat()
        content = path.read_bytes() if path.is_file() and not path.is_symlink() else b""
        found[path.relative_to(folder).as_posix()] = (stat.st_size, stat.st_mtime_ns, content)
    return found


def _set_prefix(folder: Path, prefix: str) -> None:
    manifest = folder / "condauv.toml"
    text = manifest.read_text()
    manifest.write_text(text.replace("[environment]\n", f"[environment]\nprefix = {json.dumps(prefix)}\n", 1))


def _refused(cli: CLI, folder: Path, target: Path, *args: str) -> None:
    """``args`` exit 2 naming ``target``; the target, the manifest and the lock are unchanged."""
    before = _tree(target)
    project = {p: p.read_bytes() for p in (folder / "condauv.toml", folder / "condauv.lock") if p.exists()}
    result = cli(*args, cwd=folder)
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error:") and str(target) in lines[0], result.stderr
    assert any(line.startswith("hint:") for line in lines), result.stderr
    assert "Traceback" not in result.stderr
    assert _tree(target) == before
    after = {p: p.read_bytes() for p in (folder / "condauv.toml", folder / "condauv.lock") if p.exists()}
    assert after == project


def test_a_venv_is_refused_before_anything_is_written(
    cli: CLI, make_project: MakeProject, tmp_path: Path
) -> None:
    venv = tmp_path / "some-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    (venv / SITE).mkdir(parents=True, exist_ok=True)
    (venv / SITE / "mine.py").write_text("mine = True\n")
    folder = make_project()
    _set_prefix(folder, "../some-venv")
    _refused(cli, folder, venv, "sync")
    assert not (folder / "condauv.lock").exists()
    _refused(cli, folder, venv, "add", "six")
    assert "six" not in (folder / "condauv.toml").read_text()
    assert not (venv / "conda-meta").exists()


def test_a_home_folder_is_refused(
    cli: CLI, make_project: MakeProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    local = home / ".local"
    (local / "bin").mkdir(parents=True)
    (local / "bin" / "tool").write_text("#!/bin/sh\n")
    (local / "lib" / f"python{PYTHON}" / "site-packages").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    folder = make_project()
    assert cli("lock", cwd=folder).exit_code == 0
    _set_prefix(folder, "~/.local")
    _refused(cli, folder, local, "sync")
    _refused(cli, folder, local, "sync", "--force")
    _refused(cli, folder, home, "sync", "--prefix", str(home))
    _refused(cli, folder, folder, "sync", "--prefix", str(folder))
    assert not (local / "bin" / "python").exists()


def test_a_control_character_in_the_prefix_is_bad_input(cli: CLI, make_project: MakeProject) -> None:
    folder = make_project()
    for bad in ("env\x00x", "env\x01x", "env\nx"):
        result = cli("sync", "--prefix", bad, cwd=folder)
        assert result.exit_code == 2, result.stderr
        assert result.stderr.startswith("error:") and "hint:" in result.stderr
        assert "Traceback" not in result.stderr
    _set_prefix(folder, "env\x00x")
    result = cli("sync", cwd=folder)
    assert result.exit_code == 2, result.stderr
    assert not (folder / "condauv.lock").exists()


def test_a_new_or_empty_prefix_is_made_and_marked(
    cli: CLI, make_project: MakeProject, tmp_path: Path
) -> None:
    folder = make_project()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli("add", "--no-sync", "six", cwd=folder).exit_code == 0
    for prefix in (empty, tmp_path / "new" / "env"):
        result = cli("sync", "--prefix", prefix, cwd=folder)
        assert result.exit_code == 0, result.stderr
        assert (prefix / "conda-meta" / MARKER).is_file()
        assert (prefix / "bin" / "python").exists()


def _foreign_env(prefix: Path, channel: Path) -> None:
    """python + numpy + tiny-a by py-rattler alone: a conda prefix condauv did not make."""
    subdir = current_subdir()
    specs = ["python 3.11.*", "numpy", "tiny-a"]
    records = engine.solve([channel.as_uri()], specs, subdir)
    engine.install([engine.record_to_package(r, subdir) for r in records], prefix, requested=specs)


def test_a_foreign_prefix_stays_foreign_after_a_sync(
    cli: CLI, make_project: MakeProject, conda_channel: Path, tmp_path: Path
) -> None:
    prefix = tmp_path / "foreign"
    _foreign_env(prefix, conda_channel)
    folder = make_project()
    assert cli("add", "--no-sync", "numpy", "tiny-a", "six", cwd=folder).exit_code == 0
    first = cli("sync", "--prefix", prefix, cwd=folder)
    assert first.exit_code == 0, first.stderr
    assert not (prefix / "conda-meta" / MARKER).exists()
    assert cli("remove", "--no-sync", "tiny-a", cwd=folder).exit_code == 0
    records = sorted(p.name for p in (prefix / "conda-meta").glob("*.json"))
    second = cli("sync", "--prefix", prefix, cwd=folder)
    assert second.exit_code == 2, second.stderr
    assert "tiny-a" in second.stderr.splitlines()[0]
    assert sorted(p.name for p in (prefix / "conda-meta").glob("*.json")) == records
    forced = cli("sync", "--prefix", prefix, "--force", cwd=folder)
    assert forced.exit_code == 0, forced.stderr
    assert not any(p.name.startswith("tiny-a-") for p in (prefix / "conda-meta").glob("*.json"))
    assert not (prefix / "conda-meta" / MARKER).exists()


def test_remove_in_a_foreign_prefix_says_and_takes_force(
    cli: CLI, make_project: MakeProject, conda_channel: Path, tmp_path: Path
) -> None:
    """`remove` that would unlink a foreign prefix's package is refused with a hint that works:
    `remove --force` (a hint to `sync --force` changed nothing: the manifest was restored)."""
    prefix = tmp_path / "foreign"
    _foreign_env(prefix, conda_channel)
    folder = make_project()
    manifest = folder / "condauv.toml"
    assert cli("add", "--no-sync", "--conda", "numpy", "tiny-a", cwd=folder).exit_code == 0
    text = manifest.read_text()
    manifest_text = text.replace("[environment]\n", f'[environment]\nprefix = "{prefix}"\n', 1)
    manifest.write_text(manifest_text)
    assert cli("sync", cwd=folder).exit_code == 0
    refused = cli("remove", "tiny-a", cwd=folder)
    assert refused.exit_code == 2, refused.stderr
    assert "condauv remove --force" in refused.stderr
    assert manifest.read_text() == manifest_text
    forced = cli("remove", "--force", "tiny-a", cwd=folder)
    assert forced.exit_code == 0, forced.stderr
    assert not any(p.name.startswith("tiny-a-") for p in (prefix / "conda-meta").glob("*.json"))
    assert not (prefix / "conda-meta" / MARKER).exists()  # still foreign


def test_adopt_in_place_marks_the_prefix(cli: CLI, conda_channel: Path, tmp_path: Path) -> None:
    prefix = tmp_path / "adopted"
    _foreign_env(prefix, conda_channel)
    folder = tmp_path / "project"
    folder.mkdir()
    result = cli("adopt", prefix, "--in-place", "--no-index", cwd=folder)
    assert result.exit_code == 0, result.stderr
    assert (prefix / "conda-meta" / MARKER).is_file()
    assert cli("remove", "tiny-a", cwd=folder).exit_code == 0  # managed now: sync may remove
    assert not any(p.name.startswith("tiny-a-") for p in (prefix / "conda-meta").glob("*.json"))


def _conda_installs_six(prefix: Path, extra_files: dict[str, bytes | None]) -> dict[str, Path]:
    """What `conda install six` (conda 26.7.1) leaves: the fixture's record with its files.

    The record keeps conda's shape (``files`` prefix paths, ``paths_data`` package paths); its
    paths follow this prefix's python and its hashes the contents written here. ``extra_files``
    adds paths to ``files`` (``None``: listed, not written by us).
    """
    record = json.loads((FIXTURE / "six-1.17.0-pyh_0.json").read_text())
    contents = {
        "six-1.17.0.dist-info/INSTALLER": b"conda\n",
        "six-1.17.0.dist-info/LICENSE": b"MIT\n",
        "six-1.17.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: six\nVersion: 1.17.0\n",
        "six-1.17.0.dist-info/RECORD": b"six.py,,\n",
        "six-1.17.0.dist-info/WHEEL": b"Wheel-Version: 1.0\n",
        "six-1.17.0.dist-info/top_level.txt": b"six\n",
        "six.py": b'__version__ = "1.17.0"\n',
    }
    assert {p["_path"].removeprefix("site-packages/") for p in record["paths_data"]["paths"]} == set(contents)
    written = {}
    for entry in record["paths_data"]["paths"]:
        inner = entry["_path"].removeprefix("site-packages/")
        data = contents[inner]
        target = prefix / SITE / inner
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written[inner] = target
        digest = hashlib.sha256(data).hexdigest()
        entry.update(sha256=digest, sha256_in_prefix=digest, size_in_bytes=len(data))
    record["files"] = [f"{SITE}/{inner}" for inner in contents]
    for path, extra in extra_files.items():
        record["files"].append(path)
        if extra is not None:
            (prefix / path).parent.mkdir(parents=True, exist_ok=True)
            (prefix / path).write_bytes(extra)
        digest = hashlib.sha256(extra or b"").hexdigest()
        record["paths_data"]["paths"].append(
            {
                "_path": path.replace(f"{SITE}/", "site-packages/", 1),
                "path_type": "hardlink",
                "sha256": digest,
                "sha256_in_prefix": digest,
                "size_in_bytes": len(extra or b""),
            }
        )
    (prefix / "conda-meta" / "six-1.17.0-pyh_0.json").write_text(json.dumps(record, indent=2))
    return written


def test_sync_removes_the_files_of_a_conda_written_record(cli: CLI, make_project: MakeProject) -> None:
    folder = make_project()
    assert cli("add", "numpy", cwd=folder).exit_code == 0
    prefix = folder / ENV
    numpy_init = prefix / SITE / "numpy" / "__init__.py"
    numpy_bytes = numpy_init.read_bytes()
    written = _conda_installs_six(
        prefix,
        {
            f"{SITE}/numpy/__init__.py": None,  # another record's file: kept
            "share/six-data/notes.txt": b"notes\n",  # its own folder: removed, then the folder
        },
    )
    python = prefix / "bin" / "python"
    assert subprocess.run([python, "-c", "import six"], check=False, capture_output=True).returncode == 0

    result = cli("sync", cwd=folder)
    assert result.exit_code == 0, result.stderr
    assert "six" in result.stderr
    assert not list((prefix / "conda-meta").glob("six-*.json"))
    assert not any(path.exists() for path in written.values())
    assert not (prefix / SITE / "six-1.17.0.dist-info").exists()
    assert not (prefix / "share" / "six-data").exists()
    assert numpy_init.read_bytes() == numpy_bytes
    assert subprocess.run([python, "-c", "import six"], check=False, capture_output=True).returncode != 0
    check = cli("check", cwd=folder)
    assert check.exit_code == 0, check.stdout + check.stderr


@pytest.mark.parametrize("escape", ["../outside.txt", "share/linked/victim.txt"])
def test_a_record_with_paths_outside_the_prefix_is_not_unlinked(
    cli: CLI, make_project: MakeProject, tmp_path: Path, escape: str
) -> None:
    """rattler deletes every path of a record it unlinks: `..` and links out of the prefix too."""
    folder = make_project()
    assert cli("add", "numpy", cwd=folder).exit_code == 0
    prefix = folder / ENV
    outside = folder / ".condauv" / "outside.txt"
    outside.write_text("not the prefix's\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "victim.txt").write_text("foreign\n")
    (prefix / "share").mkdir(exist_ok=True)
    (prefix / "share" / "linked").symlink_to(elsewhere, target_is_directory=True)
    written = _conda_installs_six(prefix, {escape: None})

    result = cli("sync", cwd=folder)
    assert result.exit_code == 2, result.stderr
    assert "six-1.17.0-pyh_0.json" in result.stderr.splitlines()[0]
    assert escape in result.stderr.splitlines()[0]
    assert outside.read_text() == "not the prefix's\n"
    assert (elsewhere / "victim.txt").read_text() == "foreign\n"
    assert list((prefix / "conda-meta").glob("six-*.json"))
    assert all(path.exists() for path in written.values())


def _numpy_record(prefix: Path) -> dict[str, object]:
    (path,) = (prefix / "conda-meta").glob("numpy-*.json")
    data: dict[str, object] = json.loads(path.read_text())
    return data


def test_repair_keeps_the_requested_specs(cli: CLI, make_project: MakeProject) -> None:
    folder = make_project()
    assert cli("add", "numpy", cwd=folder).exit_code == 0
    prefix = folder / ENV
    requested = _numpy_record(prefix)["requested_specs"]
    assert requested == ["numpy"]
    version = prefix / SITE / "numpy" / "version.py"
    version.unlink()
    result = cli("sync", "--repair", cwd=folder)
    assert result.exit_code == 0, result.stderr
    assert "relinked numpy" in result.stderr
    assert version.is_file()
    assert _numpy_record(prefix)["requested_specs"] == requested


def test_sync_keeps_a_copy_of_the_lock_and_manifest(cli: CLI, make_project: MakeProject) -> None:
    folder = make_project()
    assert cli("add", "six", cwd=folder).exit_code == 0
    meta = folder / ENV / "conda-meta"
    lock_copy, manifest_copy = meta / LOCK_COPY, meta / MANIFEST_COPY
    assert lock_copy.read_text() == (folder / "condauv.lock").read_text()
    assert manifest_copy.read_text() == (folder / "condauv.toml").read_text()
    stamps = (lock_copy.stat().st_mtime_ns, manifest_copy.stat().st_mtime_ns)
    assert cli("sync", cwd=folder).exit_code == 0
    assert (lock_copy.stat().st_mtime_ns, manifest_copy.stat().st_mtime_ns) == stamps
    manifest = folder / "condauv.toml"
    manifest.write_text(manifest.read_text() + "# a comment changes the manifest, not the lock\n")
    assert cli("sync", cwd=folder).exit_code == 0
    assert manifest_copy.read_text() == manifest.read_text()
    os.utime(lock_copy, ns=(0, 0))
    assert cli("remove", "six", cwd=folder).exit_code == 0
    assert lock_copy.read_text() == (folder / "condauv.lock").read_text()
