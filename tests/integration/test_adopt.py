"""`condauv adopt`: an environment made without condauv (py-rattler + `uv pip install`) becomes a
manifest and a lock from which `condauv sync` recreates the same package set elsewhere."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import uv

from condauv.conda import engine
from condauv.platforms import current_subdir
from tests.clirunner import CLI
from tests.conftest import NUMPY_VERSION

pytestmark = pytest.mark.slow


def _make_env(prefix: Path, channel: Path, wheelhouse: Path) -> Path:
    """python + numpy + tiny-a (-> tiny-b) by py-rattler, requests (+3 deps) by real uv; no condauv mark."""
    subdir = current_subdir()
    specs = ["python 3.11.*", "numpy", "tiny-a"]
    records = engine.solve([channel.as_uri()], specs, subdir)
    engine.install([engine.record_to_package(r, subdir) for r in records], prefix, requested=specs)
    subprocess.run(
        [
            uv.find_uv_bin(),
            "pip",
            "install",
            "--no-config",
            "--python",
            str(prefix / "bin" / "python"),
            "--find-links",
            str(wheelhouse),
            "--no-index",
            "requests",
        ],
        check=True,
        capture_output=True,
    )
    return prefix


@pytest.fixture(scope="module")
def adopted_env(tmp_path_factory: pytest.TempPathFactory, conda_channel: Path, wheelhouse: Path) -> Path:
    return _make_env(tmp_path_factory.mktemp("foreign") / "env", conda_channel, wheelhouse)


def _package_set(prefix: Path) -> set[tuple[str, ...]]:
    """conda (name, version, build) from conda-meta, PyPI (name, version) from non-conda dist-info."""
    found: set[tuple[str, ...]] = set()
    for record in (prefix / "conda-meta").glob("*.json"):
        data = json.loads(record.read_text())
        found.add(("conda", data["name"], data["version"], data["build"]))
    for dist in (prefix / "lib").glob("python3.*/site-packages/*.dist-info"):
        if (dist / "INSTALLER").read_text().strip() != "conda":
            name, version = dist.name.removesuffix(".dist-info").split("-", 1)
            found.add(("pypi", name.lower(), version))
    return found


def _tree(prefix: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(prefix)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(prefix.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def _adopt(cli: CLI, folder: Path, prefix: Path, wheelhouse: Path, *extra: str) -> dict[str, Any]:
    folder.mkdir(exist_ok=True)
    result = cli("adopt", prefix, "--find-links", wheelhouse, "--no-index", "--json", *extra, cwd=folder)
    assert result.exit_code == 0, result.stderr
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


def test_adopt_then_sync_recreates_the_same_package_set(
    cli: CLI, tmp_path: Path, adopted_env: Path, wheelhouse: Path
) -> None:
    before = _tree(adopted_env)
    folder = tmp_path / "proj"
    report = _adopt(cli, folder, adopted_env, wheelhouse)
    assert report["conda"]["requested"] == {"numpy": f"=={NUMPY_VERSION}", "tiny-a": "==1.0"}
    assert report["conda"]["evidence"] == "requested specs in the conda-meta records"
    assert report["pypi"]["requested"] == {"requests": "==2.32.3"}
    assert report["pypi"]["evidence"].startswith("leaves of the PyPI dependency graph")
    assert report["notes"] == []
    assert report["check"]["clean"] is True
    manifest = (folder / "condauv.toml").read_text()
    assert 'python = "3.11.*"' in manifest and "prefix" not in manifest.split("[conda-dependencies]")[0]
    assert _tree(adopted_env) == before  # adopt never writes into the prefix

    synced = cli("sync", "--frozen", cwd=folder)
    assert synced.exit_code == 0, synced.stderr
    new_env = folder / ".condauv" / "env"
    original = _package_set(adopted_env)
    assert {p[1] for p in original} >= {"numpy", "tiny-b", "requests", "urllib3", "idna", "certifi"}
    assert _package_set(new_env) == original
    assert _tree(adopted_env) == before  # nor does sync of the new project

    relocked = cli("lock", cwd=folder)  # the written lock is the one `condauv lock` would write
    assert relocked.exit_code == 0, relocked.stderr
    assert "unchanged" in relocked.stderr


def test_in_place_adoption_makes_sync_a_no_op(
    cli: CLI, tmp_path: Path, adopted_env: Path, wheelhouse: Path
) -> None:
    before = _tree(adopted_env)
    folder = tmp_path / "proj"
    _adopt(cli, folder, adopted_env, wheelhouse, "--in-place")
    assert f'prefix = "{adopted_env}"' in (folder / "condauv.toml").read_text()
    synced = cli("sync", "--frozen", "--json", cwd=folder)
    assert synced.exit_code == 0, synced.stderr
    changes = json.loads(synced.stdout)
    assert changes["conda"] == {"added": [], "removed": []}
    assert changes["pypi"] == {"added": [], "removed": []}
    after = _tree(adopted_env)
    assert {k: v for k, v in after.items() if not k.startswith("conda-meta/")} == {
        k: v for k, v in before.items() if not k.startswith("conda-meta/")
    }


@pytest.fixture
def other(tmp_path: Path) -> Path:
    folder = tmp_path / "other"
    folder.mkdir()
    return folder


def _fake_editable(prefix: Path, source: Path) -> None:
    """What `uv pip install -e SOURCE` leaves (built here: an editable build needs a backend offline)."""
    dist = next(prefix.glob("lib/python3.*/site-packages")) / "mylib-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mylib\nVersion: 0.1\n")
    (dist / "INSTALLER").write_text("uv\n")
    (dist / "RECORD").write_text("")
    direct = {"url": source.as_uri(), "dir_info": {"editable": True}}
    (dist / "direct_url.json").write_text(json.dumps(direct))


def test_an_editable_install_is_reported_not_dropped(
    cli: CLI, tmp_path: Path, conda_channel: Path, wheelhouse: Path, other: Path
) -> None:
    prefix = _make_env(tmp_path / "env", conda_channel, wheelhouse)
    _fake_editable(prefix, tmp_path / "src" / "mylib")
    report = _adopt(cli, tmp_path / "proj", prefix, wheelhouse)
    assert [(n["kind"], n["package"]) for n in report["notes"]] == [("editable", "mylib 0.1")]
    assert "mylib" not in (tmp_path / "proj" / "condauv.lock").read_text()

    human = cli("adopt", prefix, "--find-links", wheelhouse, "--no-index", "--force", cwd=tmp_path / "proj")
    assert human.exit_code == 0, human.stderr
    assert "note: editable: mylib 0.1" in human.stderr

    clobbered = prefix / "share" / "tiny-b" / "VERSION"
    clobbered.unlink()  # hard-linked from the package cache: a new file, the cache's copy kept
    clobbered.write_text("changed by hand\n")
    strict = cli("adopt", prefix, "--find-links", wheelhouse, "--no-index", "--strict", cwd=other)
    assert strict.exit_code == 2
    assert "check found" in strict.stderr and "tiny-b" in strict.stderr
    assert list(other.iterdir()) == []
    lenient = _adopt(cli, tmp_path / "lenient", prefix, wheelhouse)
    assert [f["kind"] for f in lenient["check"]["findings"]] == ["clobbered"]

    refused = cli("adopt", prefix, "--find-links", wheelhouse, "--no-index", "--in-place", cwd=other)
    assert refused.exit_code == 2
    assert "mylib 0.1 (editable)" in refused.stderr
    assert list(other.iterdir()) == []


def test_bad_prefixes_are_one_line_errors(cli: CLI, tmp_path: Path, other: Path) -> None:
    missing = cli("adopt", tmp_path / "nope", cwd=other)
    assert missing.exit_code == 2
    assert missing.stderr.startswith("error: ") and "no such folder" in missing.stderr
    assert "Traceback" not in missing.stderr
    plain = tmp_path / "plain"
    (plain / "conda-meta").mkdir(parents=True)
    not_conda = cli("adopt", plain, cwd=other)
    assert not_conda.exit_code == 2
    assert "is not a conda prefix" in not_conda.stderr
    assert list(other.iterdir()) == []


def test_existing_files_are_not_replaced_without_force(
    cli: CLI, adopted_env: Path, other: Path, wheelhouse: Path
) -> None:
    (other / "condauv.toml").write_text("# mine\n")
    refused = cli("adopt", adopted_env, "--find-links", wheelhouse, "--no-index", cwd=other)
    assert refused.exit_code == 2
    assert "already exists" in refused.stderr and "--force" in refused.stderr
    assert (other / "condauv.toml").read_text() == "# mine\n"
    assert not (other / "condauv.lock").exists()
    forced = cli("adopt", adopted_env, "--find-links", wheelhouse, "--no-index", "--force", cwd=other)
    assert forced.exit_code == 0, forced.stderr
    assert "[conda-dependencies]" in (other / "condauv.toml").read_text()


def test_history_and_a_record_without_sha256(
    cli: CLI, tmp_path: Path, conda_channel: Path, wheelhouse: Path, other: Path
) -> None:
    prefix = _make_env(tmp_path / "env", conda_channel, wheelhouse)
    (prefix / "conda-meta" / "history").write_text(
        "==> 2026-01-01 00:00:00 <==\n# cmd: conda create -p env python=3.11 numpy>=2\n"
        "# update specs: ['python=3.11', 'numpy>=2']\n"
    )
    record_file = next((prefix / "conda-meta").glob("tiny-b-*.json"))
    record = json.loads(record_file.read_text())
    del record["sha256"]  # as conda < 4.7 wrote them: md5 only
    record_file.write_text(json.dumps(record))
    report = _adopt(cli, tmp_path / "proj", prefix, wheelhouse)
    assert report["conda"]["evidence"] == "conda-meta/history"
    assert report["conda"]["asked-as"] == {"numpy": "numpy>=2"}
    assert [(n["kind"], n["package"]) for n in report["notes"]] == [
        ("no-sha256", "tiny-b 2.0"),
        ("kept", "tiny-a"),  # in no history line, needed by nothing: kept as requested
    ]
    assert report["conda"]["requested"] == {"numpy": f"=={NUMPY_VERSION}", "tiny-a": "==1.0"}
    manifest = (tmp_path / "proj" / "condauv.toml").read_text()
    assert f"numpy = \"=={NUMPY_VERSION}\" # asked for as 'numpy>=2'" in manifest
    assert 'name = "tiny-b"' not in (tmp_path / "proj" / "condauv.lock").read_text()
    refused = cli("adopt", prefix, "--find-links", wheelhouse, "--no-index", "--in-place", cwd=other)
    assert refused.exit_code == 2
    assert "tiny-b 2.0 (no-sha256)" in refused.stderr
