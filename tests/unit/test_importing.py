"""``condauv.importing``: real-world environment.yml / requirements.txt files, the mini-YAML reader, notes."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from condauv.errors import UserError
from condauv.importing import Imported, detect_kind, import_file
from condauv.importing.environment import parse_conda_spec
from condauv.importing.yaml import Mapping, Scalar, Sequence, parse_yaml
from condauv.manifest.model import parse_manifest
from condauv.sync.changes import init

DATA = Path(__file__).resolve().parents[1] / "data"
EXPECTED = tomllib.loads((DATA / "environments" / "expected.toml").read_text())
COLLECTED = sorted(
    [*(DATA / "environments").glob("*.yml"), *(DATA / "requirements").glob("*.txt")],
)


def _tables(imported: Imported) -> dict[str, dict[str, str]]:
    tables: dict[str, dict[str, str]] = {}
    for entry in imported.entries:
        tables.setdefault(entry.table, {})[entry.name] = entry.spec
    return tables


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_enough_real_world_files_were_collected() -> None:
    environments = [p for p in COLLECTED if p.suffix == ".yml"]
    assert len(environments) >= 12
    assert len(COLLECTED) - len(environments) >= 2
    for path in COLLECTED:
        assert path.read_text().startswith("# source: https://github.com/"), path
        assert f"{path.parent.name}/{path.name}" in EXPECTED, f"{path.name} has no expectations"


@pytest.mark.parametrize("path", COLLECTED, ids=lambda p: p.name)
def test_collected_file_imports_into_a_valid_manifest(path: Path, tmp_path: Path) -> None:
    expected = EXPECTED[f"{path.parent.name}/{path.name}"]
    imported = import_file(path, platforms=["linux-64"])
    tables = _tables(imported)
    assert imported.python == expected.get("python")
    assert list(imported.channels) == expected["channels"]
    for name, spec in expected.get("conda", {}).items():
        assert tables["conda-dependencies"][name] == spec, name
    for name, spec in expected.get("pypi", {}).items():
        assert tables["pypi-dependencies"][name] == spec, name
    assert len(imported.entries) == expected["entries"]
    assert len(imported.notes) >= expected["min-notes"]
    if expected["min-notes"] == 0:
        assert imported.notes == ()
    assert imported.pypi_options() == expected.get("pypi-options", {})
    for note in imported.notes:
        assert note.file and note.line >= 1 and note.text and note.reason
    written = init(tmp_path, imported=imported, platforms=["linux-64"])
    manifest = parse_manifest(written.read_text(), written)
    assert {r.name for r in manifest.requested} == {e.name for e in imported.entries}


def test_reclassify_moves_plain_names_and_keeps_one_sided_entries(tmp_path: Path) -> None:
    psp = DATA / "environments" / "eladrich-pixel2style2pixel-psp_env.yml"
    tables = _tables(import_file(psp, reclassify=True))
    assert tables["conda-dependencies"]["zlib"] == "1.2.11 h7b6447c_3"  # a build string: conda only
    assert tables["dependencies"]["scipy"] == "==1.4.1"
    assert "pypi-dependencies" not in tables
    dinov2 = _tables(
        import_file(DATA / "environments" / "facebookresearch-dinov2-conda.yml", reclassify=True)
    )
    assert dinov2["conda-dependencies"]["pytorch"] == "2.0.0.*"  # a channel pin: conda only
    assert dinov2["dependencies"]["omegaconf"] == "*"
    assert dinov2["dependencies"]["cuml-cu11"] == "*"
    env = _write(tmp_path, "environment.yml", "dependencies:\n  - foo=1.2|1.3\n  - bar=2\n")
    tables = _tables(import_file(env, reclassify=True))
    assert tables == {"conda-dependencies": {"foo": "1.2|1.3"}, "dependencies": {"bar": "2.*"}}


@pytest.mark.parametrize(
    ("text", "name", "version", "build", "channel"),
    [
        ("numpy", "numpy", "", None, None),
        ("numpy=1.26", "numpy", "1.26.*", None, None),
        ("numpy=1.26.*", "numpy", "1.26.*", None, None),
        ("numpy==1.26.4", "numpy", "==1.26.4", None, None),
        ("numpy>=1.2,<2", "numpy", ">=1.2,<2", None, None),
        ("numpy 1.26.*", "numpy", "1.26.*", None, None),
        ("python >= 3.8", "python", ">=3.8", None, None),
        ("numpy=1.26.4=py311h64a7726_0", "numpy", "1.26.4", "py311h64a7726_0", None),
        ("numpy==1.26.4=py311h64a7726_0", "numpy", "==1.26.4", "py311h64a7726_0", None),
        ("numpy 1.26.4 py311h64a7726_0", "numpy", "1.26.4", "py311h64a7726_0", None),
        ("conda-forge::numpy", "numpy", "", None, "conda-forge"),
        ("pytorch::pytorch=2.0.0", "pytorch", "2.0.0.*", None, "pytorch"),
        ("nvidia/label/cuda-11.8.0::cuda-toolkit", "cuda-toolkit", "", None, "nvidia/label/cuda-11.8.0"),
        ("x264=1!161.3030=h7f98852_1", "x264", "1!161.3030", "h7f98852_1", None),
    ],
)
def test_conda_match_spec_forms(
    text: str, name: str, version: str, build: str | None, channel: str | None
) -> None:
    spec = parse_conda_spec(text)
    assert spec is not None
    assert (spec.name, spec.version, spec.build, spec.channel) == (name, version, build, channel)


def test_conda_specs_that_are_not_read_become_notes(tmp_path: Path) -> None:
    env = _write(
        tmp_path,
        "environment.yml",
        "dependencies:\n  - numpy[version='>=1.2']\n  - cuda=${CUDA}\n  - _libgcc_mutex=0.1=main\n  - six\n",
    )
    imported = import_file(env)
    assert [n.line for n in imported.notes] == [2, 3, 4, 1]  # 1: no channels, conda-forge used
    assert _tables(imported) == {"conda-dependencies": {"six": "*"}}


def test_yaml_subset() -> None:
    text = (
        "---\n# comment\nname: 'it''s'  # trailing\nchannels: [conda-forge, \"nvidia\"]\nvariables: {}\n"
        'dependencies:\n- python=3.11\n-   pip:\n    - a # x\n    - "b>=1"\n    - c\n- d:\n'
    )
    document = parse_yaml(text, "e.yml")
    assert isinstance(document, Mapping)
    assert document.get("name") is not None
    name = document.get("name")
    assert name is not None and name[1] == Scalar("it's", 3)
    channels = document.get("channels")
    assert channels is not None and channels[1] == Sequence(
        (Scalar("conda-forge", 4), Scalar("nvidia", 4)), 4
    )
    deps = document.get("dependencies")
    assert deps is not None and isinstance(deps[1], Sequence)
    items = deps[1].items
    assert items[0] == Scalar("python=3.11", 7)
    assert isinstance(items[1], Mapping)
    pip = items[1].get("pip")
    assert pip is not None and isinstance(pip[1], Sequence)
    assert [s.value for s in pip[1].items if isinstance(s, Scalar)] == ["a", "b>=1", "c"]
    assert isinstance(items[2], Mapping) and items[2].entries[0][1] == Scalar(None, 12)
    assert parse_yaml("# only a comment\n", "e.yml") is None


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("name: x\ndependencies:\n  - numpy\n  scipy\n", 4, 'expected "- item" in the dependencies list'),
        ("dependencies:\n\t- numpy\n", 2, "tabs"),
        ("name: &a x\n", 1, "anchors"),
        ("name: |\n  x\n", 1, "block scalars"),
        ("name: x\n  y\n", 2, "multi-line"),
        ("name: x\nname: y\n", 2, "duplicate key 'name'"),
        ('name: "x\n', 1, "must end on the same line"),
        ("channels: [a, b\n", 1, "closed with ]"),
        ("name: x\n---\nname: y\n", 2, "one YAML document"),
        ("dependencies:\n  - a\n     - b\n", 3, "unexpected indentation"),
        ("name: {a: b}\n", 1, "flow mappings"),
        ("just text\n", 1, 'expected "key: value" or "- item"'),
    ],
)
def test_yaml_errors_name_file_and_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_yaml(text, "environment.yml")
    assert caught.value.message.startswith(f"environment.yml:{line}: "), caught.value.message
    assert fragment in caught.value.message
    assert caught.value.hint


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("name: x\ndependencies: numpy\n", 'environment.yml:2: expected "- item" in the dependencies list'),
        ("- a\n- b\n", "environment.yml:1: expected a mapping"),
        ("", "environment.yml: the file is empty"),
        (
            "dependencies:\n  - pip:\n    - 'numpy >= = 1'\n",
            "environment.yml:3: 'numpy >= = 1' is not a requirement",
        ),
    ],
)
def test_malformed_environment_files(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(UserError) as caught:
        import_file(_write(tmp_path, "environment.yml", text))
    assert caught.value.message.startswith(fragment), caught.value.message


def test_environment_channels_pins_and_reported_keys(tmp_path: Path) -> None:
    env = _write(
        tmp_path,
        "env.yaml",
        "name: demo\nchannels:\n  - defaults\n  - nodefaults\n  - conda-forge\n  - conda-forge\n"
        "dependencies:\n  - pytorch::pytorch=2.1\n  - conda-forge::numpy\n  - python\n  - python=3.12\n"
        "  - pip:\n    - numpy==1.26.4\n    - python\n    - --index-url https://example.org/simple\n"
        "    - --find-links ./wheels\n    - --no-index\n    - --pre\n    - pkg @ https://example.org/pkg.whl\n"
        "prefix: /opt/env\nvariables:\n  CUDA_HOME: /usr/local/cuda\nfoo: bar\n",
    )
    imported = import_file(env)
    assert imported.name == "demo"
    assert imported.python == "*"
    assert imported.channels == ("https://repo.anaconda.com/pkgs/main", "conda-forge", "pytorch")
    assert imported.index_url == "https://example.org/simple"
    assert imported.find_links == (str(tmp_path / "wheels"),)
    assert imported.no_index
    assert _tables(imported) == {"conda-dependencies": {"pytorch": "2.1.*", "numpy": "*"}}
    lines = {n.line: n.reason for n in imported.notes}
    assert "defaults" in lines[3] and "never adds" in lines[4] and "twice" in lines[6]
    assert "became channel 'pytorch'" in lines[8]
    assert "'conda-forge' is in [environment] channels" in lines[9]
    assert "already given" in lines[11]
    assert "duplicate of 'conda-forge::numpy'" in lines[13]
    assert "python is not a PyPI package" in lines[14]
    assert "pip option not kept" in lines[18]
    assert "direct URLs" in lines[19]
    assert "prefix" in [n.text.split(":")[0] for n in imported.notes if n.line == 20]
    assert "CUDA_HOME" in next(n.text for n in imported.notes if n.line == 21)
    assert "not an environment.yml key" in lines[23]


def test_requirements_features(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    _write(
        tmp_path,
        "sub/base.txt",
        "# base\nrequests[socks]>=2 ; python_version >= '3.8'\n-r ../requirements.txt\n",
    )
    req = _write(
        tmp_path,
        "requirements.txt",
        "-r sub/base.txt\n-c constraints.txt\n-e ./local\n--extra-index-url=https://download.pytorch.org/whl/cu121\n"
        "-i https://pypi.org/simple\n-f https://data.pyg.org/whl/torch-2.1.0+cu121.html\n"
        "torch==2.1.0 \\\n    --hash=sha256:abc \\\n    --hash=sha256:def\n"
        "pywin32==306; sys_platform == 'win32'\n"
        "flask  # web\ngit+https://github.com/org/repo.git#egg=repo\n./vendored/pkg\n"
        "${TOKEN}pkg\n-r missing.txt\n"
        "Flask==3.0\n",
    )
    imported = import_file(req, platforms=["linux-64"])
    assert imported.kind == "requirements"
    assert _tables(imported) == {
        "pypi-dependencies": {"requests": ">=2", "torch": "==2.1.0", "flask": "*"},
    }
    assert [e.extras for e in imported.entries if e.name == "requests"] == [("socks",)]
    assert imported.extra_index_urls == ("https://download.pytorch.org/whl/cu121",)
    assert imported.index_url == "https://pypi.org/simple"
    assert imported.find_links == ("https://data.pyg.org/whl/torch-2.1.0+cu121.html",)
    by_place = {(n.file, n.line): n.reason for n in imported.notes}
    assert "marker is not kept" in by_place[("sub/base.txt", 2)]
    assert "includes itself" in by_place[("sub/base.txt", 3)]
    assert "constraints" in by_place[("requirements.txt", 2)]
    assert "editable" in by_place[("requirements.txt", 3)]
    assert "hashes" in by_place[("requirements.txt", 7)]
    assert "does not hold" in by_place[("requirements.txt", 10)]
    assert "direct URLs" in by_place[("requirements.txt", 12)]
    assert "local paths" in by_place[("requirements.txt", 13)]
    assert "environment variables" in by_place[("requirements.txt", 14)]
    assert "no file missing.txt" in by_place[("requirements.txt", 15)]
    assert "duplicate of 'flask'" in by_place[("requirements.txt", 16)]
    # the same marker holds for another target
    windows = import_file(req, platforms=["win-64"])
    assert "pywin32" in _tables(windows)["pypi-dependencies"]


def test_kind_detection(tmp_path: Path) -> None:
    assert detect_kind(Path("x.yaml"), "") == "environment"
    assert detect_kind(Path("reqs.in"), "name: x") == "requirements"
    assert detect_kind(Path("conda-env"), "name: x\ndependencies:\n  - a\n") == "environment"
    assert detect_kind(Path("Pipfile-ish"), "numpy\n") == "requirements"
    with pytest.raises(UserError, match="no file"):
        import_file(tmp_path / "absent.yml")


def test_explicit_arguments_win_over_the_import(tmp_path: Path) -> None:
    env = _write(
        tmp_path, "environment.yml", "name: a\nchannels: [pytorch]\ndependencies:\n  - python=3.10\n"
    )
    path = init(tmp_path, imported=import_file(env), name="b", python="3.12.*", channels=["conda-forge"])
    environment = parse_manifest(path.read_text(), path).environment
    assert (environment.name, environment.python, environment.channels) == ("b", "3.12.*", ("conda-forge",))
