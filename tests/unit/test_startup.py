"""A lean start: ``condauv <cmd>`` loads only that command's module, and reading a lock loads no
rattler until its match specs are needed. Each import check runs in a fresh interpreter."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from condauv.cli.commands import COMMANDS
from condauv.errors import LockfileError
from condauv.lock import parse_lock
from condauv.lock.validate import check_match_specs, match_specs_deferred
from condauv.project import Project
from condauv.sync import stamp
from tests.clirunner import CLI
from tests.unit.test_lock_trust import PYTHON, SIX, _text


def _modules_after(code: str, cwd: Path | None = None) -> set[str]:
    """The modules a fresh interpreter holds after ``code`` (which may print, before the list)."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=cwd)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


# -- the command registry ------------------------------------------------------------------------


def test_a_command_loads_only_its_own_module() -> None:
    loaded = _modules_after(
        "from condauv.cli.app import main\nimport contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()): main(['sync', '--help'])"
    )
    commands = {m for m in loaded if m.startswith("condauv.cli.commands.")}
    assert commands == {"condauv.cli.commands.sync"}
    assert "condauv.export" not in loaded


def test_the_help_lists_every_command_with_its_help(cli: CLI, tmp_path: Path) -> None:
    result = cli("--help", cwd=tmp_path)
    assert result.exit_code == 0
    said = "".join(result.stdout.split())  # argparse wraps lines, at hyphens too
    for name, module in COMMANDS.items():
        assert f"\n    {name}" in result.stdout, name
        assert "".join(importlib.import_module(module).HELP.split()) in said, name


def test_a_subcommands_help_and_an_unknown_command(cli: CLI, tmp_path: Path) -> None:
    result = cli("sync", "--help", cwd=tmp_path)
    assert result.exit_code == 0 and "--repair" in result.stdout and "--manifest" in result.stdout
    result = cli("bogus", cwd=tmp_path)
    assert result.exit_code == 2
    assert "invalid choice: 'bogus'" in result.stderr and "'sync'" in result.stderr


def test_an_option_before_the_command_is_still_a_usage_error(cli: CLI, tmp_path: Path) -> None:
    result = cli("-q", "sync", cwd=tmp_path)
    assert result.exit_code == 2
    assert "error: condauv: unrecognized arguments: -q" in result.stderr


# -- match specs: checked where rattler meets them -----------------------------------------------


def test_reading_a_lock_with_deferred_specs_loads_no_rattler(tmp_path: Path) -> None:
    lock = tmp_path / "condauv.lock"
    lock.write_text(_text(conda=(replace(PYTHON, depends=("tiny-b >=1",)), SIX)), encoding="utf-8")
    loaded = _modules_after(
        "from pathlib import Path\nfrom condauv.lock.model import load_lock\n"
        "from condauv.lock.validate import match_specs_deferred\n"
        f"with match_specs_deferred(): assert load_lock(Path({str(lock)!r})) is not None"
    )
    assert "condauv.lock.model" in loaded
    assert "rattler" not in loaded


@pytest.mark.parametrize(
    "change",
    [
        {"requested": ">=1 ; --index-url http://x"},
        {"depends": ("tiny-b <<>>1",)},
        {"constrains": ("!!!",)},
    ],
)
def test_deferred_specs_are_the_same_check_later(change: dict[str, object]) -> None:
    text = _text(conda=(replace(PYTHON, **change), SIX))  # type: ignore[arg-type]
    with pytest.raises(LockfileError) as on_load:
        parse_lock(text)  # the default: checked on load, as before
    with match_specs_deferred():
        lock = parse_lock(text)
    with pytest.raises(LockfileError) as later:
        check_match_specs(lock)
    assert later.value.message == on_load.value.message
    assert "is not a conda match spec" in later.value.message


def test_deferring_ends_with_the_block() -> None:
    text = _text(conda=(replace(PYTHON, depends=("tiny-b <<>>1",)), SIX))
    with match_specs_deferred():
        parse_lock(text)
    with pytest.raises(LockfileError):
        parse_lock(text)


# -- the stamp finds the prefix as Project.load does ---------------------------------------------


@pytest.mark.parametrize(
    "prefix_line",
    [
        None,
        'prefix = ".condauv/env"',
        'prefix = "../elsewhere/env"',
        'prefix = "~/envs/x"',
        "'prefix' = 'link/env'",
        '"pre\\u0066ix" = "escaped/env"',
    ],
)
@pytest.mark.parametrize("explicit", [None, "given", "~/given"])
def test_the_stamp_locates_the_prefix_as_project_load_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefix_line: str | None, explicit: str | None
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    folder = tmp_path / "real" / "proj"
    folder.mkdir(parents=True)
    (tmp_path / "real" / "target").mkdir()
    (folder / "link").symlink_to(tmp_path / "real" / "target")
    environment = "[environment]\n" + (f"{prefix_line}\n" if prefix_line else "")
    (folder / "condauv.toml").write_text(environment, encoding="utf-8")
    (tmp_path / "via").symlink_to(tmp_path / "real")
    monkeypatch.chdir(tmp_path / "via" / "proj")
    for manifest in (None, Path("condauv.toml")):
        wanted = Project.load(manifest, Path(explicit) if explicit else None)
        found = stamp.locate(manifest, Path(explicit) if explicit else None)
        assert found is not None
        assert (found.manifest, found.prefix) == (str(wanted.manifest.path), str(wanted.prefix))


def test_no_manifest_no_stamp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert stamp.locate(None, None) is None
    assert stamp.locate(tmp_path / "missing.toml", None) is None
    assert stamp.in_sync(None, None) is None


def test_a_stamp_that_is_no_stamp_is_no_proof(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "condauv.toml").write_text("[environment]\n", encoding="utf-8")
    meta = tmp_path / ".condauv" / "env" / "conda-meta"
    meta.mkdir(parents=True)
    (meta / "condauv").write_text("{}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for text in ("", "garbage", "condauv-stamp 1\n", "condauv-stamp 1\nsite ../../x\nmachine 0\ndigest 00\n"):
        (meta / stamp.STAMP).write_text(text, encoding="utf-8")
        assert stamp.in_sync(None, None) is None
    (meta / stamp.STAMP).write_bytes(os.urandom(64))
    assert stamp.in_sync(None, None) is None
