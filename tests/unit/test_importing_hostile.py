"""``init --from`` with files that overlap: one file reached twice (given with --from and included
with -r, or included by two files) is read once, and the note says so, not that each of its
lines duplicates itself; python's build string is kept like every other build."""

from __future__ import annotations

from pathlib import Path

from condauv.importing import Imported, import_files


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def _pypi(imported: Imported) -> dict[str, str]:
    return {e.name: e.spec for e in imported.entries if e.table == "pypi-dependencies"}


def test_a_file_given_and_included_is_read_once(tmp_path: Path) -> None:
    env = _write(
        tmp_path,
        "environment.yml",
        "name: x\nchannels: [conda-forge]\ndependencies:\n  - numpy\n"
        "  - pip:\n    - -r requirements-uv.txt\n",
    )
    req = _write(tmp_path, "requirements-uv.txt", "click==8.1.7\ntqdm==4.66.5\n")
    imported = import_files([env, req], platforms=["linux-64"])
    assert _pypi(imported) == {"click": "==8.1.7", "tqdm": "==4.66.5"}
    assert [str(n) for n in imported.notes] == [
        "requirements-uv.txt:1: requirements-uv.txt: not read again: "
        "it was read already (environment.yml:6 includes it)"
    ]


def test_a_file_included_after_it_was_given_is_not_read_again(tmp_path: Path) -> None:
    b = _write(tmp_path, "b.txt", "tqdm==4.66.5\nsix\n")
    a = _write(tmp_path, "a.txt", "-r b.txt\nclick==8.1.7\n")
    imported = import_files([b, a], platforms=["linux-64"])
    assert _pypi(imported) == {"tqdm": "==4.66.5", "six": "*", "click": "==8.1.7"}
    assert [str(n) for n in imported.notes] == ["a.txt:1: -r b.txt: not read again: b.txt was read already"]


def test_one_file_included_by_two_is_read_once(tmp_path: Path) -> None:
    _write(tmp_path, "common.txt", "six==1.16.0\n")
    a = _write(tmp_path, "a.txt", "-r common.txt\nclick\n")
    b = _write(tmp_path, "b.txt", "-r ./common.txt\ntqdm\n")
    imported = import_files([a, b], platforms=["linux-64"])
    assert _pypi(imported) == {"six": "==1.16.0", "click": "*", "tqdm": "*"}
    assert [str(n) for n in imported.notes] == [
        "b.txt:1: -r ./common.txt: not read again: common.txt was read already"
    ]
