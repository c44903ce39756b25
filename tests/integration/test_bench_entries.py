"""`condauv bench` on manifest entries that each strategy must read as the hybrid lock does:
a `[names]` mapping (the conda package goes by another name than the entry) and a PyPI entry
that a channel also holds, whose PEP 440 spec conda cannot read as it is."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from condauv.__main__ import main
from tests.clirunner import chdir
from tests.conftest import NUMPY_VERSION, numpy_wheel
from tests.integration.test_bench import _cache_tmp

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, conda_channel: Path, wheelhouse: Path) -> dict[str, Any]:
    """One cold run of the three strategies on: `sixer`, which `[names]` says conda's `six`
    provides; numpy from PyPI at `===` its version (the channel holds numpy too)."""
    folder = tmp_path_factory.mktemp("bench-entries") / "proj"
    folder.mkdir()
    with chdir(folder):
        assert main(["init", "--channel", conda_channel.as_uri(), "-q"]) == 0
    manifest = folder / "condauv.toml"
    text = manifest.read_text(encoding="utf-8")
    text = text.replace("[pypi-dependencies]", f'[pypi-dependencies]\nnumpy = "==={NUMPY_VERSION}"')
    text = text.replace("[dependencies]", '[dependencies]\nsixer = "*"')
    links = json.dumps([str(wheelhouse), str(numpy_wheel().parent)])
    text += f'\n[names]\nsix = "sixer"\n\n[pypi-options]\nfind-links = {links}\nno-index = true\n'
    manifest.write_text(text, encoding="utf-8")
    with chdir(folder):
        assert main(["lock", "-q"]) == 0
    result = subprocess.run(
        [sys.executable, "-m", "condauv", "bench", "--runs", "1", "--cold", "--json"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert not list(_cache_tmp().glob("*/bench-*"))
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def _strategies(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in report["strategies"]}


def test_the_hybrid_lock_has_the_entries_where_the_test_expects_them(report: dict[str, Any]) -> None:
    hybrid = _strategies(report)["hybrid"]
    assert hybrid["error"] is None
    assert hybrid["packages"]["six"] == "1.16.0" and hybrid["packages"]["numpy"] == NUMPY_VERSION


def test_uv_only_and_hybrid_find_the_conda_package_of_a_names_mapping(report: dict[str, Any]) -> None:
    """Seen: uv-only asked PyPI for `sixer` (no such project: uv-only failed) and hybrid took
    no import time of six: both looked for the conda package without the `[names]` table."""
    strategies = _strategies(report)
    uv = strategies["uv-only"]
    assert uv["error"] is None, uv["error"]
    assert uv["packages"] == {"six": "1.16.0", "numpy": NUMPY_VERSION}
    for name in ("uv-only", "hybrid"):
        assert {i["distribution"] for i in strategies[name]["imports"]} == {"six", "numpy"}, name


def test_conda_only_gets_no_pep_440_spec_it_cannot_read(report: dict[str, Any]) -> None:
    """Seen: `numpy ===2.x` went into conda-only's manifest as it was: its lock failed."""
    conda = _strategies(report)["conda-only"]
    assert conda["error"] is None, conda["error"]
    assert conda["packages"]["six"] == "1.16.0"
    (missing,) = conda["unavailable"]
    assert missing["name"] == "numpy" and f"==={NUMPY_VERSION}" in missing["reason"]
