"""``condauv lock`` keeps locked versions; ``lock --upgrade [NAME...]`` moves them (issue 10).

The session channel holds tiny-b 1.0 and 2.0, the wheelhouse six 1.16.0 and 1.17.0: the project
is locked with both pinned to the old one, then the pins are relaxed.
"""

from __future__ import annotations

import json
from pathlib import Path

from condauv.lock import load_lock
from tests.clirunner import CLI
from tests.integration.conftest import MakeProject


def _versions(folder: Path) -> dict[str, str]:
    lock = load_lock(folder / "condauv.lock")
    assert lock is not None
    found = {p.name: p.version for p in lock.conda if p.name == "tiny-b"}
    return found | {p.name: p.version for p in lock.pypi if p.name == "six"}


def _pinned(cli: CLI, make_project: MakeProject) -> Path:
    """Locked at tiny-b 1.0 and six 1.16.0, then the manifest relaxed to any version of both."""
    folder = make_project()
    manifest = folder / "condauv.toml"
    text = manifest.read_text()
    text = text.replace("[conda-dependencies]", '[conda-dependencies]\ntiny-b = "==1.0"')
    manifest.write_text(text.replace("[pypi-dependencies]", '[pypi-dependencies]\nsix = "==1.16.0"'))
    assert cli("lock", cwd=folder).exit_code == 0
    assert _versions(folder) == {"tiny-b": "1.0", "six": "1.16.0"}
    manifest.write_text(
        text.replace("[pypi-dependencies]", '[pypi-dependencies]\nsix = "*"').replace(
            'tiny-b = "==1.0"', 'tiny-b = "*"'
        )
    )
    return folder


def test_plain_lock_keeps_versions_and_upgrade_moves_the_named_then_all(
    cli: CLI, make_project: MakeProject
) -> None:
    folder = _pinned(cli, make_project)
    kept = cli("lock", cwd=folder)
    assert kept.exit_code == 0, kept.stderr
    assert _versions(folder) == {"tiny-b": "1.0", "six": "1.16.0"}  # no surprise upgrade

    six = cli("lock", "--upgrade", "six", cwd=folder)
    assert six.exit_code == 0, six.stderr
    assert _versions(folder) == {"tiny-b": "1.0", "six": "1.17.0"}
    assert "pypi: six 1.16.0 -> 1.17.0" in six.stderr
    assert "tiny-b" not in six.stderr

    everything = cli("lock", "--upgrade", "--json", cwd=folder)
    assert everything.exit_code == 0, everything.stderr
    assert _versions(folder) == {"tiny-b": "2.0", "six": "1.17.0"}
    changes = json.loads(everything.stdout)["changes"]
    assert changes == [
        {"side": "conda", "name": "tiny-b", "before": "1.0", "after": "2.0", "platforms": ["linux-64"]}
    ]


def test_upgrade_of_a_conda_name_leaves_pypi_alone(cli: CLI, make_project: MakeProject) -> None:
    folder = _pinned(cli, make_project)
    done = cli("lock", "--upgrade", "tiny-b", cwd=folder)
    assert done.exit_code == 0, done.stderr
    assert _versions(folder) == {"tiny-b": "2.0", "six": "1.16.0"}
    assert "conda: tiny-b 1.0 -> 2.0" in done.stderr
    again = cli("lock", "--upgrade", "tiny-b", cwd=folder)
    assert again.exit_code == 0 and "nothing newer" in again.stderr and "unchanged" in again.stderr


def test_upgrade_of_a_name_not_in_the_lock_is_refused(cli: CLI, make_project: MakeProject) -> None:
    folder = _pinned(cli, make_project)
    before = (folder / "condauv.lock").read_bytes()
    done = cli("lock", "--upgrade", "sixx", cwd=folder)
    assert done.exit_code == 2
    lines = done.stderr.splitlines()
    assert lines[0].startswith("error:") and "sixx" in lines[0]
    assert lines[1].startswith("hint:")
    assert (folder / "condauv.lock").read_bytes() == before


def test_plain_lock_prints_what_a_manifest_edit_added_and_removed(
    cli: CLI, make_project: MakeProject
) -> None:
    folder = _pinned(cli, make_project)
    manifest = folder / "condauv.toml"
    manifest.write_text(manifest.read_text().replace('six = "*"', 'tqdm = "==4.66.5"'))
    done = cli("lock", cwd=folder)
    assert done.exit_code == 0, done.stderr
    assert "pypi: + tqdm 4.66.5" in done.stderr
    assert "pypi: - six 1.16.0" in done.stderr
    assert _versions(folder) == {"tiny-b": "1.0"}
    # uv's spelling works too, and names are matched as PyPI normalises them
    upgraded = cli("lock", "-P", "Tiny_B", cwd=folder)
    assert upgraded.exit_code == 0, upgraded.stderr
    assert _versions(folder) == {"tiny-b": "2.0"}
