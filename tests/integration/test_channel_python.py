"""``condauv channel python``: this interpreter as conda ``python`` in a local channel that a
project locks and syncs against, with no other channel (issue 10)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clirunner import CLI, RunResult
from tests.integration.conftest import MakeProject

VERSION = ".".join(str(part) for part in sys.version_info[:3])


def _refused(result: RunResult, *needles: str) -> None:
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error:") and lines[1].startswith("hint:"), result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.slow
def test_the_packaged_interpreter_alone_makes_an_environment(cli: CLI, tmp_path: Path) -> None:
    channel = tmp_path / "channel"
    built = cli("channel", "python", "--python", sys.executable, "--output", channel, "--json", cwd=tmp_path)
    assert built.exit_code == 0, built.stderr
    report = json.loads(built.stdout)
    assert report["python"] == VERSION and report["base_prefix"] == str(Path(sys.base_prefix).resolve())
    assert Path(report["package"]).is_file() and (channel / "noarch" / "repodata.json").is_file()

    project = tmp_path / "proj"
    project.mkdir()
    minor = ".".join(VERSION.split(".")[:2])
    assert cli("init", "--python", f"{minor}.*", "--channel", channel.as_uri(), cwd=project).exit_code == 0
    synced = cli("sync", cwd=project)
    assert synced.exit_code == 0, synced.stderr
    python = project / ".condauv" / "env" / "bin" / "python"
    done = subprocess.run(
        [python, "-c", "import platform, sys, sqlite3; print(platform.python_version(), sys.prefix)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == [VERSION, str(project / ".condauv" / "env")]


def test_python_that_is_no_interpreter_is_refused(cli: CLI, tmp_path: Path) -> None:
    script = tmp_path / "python3.11"
    script.write_text('#!/bin/sh\nexec python3 "$@"\n')
    script.chmod(0o755)
    out = tmp_path / "channel"
    _refused(
        cli("channel", "python", "--python", script, "-o", out, cwd=tmp_path), "not an interpreter binary"
    )
    _refused(cli("channel", "python", "--python", tmp_path / "nope", "-o", out, cwd=tmp_path), "no such file")
    _refused(cli("channel", "python", "--python", tmp_path, "-o", out, cwd=tmp_path), "is not a file")
    # a copy of the binary outside its install tree: its prefix is not its own
    copy = tmp_path / "bin" / Path(sys.executable).resolve().name
    copy.parent.mkdir()
    shutil.copy2(Path(sys.executable).resolve(), copy)
    _refused(
        cli("channel", "python", "--python", copy, "-o", out, cwd=tmp_path),
        "is not the interpreter of its install tree",
    )
    assert not out.exists()


def test_output_inside_the_project_or_the_interpreter_is_refused(cli: CLI, make_project: MakeProject) -> None:
    folder = make_project()
    _refused(cli("channel", "python", "-o", ".condauv/channel", cwd=folder), "inside condauv's state folder")
    _refused(cli("channel", "python", "-o", ".condauv/env/ch", cwd=folder), "inside")
    inside = Path(sys.base_prefix) / "condauv-channel"
    _refused(cli("channel", "python", "-o", inside, cwd=folder.parent), "install tree")
    assert not (folder / ".condauv" / "channel").exists() and not inside.exists()
