"""Bad input on the command line: one line naming the problem, a hint, exit 2, nothing written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.clirunner import CLI, RunResult


def _assert_user_error(result: RunResult, fragment: str) -> None:
    assert result.exit_code == 2, result
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: "), result.stderr
    assert fragment in lines[0], result.stderr
    assert len(lines) == 2 and lines[1].startswith("hint: "), result.stderr
    assert "Traceback" not in result.stderr


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_init_writes_and_refuses_to_overwrite(cli: CLI, tmp_path: Path) -> None:
    assert cli("init", "--python", "3.12.*", cwd=tmp_path).exit_code == 0
    before = _files(tmp_path)
    assert 'python = "3.12.*"' in before["condauv.toml"].decode()
    _assert_user_error(cli("init", cwd=tmp_path), "already exists")
    assert _files(tmp_path) == before


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["init", "--channel", "file:///no/such/channel"], "no such folder"),
        (["init", "--channel", "./missing"], "no such folder"),
        (["init", "--channel", "bad channel!"], "not a channel name"),
        (["init", "--platform", "linux-65"], "unknown platform 'linux-65'"),
        (["init", "--python", "3.11; rm -rf /"], "not a conda version spec"),
        (["sync"], "no condauv.toml"),
        (["add", "numpy"], "no condauv.toml"),
        (["sync", "--bogus"], "unrecognized arguments: --bogus"),
        (["add"], "the following arguments are required"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["list", "--prefix", "nowhere"], "no environment at"),
        (["channel", "from-wheels", "missing.whl", "--output", "out"], "missing.whl"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    cli: CLI, tmp_path: Path, args: list[str], fragment: str
) -> None:
    _assert_user_error(cli(*args, cwd=tmp_path), fragment)
    assert _files(tmp_path) == {}


def test_malformed_manifest_names_line_and_column(cli: CLI, tmp_path: Path) -> None:
    (tmp_path / "condauv.toml").write_text('[environment]\npython = "3.11.*\n')
    before = _files(tmp_path)
    result = cli("sync", cwd=tmp_path)
    _assert_user_error(result, "line 2")
    assert _files(tmp_path) == before


def test_frozen_without_lock(cli: CLI, tmp_path: Path) -> None:
    (tmp_path / "condauv.toml").write_text('[dependencies]\nnumpy = "*"\n')
    _assert_user_error(cli("sync", "--frozen", cwd=tmp_path), "there is no condauv.lock")
    assert sorted(_files(tmp_path)) == ["condauv.toml"]


def test_bad_lockfile(cli: CLI, tmp_path: Path) -> None:
    (tmp_path / "condauv.toml").write_text('[dependencies]\nnumpy = "*"\n')
    (tmp_path / "condauv.lock").write_text("version = 7\n")
    _assert_user_error(cli("sync", "--frozen", cwd=tmp_path), "unknown lockfile version 7")


def test_verbose_shows_the_traceback(cli: CLI, tmp_path: Path) -> None:
    result = cli("sync", "-v", cwd=tmp_path)
    assert result.exit_code == 2
    assert "Traceback" in result.stderr


def test_python_dash_m(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "condauv", "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout.startswith("condauv ")


def test_channel_from_wheels_is_all_or_nothing(cli: CLI, tmp_path: Path) -> None:
    from condauv.pypi.wheelfile import write_wheel

    good = write_wheel(tmp_path / "wheels", "six", "1.16.0", files={"six.py": b""})
    bad = tmp_path / "wheels" / "broken-1.0-py3-none-any.whl"
    bad.write_bytes(b"not a zip")
    before = _files(tmp_path)
    result = cli("channel", "from-wheels", good, bad, "--output", tmp_path / "chan", cwd=tmp_path)
    _assert_user_error(result, "broken-1.0-py3-none-any.whl")
    assert _files(tmp_path) == before


def test_public_api_is_lazy_and_complete() -> None:
    import condauv

    for name in condauv.__all__:
        assert getattr(condauv, name) is not None
    from condauv.sync import lock, sync

    assert callable(lock) and callable(sync)


def test_bare_condauv_prints_the_help(cli: CLI, tmp_path: Path) -> None:
    result = cli(cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr.startswith("usage: condauv"), result.stderr
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr


def _managed_prefix(cli: CLI, tmp_path: Path) -> Path:
    assert cli("init", cwd=tmp_path).exit_code == 0
    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    return prefix


@pytest.mark.parametrize("status", [0, 1, 5, 126, 127, 128])
def test_run_passes_the_commands_own_exit_status(cli: CLI, tmp_path: Path, status: int) -> None:
    prefix = _managed_prefix(cli, tmp_path)
    result = cli("run", "--no-sync", "--prefix", prefix, "--", "sh", "-c", f"exit {status}", cwd=tmp_path)
    assert result.exit_code == status, result.stderr
    assert "not found" not in result.stderr


def test_run_says_not_found_before_running(cli: CLI, tmp_path: Path) -> None:
    prefix = _managed_prefix(cli, tmp_path)
    result = cli("run", "--no-sync", "--prefix", prefix, "--", "condauv-no-such-command", cwd=tmp_path)
    _assert_user_error(result, "command not found in the environment: condauv-no-such-command")
    missing = tmp_path / "missing-script"
    result = cli("run", "--no-sync", "--prefix", prefix, "--", missing, cwd=tmp_path)
    _assert_user_error(result, f"command not found in the environment: {missing}")


def test_a_closed_stdout_ends_quietly(tmp_path: Path) -> None:
    """`condauv list --json | head -1`: the reader leaves early; no traceback, no "unexpected"."""
    (tmp_path / "env" / "conda-meta").mkdir(parents=True)
    read, write = os.pipe()
    os.close(read)  # every write to ``write`` now fails with EPIPE
    try:
        done = subprocess.run(
            [sys.executable, "-m", "condauv", "list", "--json", "--prefix", "env"],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            check=False,
        )
    finally:
        os.close(write)
    assert done.stderr == ""
    assert done.returncode == 128 + signal.SIGPIPE


_DEEP = b"[" * 5000 + b"]" * 5000


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"[environment]\nname = " + _DEEP + b"\n", "nests tables or arrays"),
        (
            b"[dependencies]\nnumpy = " + b"{ a = " * 5000 + b"1" + b" }" * 5000 + b"\n",
            "nests tables or arrays",
        ),
        (b'[environment]\nprefix = "env\\u0000x"\n', "environment.prefix holds a control character"),
        (
            b'[pypi-options]\nfind-links = ["w\\u0000x"]\n',
            "pypi-options.find-links[0] holds a control character",
        ),
        (
            b'[environment]\nchannels = ["file:///c\\u0000x"]\n',
            "environment.channels[0] holds a control character",
        ),
        (b'[environment]\nname = "caf\xe9"\n', "is not UTF-8 text: bad byte at line 2"),
        (b"[environment]\nname = 'a'\x00\n", "holds a NUL byte at line 2"),
    ],
)
@pytest.mark.parametrize("command", [["sync"], ["lock", "--offline"], ["add", "--no-sync", "six"], ["list"]])
def test_a_hostile_manifest_is_one_error_fast(
    cli: CLI, tmp_path: Path, content: bytes, fragment: str, command: list[str]
) -> None:
    (tmp_path / "condauv.toml").write_bytes(content)
    before = _files(tmp_path)
    started = time.monotonic()
    _assert_user_error(cli(*command, cwd=tmp_path), fragment)
    assert time.monotonic() - started < 5  # the bug took 9 s to minutes; a loaded CI machine is slow
    assert _files(tmp_path) == before


@pytest.mark.parametrize(
    "args",
    [
        ["sync", "--manifest", "condauv\x00.toml"],
        ["list", "--prefix", "env\x00x"],
        ["init", "--from", "environment\x00.yml"],
        ["adopt", "env\x00x"],
        ["sync", "--prefix", "env\nx"],
    ],
)
def test_a_control_character_in_a_path_argument(cli: CLI, tmp_path: Path, args: list[str]) -> None:
    _assert_user_error(cli(*args, cwd=tmp_path), "holds a control character")
    assert _files(tmp_path) == {}


def test_a_killed_channel_from_wheels_leaves_nothing_in_the_users_folders(tmp_path: Path) -> None:
    """The conversion's scratch folder lives in condauv's cache (removed by the next command),
    never beside ``--output``, where a SIGKILL left `.condauv-wheels-*` for good."""
    from condauv.pypi.wheelfile import write_wheel

    files = {f"big/part{i:04d}.py": b"x = 1\n" * 50 for i in range(4000)}
    wheel = write_wheel(tmp_path / "wheels", "big", "1.0", files=files)
    cache = tmp_path / "cache"
    env = {**os.environ, "CONDAUV_CACHE_DIR": str(cache)}
    command = [sys.executable, "-m", "condauv", "channel", "from-wheels", str(wheel), "--output"]
    proc = subprocess.Popen([*command, str(tmp_path / "out")], env=env, cwd=tmp_path)
    deadline = time.monotonic() + 60

    def scratch() -> list[Path]:  # wherever it is made: the kill must land while it is there
        return [*cache.glob("tmp/*/wheels-*/*"), *tmp_path.glob(".condauv-wheels-*/*")]

    while not scratch() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert proc.poll() is None, "finished before the kill"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    left = sorted(p.name for p in tmp_path.iterdir() if p.name != "cache")
    assert left in (["wheels"], ["out", "wheels"])
    assert [p.name for p in (tmp_path / "wheels").iterdir()] == [wheel.name]
