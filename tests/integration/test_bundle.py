"""condauv pack --bundle: every locked artifact in one archive, installed on the other side with
no network and none of the original sources (the channel and wheelhouse copies are deleted)."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import re
import shutil
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from condauv.__main__ import main
from condauv.errors import LockfileError, UserError
from condauv.lock.model import Lock, load_lock
from condauv.pack.bundle import archive_sha256, make_bundle
from condauv.pack.unbundle import relocate_bundle, unpack_bundle
from condauv.project import Project
from tests.clirunner import CLI, chdir
from tests.integration.conftest import MakeProject

pytestmark = pytest.mark.slow


def _identity(lock: Lock) -> tuple[set[tuple[str, ...]], set[tuple[str, ...]]]:
    conda: set[tuple[str, ...]] = {(p.platform, p.name, p.version, p.build, p.sha256) for p in lock.conda}
    pypi: set[tuple[str, ...]] = {(p.platform, p.name, p.version, p.sha256) for p in lock.pypi}
    return conda, pypi


@pytest.fixture(scope="module")
def bundled(
    tmp_path_factory: pytest.TempPathFactory, conda_channel: Path, wheelhouse: Path
) -> Iterator[tuple[Path, Lock]]:
    """A locked project (numpy from conda, tqdm from the wheelhouse) on copies of the channel and
    wheelhouse, bundled; the copies then deleted. Yields the bundle and the original lock."""
    base = tmp_path_factory.mktemp("bundle")
    channel, wheels = base / "channel-copy", base / "wheels-copy"
    shutil.copytree(conda_channel, channel)
    shutil.copytree(wheelhouse, wheels)
    folder = base / "proj"
    folder.mkdir()
    with chdir(folder):
        assert main(["init", "--channel", channel.as_uri(), "-q"]) == 0
        with (folder / "condauv.toml").open("a") as handle:
            handle.write(f'\n[pypi-options]\nfind-links = ["{wheels}"]\nno-index = true\n')
        assert main(["add", "numpy", "tqdm", "--no-sync", "-q"]) == 0
    project = Project.load(folder / "condauv.toml")
    lock = load_lock(project.lock_path)
    assert lock is not None
    assert {p.name for p in lock.pypi} == {"tqdm"} and "numpy" in {p.name for p in lock.conda}
    (base / "out").mkdir()
    output = make_bundle(project, base / "out" / "site.tar.gz")
    assert output.is_file()
    shutil.rmtree(channel)
    shutil.rmtree(wheels)
    yield output, lock


@pytest.fixture
def fresh_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Empty caches: nothing verified earlier is reused, nothing can come from elsewhere."""
    monkeypatch.setenv("CONDAUV_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    monkeypatch.setenv("UV_OFFLINE", "1")


def test_archive_holds_only_plain_files_of_one_folder(bundled: tuple[Path, Lock]) -> None:
    with tarfile.open(bundled[0]) as tar:
        members = tar.getmembers()
    names = {m.name for m in members}
    assert all(m.isfile() or m.isdir() for m in members)
    assert all(name == "site" or name.startswith("site/") for name in names)
    assert {"site/condauv.toml", "site/condauv.lock", "site/channel/noarch/repodata.json"} <= names
    assert any(n.startswith("site/wheels/tqdm-") and n.endswith(".whl") for n in names)
    assert any(n.startswith("site/channel/") and "/numpy-" in n for n in names)


def test_unpacked_bundle_syncs_offline_to_the_same_packages(
    bundled: tuple[Path, Lock], tmp_path: Path, cli: CLI, fresh_caches: None
) -> None:
    folder = unpack_bundle(bundled[0], tmp_path / "site-a")
    lock = load_lock(folder / "condauv.lock")
    assert lock is not None
    assert _identity(lock) == _identity(bundled[1])
    urls = [p.url for p in lock.conda] + [p.url for p in lock.pypi]
    assert all(url.startswith(folder.as_uri() + "/") for url in urls)
    result = cli("sync", "--frozen", "--offline", cwd=folder)
    assert result.exit_code == 0, result.stderr
    result = cli("check", cwd=folder)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert relocate_bundle(folder) == lock  # moved already: nothing changes


def test_tampered_artifact_is_refused_before_anything_is_installed(
    bundled: tuple[Path, Lock], tmp_path: Path, cli: CLI, fresh_caches: None
) -> None:
    with tarfile.open(bundled[0]) as tar:
        tar.extractall(tmp_path / "site-b", filter="data")  # a plain tar: `tar -xzf` does the same
    folder = tmp_path / "site-b" / "site"
    relocate_bundle(folder)
    numpy = next((folder / "channel").glob("*/numpy-*.conda"))
    data = bytearray(numpy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    numpy.write_bytes(bytes(data))
    result = cli("sync", "--frozen", "--offline", cwd=folder)
    assert result.exit_code == 2, result.stderr
    assert "sha256" in result.stderr and "numpy" in result.stderr
    assert not list((folder / ".condauv" / "env").glob("conda-meta/*.json"))  # nothing installed


def test_tampered_wheel_is_refused(
    bundled: tuple[Path, Lock], tmp_path: Path, cli: CLI, fresh_caches: None
) -> None:
    (tmp_path / "site-c").mkdir()
    result = cli("unbundle", bundled[0], "-C", tmp_path / "site-c", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    folder = tmp_path / "site-c" / "site"
    wheel = next((folder / "wheels").glob("tqdm-*.whl"))
    wheel.write_bytes(wheel.read_bytes() + b"\0")
    result = cli("sync", "--frozen", "--offline", cwd=folder)
    assert result.exit_code != 0
    assert "tqdm" in result.stderr and ("hash" in result.stderr.lower() or "sha256" in result.stderr)
    assert not list((folder / ".condauv" / "env").glob("lib/python*/site-packages/tqdm"))


def test_edited_bundle_lock_is_not_relocated(bundled: tuple[Path, Lock], tmp_path: Path) -> None:
    with tarfile.open(bundled[0]) as tar:
        tar.extractall(tmp_path, filter="data")
    folder = tmp_path / "site"
    manifest = folder / "condauv.toml"
    manifest.write_text(manifest.read_text().replace("[pypi-dependencies]", '[pypi-dependencies]\nsix = "*"'))
    before = (folder / "condauv.lock").read_text()
    with pytest.raises(LockfileError, match="not the bundle's lock"):
        relocate_bundle(folder)
    assert (folder / "condauv.lock").read_text() == before


def test_refuses_stale_lock_and_owned_outputs(tmp_path: Path, make_project: object, cli: CLI) -> None:
    folder = make_project()  # type: ignore[operator]
    assert isinstance(folder, Path)
    project = Project.load(folder / "condauv.toml")
    with pytest.raises(LockfileError, match=r"no condauv\.lock"):
        make_bundle(project, tmp_path / "b.tar.gz")
    assert cli("lock", "-q", cwd=folder).exit_code == 0
    for bad in (folder / "condauv.lock", folder / ".condauv" / "b.tar.gz"):
        with pytest.raises(UserError):
            make_bundle(project, bad)
    with (folder / "condauv.toml").open("a") as handle:
        handle.write('\n[classify]\n"tiny-*" = "pypi"\n')
    with pytest.raises(LockfileError, match="out of date"):
        make_bundle(Project.load(folder / "condauv.toml"), tmp_path / "b.tar.gz")
    assert not (tmp_path / "b.tar.gz").exists()


# -- hostile bundles: whatever the archive or folder holds, nothing outside it is read or written,
# and a refusal leaves nothing behind ------------------------------------------------------------


def _extract(archive: Path, into: Path) -> Path:
    """What `tar -xzf` makes of the bundle: its folder."""
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / "site"


def _tar(folder: Path, target: Path) -> Path:
    with tarfile.open(target, "w:gz") as tar:
        tar.add(folder, arcname=folder.name)
    return target


def _raw_tar(target: Path, members: list[tuple[str, bytes | None]]) -> Path:
    """An archive of exactly these members (``None``: a folder), names as given."""
    with tarfile.open(target, "w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return target


def _error(stderr: str) -> tuple[str, str]:
    lines = stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("error: ") and lines[1].startswith("hint: "), stderr
    return lines[0], lines[1]


def test_the_bundle_names_no_folder_of_the_machine_it_was_made_on(bundled: tuple[Path, Lock]) -> None:
    """Its lock is written for ``/condauv-bundle/<top>``, not the builder's scratch folder (home
    folder, host name, pid); and the archive's sha256 is there to be compared out of band."""
    with tarfile.open(bundled[0]) as tar:
        handle = tar.extractfile("site/condauv.lock")
        assert handle is not None
        text = handle.read().decode()
    urls = re.findall(r"file://[^\"]+", text)
    assert urls and all(u.startswith("file:///condauv-bundle/site/") for u in urls), urls
    assert archive_sha256(bundled[0]) == hashlib.sha256(bundled[0].read_bytes()).hexdigest()


def test_a_bundle_manifest_that_sets_a_prefix_is_refused(
    bundled: tuple[Path, Lock], tmp_path: Path, cli: CLI
) -> None:
    """``prefix`` is outside the content hash: honoured, it sent sync into another environment."""
    folder = _extract(bundled[0], tmp_path / "made")
    victim = tmp_path / "victim-env"
    manifest = folder / "condauv.toml"
    manifest.write_text(
        manifest.read_text().replace("[environment]", f'[environment]\nprefix = "{victim}"', 1)
    )
    hostile = _tar(folder, tmp_path / "hostile.tar.gz")
    site = tmp_path / "site"
    site.mkdir()
    result = cli("unbundle", hostile, "-C", site, cwd=tmp_path)
    assert result.exit_code == 2, result.stderr
    error, hint = _error(result.stderr)
    assert "prefix" in error and "pack --bundle" in hint, result.stderr
    assert list(site.iterdir()) == []
    before = (folder / "condauv.lock").read_text()
    result = cli("unbundle", folder, cwd=tmp_path)  # tar -xzf, then unbundle FOLDER
    assert result.exit_code == 2 and "prefix" in _error(result.stderr)[0]
    assert (folder / "condauv.lock").read_text() == before
    assert not victim.exists()


def test_refused_archives_leave_nothing_and_say_what_is_wrong(
    bundled: tuple[Path, Lock], tmp_path: Path, cli: CLI
) -> None:
    """Each refusal: its own error and hint, nothing left in -C, so that a retry works."""
    no_manifest = _extract(bundled[0], tmp_path / "a")
    (no_manifest / "condauv.toml").unlink()
    edited = _extract(bundled[0], tmp_path / "b")
    manifest = edited / "condauv.toml"
    manifest.write_text(manifest.read_text().replace("[pypi-dependencies]", '[pypi-dependencies]\nsix = "*"'))
    url_up = _extract(bundled[0], tmp_path / "c")
    lock = url_up / "condauv.lock"
    lock.write_text(re.sub(r"/wheels/tqdm-", "/wheels/../../../../tqdm-", lock.read_text()))
    conda_up = _extract(bundled[0], tmp_path / "d")
    lock = conda_up / "condauv.lock"
    lock.write_text(
        re.sub(r"/channel/(noarch|linux-64)/numpy-", r"/channel/../../\1/numpy-", lock.read_text())
    )
    cases = {
        _tar(no_manifest, tmp_path / "no-manifest.tar.gz"): ("holds no condauv.toml", "pack --bundle"),
        _tar(edited, tmp_path / "edited.tar.gz"): ("not the bundle's lock", "get it again"),
        _tar(url_up, tmp_path / "url-up.tar.gz"): ("tqdm", "get it again"),
        _tar(conda_up, tmp_path / "conda-up.tar.gz"): ("numpy", "get it again"),
        _raw_tar(tmp_path / "dotdot.tar.gz", [("site", None), ("site/../evil.txt", b"evil")]): (
            "outside its folder",
            "pack --bundle",
        ),
        _raw_tar(tmp_path / "absolute.tar.gz", [(str(tmp_path / "abs-evil.txt"), b"evil")]): (
            "absolute",
            "pack --bundle",
        ),
        _raw_tar(tmp_path / "extra.tar.gz", [("site", None), ("site/.condauv/env/x", b"x")]): (
            ".condauv",
            "pack --bundle",
        ),
        tmp_path / "missing.tar.gz": ("no such file", "path"),
    }
    site = tmp_path / "site"
    site.mkdir()
    for archive, (in_error, in_hint) in cases.items():
        result = cli("unbundle", archive, "-C", site, cwd=tmp_path)
        assert result.exit_code == 2, (archive.name, result.stderr)
        error, hint = _error(result.stderr)
        assert in_error in error and in_hint in hint, (archive.name, result.stderr)
        for misleading in (
            "truncated",
            "exists already",
            "condauv init",
            "condauv lock",
            "unpack the bundle again",
        ):
            assert misleading not in result.stderr, (archive.name, result.stderr)
        assert list(site.iterdir()) == [], archive.name
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "abs-evil.txt").exists()
    result = cli("unbundle", no_manifest, cwd=tmp_path)  # a folder without a manifest
    assert result.exit_code == 2
    assert "condauv init" not in result.stderr and "condauv.toml" in _error(result.stderr)[0]
    result = cli("unbundle", bundled[0], "-C", site, cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert [p.name for p in site.iterdir()] == ["site"]


def test_an_archive_too_large_for_the_disk_is_refused_before_anything_is_written(
    bundled: tuple[Path, Lock], tmp_path: Path, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_usage(path: object) -> SimpleNamespace:
        return SimpleNamespace(total=10**12, used=10**12 - 4096, free=4096)

    monkeypatch.setattr(shutil, "disk_usage", disk_usage)
    site = tmp_path / "site"
    site.mkdir()
    result = cli("unbundle", bundled[0], "-C", site, cwd=tmp_path)
    assert result.exit_code == 2, result.stderr
    error, hint = _error(result.stderr)
    assert "free" in error and "-C" in hint, result.stderr
    assert list(site.iterdir()) == []


@pytest.mark.parametrize("failure", ["ctrl-c", "enospc"])
def test_an_unpack_stopped_halfway_leaves_nothing(
    bundled: tuple[Path, Lock], tmp_path: Path, cli: CLI, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    """Ctrl-C, or a disk that fills up, in the middle of extracting: the partial folder is removed."""
    extract = tarfile.TarFile.extract

    def halfway(
        self: tarfile.TarFile, member: tarfile.TarInfo | str, *args: object, **kwargs: object
    ) -> None:
        name = member.name if isinstance(member, tarfile.TarInfo) else member
        if "/channel/" in name and name.endswith(".conda"):
            if failure == "ctrl-c":
                raise KeyboardInterrupt
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        extract(self, member, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(tarfile.TarFile, "extract", halfway)
    site = tmp_path / "site"
    site.mkdir()
    if failure == "ctrl-c":
        with pytest.raises(KeyboardInterrupt):
            unpack_bundle(bundled[0], site)
    else:
        result = cli("unbundle", bundled[0], "-C", site, cwd=tmp_path)
        assert result.exit_code == 2, result.stderr
        error, hint = _error(result.stderr)
        assert "space" in error and "-C" in hint and "truncated" not in hint, result.stderr
    assert list(site.iterdir()) == []
    monkeypatch.setattr(tarfile.TarFile, "extract", extract)
    assert cli("unbundle", bundled[0], "-C", site, cwd=tmp_path).exit_code == 0


def _put_back(original: Path, link: Path) -> None:
    link.unlink()
    original.rename(link)


def test_an_unpacked_folder_with_a_link_or_a_special_file_is_refused(
    bundled: tuple[Path, Lock], tmp_path: Path, cli: CLI
) -> None:
    """`tar -xzf` takes links: unbundle FOLDER does not, anywhere under the folder."""
    folder = _extract(bundled[0], tmp_path / "x")
    before = (folder / "condauv.lock").read_text()
    elsewhere = tmp_path / "elsewhere"
    (folder / "wheels").rename(elsewhere)
    (folder / "wheels").symlink_to(elsewhere)
    numpy = next((folder / "channel").glob("*/numpy-*.conda"))
    outside = tmp_path / numpy.name
    numpy.rename(outside)
    fifo, dot = folder / "channel" / "pipe", folder / ".condauv"
    cases: list[tuple[str, Callable[[], object], Callable[[], object]]] = [
        ("wheels", lambda: None, lambda: _put_back(elsewhere, folder / "wheels")),
        (numpy.name, lambda: numpy.symlink_to(outside), lambda: _put_back(outside, numpy)),
        ("pipe", lambda: os.mkfifo(fifo), fifo.unlink),
        (".condauv", dot.mkdir, dot.rmdir),
    ]
    for name, make, undo in cases:
        make()
        result = cli("unbundle", folder, cwd=tmp_path)
        assert result.exit_code == 2, (name, result.stderr)
        assert name in _error(result.stderr)[0], result.stderr
        assert (folder / "condauv.lock").read_text() == before
        undo()
    assert cli("unbundle", folder, cwd=tmp_path).exit_code == 0


def test_an_output_name_that_names_no_folder_is_refused(
    tmp_path: Path, make_project: MakeProject, cli: CLI
) -> None:
    """The bundle's folder is the file's name without its suffix: ``.tar.gz`` names none."""
    folder = make_project()
    assert cli("lock", "-q", cwd=folder).exit_code == 0
    out = tmp_path / "out"
    out.mkdir()
    for name in (".tar.gz", ".tgz", "..tar.gz", "...tar.gz"):
        result = cli("pack", "--bundle", "-o", out / name, cwd=folder)
        assert result.exit_code == 2, (name, result.stderr)
        error, hint = _error(result.stderr)
        assert name in error and "site-bundle.tar.gz" in hint, result.stderr
    assert list(out.iterdir()) == []
