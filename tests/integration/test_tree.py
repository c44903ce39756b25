"""``condauv tree``: both sides' dependency tree from the lock, locked by the real rattler and uv.

The project asks for numpy (conda), requests and needs-new-numpy (PyPI); needs-new-numpy
requires numpy, which conda provides: its edge must end at the conda node.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from condauv.__main__ import main
from condauv.platforms import current_subdir
from tests.clirunner import CLI, chdir
from tests.conftest import NUMPY_VERSION

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory, conda_channel: Path, wheelhouse: Path) -> Iterator[Path]:
    """One locked (not synced) project for the module: the tree needs the lock only."""
    folder = tmp_path_factory.mktemp("tree") / "proj"
    folder.mkdir()
    with chdir(folder):
        assert main(["init", "--channel", conda_channel.as_uri(), "-q"]) == 0
        with (folder / "condauv.toml").open("a") as handle:
            handle.write(f'\n[pypi-options]\nfind-links = ["{wheelhouse}"]\nno-index = true\n')
        assert main(["add", "numpy", "requests", "needs-new-numpy", "--no-sync", "-q"]) == 0
    yield folder


def _lines(cli: CLI, folder: Path, *args: str) -> list[str]:
    result = cli("tree", *args, cwd=folder)
    assert result.exit_code == 0, result.stderr
    return result.stdout.splitlines()


def test_roots_are_the_manifest_and_pypi_edges_reach_conda(cli: CLI, locked: Path) -> None:
    lines = _lines(cli, locked)
    roots = [line for line in lines if not line.startswith((" ", "│", "├", "└"))]
    assert [r.split()[0] for r in roots] == ["needs-new-numpy", "numpy", "python", "requests"]
    assert roots[0] == "needs-new-numpy v1.0 (pypi)"
    # numpy's subtree was shown under needs-new-numpy: its root is marked, not expanded again
    assert roots[1] == f"numpy v{NUMPY_VERSION} (conda) (*)"
    assert lines[lines.index(roots[1]) + 1] == roots[2]
    # needs-new-numpy's requirement on numpy is the conda package, shown once in full
    start = lines.index(roots[0])
    assert lines[start + 1] == f"└── numpy v{NUMPY_VERSION} (conda)"
    assert lines[start + 2].startswith("    └── python v") and lines[start + 2].endswith(" (conda)")
    block = lines[lines.index(roots[3]) + 1 :]
    assert [line.split()[-3] for line in block] == ["certifi", "idna", "urllib3"]
    assert all(line.endswith("(pypi)") for line in block)


def test_names_invert_and_depth(cli: CLI, locked: Path) -> None:
    assert _lines(cli, locked, "requests", "--depth", "0") == ["requests v2.32.3 (pypi)"]
    inverted = _lines(cli, locked, "--invert", "numpy")
    assert inverted == [f"numpy v{NUMPY_VERSION} (conda)", "└── needs-new-numpy v1.0 (pypi)"]
    assert _lines(cli, locked, "-i", "IDNA") == ["idna v3.10 (pypi)", "└── requests v2.32.3 (pypi)"]


def test_json_is_nested(cli: CLI, locked: Path) -> None:
    result = cli("tree", "needs-new-numpy", "--json", cwd=locked)
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    assert data["platform"] == current_subdir() and data["inverted"] is False
    (root,) = data["roots"]
    assert (root["name"], root["manager"], root["requested"]) == ("needs-new-numpy", "pypi", True)
    (numpy,) = root["dependencies"]
    assert (numpy["name"], numpy["manager"], numpy["version"]) == ("numpy", "conda", NUMPY_VERSION)
    assert [d["name"] for d in numpy["dependencies"]] == ["python"]


def test_unknown_name_and_platform_are_refused(cli: CLI, locked: Path) -> None:
    lock = (locked / "condauv.lock").read_bytes()
    result = cli("tree", "nosuch", cwd=locked)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0].startswith("error: no package 'nosuch' in condauv.lock")
    assert result.stderr.splitlines()[1].startswith("hint: ")
    result = cli("tree", "--platform", "win-64", cwd=locked)
    assert result.exit_code == 2
    assert "condauv.lock has no platform 'win-64'" in result.stderr
    assert (locked / "condauv.lock").read_bytes() == lock


def test_locks_first_unless_frozen(cli: CLI, locked: Path, tmp_path: Path) -> None:
    folder = tmp_path / "copy"
    folder.mkdir()
    (folder / "condauv.toml").write_bytes((locked / "condauv.toml").read_bytes())
    result = cli("tree", "--frozen", cwd=folder)
    assert result.exit_code == 2
    assert "--frozen" in result.stderr
    assert not (folder / "condauv.lock").exists()
    result = cli("tree", "requests", cwd=folder)
    assert result.exit_code == 0, result.stderr
    assert "wrote condauv.lock" in result.stderr
    assert (folder / "condauv.lock").read_bytes() == (locked / "condauv.lock").read_bytes()
