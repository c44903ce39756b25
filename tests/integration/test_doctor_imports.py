"""``condauv doctor``'s import rows are real measurements of a first import in a fresh interpreter:
a namespace package is not measured in place of the code, and a module that was imported
before the probe ran (a ``.pth`` file) says so instead of "0 ms, +0.0 MiB"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.clirunner import CLI
from tests.helpers.wheels import write_wheel
from tests.integration.conftest import MakeProject

pytestmark = pytest.mark.slow

#: enough work that an honest measurement is well above zero: ~2 MiB of ints, a few ms.
_WORK = "DATA = list(range(100_000))\n"


def test_import_rows_measure_the_distributions_own_code(
    cli: CLI, make_project: MakeProject, tmp_path: Path
) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    write_wheel(wheels, "nsx-alpha", "1.0", modules={"nsx.alpha": _WORK})  # nsx: a native namespace
    write_wheel(
        wheels,
        "early-bird",
        "1.0",
        modules={"early_bird": _WORK},
        files={"early_bird.pth": b"import early_bird\n"},  # imported by site at start-up
    )
    folder = make_project()
    manifest = folder / "condauv.toml"
    manifest.write_text(manifest.read_text().replace('find-links = ["', f'find-links = ["{wheels}", "'))
    assert cli("add", "--pypi", "nsx-alpha", "early-bird", cwd=folder).exit_code == 0

    result = cli("doctor", "--json", cwd=folder)
    assert result.exit_code == 0, result.stdout + result.stderr
    imports = {
        r["distribution"]: r for r in json.loads(result.stdout)["sections"]["imports"]["data"]["results"]
    }
    alpha = imports["nsx-alpha"]
    assert alpha["status"] == "ok" and alpha["modules"] == ["nsx.alpha"]
    assert alpha["ms"] > 0 and alpha["rss_mb"] >= 1.0, alpha
    early = imports["early-bird"]
    assert early["status"] == "ok" and early["modules"] == ["early_bird"]
    assert early["preloaded"] == ["early_bird"]
    assert early["ms"] is None and early["rss_mb"] is None, early  # not measured: nothing to measure

    table = cli("doctor", cwd=folder)
    assert table.exit_code == 0, table.stderr
    row = next(line for line in table.stdout.splitlines() if "early-bird" in line)
    assert "already imported at start-up" in row, table.stdout
    assert "0 ms, +0.0 MiB" not in table.stdout
