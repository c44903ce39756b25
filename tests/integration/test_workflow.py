"""The core promise, end to end: one manifest -> a hybrid env, locked and reproducible."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from condauv.manifest.edit import ManifestDocument
from condauv.manifest.specs import parse_user_spec
from tests.clirunner import CLI
from tests.conftest import NUMPY_VERSION
from tests.integration.conftest import MakeProject

pytestmark = pytest.mark.slow

ENV = Path(".condauv") / "env"


def _python(folder: Path) -> Path:
    return folder / ENV / "bin" / "python"


def _listed(cli: CLI, folder: Path, *extra: str) -> dict[str, dict[str, Any]]:
    result = cli("list", "--json", *extra, cwd=folder)
    assert result.exit_code == 0, result.stderr
    return {p["name"]: p for p in json.loads(result.stdout)["packages"]}


def _package_set(prefix: Path) -> set[tuple[str, str, str, str]]:
    """(manager, name, version, sha256) of everything installed: conda-meta plus uv's RECORDs."""
    found = set()
    for record in (prefix / "conda-meta").glob("*.json"):
        data = json.loads(record.read_text())
        found.add(("conda", data["name"], data["version"], data["sha256"]))
    for dist in (prefix / "lib").glob("python3.*/site-packages/*.dist-info"):
        if (dist / "INSTALLER").read_text().strip() == "conda":
            continue
        name, version = dist.name.removesuffix(".dist-info").split("-", 1)
        direct = (
            json.loads((dist / "direct_url.json").read_text()) if (dist / "direct_url.json").exists() else {}
        )
        found.add(("pypi", name, version, str(direct.get("archive_info", {}).get("hash", ""))))
    return found


def _tree(prefix: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(prefix)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(prefix.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_add_numpy_and_requests_goes_to_both_managers(cli: CLI, make_project: MakeProject) -> None:
    folder = make_project()
    result = cli("add", "numpy", "requests", cwd=folder)
    assert result.exit_code == 0, result.stderr
    listed = _listed(cli, folder)
    assert listed["numpy"]["manager"] == "conda"
    assert listed["numpy"]["provides"] == [f"numpy=={listed['numpy']['version']}"]
    assert listed["python"]["manager"] == "conda"
    assert listed["requests"]["manager"] == "pypi"
    assert {"urllib3", "idna", "certifi"} <= {n for n, p in listed.items() if p["manager"] == "pypi"}
    assert "built-in" in listed["numpy"]["reason"] and "built-in" in listed["requests"]["reason"]
    assert listed["urllib3"]["reason"].startswith("required by requests")
    assert "numpy" not in {n for n, p in listed.items() if p["manager"] == "pypi"}
    done = subprocess.run(
        [
            _python(folder),
            "-c",
            "import numpy, requests, sys; print(numpy.__version__, requests.__version__, sys.prefix)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    version_numpy, version_requests, prefix = done.stdout.split()
    assert (version_numpy, version_requests) == (listed["numpy"]["version"], "2.32.3")
    assert Path(prefix) == (folder / ENV).resolve()
    # the numpy dist-info stays conda's: uv never touched it
    installer = next((folder / ENV).glob("lib/python3.*/site-packages/numpy-*.dist-info/INSTALLER"))
    assert installer.read_text().strip() == "conda"


def test_pypi_conflict_with_conda_changes_nothing(cli: CLI, make_project: MakeProject) -> None:
    folder = make_project()
    assert cli("add", "numpy", "six", cwd=folder).exit_code == 0
    manifest, lock = (folder / "condauv.toml").read_bytes(), (folder / "condauv.lock").read_bytes()
    tree = _tree(folder / ENV)
    result = cli("add", "--pypi", "needs-old-numpy", cwd=folder)
    assert result.exit_code == 2
    first = result.stderr.splitlines()[0]
    assert "needs-old-numpy requires numpy<2" in first
    assert "comes from conda package numpy" in first
    assert result.stderr.splitlines()[1].startswith("hint: ")
    assert (folder / "condauv.toml").read_bytes() == manifest
    assert (folder / "condauv.lock").read_bytes() == lock
    assert _tree(folder / ENV) == tree
    # a PyPI package that fits conda's numpy is fine, and does not bring its own numpy
    assert cli("add", "--pypi", "needs-new-numpy", cwd=folder).exit_code == 0
    lock_text = (folder / "condauv.lock").read_text()
    assert 'name = "needs-new-numpy"' in lock_text
    assert lock_text.count('name = "numpy"') == 1


def test_recreate_frozen_offline_and_lock_is_deterministic(cli: CLI, make_project: MakeProject) -> None:
    folder = make_project()
    assert cli("add", "numpy", "requests", "tiny-a", cwd=folder).exit_code == 0
    before = _package_set(folder / ENV)
    assert any(name == "tiny-a" for _, name, _, _ in before)
    lock = (folder / "condauv.lock").read_bytes()
    shutil.rmtree(folder / ENV)
    result = cli("sync", "--frozen", "--offline", cwd=folder)
    assert result.exit_code == 0, result.stderr
    assert _package_set(folder / ENV) == before
    assert (folder / "condauv.lock").read_bytes() == lock
    assert cli("lock", cwd=folder).exit_code == 0
    assert (folder / "condauv.lock").read_bytes() == lock
    (folder / "condauv.lock").unlink()
    assert cli("lock", cwd=folder).exit_code == 0
    assert (folder / "condauv.lock").read_bytes() == lock


def test_noop_sync_touches_nothing(cli: CLI, make_project: MakeProject) -> None:
    folder = make_project()
    assert cli("add", "numpy", "requests", cwd=folder).exit_code == 0
    tree = _tree(folder / ENV)
    result = cli("sync", cwd=folder)
    assert result.exit_code == 0
    assert "in sync" in result.stderr
    assert _tree(folder / ENV) == tree


def test_remove_takes_unneeded_pypi_dependencies_along(cli: CLI, make_project: MakeProject) -> None:
    folder = make_project()
    assert cli("add", "numpy", "requests", "click", cwd=folder).exit_code == 0
    conda_meta = {p.name: p.read_bytes() for p in (folder / ENV / "conda-meta").glob("*.json")}
    result = cli("remove", "requests", cwd=folder)
    assert result.exit_code == 0, result.stderr
    listed = _listed(cli, folder)
    assert not {"requests", "urllib3", "idna", "certifi"} & listed.keys()
    assert listed["click"]["manager"] == "pypi"
    assert {p.name: p.read_bytes() for p in (folder / ENV / "conda-meta").glob("*.json")} == conda_meta
    assert "requests" not in (folder / "condauv.toml").read_text()


def test_sync_into_an_existing_conda_prefix(
    cli: CLI, make_project: MakeProject, conda_channel: Path, tmp_path: Path
) -> None:
    import rattler

    prefix = tmp_path / "existing-env"
    records = asyncio.run(
        rattler.solve(
            [rattler.Channel(conda_channel.as_uri())],
            ["python 3.11.*", "numpy"],
            platforms=[rattler.Subdir.current(), rattler.Subdir("noarch")],
        )
    )
    asyncio.run(rattler.install(records, target_prefix=prefix, show_progress=False))
    conda_meta = {p.name: p.read_bytes() for p in (prefix / "conda-meta").glob("*.json")}
    folder = make_project()
    assert cli("add", "--no-sync", "numpy", "requests", cwd=folder).exit_code == 0
    result = cli("sync", "--prefix", prefix, cwd=folder)
    assert result.exit_code == 0, result.stderr
    assert {p.name: p.read_bytes() for p in (prefix / "conda-meta").glob("*.json")} == conda_meta
    listed = _listed(cli, folder, "--prefix", str(prefix))
    assert listed["requests"]["manager"] == "pypi"
    assert listed["numpy"]["manager"] == "conda"
    assert not (folder / ENV).exists()


def test_conda_side_errors(cli: CLI, make_project: MakeProject) -> None:
    folder = make_project()
    manifest = (folder / "condauv.toml").read_bytes()
    unknown = cli("add", "--conda", "nosuchpkg", cwd=folder)
    assert unknown.exit_code == 2
    assert "no conda package 'nosuchpkg'" in unknown.stderr.splitlines()[0]
    clash = cli("add", "--conda", "tiny-c", "tiny-d", cwd=folder)
    assert clash.exit_code == 2
    assert "tiny-b" in clash.stderr.splitlines()[0]
    assert (folder / "condauv.toml").read_bytes() == manifest
    assert not (folder / "condauv.lock").exists()
    assert not (folder / ENV).exists()


def test_frozen_refuses_a_stale_lock(cli: CLI, make_project: MakeProject) -> None:
    folder = make_project()
    assert cli("add", "--no-sync", "six", cwd=folder).exit_code == 0
    document = ManifestDocument.open(folder / "condauv.toml")
    document.add(parse_user_spec("tiny-a", "conda-dependencies"))
    (folder / "condauv.toml").write_text(document.text())
    result = cli("sync", "--frozen", cwd=folder)
    assert result.exit_code == 2
    assert "out of date" in result.stderr
    assert not (folder / ENV).exists()


def test_run_uses_the_activated_environment(cli: CLI, make_project: MakeProject, tmp_path: Path) -> None:
    folder = make_project()
    assert cli("add", "numpy", cwd=folder).exit_code == 0
    out = tmp_path / "out.txt"
    code = (
        f"import numpy, os; open({str(out)!r}, 'w').write(numpy.__file__ + ' ' + os.environ['CONDA_PREFIX'])"
    )
    result = cli("run", "--", "python", "-c", code, cwd=folder)
    assert result.exit_code == 0, result.stderr
    numpy_file, conda_prefix = out.read_text().split()
    prefix = str((folder / ENV).resolve())
    assert numpy_file.startswith(prefix)
    assert conda_prefix == prefix
    failing = cli("run", "--", "python", "-c", "raise SystemExit(3)", cwd=folder)
    assert failing.exit_code == 3


def test_one_lock_for_two_platforms(cli: CLI, make_project: MakeProject) -> None:
    folder = make_project()
    document = ManifestDocument.open(folder / "condauv.toml")
    text = document.text().replace('platforms = ["linux-64"]', 'platforms = ["linux-64", "osx-arm64"]')
    (folder / "condauv.toml").write_text(text)
    result = cli("add", "numpy", "requests", cwd=folder)
    assert result.exit_code == 0, result.stderr
    from condauv.lock import load_lock

    lock = load_lock(folder / "condauv.lock")
    assert lock is not None
    assert lock.platforms == ("linux-64", "osx-arm64")
    for platform in lock.platforms:
        conda = {p.name: p for p in lock.conda_for(platform)}
        assert conda["numpy"].provided_names() == {"numpy": NUMPY_VERSION}
        assert conda["python"].subdir == platform
        assert {p.name for p in lock.pypi_for(platform)} == {"requests", "urllib3", "idna", "certifi"}
    # this machine's platform was installed; the other one only locked
    assert _listed(cli, folder)["requests"]["manager"] == "pypi"
