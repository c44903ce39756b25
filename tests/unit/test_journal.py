"""The sync journal, the project lock and condauv's temp folders: pure file logic, no engines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from condauv import _fs
from condauv.sync import journal


@pytest.fixture
def prefix(tmp_path: Path) -> Path:
    (tmp_path / "conda-meta").mkdir()
    return tmp_path


def test_journal_round_trip_and_clear(prefix: Path) -> None:
    assert journal.pending(prefix) is None
    journal.begin(prefix, conda=["python", "numpy", "numpy"], pypi=["requests"])
    found = journal.pending(prefix)
    assert found is not None
    assert found.readable
    assert (found.conda, found.pypi, found.pid) == (("numpy", "python"), ("requests",), os.getpid())
    assert f"pid {os.getpid()}" in found.describe()
    journal.clear(prefix)
    assert journal.pending(prefix) is None
    journal.clear(prefix)  # clearing twice is fine


def test_journal_is_no_package_record(prefix: Path) -> None:
    journal.begin(prefix, conda=[], pypi=[])
    assert [p.name for p in (prefix / "conda-meta").iterdir()] == [journal.JOURNAL]
    assert not journal.JOURNAL.endswith(".json")


@pytest.mark.parametrize(
    "content",
    [b"", b'{"schema": 1, "pid"', b"\xff\xfe", b"[]", b'{"schema": 99}', b'{"schema": 1, "conda": [1]}'],
    ids=["empty", "cut", "binary", "list", "schema", "types"],
)
def test_a_garbled_journal_is_pending_and_unreadable(prefix: Path, content: bytes) -> None:
    (prefix / "conda-meta" / journal.JOURNAL).write_bytes(content)
    found = journal.pending(prefix)
    assert found is not None
    assert not found.readable
    assert found.describe() == "an earlier sync"


def test_begin_removes_temp_files_a_killed_sync_left(prefix: Path) -> None:
    meta = prefix / "conda-meta"
    stale = [meta / ".condauv-journal.condauv-abc123.tmp", meta / ".condauv-lock.toml.condauv-x1.tmp"]
    for path in stale:
        path.write_text("half")
    other = meta / ".someone-else.tmp"
    other.write_text("not ours")
    journal.begin(prefix, conda=[], pypi=[])
    assert not any(p.exists() for p in stale)
    assert other.exists()
    assert json.loads((meta / journal.JOURNAL).read_text())["schema"] == 1


def test_exclusive_lock_is_reentrant_and_names_its_holder(tmp_path: Path) -> None:
    path = tmp_path / "state" / "project.lock"
    with _fs.exclusive_lock(path, holder="pid 1 (condauv add)"):
        assert _fs.holds_lock(path)
        with _fs.exclusive_lock(path, holder="pid 1 (condauv sync)"):
            assert path.read_text() == "pid 1 (condauv add)\n"
        assert _fs.holds_lock(path)
    assert not _fs.holds_lock(path)
    assert path.read_text() == ""


def test_a_waiting_process_is_told_who_holds_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "project.lock"
    waits: list[str] = []
    script = (
        "import sys, fcntl; f = open(sys.argv[1], 'a+'); fcntl.flock(f, fcntl.LOCK_EX); "
        "f.write('pid 42 (condauv add)'); f.flush(); print('held', flush=True); sys.stdin.read()"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as holder:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == "held"
        release = holder.stdin

        def waiting(line: str) -> None:
            waits.append(line)
            release.close()  # the holder exits, and the kernel drops its lock

        _fs.report_waits(waiting)
        try:
            with _fs.exclusive_lock(path, holder="me", what="the project lock"):
                assert path.read_text() == "me\n"
        finally:
            _fs.report_waits(None)
    assert waits == [f"waiting for the project lock ({path}), held by pid 42 (condauv add)"]


def test_stale_temp_folders_of_dead_processes_are_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONDAUV_CACHE_DIR", str(tmp_path / "cache"))
    with _fs.scratch_dir("condauv-resolve-") as mine:
        assert mine.is_dir()
        assert mine.parent.name.endswith(f"-{os.getpid()}")
        dead = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"],
            check=True,
            capture_output=True,
            text=True,
        )
        gone = mine.parent.with_name(f"{mine.parent.name.rpartition('-')[0]}-{int(dead.stdout)}")
        (gone / "condauv-install-x").mkdir(parents=True)
        foreign = mine.parent.with_name(f"otherhost-{int(dead.stdout)}")
        foreign.mkdir()
        assert _fs.remove_stale_temp_dirs() == [gone]
        assert mine.is_dir()  # our own, alive
        assert foreign.is_dir()  # another host's: its pids are not ours to judge
    assert not mine.exists()


def test_stale_temp_files_beside_a_file_are_removed(tmp_path: Path) -> None:
    lock = tmp_path / "condauv.lock"
    lock.write_text("kept")
    stale = tmp_path / ".condauv.lock.condauv-k2j3.tmp"
    stale.write_text("half")
    unrelated = tmp_path / ".condauv.toml.condauv-k2j3.tmp"
    unrelated.write_text("half")
    assert _fs.remove_stale_temp_files([lock]) == [stale]
    assert lock.read_text() == "kept"
    assert unrelated.exists()
