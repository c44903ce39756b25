"""Round 2 of issue 7 (B5 B8): archives whose tar holds more than their ``paths.json`` lists, and
prefixes whose folders are links out of them. Nothing outside the prefix, the project and
condauv's caches may change: a sentinel folder beside the project is snapshot before and after.

Real rattler, real uv, archives written byte by byte; each package name is unique to its test,
since the package cache is shared by the session.
"""

from __future__ import annotations

import io
import json
import shutil
import sys
import tarfile
from pathlib import Path

import pytest

from condauv.channel import index_local_channel
from condauv.platforms import python_site_packages
from tests.clirunner import CLI
from tests.helpers.snapshot import tree
from tests.integration.conftest import MakeProject

pytestmark = pytest.mark.slow

ENV = Path(".condauv") / "env"
SITE = python_site_packages(f"{sys.version_info.major}.{sys.version_info.minor}")

#: A tar member: (path, "file" | "link", content or link target).
Member = tuple[str, str, str | bytes]


def _raw_package(channel: Path, name: str, members: list[Member], listed: list[str]) -> Path:
    """A noarch ``.tar.bz2`` whose ``paths.json`` lists ``listed`` whatever the tar holds."""
    index = {"name": name, "version": "1.0", "build": "h_0", "build_number": 0, "depends": []}
    index.update(noarch="generic", subdir="noarch")
    entries = [{"_path": p, "path_type": "hardlink", "sha256": "0" * 64, "size_in_bytes": 0} for p in listed]
    meta: list[Member] = [
        ("info/index.json", "file", json.dumps(index).encode()),
        ("info/paths.json", "file", json.dumps({"paths": entries, "paths_version": 1}).encode()),
    ]
    folder = channel / "noarch"
    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / f"{name}-1.0-h_0.tar.bz2"
    with tarfile.open(archive, "w:bz2") as tar:
        for path, kind, content in meta + members:
            info = tarfile.TarInfo(path)
            info.mtime = 1_700_000_000
            if kind == "file":
                assert isinstance(content, bytes)
                info.size, info.mode = len(content), 0o644
                tar.addfile(info, io.BytesIO(content))
            else:
                assert isinstance(content, str)
                info.type, info.linkname = tarfile.SYMTYPE, content
                tar.addfile(info)
    return archive


def _env_tree(env: Path) -> dict[str, str]:
    """The prefix's snapshot, but for the sync lock file (made on the first sync, then kept)."""
    return {k: v for k, v in tree(env, inodes=True).items() if not k.endswith(".condauv-sync.lock")}


def _sentinel(tmp_path: Path) -> Path:
    sentinel = tmp_path / "sentinel"
    sentinel.mkdir()
    (sentinel / "secret").write_text("secret\n")
    return sentinel


@pytest.mark.parametrize(
    ("case", "named"),
    [
        pytest.param("stamp-link", "info/condauv-verified", id="stamp-link"),
        pytest.param("unlisted-link", "'lib'", id="unlisted-link"),
        pytest.param("missing-path", "share/missing", id="missing-path"),
    ],
)
def test_an_archive_holding_more_or_less_than_it_lists_changes_nothing(
    cli: CLI, tmp_path: Path, conda_channel: Path, case: str, named: str
) -> None:
    """stamp-link: ``info/condauv-verified -> <sentinel>/owned`` made the stamp write a file
    outside. unlisted-link: ``lib -> <sentinel>`` (not in paths.json) with ``lib/secret`` listed
    hard-linked the foreign file into the prefix. missing-path: a listed path the tar lacks left a
    half-linked prefix and exit 1."""
    sentinel = _sentinel(tmp_path)
    members: dict[str, list[Member]] = {
        "stamp-link": [
            ("share/a/f", "file", b"x"),
            ("info/condauv-verified", "link", str(sentinel / "owned")),
        ],
        "unlisted-link": [("share/a/f", "file", b"x"), ("lib", "link", str(sentinel))],
        "missing-path": [("share/a/f", "file", b"x")],
    }
    listed = {"stamp-link": ["share/a/f"], "unlisted-link": ["share/a/f", "lib/secret"]}
    name = f"r2-{case}"
    channel = tmp_path / "channel"
    _raw_package(channel, name, members[case], listed.get(case, ["share/a/f", "share/missing"]))
    index_local_channel(channel)
    folder = tmp_path / "proj"
    folder.mkdir()
    args = ("--channel", channel.as_uri(), "--channel", conda_channel.as_uri())
    assert cli("init", *args, cwd=folder).exit_code == 0
    assert cli("sync", cwd=folder).exit_code == 0
    assert cli("add", "--no-sync", name, cwd=folder).exit_code == 0
    before, env_before = tree(sentinel, inodes=True), _env_tree(folder / ENV)

    result = cli("sync", "--frozen", cwd=folder)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert name in result.stderr and named in result.stderr
    assert tree(sentinel, inodes=True) == before
    assert _env_tree(folder / ENV) == env_before


def _synced(make_project: MakeProject, cli: CLI) -> Path:
    folder = make_project()
    assert cli("sync", cwd=folder).exit_code == 0
    return folder


def _point_out(link: Path, outside: Path) -> None:
    """Move the folder ``link`` to ``outside`` and leave a link in its place."""
    if link.is_dir():
        shutil.copytree(link, outside, symlinks=True)
        shutil.rmtree(link)
    else:
        outside.mkdir()
    link.symlink_to(outside, target_is_directory=True)


@pytest.mark.parametrize(
    ("folder_in_prefix", "adding"),
    [
        pytest.param(SITE, "click", id="site-packages-uv"),
        pytest.param("share", "tiny-b", id="share-conda"),
        pytest.param(f"{SITE}/click", "click", id="a-package-folder-uv"),
    ],
)
def test_a_prefix_folder_that_links_out_is_refused_before_anything_changes(
    cli: CLI, make_project: MakeProject, tmp_path: Path, folder_in_prefix: str, adding: str
) -> None:
    """A prefix condauv made, then tampered with: one of its folders became a link out of it.
    uv installed into (and later deleted from) the foreign folder; rattler linked into it."""
    folder = _synced(make_project, cli)
    sentinel = _sentinel(tmp_path)
    _point_out(folder / ENV / folder_in_prefix, sentinel / "moved")
    assert cli("add", "--no-sync", adding, cwd=folder).exit_code == 0
    before, env_before = tree(sentinel, inodes=True), _env_tree(folder / ENV)

    result = cli("sync", "--frozen", cwd=folder)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "error:" in result.stderr and folder_in_prefix.rsplit("/", 1)[-1] in result.stderr
    assert tree(sentinel, inodes=True) == before
    assert _env_tree(folder / ENV) == env_before


def test_a_prefix_that_is_a_link_to_an_empty_folder_is_used(
    cli: CLI, make_project: MakeProject, tmp_path: Path
) -> None:
    """The prefix itself may be a link (a user's choice of where the env lives): it is seen through."""
    folder = make_project()
    real = tmp_path / "real-env"
    real.mkdir()
    (folder / ".condauv").mkdir()
    (folder / ENV).symlink_to(real, target_is_directory=True)
    assert cli("sync", cwd=folder).exit_code == 0
    assert (real / "conda-meta").is_dir()
    assert cli("check", cwd=folder).exit_code == 0


def test_a_new_prefix_whose_conda_meta_links_out_is_refused(
    cli: CLI, make_project: MakeProject, tmp_path: Path
) -> None:
    """A prefix holding only ``conda-meta`` counts as new; a ``conda-meta`` that is a link out got
    the sync lock file (and would get the marker) written through it."""
    folder = make_project()
    sentinel = _sentinel(tmp_path)
    (sentinel / "meta").mkdir()
    (folder / ENV).mkdir(parents=True)
    (folder / ENV / "conda-meta").symlink_to(sentinel / "meta", target_is_directory=True)
    before = tree(sentinel, inodes=True)

    result = cli("sync", cwd=folder)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "conda-meta" in result.stderr
    assert tree(sentinel, inodes=True) == before


@pytest.mark.parametrize("name", [".condauv-sync.lock", "condauv", "history"])
def test_a_link_out_inside_conda_meta_is_refused_before_anything_is_written(
    cli: CLI, make_project: MakeProject, tmp_path: Path, name: str
) -> None:
    """conda-meta's own files were written through a (dangling) link out: the sync lock was
    created, the marker written and rattler's history opened wherever the link pointed."""
    folder = _synced(make_project, cli)
    sentinel = _sentinel(tmp_path)
    meta = folder / ENV / "conda-meta"
    if name == "condauv":  # the marker: its link makes the prefix look new
        (meta / "condauv").unlink()
    elif (meta / name).exists():
        (meta / name).unlink()
    (meta / name).symlink_to(sentinel / f"made-through-{name}")
    assert cli("add", "--no-sync", "tiny-b", cwd=folder).exit_code == 0
    before = tree(sentinel, inodes=True)

    result = cli("sync", "--frozen", cwd=folder)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert name in result.stderr
    assert tree(sentinel, inodes=True) == before


def test_a_removal_fetches_no_archive_of_what_stays(
    cli: CLI, make_project: MakeProject, tmp_path: Path, conda_channel: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Removing a package re-fetched every locked archive whose cache entry was gone: with one
    of them unreachable the removal failed, half done, though nothing needed it."""
    channel = tmp_path / "channel"
    shutil.copytree(conda_channel, channel)
    folder = make_project()
    manifest = folder / "condauv.toml"
    manifest.write_text(manifest.read_text().replace(conda_channel.as_uri(), channel.as_uri()))
    monkeypatch.setenv("CONDAUV_CACHE_DIR", str(tmp_path / "own-cache"))
    assert cli("add", "tiny-b", "tiny-c", cwd=folder).exit_code == 0
    for entry in (tmp_path / "own-cache" / "pkgs").glob("python-*"):
        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    for archive in channel.glob("*/python-*"):
        archive.unlink()  # the channel no longer serves the installed python

    result = cli("remove", "tiny-c", cwd=folder)
    assert result.exit_code == 0, result.stderr
    assert cli("check", cwd=folder).exit_code == 0
