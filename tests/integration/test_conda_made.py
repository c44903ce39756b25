"""Prefixes made by real conda 26.7.1: ``check`` and ``adopt`` read conda's own records right.

Real conda cannot be installed here, so the prefix is built from its parts: the interpreter and
numpy linked by py-rattler from the session channel, then a ``noarch: python`` package recorded
exactly as conda 26.7.1 records one (``tests/data/conda-26.7.1``: ``files`` holds prefix paths,
``paths_data`` package paths), with its files in place and conda's history file.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from condauv.conda import engine
from condauv.platforms import current_subdir, python_site_packages
from tests.clirunner import CLI

pytestmark = pytest.mark.slow

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
SITE = python_site_packages(PYTHON)
FIXTURE = Path(__file__).resolve().parents[1] / "data" / "conda-26.7.1" / "conda-meta"
SIX_RECORD = "six-1.17.0-pyh_0.json"
#: six 1.17.0's wheel on PyPI; with conda's INSTALLER and RECORD, its files are the fixture's.
SIX_WHEEL_SHA256 = "4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274"


def _stand_in(package_path: str) -> bytes:
    """Content for one of six's files (offline: the record's hashes are rewritten to match it)."""
    name = package_path.rsplit("/", 1)[-1]
    return {
        "INSTALLER": b"conda\n",
        "METADATA": b"Metadata-Version: 2.1\nName: six\nVersion: 1.17.0\n",
        "top_level.txt": b"six\n",
        "six.py": b'__version__ = "1.17.0"\n',
    }.get(name, f"stand-in for {package_path}\n".encode())


def _conda_made_prefix(prefix: Path, channel: Path, contents: Mapping[str, bytes] | None = None) -> Path:
    """python + numpy by py-rattler, then six as conda 26.7.1 links and records it.

    ``contents``: six's files by package path (the real ones keep the fixture's hashes); without
    it, stand-ins, and the record's hashes and sizes are theirs (the record's structure untouched).
    """
    subdir = current_subdir()
    specs = [f"python {PYTHON}.*", "numpy"]
    records = engine.solve([channel.as_uri()], specs, subdir)
    engine.install([engine.record_to_package(r, subdir) for r in records], prefix, requested=specs)
    raw: dict[str, Any] = json.loads((FIXTURE / SIX_RECORD).read_text(encoding="utf-8"))
    raw["files"] = [f.replace("lib/python3.11/site-packages", SITE) for f in raw["files"]]
    for entry in raw["paths_data"]["paths"]:
        package_path: str = entry["_path"]
        assert package_path.startswith("site-packages/")  # conda's spelling: a package path
        content = contents[package_path] if contents is not None else _stand_in(package_path)
        if contents is None:
            digest = hashlib.sha256(content).hexdigest()
            entry.update(sha256=digest, sha256_in_prefix=digest, size_in_bytes=len(content))
        target = prefix / SITE / package_path.removeprefix("site-packages/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    (prefix / "conda-meta" / SIX_RECORD).write_text(json.dumps(raw, indent=2), encoding="utf-8")
    lines = [f"+{r.channel}/{r.subdir}::{r.name}-{r.version}-{r.build}" for r in records]
    (prefix / "conda-meta" / "history").write_text(
        "==> 2026-12-01 19:54:48 <==\n# cmd: conda create -p X python numpy six\n# conda version: 26.7.1\n"
        + "\n".join([*lines, f"+{raw['channel']}::six-1.17.0-pyh_0"])
        + f"\n# update specs: ['six', 'python={PYTHON}', 'numpy']\n",
        encoding="utf-8",
    )
    return prefix


def _check_json(cli: CLI, prefix: Path, cwd: Path) -> dict[str, Any]:
    result = cli("check", "--prefix", prefix, "--json", cwd=cwd)
    assert result.exit_code in (0, 1), result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def _assert_clean_and_adoptable(cli: CLI, prefix: Path, tmp_path: Path, wheelhouse: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    report = _check_json(cli, prefix, elsewhere)
    assert report["findings"] == [] and report["clean"] is True
    human = cli("check", "--prefix", prefix, cwd=elsewhere)
    assert human.exit_code == 0 and "is clean" in human.stderr

    project = tmp_path / "proj"
    project.mkdir()
    adopted = cli("adopt", prefix, "--find-links", wheelhouse, "--no-index", "--json", cwd=project)
    assert adopted.exit_code == 0, adopted.stderr
    payload = json.loads(adopted.stdout)
    assert payload["check"]["clean"] is True, payload["check"]
    assert payload["notes"] == []
    assert payload["conda"]["evidence"] == "conda-meta/history"
    assert set(payload["conda"]["requested"]) == {"numpy", "six"}
    lock = (project / "condauv.lock").read_text()
    assert 'name = "six"' in lock and "six==1.17.0" in lock  # six's dist-info is conda's
    again = cli("adopt", prefix, "--find-links", wheelhouse, "--no-index", "--force", cwd=project)
    assert again.exit_code == 0 and "clobbered" not in again.stderr


def test_a_noarch_python_package_linked_by_conda_is_not_clobbered(
    cli: CLI, tmp_path: Path, conda_channel: Path, wheelhouse: Path
) -> None:
    prefix = _conda_made_prefix(tmp_path / "env", conda_channel)
    _assert_clean_and_adoptable(cli, prefix, tmp_path, wheelhouse)
    # and a file really missing or altered is still found, at its prefix path
    (prefix / SITE / "six.py").write_text("# edited\n")
    (prefix / SITE / "six-1.17.0.dist-info" / "top_level.txt").unlink()
    report = _check_json(cli, prefix, tmp_path)
    clobbered = [f for f in report["findings"] if f["kind"] == "clobbered"]
    assert [f["packages"] for f in clobbered] == [["six"]]
    assert sorted(clobbered[0]["files"]) == [f"{SITE}/six-1.17.0.dist-info/top_level.txt", f"{SITE}/six.py"]
    assert "1 changed and 1 missing" in clobbered[0]["message"]


def _real_six_files() -> dict[str, bytes]:
    """six 1.17.0's wheel from PyPI, as conda's build installed it: INSTALLER ``conda``, and RECORD
    listing it, sorted, RECORD last (the fixture's hashes are those of exactly these bytes)."""
    import zipfile

    from condauv.pypi.simple import cached_wheel, fetch_wheel
    from tests.conftest import persistent_cache

    folder = persistent_cache() / "wheels"
    python = (sys.version_info.major, sys.version_info.minor)
    wheel = cached_wheel("six", "==1.17.0", folder, python_version=python, subdir=current_subdir())
    wheel = wheel or fetch_wheel("six", "==1.17.0", folder, python_version=python, subdir=current_subdir())
    assert hashlib.sha256(wheel.read_bytes()).hexdigest() == SIX_WHEEL_SHA256
    with zipfile.ZipFile(wheel) as archive:
        files = {name: archive.read(name) for name in archive.namelist() if not name.endswith("/RECORD")}
    files["six-1.17.0.dist-info/INSTALLER"] = b"conda\n"

    def line(name: str, data: bytes) -> str:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        return f"{name},sha256={digest},{len(data)}\n"

    files["six-1.17.0.dist-info/RECORD"] = (
        "".join(line(n, files[n]) for n in sorted(files)) + "six-1.17.0.dist-info/RECORD,,\n"
    ).encode()
    return {f"site-packages/{name}": data for name, data in files.items()}


@pytest.mark.network
def test_the_real_six_record_with_the_real_files(
    cli: CLI, tmp_path: Path, conda_channel: Path, wheelhouse: Path
) -> None:
    """The fixture's record untouched (its sha256s), with six 1.17.0's real files."""
    prefix = _conda_made_prefix(tmp_path / "env", conda_channel, _real_six_files())
    fixture = json.loads((FIXTURE / SIX_RECORD).read_text(encoding="utf-8"))["paths_data"]
    assert json.loads((prefix / "conda-meta" / SIX_RECORD).read_text())["paths_data"] == fixture
    _assert_clean_and_adoptable(cli, prefix, tmp_path, wheelhouse)
