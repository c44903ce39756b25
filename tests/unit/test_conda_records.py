"""conda-meta records as each tool wrote them: one parser for `check` and `adopt`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from condauv.conda.records import CondaFile, CondaRecord, dist_folders, read_records, spec_name
from condauv.errors import UserError

URL = "https://conda.anaconda.org/conda-forge/linux-64/numpy-2.0-py311_0.conda"
SITE = "lib/python3.11/site-packages"

#: rattler (pixi, condauv): ``paths_data`` with each file's hash, ``requested_specs``.
RATTLER: dict[str, Any] = {
    "name": "numpy",
    "version": "2.0",
    "build": "py311_0",
    "build_number": 0,
    "subdir": "linux-64",
    "url": URL,
    "channel": "https://conda.anaconda.org/conda-forge/",
    "sha256": "A" * 64,
    "md5": "b" * 32,
    "size": 1234,
    "depends": ["python >=3.11,<3.12.0a0", "libblas 3.9.* *_openblas"],
    "constrains": ["numpy-base <0a0"],
    "requested_specs": ["numpy >=2"],
    "files": [f"{SITE}/numpy/__init__.py", f"{SITE}/numpy-2.0.dist-info/METADATA", "bin/f2py"],
    "paths_data": {
        "paths_version": 1,
        "paths": [
            {
                "_path": f"{SITE}/numpy/__init__.py",
                "path_type": "hardlink",
                "sha256": "1" * 64,
                "size_in_bytes": 10,
            },
            {
                "_path": f"{SITE}/numpy-2.0.dist-info/METADATA",
                "path_type": "hardlink",
                "sha256": "2" * 64,
                "sha256_in_prefix": "3" * 64,  # the prefix was written into it
                "size_in_bytes": 20,
            },
            {"_path": "bin/f2py", "path_type": "softlink"},
            {"_path": "share/empty", "path_type": "directory"},
        ],
    },
}

#: conda before paths_data: a ``files`` list, ``noarch`` as a dict, one ``requested_spec``, md5 only.
OLD_CONDA: dict[str, Any] = {
    "name": "Six",
    "version": "1.16.0",
    "build": "pyh6c4a22f_0",
    "url": "https://conda.anaconda.org/conda-forge/noarch/six-1.16.0-pyh6c4a22f_0.tar.bz2",
    "channel": "https://conda.anaconda.org/conda-forge/noarch",
    "md5": "e5f25f8d",
    "noarch": {"type": "python"},
    "requested_spec": "six >=1.16",
    "depends": ["python"],
    "files": ["site-packages/six.py", "site-packages/six-1.16.0.dist-info/RECORD"],
}


def _write(prefix: Path, name: str, raw: Any) -> Path:
    path = prefix / "conda-meta" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(raw if isinstance(raw, str) else json.dumps(raw), encoding="utf-8")
    return path


def test_a_rattler_record() -> None:
    record = CondaRecord.from_json(RATTLER, Path("numpy-2.0-py311_0.json"))
    assert record.label == "numpy 2.0 (py311_0)"
    assert record.lockable and record.sha256 == "a" * 64
    assert record.channel_url == "https://conda.anaconda.org/conda-forge"
    assert record.requested_specs == ("numpy >=2",)
    assert record.dependency_names == ("python", "libblas")
    assert record.files == (
        CondaFile(f"{SITE}/numpy/__init__.py", "1" * 64, 10, presence_only=False),
        CondaFile(f"{SITE}/numpy-2.0.dist-info/METADATA", "3" * 64, None, presence_only=False),
        CondaFile("bin/f2py", None, None, presence_only=True),
    )
    assert record.provided_distributions() == {"numpy": "2.0"}
    package = record.to_package("linux-64", requested="==2.0", reason="listed in [conda-dependencies]")
    assert package.to_dict() == {
        "platform": "linux-64",
        "name": "numpy",
        "version": "2.0",
        "build": "py311_0",
        "build-number": 0,
        "subdir": "linux-64",
        "channel": "https://conda.anaconda.org/conda-forge/",
        "url": URL,
        "sha256": "a" * 64,
        "md5": "b" * 32,
        "size": 1234,
        "depends": ["python >=3.11,<3.12.0a0", "libblas 3.9.* *_openblas"],
        "constrains": ["numpy-base <0a0"],
        "requested": "==2.0",
        "reason": "listed in [conda-dependencies]",
        "provides": ["numpy==2.0"],
    }


def test_an_old_conda_record() -> None:
    record = CondaRecord.from_json(OLD_CONDA, Path("six-1.16.0-pyh6c4a22f_0.json"))
    assert record.name == "six"
    assert record.noarch == "python"
    assert record.subdir == "noarch"  # from the URL when the record has no subdir
    assert record.requested_specs == ("six >=1.16",)
    assert record.paths == tuple(OLD_CONDA["files"])
    assert all(f.sha256 is None and not f.presence_only for f in record.files)
    assert not record.lockable  # md5 only: the lock needs a sha256
    assert record.provided_distributions() == {"six": "1.16.0"}
    assert record.to_package("linux-64", requested=None, reason="").channel == OLD_CONDA["channel"]


@pytest.mark.parametrize(
    ("raw", "noarch", "requested"),
    [
        ({"requested_spec": "None"}, None, ()),
        ({"requested_spec": "numpy"}, None, ("numpy",)),
        ({"package_type": "noarch_generic"}, "generic", ()),
        ({"noarch": "python", "package_type": "noarch_python"}, "python", ()),
        ({"build_number": None, "depends": None, "constrains": None}, None, ()),
    ],
)
def test_record_variants(raw: dict[str, Any], noarch: str | None, requested: tuple[str, ...]) -> None:
    base = {"name": "numpy", "version": "2.0", "build": "py311_0"}
    record = CondaRecord.from_json({**base, **raw}, Path("numpy.json"))
    assert (record.noarch, record.requested_specs, record.build_number) == (noarch, requested, 0)


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        ("numpy", "numpy"),
        ("NumPy>=1.26", "numpy"),
        ("conda-forge/linux-64::numpy=1.26=py311_0", "numpy"),
        ("python_abi 3.11.* *_cp311", "python_abi"),
        ("'tiny-a'", "tiny-a"),
        (">=1", ""),
    ],
)
def test_spec_name(spec: str, name: str) -> None:
    assert spec_name(spec) == name


def test_dist_folders_in_a_conda_package() -> None:
    files = [
        f"{SITE}/numpy/__init__.py",
        f"{SITE}/numpy-2.0.dist-info/METADATA",
        f"{SITE}/numpy-2.0.dist-info/RECORD",
        f"{SITE}/old_thing-1.0-py3.11.egg-info",
        f"{SITE}/noversion.dist-info/METADATA",
        "bin/f2py",
    ]
    assert dist_folders(files) == {
        "numpy-2.0.dist-info": ("numpy", "2.0"),
        "old_thing-1.0-py3.11.egg-info": ("old-thing", "1.0"),
    }


def test_read_records_sorted_by_name(tmp_path: Path) -> None:
    _write(tmp_path, "six-1.16.0-pyh6c4a22f_0.json", OLD_CONDA)
    _write(tmp_path, "numpy-2.0-py311_0.json", RATTLER)
    _write(tmp_path, "condauv-managed", "not a record")
    records = read_records(tmp_path)
    assert [r.name for r in records] == ["numpy", "six"]
    assert records[0].record_path == tmp_path / "conda-meta" / "numpy-2.0-py311_0.json"


@pytest.mark.parametrize(
    "text",
    ["{", "[]", '{"name": "x"}', '{"name": "x", "version": 1, "build": "0", "paths_data": {"paths": [{}]}}'],
)
def test_an_unreadable_record(tmp_path: Path, text: str) -> None:
    _write(tmp_path, "numpy-2.0-py311_0.json", RATTLER)
    broken = _write(tmp_path, "broken-1-0.json", text)
    with pytest.raises(UserError, match=r"broken-1-0\.json is not a readable conda record") as raised:
        read_records(tmp_path)
    assert raised.value.hint
    failures: list[tuple[Path, Exception]] = []
    records = read_records(tmp_path, on_error=lambda path, exc: failures.append((path, exc)))
    assert [r.name for r in records] == ["numpy"]
    assert [path for path, _ in failures] == [broken]


@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        ("numpy-2.0.dist-info", ("numpy", "2.0")),
        ("Foo_Bar-1.0rc1.dist-info", ("foo-bar", "1.0rc1")),
        ("needs-new-numpy-1.0.dist-info", ("needs-new-numpy", "1.0")),  # a hand-made name keeps dashes
        ("old_thing-1.0-py3.11.egg-info", ("old-thing", "1.0")),
        ("old_thing-1.0-py3.11-linux-x86_64.egg-info", ("old-thing", "1.0")),
        ("noversion.dist-info", None),
        ("numpy", None),
    ],
)
def test_metadata_folder_names(folder: str, expected: tuple[str, str] | None) -> None:
    from condauv.pypi.site import split_metadata_folder

    assert split_metadata_folder(folder) == expected


#: A prefix made by real conda 26.7.1 (``conda create python=3.11 numpy six``): its conda-meta.
CONDA_26 = Path(__file__).resolve().parents[1] / "data" / "conda-26.7.1" / "conda-meta"


def _six() -> dict[str, Any]:
    raw: dict[str, Any] = json.loads((CONDA_26 / "six-1.17.0-pyh_0.json").read_text(encoding="utf-8"))
    return raw


def test_a_noarch_python_record_written_by_real_conda() -> None:
    """conda keeps package paths (``site-packages/six.py``) in ``paths_data``: the files are where
    ``files`` says, in the prefix."""
    raw = _six()
    record = CondaRecord.from_json(raw, CONDA_26 / "six-1.17.0-pyh_0.json")
    assert record.noarch == "python"
    assert record.paths == tuple(raw["files"])
    by_path = {f.path: f for f in record.files}
    six = by_path[f"{SITE}/six.py"]
    assert six.sha256 == "c51c91f703d3d4b3696c923cb5fec213e05e75d9215393befac7f2fa6a3904df"
    assert not six.presence_only
    assert record.provided_distributions() == {"six": "1.17.0"}
    assert record.requested_specs == ("six",)


def test_a_binary_record_written_by_real_conda() -> None:
    raw = json.loads((CONDA_26 / "numpy-2.4.6-py311_0.excerpt.json").read_text(encoding="utf-8"))
    record = CondaRecord.from_json(raw, CONDA_26 / "numpy-2.4.6-py311_0.json")
    assert record.paths == tuple(raw["files"])
    assert record.requested_specs == ("numpy",)


@pytest.mark.parametrize(
    ("files", "site"),
    [
        (None, SITE),  # no `files` list: the prefix's python says where site-packages is
        ([], SITE),
        ([f"{SITE}/six.py"], SITE),  # a shorter list still names the folder
        (["lib/python3.12/site-packages/six.py"], "lib/python3.12/site-packages"),  # the record wins
    ],
)
def test_noarch_python_package_paths_without_a_full_files_list(
    tmp_path: Path, files: list[str] | None, site: str
) -> None:
    raw = _six()
    if files is None:
        del raw["files"]
    else:
        raw["files"] = files
    raw["paths_data"]["paths"].append(
        {"_path": "python-scripts/six-tool", "path_type": "hardlink", "sha256": "4" * 64, "size_in_bytes": 3}
    )
    _write(tmp_path, "six-1.17.0-pyh_0.json", raw)
    _write(tmp_path, "python-3.11.7-h_0.json", {"name": "python", "version": "3.11.7", "build": "h_0"})
    six = next(r for r in read_records(tmp_path) if r.name == "six")
    assert f"{site}/six.py" in six.paths
    assert "bin/six-tool" in six.paths
    assert not any(p.startswith(("site-packages/", "python-scripts/")) for p in six.paths)


def test_a_rattler_noarch_record_keeps_its_prefix_paths() -> None:
    raw = {**RATTLER, "noarch": "python", "files": []}
    record = CondaRecord.from_json(raw, Path("numpy-2.0-py311_0.json"))
    assert record.paths == CondaRecord.from_json(RATTLER, Path("numpy-2.0-py311_0.json")).paths
