"""What gets linked is what was locked, and nothing lands outside the prefix (issue 7, B5 B6 B8).

Real rattler, real uv: hostile archives are built into channels under ``tmp_path``, swapped or
poisoned the way an attacker (or a careless script) would. Each package name is unique to its
test, since the package cache is shared by the session.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import shutil
import sys
import tarfile
from pathlib import Path

import pytest
import rattler

from condauv import paths
from condauv.channel import build_package, index_local_channel
from condauv.conda.engine import package_to_record
from condauv.lock.model import load_lock
from condauv.platforms import current_subdir, python_site_packages
from condauv.sync.removal import remove_distribution
from tests.clirunner import CLI
from tests.helpers.snapshot import tree

pytestmark = pytest.mark.slow

ENV = Path(".condauv") / "env"
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
SITE = python_site_packages(PYTHON)


def _tar_bz2_package(
    channel: Path,
    name: str,
    *,
    files: dict[str, bytes],
    symlinks: dict[str, str] | None = None,
    version: str = "1.0",
) -> Path:
    """A noarch ``.tar.bz2`` conda package written byte by byte, so that its ``paths.json`` can
    say what no builder would write (``../x``, a link out of the prefix)."""
    symlinks = symlinks or {}
    build = "h_0"
    index = {
        "name": name,
        "version": version,
        "build": build,
        "build_number": 0,
        "depends": [],
        "noarch": "generic",
        "subdir": "noarch",
    }
    entries = [
        {
            "_path": path,
            "path_type": "hardlink",
            "sha256": hashlib.sha256(data).hexdigest(),
            "size_in_bytes": len(data),
        }
        for path, data in files.items()
    ]
    entries += [
        {
            "_path": path,
            "path_type": "softlink",
            "sha256": hashlib.sha256(target.encode()).hexdigest(),
            "size_in_bytes": len(target),
        }
        for path, target in symlinks.items()
    ]
    meta = {
        "info/index.json": json.dumps(index).encode(),
        "info/paths.json": json.dumps({"paths": entries, "paths_version": 1}).encode(),
    }
    folder = channel / "noarch"
    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / f"{name}-{version}-{build}.tar.bz2"
    with tarfile.open(archive, "w:bz2") as tar:
        for path, data in {**meta, **files}.items():
            info = tarfile.TarInfo(path)
            info.size, info.mtime, info.mode = len(data), 1_700_000_000, 0o644
            tar.addfile(info, io.BytesIO(data))
        for path, target in symlinks.items():
            info = tarfile.TarInfo(path)
            info.type, info.linkname, info.mtime = tarfile.SYMTYPE, target, 1_700_000_000
            tar.addfile(info)
    return archive


def _project(cli: CLI, tmp_path: Path, conda_channel: Path, channel: Path, name: str = "proj") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    result = cli("init", "--channel", channel.as_uri(), "--channel", conda_channel.as_uri(), cwd=folder)
    assert result.exit_code == 0, result.stderr
    return folder


def _payload(channel: Path, name: str, content: bytes) -> Path:
    return build_package(
        name=name,
        version="1.0",
        output_dir=channel,
        files={f"share/{name}/data": content},
        noarch="generic",
    )


# B5 ----------------------------------------------------------------------------------------


def test_an_archive_swapped_after_locking_is_refused(cli: CLI, tmp_path: Path, conda_channel: Path) -> None:
    channel = tmp_path / "channel"
    archive = _payload(channel, "swapped-b5", b"genuine\n")
    index_local_channel(channel)
    folder = _project(cli, tmp_path, conda_channel, channel)
    assert cli("add", "--no-sync", "swapped-b5", cwd=folder).exit_code == 0
    assert cli("sync", cwd=folder).exit_code == 0  # python etc. in place; swapped-b5 too
    shutil.rmtree(folder / ENV)
    # the same file name, other content: what a compromised mirror or a rebuilt channel serves
    genuine = archive.read_bytes()
    archive.unlink()
    _payload(tmp_path / "evil", "swapped-b5", b"evil\n").replace(archive)
    assert archive.read_bytes() != genuine
    entry = paths.conda_pkgs_dir() / "swapped-b5-1.0-h_0"
    shutil.rmtree(entry)  # a cold cache: the archive must be read again

    result = cli("sync", cwd=folder)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "swapped-b5" in result.stderr and "sha256" in result.stderr
    assert hashlib.sha256(genuine).hexdigest() in result.stderr
    assert not (folder / ENV).exists()  # a new prefix: not even its folder is made
    assert not entry.exists()  # nothing of the swapped archive stays in the cache

    archive.write_bytes(genuine)
    assert cli("sync", cwd=folder).exit_code == 0
    assert (folder / ENV / "share" / "swapped-b5" / "data").read_bytes() == b"genuine\n"


def test_a_cache_entry_from_another_archive_is_never_reused(
    cli: CLI, tmp_path: Path, conda_channel: Path
) -> None:
    """The cache entry a swapped archive left (rattler records the lock's hash, not the archive's)
    is not linked into a new prefix once the genuine archive is back."""
    channel = tmp_path / "channel"
    archive = _payload(channel, "poisoned-b5", b"genuine\n")
    index_local_channel(channel)
    folder = _project(cli, tmp_path, conda_channel, channel)
    assert cli("add", "--no-sync", "poisoned-b5", cwd=folder).exit_code == 0
    lock = load_lock(folder / "condauv.lock")
    assert lock is not None
    genuine = archive.read_bytes()
    _payload(tmp_path / "evil", "poisoned-b5", b"evil\n").replace(archive)
    # what condauv did before verifying: rattler itself fills the cache from the swapped file
    records = [package_to_record(p) for p in lock.conda_for(current_subdir()) if p.name == "poisoned-b5"]
    asyncio.run(
        rattler.install(
            records,
            target_prefix=tmp_path / "scratch",
            cache_dir=paths.conda_pkgs_dir(),
            show_progress=False,
            execute_link_scripts=False,
        )
    )
    entry = paths.conda_pkgs_dir() / "poisoned-b5-1.0-h_0"
    assert (entry / "share" / "poisoned-b5" / "data").read_bytes() == b"evil\n"
    archive.write_bytes(genuine)

    result = cli("sync", cwd=folder)
    assert result.exit_code == 0, result.stderr
    assert (folder / ENV / "share" / "poisoned-b5" / "data").read_bytes() == b"genuine\n"


# B6 ----------------------------------------------------------------------------------------


def test_a_file_altered_in_the_cache_is_found_by_check_and_repaired(
    cli: CLI, tmp_path: Path, conda_channel: Path
) -> None:
    channel = tmp_path / "channel"
    _payload(channel, "altered-b6", b"genuine\n")
    index_local_channel(channel)
    first = _project(cli, tmp_path, conda_channel, channel, "first")
    assert cli("add", "altered-b6", cwd=first).exit_code == 0
    cached = paths.conda_pkgs_dir() / "altered-b6-1.0-h_0" / "share" / "altered-b6" / "data"
    cached.write_bytes(b"altered\n")  # in place: the hard link in the first prefix changes too

    second = _project(cli, tmp_path, conda_channel, channel, "second")
    shutil.copy(first / "condauv.toml", second / "condauv.toml")
    shutil.copy(first / "condauv.lock", second / "condauv.lock")
    assert cli("sync", "--frozen", cwd=second).exit_code == 0
    for folder in (first, second):
        data = folder / ENV / "share" / "altered-b6" / "data"
        assert data.read_bytes() == b"altered\n"  # a cache hit hashes nothing (see the README)
        checked = cli("check", "--json", cwd=folder)
        assert checked.exit_code == 1, checked.stdout
        assert "altered-b6" in checked.stdout
        repaired = cli("sync", "--repair", cwd=folder)
        assert repaired.exit_code == 0, repaired.stderr
        assert data.read_bytes() == b"genuine\n"
        assert cli("check", cwd=folder).exit_code == 0


# B8 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "symlinks", "named"),
    [
        pytest.param({"../escaped-b8/x": b"x\n"}, {}, "../escaped-b8/x", id="dotdot-path"),
        pytest.param({"share/ok": b"ok\n"}, {"share/out": "../../outside-b8"}, "share/out", id="link-up"),
        pytest.param({"share/ok": b"ok\n"}, {"share/abs": "/etc"}, "share/abs", id="link-absolute"),
    ],
)
def test_a_package_that_would_write_outside_the_prefix_is_refused(
    cli: CLI,
    tmp_path: Path,
    conda_channel: Path,
    files: dict[str, bytes],
    symlinks: dict[str, str],
    named: str,
    request: pytest.FixtureRequest,
) -> None:
    name = f"hostile-{request.node.callspec.id}"
    channel = tmp_path / "channel"
    _tar_bz2_package(channel, name, files=files, symlinks=symlinks)
    index_local_channel(channel)
    folder = _project(cli, tmp_path, conda_channel, channel)
    assert cli("sync", cwd=folder).exit_code == 0  # a prefix in place, then the hostile package locked
    assert cli("add", "--no-sync", name, cwd=folder).exit_code == 0
    before = tree(tmp_path)

    result = cli("sync", "--frozen", cwd=folder)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert name in result.stderr and named in result.stderr
    assert tree(tmp_path) == before
    assert not (tmp_path / "escaped-b8").exists() and not (folder / ".condauv" / "escaped-b8").exists()


def test_an_outward_symlink_of_an_installed_package_never_lets_a_stray_delete_a_foreign_file(
    tmp_path: Path,
) -> None:
    """A stray dist-info's RECORD names a path through a symlink that leads out of the prefix, a
    path with ``..`` and odd lines: only files inside the prefix are deleted, and nothing fails."""
    prefix = tmp_path / "env"
    site = prefix / SITE
    site.mkdir(parents=True)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "precious.txt").write_text("keep me\n")
    (tmp_path / "sibling.txt").write_text("keep me too\n")
    (site / "outward").symlink_to(foreign)  # what an unchecked conda package could leave
    (site / "ownfile.py").write_text("x = 1\n")
    (site / "linkdir").symlink_to(foreign, target_is_directory=True)
    stray = site / "stray-1.0.dist-info"
    stray.mkdir()
    (stray / "RECORD").write_text(
        "\n".join(
            [
                "outward/precious.txt,sha256=AAAA,9",
                "../../../../sibling.txt,,",
                "linkdir/precious.txt,,",
                "linkdir,,",
                "ownfile.py,,",
                '"quoted,name.py",,',
                "\x00nul,,",
                ",,",
                "stray-1.0.dist-info/RECORD,,",
            ]
        )
        + "\n"
    )

    remove_distribution(prefix, stray, keep=set())

    assert (foreign / "precious.txt").read_text() == "keep me\n"
    assert (tmp_path / "sibling.txt").read_text() == "keep me too\n"
    assert not (site / "ownfile.py").exists()
    assert not stray.exists()
