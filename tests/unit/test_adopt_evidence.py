"""adopt's evidence: history replay, leaves of dependency graphs and dist-info origins."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from condauv.adoption.evidence import (
    DistInfo,
    leaves,
    origin_of,
    parse_history,
    pep508_line,
    read_dist_info,
    requested_subset,
    unreached_leaves,
)

CONDA_HISTORY = """\
==> 2024-05-01 10:00:00 <==
# cmd: /opt/conda/bin/conda create -p /envs/x python=3.11 numpy>=1.26
# conda version: 24.3.0
+conda-forge/linux-64::python-3.11.9-hb806964_0
+conda-forge/linux-64::numpy-1.26.4-py311h64a7726_0
# update specs: ['python=3.11', 'numpy[version=">=1.26"]']
==> 2024-05-02 10:00:00 <==
# cmd: /opt/conda/bin/conda install -p /envs/x conda-forge::scipy tqdm
# update specs: ['conda-forge::scipy', 'tqdm']
==> 2024-05-03 10:00:00 <==
# cmd: /opt/conda/bin/conda remove -p /envs/x tqdm
# remove specs: ['tqdm']
# neutered specs: ['numpy']
==> 2024-05-04 10:00:00 <==
# update specs: ['numpy 1.26.*']
"""


def test_history_replays_updates_and_removals() -> None:
    assert parse_history(CONDA_HISTORY) == {
        "python": "python=3.11",
        "scipy": "conda-forge::scipy",
        "numpy": "numpy 1.26.*",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('# update specs: ["python=3.12", "pip"]\n', {"python": "python=3.12", "pip": "pip"}),  # mamba
        ("# install specs: python=3.6,numpy\n", {"python": "python=3.6", "numpy": "numpy"}),  # conda < 4.4
        ("// not relevant for pixi but for `conda run -p`\n", {}),  # pixi
        ("", {}),  # rattler writes an empty file
        ("# update specs: [not a list\n", {}),
    ],
)
def test_history_of_other_tools(text: str, expected: dict[str, str]) -> None:
    assert parse_history(text) == expected


def test_leaves_and_unreached_leaves() -> None:
    graph = {
        "python": [],
        "numpy": ["python", "libblas"],
        "libblas": [],
        "tiny-a": ["tiny-b"],
        "tiny-b": [],
        "self-loop": ["self-loop"],
        "orphan-lib": [],
        "orphan-tool": ["orphan-lib"],
    }
    assert leaves(graph) == {"numpy", "tiny-a", "self-loop", "orphan-tool"}
    assert unreached_leaves(graph, ["numpy", "tiny-a", "python"]) == {"self-loop", "orphan-tool"}
    assert unreached_leaves(graph, ["not-installed"]) == leaves(graph)
    assert unreached_leaves({}, ["x"]) == set()


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ([("requests", True), ("idna", False)], {"requests"}),  # pip: only what was asked for
        ([("requests", True), ("idna", True)], None),  # uv marks every distribution
        ([("requests", False)], None),
        ([], None),
    ],
)
def test_requested_files_count_only_when_they_discriminate(
    flags: list[tuple[str, bool]], expected: set[str] | None
) -> None:
    assert requested_subset(flags) == expected


def _dist(**fields: Any) -> DistInfo:
    base: dict[str, Any] = {
        "name": "requests",
        "version": "2.32.3",
        "path": Path("requests-2.32.3.dist-info"),
        "installer": "uv",
        "requested": True,
        "requires": (),
        "direct_url": None,
    }
    return DistInfo(**{**base, **fields})


@pytest.mark.parametrize(
    ("fields", "in_record", "provided", "origin"),
    [
        ({}, False, False, "index"),
        ({"installer": "pip"}, False, False, "index"),
        ({"installer": "conda"}, True, True, "conda"),
        ({"installer": "uv"}, False, True, "shadowing"),
        ({"direct_url": {"url": "file:///src/x", "dir_info": {"editable": True}}}, False, False, "editable"),
        ({"direct_url": {"url": "file:///src/x", "dir_info": {}}}, False, False, "local-dir"),
        ({"direct_url": {"url": "https://g/x", "vcs_info": {"vcs": "git"}}}, False, False, "vcs"),
        ({"direct_url": {"url": "file:///w/x.whl", "archive_info": {}}}, False, False, "archive-url"),
        ({"installer": ""}, False, False, "unknown"),
        ({"installer": "conda"}, False, False, "unknown"),  # conda's mark, no record lists it
    ],
)
def test_origin_of_a_distribution(
    fields: dict[str, Any], in_record: bool, provided: bool, origin: str
) -> None:
    assert origin_of(_dist(**fields), in_conda_record=in_record, conda_provides_name=provided) == origin


def test_pep508_line_keeps_a_direct_url() -> None:
    assert pep508_line(_dist()) == "requests==2.32.3"
    direct = {"url": "file:///w/requests-2.32.3-py3-none-any.whl", "archive_info": {"hash": "sha256=00"}}
    assert pep508_line(_dist(direct_url=direct)) == "requests @ file:///w/requests-2.32.3-py3-none-any.whl"


def test_read_dist_info(tmp_path: Path) -> None:
    folder = tmp_path / "My_Pkg-1.0.post1.dist-info"
    folder.mkdir()
    (folder / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: My_Pkg\nVersion: 1.0.post1\n"
        "Requires-Dist: Idna>=2\n"
        'Requires-Dist: colorama; sys_platform == "win32"\n'
        'Requires-Dist: pytest; extra == "test"\n'
        "Requires-Dist: not a requirement !!\n"
    )
    (folder / "REQUESTED").write_text("")
    (folder / "direct_url.json").write_text(json.dumps({"url": "file:///x", "dir_info": {"editable": True}}))
    dist = read_dist_info(folder, "my-pkg", "1.0.post1", "uv")
    assert dist.requires == ("idna", "colorama")
    assert dist.requested
    assert dist.direct_url == {"url": "file:///x", "dir_info": {"editable": True}}
    bare = tmp_path / "bare-1.0.dist-info"
    bare.mkdir()
    (bare / "direct_url.json").write_text("{not json")
    read = read_dist_info(bare, "bare", "1.0", "")
    assert (read.version, read.requires, read.requested) == ("1.0", (), False)
    assert origin_of(read, in_conda_record=False, conda_provides_name=False) == "unknown"
