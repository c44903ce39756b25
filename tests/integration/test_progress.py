"""Progress of the real steps, under a pseudo-terminal: conda's fetch and link (rattler's
reporter), uv's install, the index asked for evidence, doctor's imports, channel from-wheels;
and none of it when stdout is not a terminal or with --json."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.clirunner import CLI
from tests.helpers.terminal import ESCAPE, condauv_on_terminal
from tests.helpers.wheels import write_wheel
from tests.integration.conftest import MakeProject

pytestmark = pytest.mark.slow

#: every progress text a sync can draw; none of it may show where progress is off.
_SYNC_PROGRESS = ("fetching and extracting", "linking conda packages", "PyPI packages with uv")


@pytest.fixture
def locked(cli: CLI, make_project: MakeProject) -> Path:
    folder = make_project()
    result = cli("add", "numpy", "requests", "--no-sync", cwd=folder)
    assert result.exit_code == 0, result.stderr
    return folder


def test_sync_and_doctor_draw_their_steps_on_a_terminal(locked: Path, tmp_path: Path) -> None:
    # a cache of its own: the conda packages are fetched and extracted, not found
    cache = {"CONDAUV_CACHE_DIR": str(tmp_path / "own-cache")}
    sync = condauv_on_terminal("sync", cwd=locked, env=cache)
    assert sync.returncode == 0, sync.terminal
    shown = sync.terminal
    assert ESCAPE in shown
    assert re.search(r"fetching and extracting 2 conda packages \([12]/2\)", shown), shown
    assert re.search(r"[\d.]+ MB/[\d.]+ MB", shown), shown  # and their bytes
    assert "linking conda packages" in shown or "linking python" in shown, shown
    assert "installing 4 PyPI packages with uv" in shown, shown
    assert "synced " in shown  # the report, after the bars are cleared

    doctor = condauv_on_terminal("doctor", "--skip", "numpy", cwd=locked)
    assert doctor.returncode in (0, 1), doctor.terminal
    assert re.search(r"importing 4 distributions, each in its own process", doctor.terminal)


@pytest.mark.parametrize(
    ("flags", "stdout_terminal"), [((), False), (("--json",), True)], ids=["stdout-piped", "json"]
)
def test_sync_draws_nothing_off_a_terminal_or_with_json(
    locked: Path, tmp_path: Path, flags: tuple[str, ...], stdout_terminal: bool
) -> None:
    prefix = tmp_path / "elsewhere"  # a new prefix: every step runs
    sync = condauv_on_terminal(
        "sync", "--prefix", prefix, *flags, cwd=locked, stdout_terminal=stdout_terminal
    )
    assert sync.returncode == 0, sync.terminal + sync.stdout
    everything = sync.terminal + sync.stdout
    assert not [text for text in _SYNC_PROGRESS if text in everything], everything
    assert ESCAPE not in everything
    if flags:
        assert json.loads(sync.terminal)["conda"]["added"]  # on the terminal, JSON only
    else:
        assert f"synced {prefix}" in sync.terminal  # the report still reaches stderr's terminal


def test_the_index_asked_for_evidence_shows_a_bar(make_project: MakeProject) -> None:
    folder = make_project()
    shown = condauv_on_terminal("classify", "requests", "tqdm", cwd=folder)
    assert shown.returncode == 0, shown.terminal
    assert "asking the package index about 2 projects" in shown.terminal, shown.terminal


def test_channel_from_wheels_counts_the_wheels(tmp_path: Path) -> None:
    wheels = [
        write_wheel(tmp_path, "alpha-thing", "1.0", modules={"alpha_thing": ""}),
        write_wheel(tmp_path, "beta-thing", "2.0", modules={"beta_thing": ""}),
    ]
    done = condauv_on_terminal("channel", "from-wheels", *wheels, "--output", tmp_path / "ch", cwd=tmp_path)
    assert done.returncode == 0, done.terminal
    assert "converting 2 wheels to conda packages" in done.terminal
    assert "2/2" in done.terminal
