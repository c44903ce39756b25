"""check's shortcuts: the files and records it remembers, and hashing in parallel.

Each shortcut is shown taken when nothing changed, and not taken when anything it stands for
did: a record rewritten, a file edited, touched or replaced, a cache file damaged or foreign.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from condauv.conda import records
from condauv.health import hashing, verdicts
from condauv.health.check import check_prefix
from condauv.health.hashing import CHANGED, MISSING, OK, verify_files

SITE = "lib/python3.11/site-packages"


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDAUV_CACHE_DIR", str(tmp_path / "cache"))
    # files and records written by the test are remembered at once (a real check waits 2 s)
    monkeypatch.setattr(hashing, "_SETTLE_NS", -(10**9))
    monkeypatch.setattr(records, "_SETTLE_NS", -(10**9))
    monkeypatch.setattr(verdicts, "_SETTLE_NS", -(10**9))


def record(
    prefix: Path,
    name: str,
    version: str,
    files: dict[str, bytes],
    *,
    noarch: bool = False,
    depends: tuple[str, ...] = (),
) -> Path:
    """A conda package as rattler links it (``noarch``: as conda does, package paths in ``paths_data``)."""
    paths = []
    for relative, data in files.items():
        target = prefix / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        entry = relative.replace(f"{SITE}/", "site-packages/") if noarch else relative
        digest = hashlib.sha256(data).hexdigest()
        paths.append({"_path": entry, "path_type": "hardlink", "sha256": digest, "size_in_bytes": len(data)})
    raw: dict[str, Any] = {
        "name": name,
        "version": version,
        "build": "h_0",
        "build_number": 0,
        "subdir": "linux-64",
        "depends": list(depends),
        "paths_data": {"paths_version": 1, "paths": paths},
    }
    if noarch:
        raw["noarch"] = "python"
    path = prefix / "conda-meta" / f"{name}-{version}-h_0.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


@pytest.fixture
def prefix(tmp_path: Path) -> Path:
    root = tmp_path / "env"
    record(root, "python", "3.11.7", {"bin/python3.11": b"\x7fELF python\n"})
    record(
        root,
        "six",
        "1.0",
        {f"{SITE}/six.py": b"six = 1\n", f"{SITE}/six-1.0.dist-info/METADATA": b"Name: six\nVersion: 1.0\n"},
        noarch=True,
    )
    record(root, "libzero", "1.5", {"lib/libzero.so": b"\x7fELF zero\n" * 300})
    return root


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the records parsed from their JSON (not taken from the cache)."""
    seen: list[str] = []
    original = records.CondaRecord.from_json.__func__  # type: ignore[attr-defined]

    def counting(cls: type[records.CondaRecord], raw: Any, *args: Any, **kwargs: Any) -> records.CondaRecord:
        seen.append(str(raw.get("name")))
        result: records.CondaRecord = original(cls, raw, *args, **kwargs)
        return result

    monkeypatch.setattr(records.CondaRecord, "from_json", classmethod(counting))
    return seen


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The prefix-relative paths whose content was read and hashed."""
    seen: list[str] = []
    original = hashing._hash_one

    def counting(root: int, relative: str, expected: str, size: int) -> int:
        seen.append(relative)
        return original(root, relative, expected, size)

    monkeypatch.setattr(hashing, "_hash_one", counting)
    return seen


# -- conda-meta records, remembered by each record file's stat --------------------------------


def test_records_come_from_the_cache_when_no_record_changed(prefix: Path, parsed: list[str]) -> None:
    first = records.read_records(prefix, cache=True)
    assert sorted(parsed) == ["libzero", "python", "six"]
    parsed.clear()
    again = records.read_records(prefix, cache=True)
    assert parsed == []
    assert again == first
    assert [r.record_path for r in again] == [r.record_path for r in first]
    six = next(r for r in again if r.name == "six")
    assert f"{SITE}/six.py" in six.paths  # the noarch package's paths, placed in the prefix
    assert six.provided_distributions() == {"six": "1.0"}


def test_records_are_read_again_when_a_record_changed(prefix: Path, parsed: list[str]) -> None:
    records.read_records(prefix, cache=True)
    parsed.clear()
    record(prefix, "libzero", "1.5", {"lib/libzero.so": b"\x7fELF zero, rebuilt\n"})
    found = {r.name: r for r in records.read_records(prefix, cache=True)}
    assert parsed == ["libzero"]
    assert found["libzero"].files[0].size == len(b"\x7fELF zero, rebuilt\n")
    parsed.clear()
    (prefix / "conda-meta" / "libzero-1.5-h_0.json").unlink()
    record(prefix, "zlib", "1.3", {"lib/libz.so": b"z"})
    assert [r.name for r in records.read_records(prefix, cache=True)] == ["python", "six", "zlib"]
    assert parsed == ["zlib"]


def test_a_new_python_moves_the_noarch_records(prefix: Path, parsed: list[str]) -> None:
    """A conda-written noarch record's paths depend on the prefix's python: a new python
    re-places them, though the noarch record itself did not change."""
    records.read_records(prefix, cache=True)
    (prefix / "conda-meta" / "python-3.11.7-h_0.json").unlink()
    record(prefix, "python", "3.12.1", {"bin/python3.12": b"\x7fELF python 3.12\n"})
    parsed.clear()
    six = next(r for r in records.read_records(prefix, cache=True) if r.name == "six")
    assert sorted(parsed) == ["python", "six"]
    assert "lib/python3.12/site-packages/six.py" in six.paths


def test_a_record_written_just_now_is_not_remembered(
    prefix: Path, parsed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record rewritten in the same clock tick keeps its stat: only settled records are kept."""
    monkeypatch.setattr(records, "_SETTLE_NS", 2_000_000_000)
    records.read_records(prefix, cache=True)
    parsed.clear()
    records.read_records(prefix, cache=True)
    assert sorted(parsed) == ["libzero", "python", "six"]


def test_without_cache_nothing_is_remembered(prefix: Path, parsed: list[str], tmp_path: Path) -> None:
    records.read_records(prefix)
    records.read_records(prefix)
    assert len(parsed) == 6
    assert not (tmp_path / "cache").exists()


def _cache_files(tmp_path: Path, suffix: str) -> list[Path]:
    return sorted((tmp_path / "cache" / "check").glob(f"*{suffix}"))


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "flipped":
        middle = len(data) // 2
        path.write_bytes(data[:middle] + bytes([data[middle] ^ 0x55]) + data[middle + 1 :])
    elif how == "garbage":
        path.write_bytes(os.urandom(len(data)))
    elif how == "empty":
        path.write_bytes(b"")
    else:  # a folder where the file was
        path.unlink()
        path.mkdir()


DAMAGES = ["truncated", "flipped", "garbage", "empty", "folder"]


@pytest.mark.parametrize("how", DAMAGES)
def test_a_damaged_records_cache_costs_a_parse(
    prefix: Path, parsed: list[str], tmp_path: Path, how: str
) -> None:
    first = records.read_records(prefix, cache=True)
    (cache,) = _cache_files(tmp_path, ".records")
    _damage(cache, how)
    parsed.clear()
    assert records.read_records(prefix, cache=True) == first
    assert sorted(parsed) == ["libzero", "python", "six"]


def test_a_records_cache_of_the_wrong_shape_is_ignored(
    prefix: Path, parsed: list[str], tmp_path: Path
) -> None:
    """A well-formed cache file whose content is not what condauv writes (another version, a
    hand-made one with a valid checksum) must not be trusted either."""
    import marshal

    first = records.read_records(prefix, cache=True)
    (cache,) = _cache_files(tmp_path, ".records")
    for payload in ([1, 2, 3], ("condauv-records", 99, str(prefix), ()), {"files": "x"}, None):
        data = marshal.dumps(payload)
        cache.write_bytes(hashlib.sha256(data).digest() + data)
        parsed.clear()
        assert records.read_records(prefix, cache=True) == first
        assert len(parsed) == 3


# -- files known good, remembered by inode, size, mtime and ctime ------------------------------


def test_a_second_check_reads_no_file_and_parses_no_record(
    prefix: Path, hashed: list[str], parsed: list[str]
) -> None:
    assert check_prefix(prefix).clean
    assert sorted(hashed) == [
        "bin/python3.11",
        "lib/libzero.so",
        f"{SITE}/six-1.0.dist-info/METADATA",
        f"{SITE}/six.py",
    ]
    assert len(parsed) == 3
    hashed.clear()
    parsed.clear()
    assert check_prefix(prefix).clean
    assert hashed == [] and parsed == []


@pytest.mark.parametrize("change", ["edited", "touched", "replaced", "replaced-and-dated-back"])
def test_a_changed_file_is_hashed_again(prefix: Path, hashed: list[str], change: str) -> None:
    check_prefix(prefix)
    hashed.clear()
    target = prefix / SITE / "six.py"
    before = target.stat()
    if change == "edited":
        target.write_bytes(b"six = 2\n")  # same size
    elif change == "touched":
        os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    else:
        replacement = target.with_name("six.py.new")
        replacement.write_bytes(b"six = 2\n" if change == "replaced-and-dated-back" else b"six = 1\n")
        os.utime(replacement, ns=(before.st_atime_ns, before.st_mtime_ns))
        replacement.replace(target)
    report = check_prefix(prefix)
    assert hashed == [f"{SITE}/six.py"]
    assert report.clean is (change in ("touched", "replaced"))


@pytest.mark.parametrize("how", DAMAGES)
def test_a_damaged_stat_cache_costs_a_rehash_never_a_wrong_clean(
    prefix: Path, hashed: list[str], tmp_path: Path, how: str
) -> None:
    check_prefix(prefix)
    (prefix / SITE / "six.py").write_bytes(b"six = 2\n")
    (cache,) = _cache_files(tmp_path, ".stat")
    _damage(cache, how)
    hashed.clear()
    report = check_prefix(prefix)
    assert [f.files for f in report.findings] == [(f"{SITE}/six.py",)]
    assert f"{SITE}/six.py" in hashed


def test_a_stat_cache_for_another_prefix_or_digest_is_not_trusted(
    prefix: Path, hashed: list[str], tmp_path: Path
) -> None:
    check_prefix(prefix)
    (cache,) = _cache_files(tmp_path, ".stat")
    text = cache.read_text(encoding="utf-8")
    cache.write_text(text.replace(str(prefix), str(prefix) + "-other", 1), encoding="utf-8")
    hashed.clear()
    assert check_prefix(prefix).clean
    assert len(hashed) == 4  # another prefix's cache: every file read
    # an entry vouches for one expected digest only: the record now expects other bytes
    digest = hashlib.sha256(b"six = 1\n").hexdigest()
    meta = prefix / "conda-meta" / "six-1.0-h_0.json"
    meta.write_text(meta.read_text(encoding="utf-8").replace(digest, "0" * 64), encoding="utf-8")
    hashed.clear()
    assert [f.files for f in check_prefix(prefix).findings] == [(f"{SITE}/six.py",)]
    assert hashed == [f"{SITE}/six.py"]


def test_the_old_json_stat_cache_is_ignored_and_removed(prefix: Path, tmp_path: Path) -> None:
    key = hashlib.sha256(str(prefix.resolve()).encode()).hexdigest()[:24]
    old = tmp_path / "cache" / "check" / f"{key}.json"
    old.parent.mkdir(parents=True)
    entries = {f"{prefix}/{SITE}/six.py": [0, 0, 0, 0, "x"]}
    old.write_text(json.dumps({"schema": 1, "prefix": str(prefix), "files": entries}), encoding="utf-8")
    assert check_prefix(prefix).clean
    assert not old.exists()
    assert len(_cache_files(tmp_path, ".stat")) == 1


def test_a_file_name_that_is_no_utf8_is_remembered_too(tmp_path: Path, hashed: list[str]) -> None:
    prefix = tmp_path / "env"
    prefix.mkdir()
    name = "caf\udce9.py"  # a file name that is no UTF-8 (os.fsdecode of b"caf\xe9.py")
    (prefix / name).write_bytes(b"x")
    jobs = [(f"{prefix}/{name}", hashlib.sha256(b"x").hexdigest(), 1, False)]
    assert verify_files(jobs, prefix) == [OK]
    assert verify_files(jobs, prefix) == [OK]
    assert hashed == [name]


# -- the conda depends verdict, remembered by everything it follows from -----------------------


@pytest.fixture
def depends_verdicts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One item each time the depends verdict was worked out with py-rattler."""
    from condauv.health import check

    worked: list[int] = []
    original = check._conda_depends_verdict

    def counting(found: Any, target: Any) -> list[check.Finding]:
        worked.append(1)
        return original(found, target)

    monkeypatch.setattr(check, "_conda_depends_verdict", counting)
    return worked


def _broken(prefix: Path, **kwargs: Any) -> list[str]:
    return [f.message for f in check_prefix(prefix, **kwargs).findings if f.kind == "broken-dependency"]


@pytest.fixture
def needing(prefix: Path) -> Path:
    """The prefix, with a package that needs glibc and libzero, and one that needs what is absent."""
    record(prefix, "tool", "1.0", {"bin/tool": b"t"}, depends=("__glibc >=2.17", "libzero >=1.5"))
    record(prefix, "orphan", "1.0", {"bin/orphan": b"o"}, depends=("libmissing >=1",))
    return prefix


def test_the_depends_verdict_is_remembered(needing: Path, depends_verdicts: list[int]) -> None:
    first = _broken(needing)
    assert first == [
        "conda package orphan 1.0 (h_0) depends on 'libmissing >=1', but libmissing is not installed"
    ]
    assert _broken(needing) == first
    assert len(depends_verdicts) == 1


def test_a_check_of_an_unchanged_prefix_imports_no_rattler(needing: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    script = (
        "import sys; from pathlib import Path; from condauv.health.check import check_prefix; "
        f"check_prefix(Path({str(needing)!r})); print('rattler' in sys.modules)"
    )
    env = {**os.environ, "CONDAUV_CACHE_DIR": str(tmp_path / "cache")}
    runs = [
        subprocess.run([sys.executable, "-c", script], check=False, env=env, capture_output=True, text=True)
        for _ in range(2)
    ]
    assert [r.stdout.strip() for r in runs] == ["True", "False"], [r.stderr for r in runs]


@pytest.mark.parametrize("change", ["depends", "override", "target", "damaged", "removed"])
def test_the_depends_verdict_is_worked_out_again_when_an_input_changed(
    needing: Path, depends_verdicts: list[int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    _broken(needing)
    kwargs: dict[str, Any] = {}
    expected = "conda package orphan 1.0 (h_0) depends on 'libmissing >=1', but libmissing is not installed"
    if change == "depends":
        record(needing, "tool", "1.0", {"bin/tool": b"t"}, depends=("__glibc >=2.17", "libzero >=2"))
        found = ["conda package tool 1.0 (h_0) depends on 'libzero >=2', but libzero 1.5 (h_0) is installed"]
    elif change == "override":
        monkeypatch.setenv("CONDA_OVERRIDE_GLIBC", "2.5")
        found = ["conda package tool 1.0 (h_0) depends on '__glibc >=2.17', but this machine has __glibc 2.5"]
    elif change == "target":
        kwargs["target"] = {"glibc": "2.12"}
        found = [
            "conda package tool 1.0 (h_0) depends on '__glibc >=2.17', but this machine has __glibc 2.12"
        ]
    elif change == "damaged":
        (cache,) = _cache_files(tmp_path, ".depends")
        _damage(cache, "truncated")
        found = []
    else:
        (needing / "conda-meta" / "libzero-1.5-h_0.json").unlink()
        found = ["conda package tool 1.0 (h_0) depends on 'libzero >=1.5', but libzero is not installed"]
    assert sorted(_broken(needing, **kwargs)) == sorted([expected, *found])
    assert len(depends_verdicts) == 2


def test_a_prefix_needing_cuda_or_a_cpu_is_never_remembered(
    prefix: Path, depends_verdicts: list[int]
) -> None:
    """The driver (``__cuda``) and the CPU (``__archspec``) change under an unchanged prefix,
    and only py-rattler reads them."""
    record(prefix, "gpu", "1.0", {"bin/gpu": b"g"}, depends=("__cuda >=12",))
    _broken(prefix)
    _broken(prefix)
    assert len(depends_verdicts) == 2
    record(prefix, "gpu", "1.0", {"bin/gpu": b"g"}, depends=("__archspec 1 x86_64_v3",))
    _broken(prefix)
    _broken(prefix)
    assert len(depends_verdicts) == 4


@pytest.fixture
def requires_verdicts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One item each time the Requires-Dist verdict was worked out (METADATA parsed)."""
    from condauv.health import check

    worked: list[int] = []
    original = check._requires_verdict

    def counting(*args: Any) -> list[check.Finding]:
        worked.append(1)
        return original(*args)

    monkeypatch.setattr(check, "_requires_verdict", counting)
    return worked


def pypi(prefix: Path, name: str, version: str, requires: tuple[str, ...]) -> Path:
    """A dist-info as uv writes it, with a RECORD that lists only itself (no file to hash)."""
    dist = prefix / SITE / f"{name}-{version}.dist-info"
    dist.mkdir(parents=True)
    lines = "".join(f"Requires-Dist: {r}\n" for r in requires)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{lines}")
    (dist / "INSTALLER").write_text("uv\n")
    (dist / "RECORD").write_text(f"{dist.name}/RECORD,,\n")
    return dist


def test_the_requires_dist_verdict_is_remembered(prefix: Path, requires_verdicts: list[int]) -> None:
    pypi(prefix, "requests", "2.0", ("six>=1", "idna>=3"))
    first = _broken(prefix)
    assert first == ["requests 2.0 requires idna>=3 is not installed"]
    assert _broken(prefix) == first
    assert len(requires_verdicts) == 1


@pytest.mark.parametrize("change", ["metadata", "removed", "version", "python", "just-now"])
def test_the_requires_dist_verdict_is_worked_out_again_when_an_input_changed(
    prefix: Path, requires_verdicts: list[int], monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    dist = pypi(prefix, "requests", "2.0", ("six>=1", 'idna>=3; python_version < "3.12"'))
    idna = pypi(prefix, "idna", "3.1", ())
    assert _broken(prefix) == []
    if change == "metadata":
        (dist / "METADATA").write_text(
            "Metadata-Version: 2.1\nName: requests\nVersion: 2.0\nRequires-Dist: six>=2\n"
        )
        found = ["requests 2.0 requires six>=2 is not met by six 1.0"]
    elif change == "removed":
        shutil.rmtree(idna)
        found = ['requests 2.0 requires idna>=3; python_version < "3.12" is not installed']
    elif change == "version":
        idna.rename(idna.with_name("idna-2.9.dist-info"))
        found = ['requests 2.0 requires idna>=3; python_version < "3.12" is not met by idna 2.9']
    elif change == "python":  # a python 3.12: the marker no longer applies, and six moves
        shutil.rmtree(idna)
        (prefix / "conda-meta" / "python-3.11.7-h_0.json").unlink()
        record(prefix, "python", "3.12.1", {"bin/python3.12": b"3.12"})
        moved = prefix / "lib" / "python3.12"
        moved.parent.mkdir(parents=True, exist_ok=True)
        (prefix / "lib" / "python3.11").rename(moved)
        found = []
    else:  # a METADATA written in the same tick as the check that reads it: never trusted by its stat
        monkeypatch.setattr(verdicts, "_SETTLE_NS", 2_000_000_000)
        (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: requests\nVersion: 2.0\n")
        _broken(prefix)
        found = []
    assert _broken(prefix) == found
    assert len(requires_verdicts) == (3 if change == "just-now" else 2)


# -- hashing: one file, and many in parallel --------------------------------------------------


@pytest.fixture
def root_fd(tmp_path: Path) -> Iterator[int]:
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    yield fd
    os.close(fd)


@pytest.mark.parametrize("actual", [0, 5, 4096, 3 * 2**20 + 7])
@pytest.mark.parametrize("offset", [-3, 0, 3])
def test_one_file_is_hashed_whole_whatever_size_its_stat_said(
    tmp_path: Path, root_fd: int, actual: int, offset: int
) -> None:
    """The size comes from an lstat taken before the read: a file that grew or shrank since is
    hashed to its end, never cut at the old size."""
    data = os.urandom(actual)
    (tmp_path / "f").write_bytes(data)
    said = max(0, actual + offset)
    assert hashing._hash_one(root_fd, "f", hashlib.sha256(data).hexdigest(), said) == OK
    assert hashing._hash_one(root_fd, "f", hashlib.sha256(data[:said]).hexdigest(), said) == (
        OK if said >= actual else CHANGED
    )


@pytest.mark.parametrize("kind", ["symlink", "fifo", "folder", "missing"])
def test_a_file_swapped_after_its_lstat_is_not_followed_or_waited_on(
    tmp_path: Path, root_fd: int, kind: str
) -> None:
    (tmp_path / "target").write_bytes(b"ok")
    ok = hashlib.sha256(b"ok").hexdigest()
    if kind == "symlink":
        (tmp_path / "f").symlink_to(tmp_path / "target")
    elif kind == "fifo":
        os.mkfifo(tmp_path / "f")
    elif kind == "folder":
        (tmp_path / "f").mkdir()
    assert hashing._hash_one(root_fd, "f", ok, 2) == (MISSING if kind == "missing" else CHANGED)


def _many(tmp_path: Path) -> tuple[Path, list[tuple[str, str | None, int | None, bool]], list[int]]:
    """A prefix of small and large files, some of them damaged, with the states check must find."""
    prefix = tmp_path / "env"
    prefix.mkdir()
    jobs: list[tuple[str, str | None, int | None, bool]] = []
    expected: list[int] = []
    for i in range(120):
        data = os.urandom(3000 + i * 11 if i % 40 else 70_000)  # some larger than _SMALL below
        (prefix / f"f{i:03d}").write_bytes(data)
        state = (OK, CHANGED, OK, OK, MISSING)[i % 5]
        digest = hashlib.sha256(data if state != CHANGED else b"other").hexdigest()
        jobs.append((f"{prefix}/f{i:03d}", digest, None, False))
        expected.append(state)
        if state == MISSING:
            (prefix / f"f{i:03d}").unlink()
    return prefix, jobs, expected


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The processes forked to hash in parallel."""
    pids: list[int] = []
    original = os.fork

    def counting() -> int:
        pid = original()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counting)
    return pids


#: What runs in forked processes: only the hashing of files not known good (a large first
#: check), or the whole verification, lstat and cache included (a check of 8,000 files or more).
SPLITS = ["hashing", "verification"]


def _split(monkeypatch: pytest.MonkeyPatch, split: str, workers: int) -> None:
    monkeypatch.setattr(hashing, "_SMALL", 50_000)
    monkeypatch.setattr(hashing, "_workers", lambda: workers)
    monkeypatch.setattr(hashing, "_PARALLEL_COST", 0)
    monkeypatch.setattr(hashing, "_PARALLEL_JOBS", 0 if split == "verification" else 10**9)


def _remembered(tmp_path: Path) -> dict[str, str]:
    (cache,) = _cache_files(tmp_path, ".stat")
    fields = cache.read_bytes().decode("utf-8").split("\x00")
    return dict(zip(fields[2::2], fields[3::2], strict=True))


@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("workers", [2, 3])
def test_forked_processes_find_what_one_process_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks: list[int], split: str, workers: int
) -> None:
    prefix, jobs, expected = _many(tmp_path)
    _split(monkeypatch, split, workers)
    assert verify_files(jobs, prefix) == expected
    # fork is used only in a process of one thread; in a whole test run, earlier tests leave
    # threads behind (rattler's runtime), and the threaded path must find the same
    assert len(forks) == (workers - 1 if hashing._single_threaded() else 0)
    # what the children hashed right is remembered too, and only that
    good = {path for (path, *_), state in zip(jobs, expected, strict=True) if state == OK}
    assert set(_remembered(tmp_path)) == good
    forks.clear()
    assert verify_files(jobs, prefix) == expected  # the good ones from the cache this time
    target = jobs[-3][0]  # in the last child's run
    Path(target).write_bytes(b"edited")
    expected[-3] = CHANGED
    assert verify_files(jobs, prefix) == expected
    assert set(_remembered(tmp_path)) == good - {target}


def _with_another_thread(body: Callable[[], None]) -> None:
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        body()
    finally:
        release.set()
        other.join()


@pytest.mark.parametrize("split", SPLITS)
def test_a_process_with_other_threads_hashes_in_threads_never_forks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks: list[int], split: str
) -> None:
    """fork() copies only the calling thread: a lock another thread holds (py-rattler's runtime
    in a sync) would stay locked in the child forever."""
    prefix, jobs, expected = _many(tmp_path)
    _split(monkeypatch, split, 2)
    found: list[int] = []
    _with_another_thread(lambda: found.extend(verify_files(jobs, prefix)))
    assert found == expected
    assert forks == []


@pytest.mark.parametrize("split", SPLITS)
def test_a_failed_worker_costs_its_share_a_second_verification(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, split: str
) -> None:
    """A forked worker that dies (killed, out of memory) leaves its files to the parent."""
    prefix, jobs, expected = _many(tmp_path)
    _split(monkeypatch, split, 2)
    parent = os.getpid()
    original = hashing._hash_one

    def dying(*args: Any) -> int:
        if os.getpid() != parent:
            os._exit(3)
        return original(*args)

    monkeypatch.setattr(hashing, "_hash_one", dying)
    assert verify_files(jobs, prefix) == expected
    good = {path for (path, *_), state in zip(jobs, expected, strict=True) if state == OK}
    assert set(_remembered(tmp_path)) == good


@pytest.mark.skipif(bool(os.environ.get("CONDAUV_FORK_CHILD_RUN")), reason="the child run itself")
def test_the_forked_path_runs_in_a_process_of_one_thread() -> None:
    """In a whole test run the process has threads, so the tests above take the threaded
    path; here they run alone in a fresh interpreter, where fork is used (and asserted)."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "pytest", __file__, "-q", "-p", "no:cacheprovider", "-k", "forked_processes"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "CONDAUV_FORK_CHILD_RUN": "1"},
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "4 passed" in done.stdout
