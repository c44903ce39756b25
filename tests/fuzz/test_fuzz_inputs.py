"""Property-based fuzzing of everything condauv reads from another person.

Manifests, locks, environment.yml and requirements files, grown from the real files in
``tests/data`` and a real lock, are mutated (byte flips, truncation, hostile chunks: NULs,
``..``, invalid UTF-8, unicode, huge and deep values; and, structurally, values of the wrong
type) and fed to the real CLI in-process with commands that read them without the network.

The invariant, for every case: exit 0, 1 or 2; no "unexpected" error and no traceback; when
the command fails, the manifest, the lock and the prefix are exactly as they were; and each
case ends in bounded time. Runs are derandomized (the same cases every run: CI is
reproducible) and sized to about a minute in all.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.clirunner import CLI, RunResult
from tests.helpers.wheels import write_wheel

DATA = Path(__file__).resolve().parents[1] / "data"
ENVIRONMENTS = sorted((DATA / "environments").glob("*.yml"))
REQUIREMENTS = sorted((DATA / "requirements").glob("*.txt"))

#: seconds one case may take: a read fails in milliseconds; a valid lock installs in ~2 s.
READ_BOUND = 3.0
SYNC_BOUND = 8.0

_HOSTILE = (
    b"\x00",
    b"\xff\xfe\xfd",
    b"\xc3",
    "é€😀\u202e\u200b".encode(),
    b"..",
    b"../../../etc/passwd",
    b"/",
    b"\\",
    b"~",
    b"[" * 5000,
    b"{ a = " * 60,
    b"- [" * 300,
    b" " * 40_000,
    b"x" * 100_000,
    b"\n",
    b"\r\n",
    b"\t",
    b'"',
    b"'",
    b"=",
    b"#",
    b"::",
    b": ",
    b"- ",
    b"&a ",
    b"*a",
    b"!!python/object:os.system ",
    b"<<: ",
    b"|\n",
    b"-r ",
    b"-r /etc/passwd\n",
    b"--index-url https://user:token@example.invalid/simple #",
    b"-e ../x\n",
    b"file:///",
    b"{}",
    b"1e999",
    b"-9223372036854775809",
    b"9" * 400,
    b"true",
    b"[[x]]\n",
    b'"\\u0000"',
)

_WRONG_VALUES: tuple[Any, ...] = (
    0,
    -1,
    2**70,
    1.5,
    True,
    [],
    {},
    ["a", 1],
    {"a": {"b": {"c": []}}},
    "",
    "..",
    "../../x",
    "/etc",
    "a\x00b",
    "\x1b[31m",
    "x" * 20_000,
    "é€😀",
    "file:///../../etc",
    "https://user:token@example.invalid/x",
    "{}",
)


def _mutate_bytes(data: st.DataObject, text: bytes) -> bytes:
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        kind = data.draw(st.sampled_from(["flip", "truncate", "insert", "delete", "duplicate"]))
        at = data.draw(st.integers(0, max(len(text), 1) - 1), label="at") if text else 0
        if kind == "flip" and text:
            bit = 1 << data.draw(st.integers(0, 7), label="bit")
            text = text[:at] + bytes([text[at] ^ bit]) + text[at + 1 :]
        elif kind == "truncate":
            text = text[:at]
        elif kind == "insert":
            text = text[:at] + data.draw(st.sampled_from(_HOSTILE), label="chunk") + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + data.draw(st.integers(1, 200), label="length") :]
        else:
            lines = text.splitlines(keepends=True)
            if lines:
                index = data.draw(st.integers(0, len(lines) - 1), label="line")
                lines.insert(index, lines[index])
            text = b"".join(lines)
    return text


def _paths(value: Any, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Every key path of a parsed TOML document (depth is small: a seed's own)."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*prefix, key)
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield (*prefix, index)
            yield from _paths(child, (*prefix, index))


def _mutate_toml(data: st.DataObject, text: bytes) -> bytes:
    """A value of the wrong type (or a hostile string) at one place of a TOML seed."""
    document = tomllib.loads(text.decode())
    paths = list(_paths(document))
    path = data.draw(st.sampled_from(paths), label="path")
    parent: Any = document
    for part in path[:-1]:
        parent = parent[part]
    if data.draw(st.booleans(), label="delete"):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(st.sampled_from(_WRONG_VALUES), label="value")
    try:
        return tomlkit.dumps(document).encode("utf-8", "surrogatepass")
    except Exception:  # a value tomlkit cannot write (NUL in a key...): write it as JSON-ish TOML
        return json.dumps(document).encode()


def _mutated(data: st.DataObject, seed: bytes, *, toml: bool) -> bytes:
    if toml and data.draw(st.booleans(), label="structural"):
        return _mutate_toml(data, seed)
    return _mutate_bytes(data, seed)


def _listing(prefix: Path) -> list[tuple[str, int, int]]:
    """A prefix too large to read each time: every path with its size and modification time."""
    return sorted(
        (str(p.relative_to(prefix)), p.lstat().st_size, p.lstat().st_mtime_ns) for p in prefix.rglob("*")
    )


def _snapshot(folder: Path) -> dict[str, bytes | str]:
    """Every file and link under ``folder`` (the manifest, the lock and the prefix among them),
    less the project lock (``.condauv/project.lock`` and its folder), which every writing
    command takes before it reads anything."""
    state: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if name in (".condauv", ".condauv/project.lock"):
            continue
        if path.is_symlink():
            state[name] = f"-> {path.readlink()}"
        elif path.is_file():
            state[name] = path.read_bytes()
        elif path.is_dir():
            state[name] = "dir"
    return state


def _check_invariant(result: RunResult, before: dict[str, bytes | str], folder: Path) -> None:
    assert result.exit_code in (0, 1, 2), result
    assert "error: unexpected " not in result.stderr, result.stderr[:2000]  # the CLI's "a bug" line
    assert "Traceback" not in result.stderr, result.stderr[:2000]
    if result.exit_code != 0:
        assert _snapshot(folder) == before, result.stderr[:2000]
    if result.exit_code == 2:
        assert any(line.startswith("error: ") for line in result.stderr.splitlines()), result.stderr[:2000]


_FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@pytest.fixture(scope="module")
def fuzz_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Caches of this module only, and a folder for the cases."""
    root = tmp_path_factory.mktemp("fuzz")
    saved = {k: os.environ.get(k) for k in ("CONDAUV_CACHE_DIR", "UV_CACHE_DIR")}
    os.environ["CONDAUV_CACHE_DIR"] = str(root / "cache" / "condauv")
    os.environ["UV_CACHE_DIR"] = str(root / "cache" / "uv")
    yield root
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def seed_project(fuzz_home: Path, conda_channel: Path) -> Path:
    """A real project (local channel, local wheel): its manifest and lock are the seeds."""
    from condauv.__main__ import main

    folder = fuzz_home / "seed"
    folder.mkdir()
    write_wheel(folder / "wheels", "six", "1.16.0")
    cwd = Path.cwd()
    os.chdir(folder)
    try:
        assert main(["init", "-q", "--channel", conda_channel.as_uri()]) == 0
        with (folder / "condauv.toml").open("a") as handle:  # absolute: the copies share it
            handle.write(f'\n[pypi-options]\nfind-links = ["{folder / "wheels"}"]\nno-index = true\n')
        assert main(["add", "-q", "--no-sync", "--offline", "tiny-a", "--conda"]) == 0
        assert main(["add", "-q", "--offline", "six", "--pypi"]) == 0  # and the seed's prefix
    finally:
        os.chdir(cwd)
    return folder


def _case(fuzz_home: Path) -> Path:
    folder = fuzz_home / "cases" / f"{time.monotonic_ns()}"
    folder.mkdir(parents=True)
    return folder


def _run(cli: CLI, folder: Path, args: list[str], bound: float, shared: Path | None = None) -> None:
    """Run one case; ``shared``: a prefix the command reads (``--prefix``) and must not change."""
    before = _snapshot(folder)
    shared_before = _listing(shared) if shared else None
    started = time.monotonic()
    result = cli(*args, *(["--prefix", str(shared)] if shared else []), cwd=folder)
    took = time.monotonic() - started
    event(f"{args[0]}: exit {result.exit_code}")
    _check_invariant(result, before, folder)
    if shared is not None:
        assert _listing(shared) == shared_before, result.stderr[:2000]
    assert took < bound, f"{args} took {took:.1f} s"


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> CLI:
    return CLI(capsys)


@settings(_FUZZ, max_examples=300)
@given(data=st.data())
def test_fuzz_environment_and_requirements_files(cli: CLI, fuzz_home: Path, data: st.DataObject) -> None:
    source = data.draw(st.sampled_from([*ENVIRONMENTS, *REQUIREMENTS]), label="seed")
    text = _mutate_bytes(data, source.read_bytes())
    folder = _case(fuzz_home)
    target = folder / source.name
    target.write_bytes(text)
    _run(cli, folder, ["init", "--from", target.name], READ_BOUND)
    shutil.rmtree(folder)


@settings(_FUZZ, max_examples=150)
@given(data=st.data())
def test_fuzz_manifests(cli: CLI, fuzz_home: Path, seed_project: Path, data: st.DataObject) -> None:
    manifest = _mutated(data, (seed_project / "condauv.toml").read_bytes(), toml=True)
    command = data.draw(
        st.sampled_from([["list"], ["check"], ["sync", "--frozen", "--offline"]]),
        label="command",
    )
    folder = _case(fuzz_home)
    (folder / "condauv.toml").write_bytes(manifest)
    shutil.copy(seed_project / "condauv.lock", folder / "condauv.lock")
    if command[0] == "sync":
        _run(cli, folder, command, SYNC_BOUND)
    else:
        _run(cli, folder, command, READ_BOUND, shared=seed_project / ".condauv" / "env")
    shutil.rmtree(folder)


@settings(_FUZZ, max_examples=150)
@given(data=st.data())
def test_fuzz_locks(cli: CLI, fuzz_home: Path, seed_project: Path, data: st.DataObject) -> None:
    lock = _mutated(data, (seed_project / "condauv.lock").read_bytes(), toml=True)
    command = data.draw(
        st.sampled_from([["check"], ["list"], ["sync", "--frozen", "--offline"]]), label="command"
    )
    folder = _case(fuzz_home)
    shutil.copy(seed_project / "condauv.toml", folder / "condauv.toml")
    (folder / "condauv.lock").write_bytes(lock)
    if command[0] == "sync":  # into a new prefix of the case's own
        _run(cli, folder, command, SYNC_BOUND)
    else:  # the seed's synced prefix, read against the mutated lock
        _run(cli, folder, command, READ_BOUND, shared=seed_project / ".condauv" / "env")
    shutil.rmtree(folder)
