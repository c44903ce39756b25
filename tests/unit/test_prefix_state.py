"""conda.prefix: which folders condauv may write, and deleting a record's files safely."""

from __future__ import annotations

from pathlib import Path

import pytest

from condauv.conda.prefix import MARKER, PrefixState, mark_managed, outside_paths, prefix_state, remove_files
from condauv.errors import UserError


def test_new_managed_and_foreign(tmp_path: Path) -> None:
    assert prefix_state(tmp_path / "missing") is PrefixState.NEW
    empty = tmp_path / "empty"
    empty.mkdir()
    assert prefix_state(empty) is PrefixState.NEW
    (empty / "conda-meta").mkdir()
    (empty / "conda-meta" / ".condauv-sync.lock").write_text("")
    assert prefix_state(empty) is PrefixState.NEW  # a first sync killed before it linked anything
    (empty / "conda-meta" / "python-3.11.7-h_0.json").write_text("{}")
    assert prefix_state(empty) is PrefixState.FOREIGN
    mark_managed(empty, tmp_path / "condauv.toml")
    assert (empty / "conda-meta" / MARKER).is_file()
    assert prefix_state(empty) is PrefixState.MANAGED


@pytest.mark.parametrize(
    ("entries", "named"),
    [
        (("pyvenv.cfg", "bin/python"), "virtual environment"),
        (("bin/tool", "lib/python3.11/site-packages/x.py"), "2 entries: bin, lib"),
        (("condauv.toml",), "condauv.toml"),
    ],
)
def test_a_folder_that_is_no_prefix_is_refused(tmp_path: Path, entries: tuple[str, ...], named: str) -> None:
    folder = tmp_path / "folder"
    for entry in entries:
        (folder / entry).parent.mkdir(parents=True, exist_ok=True)
        (folder / entry).write_text("x")
    with pytest.raises(UserError) as caught:
        prefix_state(folder)
    assert str(folder) in caught.value.message and named in caught.value.message
    assert caught.value.hint
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == sorted(
        entries
    )


def test_a_file_or_a_control_character_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError, match="is a file"):
        prefix_state(tmp_path / "file")
    for bad in ("a\x00b", "a\nb", "a\x1bb"):
        with pytest.raises(UserError, match="control character"):
            prefix_state(tmp_path / bad)


def _prefix_with_a_link_out(tmp_path: Path) -> tuple[Path, Path]:
    prefix, outside = tmp_path / "prefix", tmp_path / "outside"
    (prefix / "share" / "pkg" / "deep").mkdir(parents=True)
    (prefix / "share" / "pkg" / "deep" / "a.txt").write_text("a")
    (prefix / "share" / "pkg" / "b.txt").write_text("b")
    (prefix / "share" / "other.txt").write_text("other")
    outside.mkdir()
    (outside / "victim.txt").write_text("victim")
    (prefix / "out").symlink_to(outside, target_is_directory=True)
    (prefix / "share" / "pkg" / "link.txt").symlink_to(outside / "victim.txt")
    return prefix, outside


def test_remove_files_stays_inside_and_prunes(tmp_path: Path) -> None:
    prefix, outside = _prefix_with_a_link_out(tmp_path)
    hostile = [
        "../outside/victim.txt",
        "/etc/hostname",
        "out/victim.txt",
        "share/../../outside/victim.txt",
        "",
    ]
    assert outside_paths(prefix, [*hostile, "share/pkg/b.txt", "share/pkg/link.txt"]) == hostile
    removed = remove_files(
        prefix,
        [
            *hostile,
            "share/pkg/deep/a.txt",
            "share/pkg/b.txt",
            "share/pkg/link.txt",
            "share/other.txt",
            "gone",
        ],
        keep=["share/other.txt"],
    )
    assert removed == ["share/pkg/deep/a.txt", "share/pkg/b.txt", "share/pkg/link.txt"]
    assert (outside / "victim.txt").read_text() == "victim"  # the link went, not what it points to
    assert not (prefix / "share" / "pkg").exists()
    assert (prefix / "share" / "other.txt").read_text() == "other"
    assert (prefix / "out").is_symlink()


def test_remove_files_never_removes_the_prefix(tmp_path: Path) -> None:
    prefix = tmp_path / "prefix"
    (prefix / "x").mkdir(parents=True)
    (prefix / "x" / "only.txt").write_text("1")
    assert remove_files(prefix, ["x/only.txt"]) == ["x/only.txt"]
    assert prefix.is_dir() and not (prefix / "x").exists()


def test_the_marker_is_never_written_through_a_conda_meta_link_out(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    prefix = tmp_path / "env"
    prefix.mkdir()
    (prefix / "conda-meta").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UserError) as caught:
        mark_managed(prefix, tmp_path / "condauv.toml")
    assert "conda-meta" in caught.value.message
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize(
    ("link", "target", "found"),
    [
        ("bin", "{outside}", True),
        ("lib/python3.11/site-packages", "{outside}", True),
        ("lib/python3.11/site-packages/pkg", "../../../../outside", True),
        ("lib/libz.so", "libz.so.1", False),  # a sibling: checked as itself
        ("lib/python3.11/site-packages/pkg", "../other", False),
        ("share", "..", True),  # the prefix's own parent
    ],
)
def test_links_out_of_the_prefix(tmp_path: Path, link: str, target: str, found: bool) -> None:
    from condauv.conda.prefix import links_out

    outside = tmp_path / "outside"
    outside.mkdir()
    prefix = tmp_path / "env"
    (prefix / link).parent.mkdir(parents=True)
    (prefix / link).symlink_to(target.format(outside=outside))
    folders = ["", "bin", "lib", "lib/python3.11/site-packages"]
    assert bool(links_out(prefix, folders)) is found
    # a path to be linked under the link is found whatever folders are listed
    assert bool(links_out(prefix, [], [f"{link}/file"])) is found


def test_containment_sees_a_folder_that_became_a_link_out(tmp_path: Path) -> None:
    """What decides a deletion resolves the folders as they are now, not as an earlier call
    in the same process saw them (a folder swapped for a link out between two checks)."""
    from condauv.validation import contained

    prefix, outside = tmp_path / "env", tmp_path / "outside"
    (prefix / "share" / "pkg").mkdir(parents=True)
    outside.mkdir()
    assert contained(prefix, prefix / "share" / "pkg" / "file.txt")
    (prefix / "share" / "pkg").rmdir()
    (prefix / "share" / "pkg").symlink_to(outside)
    assert not contained(prefix, prefix / "share" / "pkg" / "file.txt")
