"""The no-op fast path of ``sync`` and ``run``: a stamp in conda-meta, written by a sync that left
nothing to do, proves the next one has nothing to do either, without reading the lock.

Each test shows the fast path taken (``-v`` says ``in sync (stamp)``) or, after something that
matters changed, not taken: then the full sync runs and does what it always did. Real rattler
and uv, the local channel and wheelhouse.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from uv import find_uv_bin

import condauv
from condauv.sync import journal, stamp
from tests.clirunner import CLI
from tests.helpers.wheels import write_wheel
from tests.integration.conftest import MakeProject

pytestmark = pytest.mark.slow

ENV = Path(".condauv") / "env"
FAST = "in sync (stamp)"


def _site(folder: Path) -> Path:
    return next((folder / ENV / "lib").glob("python3.*/site-packages"))


@pytest.fixture
def synced(cli: CLI, make_project: MakeProject) -> Path:
    """A project with six (conda, a Python distribution) and requests (PyPI, with its
    dependencies), synced."""
    folder = make_project()
    result = cli("add", "six", "requests", cwd=folder)
    assert result.exit_code == 0, result.stderr
    assert (folder / ENV / "conda-meta" / stamp.STAMP).is_file()
    return folder


def _sync(cli: CLI, folder: Path, *args: str) -> str:
    result = cli("sync", "-v", *args, cwd=folder)
    assert result.exit_code == 0, result.stderr
    return result.stderr


def test_a_noop_sync_and_run_take_the_fast_path(cli: CLI, synced: Path) -> None:
    said = _sync(cli, synced)
    assert FAST in said
    assert f"{synced / ENV} is in sync" in said
    for args in ((), ("--frozen",), ("--offline",), ("--frozen", "--offline")):
        assert FAST in _sync(cli, synced, *args)
    quiet = cli("sync", "-q", cwd=synced)
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")
    result = cli("run", "-v", "--", "python", "-c", "import six, requests", cwd=synced)
    assert result.exit_code == 0, result.stderr
    assert FAST in result.stderr


def test_repair_and_json_never_take_it(cli: CLI, synced: Path) -> None:
    assert FAST not in _sync(cli, synced, "--repair")
    result = cli("sync", "-v", "--json", cwd=synced)
    assert result.exit_code == 0, result.stderr
    assert FAST not in result.stderr
    assert '"conda": {' in result.stdout


def test_a_sync_that_leaves_nothing_to_do_writes_the_stamp_again(cli: CLI, synced: Path) -> None:
    (synced / ENV / "conda-meta" / stamp.STAMP).unlink()
    said = _sync(cli, synced)
    assert FAST not in said and "is in sync" in said
    assert FAST in _sync(cli, synced)


def test_an_edited_manifest_is_not_in_sync_by_stamp(cli: CLI, synced: Path) -> None:
    manifest = synced / "condauv.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + "# a comment\n", encoding="utf-8")
    assert FAST not in _sync(cli, synced)
    assert FAST in _sync(cli, synced)  # the comment changes nothing: stamped again
    text = manifest.read_text(encoding="utf-8").replace("six = ", 'tqdm = "*"\nsix = ', 1)
    manifest.write_text(text, encoding="utf-8")
    said = _sync(cli, synced)
    assert FAST not in said and " + tqdm " in said


def test_an_edited_lock_is_not_in_sync_by_stamp(cli: CLI, synced: Path) -> None:
    lock = synced / "condauv.lock"
    lock.write_text(lock.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert FAST not in _sync(cli, synced)


def test_a_removed_conda_record_is_not_in_sync_by_stamp(cli: CLI, synced: Path) -> None:
    record = next((synced / ENV / "conda-meta").glob("six-*.json"))
    record.unlink()
    said = _sync(cli, synced)
    assert FAST not in said and " + six " in said
    assert record.is_file()


def test_a_removed_dist_info_is_not_in_sync_by_stamp(cli: CLI, synced: Path) -> None:
    dist = next(_site(synced).glob("idna-*.dist-info"))
    shutil.rmtree(dist)
    said = _sync(cli, synced)
    assert FAST not in said and " + idna " in said
    assert dist.is_dir()


def test_a_distribution_installed_behind_condauvs_back_is_not_in_sync_by_stamp(
    cli: CLI, synced: Path, tmp_path: Path
) -> None:
    """``uv pip install`` into the prefix: the next sync removes what the lock lacks."""
    wheel = write_wheel(tmp_path / "extra", "stranger", "1.0")
    done = subprocess.run(
        [
            find_uv_bin(),
            "pip",
            "install",
            "--python",
            str(synced / ENV / "bin" / "python"),
            "--no-index",
            str(wheel),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    said = _sync(cli, synced)
    assert FAST not in said and " - stranger 1.0 (pypi)" in said
    assert not list(_site(synced).glob("stranger-*.dist-info"))


def test_an_installer_changed_in_place_is_not_in_sync_by_stamp(cli: CLI, synced: Path) -> None:
    """A conda-owned dist-info that now says pip installed it: the full sync's check runs."""
    installer = next(_site(synced).glob("six-*.dist-info")) / "INSTALLER"
    with installer.open("r+", encoding="utf-8") as handle:  # in place: the folder's listing stays
        handle.write("pip  ")
    assert FAST not in _sync(cli, synced)


def test_an_interrupted_sync_is_never_in_sync_by_stamp(cli: CLI, synced: Path) -> None:
    meta = synced / ENV / "conda-meta"
    kept = (meta / stamp.STAMP).read_bytes()
    journal.begin(synced / ENV, conda=[], pypi=["idna"])
    (meta / stamp.STAMP).write_bytes(kept)  # as if the journal came without clearing it
    said = _sync(cli, synced)
    assert FAST not in said and "finished an interrupted sync" in said
    assert FAST in _sync(cli, synced)  # finished: stamped again


def test_another_condauv_version_is_not_in_sync_by_stamp(
    cli: CLI, synced: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(condauv, "__version__", condauv.__version__ + ".post1")
    assert FAST not in _sync(cli, synced)
    assert FAST in _sync(cli, synced)


def test_a_changed_cuda_override_with_system_requirements_is_not_in_sync_by_stamp(
    cli: CLI, make_project: MakeProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_project()
    manifest = folder / "condauv.toml"
    manifest.write_text(
        manifest.read_text(encoding="utf-8") + '\n[system-requirements]\ncuda = "12.4"\n', encoding="utf-8"
    )
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")
    assert cli("add", "six", cwd=folder).exit_code == 0
    assert FAST in _sync(cli, folder)
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.8")
    assert FAST not in _sync(cli, folder)  # the machine check runs again (and passes)
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "11.8")
    result = cli("sync", "-v", cwd=folder)
    assert result.exit_code == 2, result.stderr
    assert "CONDA_OVERRIDE_CUDA=11.8 says this machine has cuda 11.8" in result.stderr
    result = cli("run", "-v", "--", "true", cwd=folder)
    assert result.exit_code == 2, result.stderr


def test_a_prefix_elsewhere_and_an_explicit_prefix(
    cli: CLI, make_project: MakeProject, tmp_path: Path
) -> None:
    folder = make_project()
    manifest = folder / "condauv.toml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace("[environment]\n", '[environment]\nprefix = "../envs/one"\n', 1))
    assert cli("add", "six", cwd=folder).exit_code == 0
    assert (tmp_path / "envs" / "one" / "conda-meta" / stamp.STAMP).is_file()
    assert FAST in _sync(cli, folder)
    other = tmp_path / "envs" / "two"
    said = cli("sync", "-v", "--prefix", str(other), cwd=folder).stderr
    assert FAST not in said and f"synced {other}" in said
    assert FAST in cli("sync", "-v", "--prefix", str(other), cwd=folder).stderr
    assert FAST in _sync(cli, folder)  # the manifest's own prefix is still the one it stamped


def _imported(folder: Path, *args: str) -> tuple[set[str], str, str]:
    """``condauv ARGS`` in the console script's process, as a user starts it (bytecode cached):
    the modules it imported, its stdout, and its stderr without the import times."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "condauv", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    modules = {line.rpartition("|")[2].strip() for line in lines if line.startswith("import time:")}
    said = "\n".join(line for line in lines if not line.startswith("import time:"))
    return modules, done.stdout, said


def test_a_noop_sync_imports_neither_rattler_nor_the_lock(synced: Path) -> None:
    """The console script's process, as a user starts it: with the stamp, none of sync's
    machinery (with -q, not even logging); without it (the full no-op), still no rattler."""

    def imported(*args: str) -> tuple[set[str], str]:
        modules, _, said = _imported(synced, "sync", *args)
        return modules, said

    heavy = {"rattler", "condauv.lock.model", "condauv.sync.apply", "condauv.manifest.model", "tomllib"}
    modules, said = imported("-v")
    assert FAST in said
    assert not heavy & modules
    modules, said = imported("-q")
    assert said == ""
    assert not (heavy | {"logging", "condauv.cli.output", "condauv._process"}) & modules
    (synced / ENV / "conda-meta" / stamp.STAMP).unlink()
    modules, said = imported("-v")
    assert FAST not in said and "is in sync" in said
    assert "condauv.sync.apply" in modules and "rattler" not in modules


def test_a_noop_run_with_its_activation_kept_imports_no_rattler(synced: Path) -> None:
    """``condauv run`` in a stamped prefix: the second run finds the activation rattler wrote
    the first time and loads neither rattler nor logging; a script added to ``activate.d``
    makes rattler write it again, and the command sees what that script exports."""
    code = "import os, six, requests; print(os.environ['CONDA_PREFIX'], os.environ.get('CONDAUV_KEPT'))"

    def run() -> tuple[set[str], str, str]:
        return _imported(synced, "run", "-q", "--", "python", "-c", code)

    heavy = {"rattler", "asyncio", "logging", "condauv.lock.model", "condauv.cli.output", "tomllib"}
    run()  # the activation kept (if an earlier test had not already)
    modules, out, said = run()
    assert (out, said) == (f"{synced / ENV} None\n", "")
    assert not heavy & modules
    scripts = synced / ENV / "etc" / "conda" / "activate.d"
    scripts.mkdir(parents=True)
    (scripts / "kept.sh").write_text("export CONDAUV_KEPT=yes\n")
    modules, out, said = run()
    assert (out, said) == (f"{synced / ENV} yes\n", "")
    assert "rattler" in modules
    assert not heavy & run()[0]


def test_a_bad_match_spec_is_refused_before_the_conda_side_changes(cli: CLI, synced: Path) -> None:
    """The lock's match specs are parsed where rattler would meet them: a sync that leaves the
    conda side as it is never needs them; one that would relink refuses them before any change."""
    import tomlkit

    lock = synced / "condauv.lock"
    doc = tomlkit.parse(lock.read_text(encoding="utf-8"))
    six = next(p for p in doc["conda"] if p["name"] == "six")
    six["requested"] = ">=1 ; --index-url http://x"
    lock.write_text(tomlkit.dumps(doc), encoding="utf-8")
    said = _sync(cli, synced)  # nothing to link: the specs are not read
    assert FAST not in said and "is in sync" in said
    meta = synced / ENV / "conda-meta"
    record = next(meta.glob("six-*.json"))
    record.unlink()
    before = sorted(p.name for p in meta.iterdir())
    result = cli("sync", cwd=synced)
    assert result.exit_code == 2, result.stderr
    assert "condauv.lock: conda[" in result.stderr and "requested is not a conda match spec" in result.stderr
    assert sorted(p.name for p in meta.iterdir()) == before  # no journal, nothing linked
    assert not record.exists()


def test_a_manifest_with_windows_newlines_is_stamped_too(cli: CLI, synced: Path) -> None:
    manifest = synced / "condauv.toml"
    manifest.write_bytes(manifest.read_bytes().replace(b"\n", b"\r\n"))
    assert FAST not in _sync(cli, synced)
    assert FAST in _sync(cli, synced)
