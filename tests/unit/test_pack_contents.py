"""What pack notes (files no package owns) and refuses (links out of the prefix), on a hand-made
prefix: no conda-pack needed, the paths are given as conda-pack lists them."""

from __future__ import annotations

from pathlib import Path

from condauv.pack.contents import leaving_links, unowned_files


def _prefix(tmp_path: Path) -> Path:
    prefix = tmp_path / "env"
    site = prefix / "lib" / "python3.11" / "site-packages"
    (site / "pkg-1.0.dist-info").mkdir(parents=True)
    (site / "pkg" / "__pycache__").mkdir(parents=True)
    (site / "pkg-1.0.dist-info" / "RECORD").write_text(
        "pkg/__init__.py,sha256=abc,1\npkg-1.0.dist-info/RECORD,,\npkg/extra.txt,,\n"
        "../../../bin/pkg,sha256=def,2\n"
    )
    return prefix


def test_unowned_files(tmp_path: Path) -> None:
    prefix = _prefix(tmp_path)
    (prefix / "share" / "empty").mkdir(parents=True)
    site = "lib/python3.11/site-packages"
    paths = [
        f"{site}/pkg/__init__.py",
        f"{site}/pkg/__pycache__/__init__.cpython-311.pyc",  # its source is owned
        f"{site}/pkg-1.0.dist-info/RECORD",
        "bin/pkg",  # a RECORD path that climbs out of site-packages
        "conda-meta/condauv-lock.toml",
        "CACHEDIR.TAG",
        "share/empty",  # an empty folder is no file
        f"{site}/pkg/extra.txt",  # listed without a hash: check never verifies it
        f"{site}/pkg/__pycache__/stray.cpython-311.pyc",
        "share/junk/stray.txt",
    ]
    assert unowned_files(prefix, paths) == [
        f"{site}/pkg/__pycache__/stray.cpython-311.pyc",
        f"{site}/pkg/extra.txt",
        "share/junk/stray.txt",
    ]


def test_leaving_links(tmp_path: Path) -> None:
    prefix = _prefix(tmp_path)
    (prefix / "bin").mkdir()
    links = {
        "bin/python": "python3.11",  # a sibling: inside
        "bin/up": "../lib",  # inside
        "etclink": "/etc",
        "bin/out": "../..",
        "bin/abs": str(prefix / "lib"),  # inside today, the old prefix once unpacked elsewhere
        "bin/loop-a": "loop-b",
        "bin/loop-b": "loop-a",  # a loop leads nowhere: left to conda-pack
    }
    for name, target in links.items():
        (prefix / name).symlink_to(target)
    assert leaving_links(prefix, [*links, "lib"]) == [
        ("bin/abs", str(prefix / "lib")),
        ("bin/out", "../.."),
        ("etclink", "/etc"),
    ]
