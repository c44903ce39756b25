"""condauv pack against the real conda-pack: a synced project (numpy from the local conda channel,
tqdm from the wheelhouse) packed, unpacked into another folder, relocated with ``bin/conda-unpack``
and used there with the original prefix deleted; damaged, drifted or stale projects are refused."""

from __future__ import annotations

import hashlib
import json
import resource
import shutil
import signal
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from condauv.__main__ import main
from tests.clirunner import CLI, chdir

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory, conda_channel: Path, wheelhouse: Path) -> Iterator[Path]:
    """One project for the module: numpy (conda) and tqdm (PyPI), synced."""
    folder = tmp_path_factory.mktemp("pack") / "proj"
    folder.mkdir()
    with chdir(folder):
        assert main(["init", "--channel", conda_channel.as_uri(), "-q"]) == 0
        with (folder / "condauv.toml").open("a") as handle:
            handle.write(f'\n[pypi-options]\nfind-links = ["{wheelhouse}"]\nno-index = true\n')
        assert main(["add", "numpy", "tqdm", "-q"]) == 0
    yield folder


def _prefix(folder: Path) -> Path:
    return folder / ".condauv" / "env"


def _numpy_file(prefix: Path) -> Path:
    """A file of conda's numpy package (from its conda-meta record)."""
    record = next((prefix / "conda-meta").glob("numpy-*.json"))
    files = json.loads(record.read_text())["files"]
    return prefix / next(str(f) for f in files if str(f).endswith("numpy/version.py"))


def test_refuses_a_damaged_prefix(synced: Path, cli: CLI, tmp_path: Path) -> None:
    target = _numpy_file(_prefix(synced))
    original = target.read_bytes()
    target.write_bytes(original + b"\n# edited\n")
    try:
        result = cli("pack", "-o", tmp_path / "env.tar.gz", cwd=synced)
    finally:
        target.write_bytes(original)
    assert result.exit_code == 2, result.stderr
    assert "error:" in result.stderr and "hint:" in result.stderr
    assert "clobbered" in result.stderr or "numpy" in result.stderr
    assert "has 1 finding (" in result.stderr, result.stderr
    # plain `condauv sync` finds the prefix in sync: the repair is `sync --repair`
    assert "`condauv sync --repair`" in result.stderr, result.stderr
    assert list(tmp_path.iterdir()) == []


def test_refuses_a_stale_lock(synced: Path, cli: CLI, tmp_path: Path) -> None:
    manifest = synced / "condauv.toml"
    original = manifest.read_text()
    manifest.write_text(original.replace('tqdm = "*"', 'tqdm = "*"\nclick = "*"', 1))
    try:
        changed = manifest.read_text() != original
        result = cli("pack", "-o", tmp_path / "env.tar.gz", cwd=synced)
    finally:
        manifest.write_text(original)
    assert changed
    assert result.exit_code == 2, result.stderr
    assert "condauv.lock" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where", ["prefix", "state", "lock", "manifest"])
def test_refuses_outputs_condauv_owns(synced: Path, cli: CLI, where: str) -> None:
    target = {
        "prefix": _prefix(synced) / "env.tar.gz",
        "state": synced / ".condauv" / "env.tar.gz",
        "lock": synced / "condauv.lock",
        "manifest": synced / "condauv.toml",
    }[where]
    before = target.read_bytes() if target.exists() else None
    result = cli("pack", "-o", target, cwd=synced)
    assert result.exit_code == 2, result.stderr
    assert "error:" in result.stderr and "hint:" in result.stderr
    assert (target.read_bytes() if target.exists() else None) == before


def test_refuses_an_unknown_suffix(synced: Path, cli: CLI, tmp_path: Path) -> None:
    result = cli("pack", "-o", tmp_path / "env.rar", cwd=synced)
    assert result.exit_code == 2, result.stderr
    assert ".tar.gz" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_pack_unpack_elsewhere(synced: Path, cli: CLI, tmp_path: Path) -> None:
    archive = tmp_path / "out" / "env.tar.gz"
    archive.parent.mkdir()
    result = cli("pack", "-o", archive, "--json", cwd=synced)
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["path"] == str(archive) and payload["size"] == archive.stat().st_size
    assert payload["files"] > 100
    assert [p.name for p in archive.parent.iterdir()] == ["env.tar.gz"]  # no temp file left
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {"conda-meta/condauv-lock.toml", "conda-meta/condauv-manifest.toml", "bin/conda-unpack"} <= names

    unpacked = tmp_path / "elsewhere" / "env"
    unpacked.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="tar")
    subprocess.run([unpacked / "bin" / "conda-unpack"], check=True, capture_output=True)
    shutil.rmtree(_prefix(synced))
    try:
        done = subprocess.run(
            [unpacked / "bin" / "python", "-c", "import numpy, tqdm; print(numpy.__file__, tqdm.__file__)"],
            check=True,
            capture_output=True,
            text=True,
        )
        for path in done.stdout.split():
            assert Path(path).is_relative_to(unpacked), done.stdout
        checked = cli("check", "--prefix", unpacked, cwd=tmp_path)
        assert checked.exit_code == 0, checked.stdout + checked.stderr
        assert "is clean" in checked.stderr
    finally:
        assert cli("sync", "-q", cwd=synced).exit_code == 0  # the module's project, whole again


def test_default_output_and_zip(synced: Path, cli: CLI, tmp_path: Path) -> None:
    zipped = tmp_path / "env.zip"
    assert cli("pack", "-o", zipped, "-q", cwd=synced).exit_code == 0
    assert zipped.read_bytes()[:2] == b"PK"
    assert zipped.stat().st_mode & 0o777 == 0o644
    default = synced / "proj.tar.gz"
    default.write_bytes(b"an older archive")  # replaced
    try:
        result = cli("pack", cwd=synced)
        assert result.exit_code == 0, result.stderr
        assert f"wrote {default}" in result.stderr and "conda-unpack" in result.stderr
        assert "tar -xf proj.tar.gz -C env" in result.stderr  # beside the current folder: its name
        assert "no package owns" not in result.stderr
        assert tarfile.is_tarfile(default)
        assert default.stat().st_mode & 0o777 == 0o644  # the replaced file's, not mkstemp's 0600
        assert not [p for p in synced.iterdir() if p.name.startswith(".proj.tar.gz")]
    finally:
        default.unlink()


def test_bundle_flag(synced: Path, cli: CLI, tmp_path: Path) -> None:
    """``--bundle`` reaches :func:`condauv.pack.bundle.make_bundle` (its contents: test_bundle.py)."""
    target = tmp_path / "site.tar.gz"
    result = cli("pack", "--bundle", "-o", target, "--json", cwd=synced)
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["path"] == str(target) and payload["size"] == target.stat().st_size
    with tarfile.open(target) as tar:
        names = tar.getnames()
    assert any(name.endswith("condauv.lock") for name in names)
    assert any(name.endswith(".conda") for name in names)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    assert payload["sha256"] == digest  # to compare out of band where it is unpacked
    again = cli("pack", "--bundle", "-o", tmp_path / "again.tar.gz", cwd=synced)
    assert again.exit_code == 0, again.stderr
    again_digest = hashlib.sha256((tmp_path / "again.tar.gz").read_bytes()).hexdigest()
    assert f"sha256 {again_digest}  again.tar.gz" in again.stderr


def _lines(stderr: str, start: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(start)]


def test_reports_where_it_wrote_and_how_to_unpack_it(synced: Path, cli: CLI, tmp_path: Path) -> None:
    """The path as it is (no ``..``), and an unpack line that works from the folder pack ran in."""
    (tmp_path / "a").mkdir()
    (tmp_path / "out").mkdir()
    result = cli("pack", "-o", f"{tmp_path}/a/../out/fleet.tar.gz", cwd=synced)
    assert result.exit_code == 0, result.stderr
    archive = tmp_path / "out" / "fleet.tar.gz"
    assert f"wrote {archive} (" in result.stderr, result.stderr
    unpack = next(line for line in result.stderr.splitlines() if line.startswith("unpack: "))
    assert f"tar -xf {archive} -C env" in unpack, unpack
    run = tmp_path / "run"
    run.mkdir()
    # run the printed line, in a folder that does not hold the archive
    subprocess.run(["bash", "-c", unpack.removeprefix("unpack: ")], cwd=run, check=True, capture_output=True)
    assert (run / "env" / "bin" / "python").exists()


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("{tmp}/env.tar.gz/", "ends with '/': it names a folder"),
        ("{project}/condauv.toml/x.tar.gz", "is a file, not a folder"),
        ("{project}/condauv.toml/sub/x.tar.gz", "is a file, not a folder"),
        ("{tmp}/missing/x.tar.gz", "does not exist"),
    ],
)
def test_refuses_an_output_that_cannot_be_a_file(
    synced: Path, cli: CLI, tmp_path: Path, given: str, says: str
) -> None:
    output = given.format(tmp=tmp_path, project=synced)
    before = sorted(p.name for p in synced.iterdir())
    result = cli("pack", "-o", output, cwd=synced)
    assert result.exit_code == 2, result.stderr
    assert len(_lines(result.stderr, "error: ")) == 1 and len(_lines(result.stderr, "hint: ")) == 1
    assert says in result.stderr, result.stderr
    assert list(tmp_path.iterdir()) == [] and sorted(p.name for p in synced.iterdir()) == before


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_an_unwritable_folder_is_one_error_line(synced: Path, cli: CLI) -> None:
    result = cli("pack", "-o", "/proc/x.tar.gz", cwd=synced)
    assert result.exit_code == 1, result.stderr
    errors = _lines(result.stderr, "error: ")
    assert len(errors) == 1 and errors[0].startswith("error: cannot write /proc/x.tar.gz: "), result.stderr
    assert "unexpected" not in result.stderr and len(_lines(result.stderr, "hint: ")) == 1


def test_a_full_disk_is_one_error_line_and_leaves_nothing(synced: Path, cli: CLI, tmp_path: Path) -> None:
    """conda-pack writes a .tar.gz from a thread of its own: its failure (here the file-size limit,
    as a full disk would) is condauv's one error line, with no thread traceback, and nothing stays."""
    out = tmp_path / "out"
    out.mkdir()
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    saved = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, hard))
    try:
        result = cli("pack", "-o", out / "env.tar.gz", cwd=synced)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, saved)
    assert result.exit_code == 1, result.stderr
    assert "Traceback" not in result.stderr and "Exception in thread" not in result.stderr, result.stderr
    errors = _lines(result.stderr, "error: ")
    assert len(errors) == 1 and errors[0].startswith(f"error: cannot write {out / 'env.tar.gz'}: "), errors
    assert "File too large" in errors[0] and len(_lines(result.stderr, "hint: ")) == 1
    assert list(out.iterdir()) == []


def test_notes_files_no_package_owns(synced: Path, cli: CLI, tmp_path: Path) -> None:
    stray = _prefix(synced) / "share" / "junk" / "stray.txt"
    stray.parent.mkdir(parents=True)
    stray.write_text("nobody's\n")
    try:
        result = cli("pack", "-o", tmp_path / "env.tar.gz", "--json", cwd=synced)
    finally:
        shutil.rmtree(stray.parent)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["unowned"] == ["share/junk/stray.txt"]
    notes = _lines(result.stderr, "note: ")
    assert len(notes) == 1 and "1 file no package owns" in notes[0] and "share/junk/stray.txt" in notes[0]
    with tarfile.open(tmp_path / "env.tar.gz") as tar:
        assert "share/junk/stray.txt" in tar.getnames()  # conda-pack packs it: the note says so


@pytest.mark.parametrize(
    ("link", "target"),
    [("etclink", "/etc"), ("share/up", "../../.."), ("share/python", "{prefix}/bin/python")],
)
def test_refuses_a_link_out_of_the_prefix(
    synced: Path, cli: CLI, tmp_path: Path, link: str, target: str
) -> None:
    """Unpacked elsewhere, such a link points back at this machine (and a .zip would carry the
    whole folder it names): refused, nothing written."""
    path = _prefix(synced) / link
    path.symlink_to(target.format(prefix=_prefix(synced)))
    try:
        result = cli("pack", "-o", tmp_path / "env.zip", cwd=synced)
    finally:
        path.unlink()
    assert result.exit_code == 2, result.stderr
    errors = _lines(result.stderr, "error: ")
    assert len(errors) == 1 and repr(link) in errors[0], result.stderr
    assert "remove" in _lines(result.stderr, "hint: ")[0]
    assert list(tmp_path.iterdir()) == []
