"""``condauv.importing``: real-world environment.yml / requirements.txt files, the mini-YAML reader, notes."""

from __future__ import annotations

import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from condauv.errors import UserError
from condauv.importing import Imported, detect_kind, import_file, import_files
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
        ("name: x\ndependencies:\n  - numpy\n  scipy\n", 4, "could not find expected ':'"),
        ("dependencies:\n\t- numpy\n", 2, "found character '\\t' that cannot start any token"),
        ("name: x\n  y: z\n", 2, "mapping values are not allowed here"),
        ("name: x\nname: y\n", 2, "duplicate key 'name' (first on line 1)"),
        ('name: "x\n', 1, "while scanning a quoted scalar found unexpected end of stream"),
        ("channels: [a, b\n", 1, "while parsing a flow sequence"),
        ("name: x\n---\nname: y\n", 2, "one YAML document"),
        ("dependencies:\n  - a\n - b\n", 3, "expected <block end>"),
        ("name: *nowhere\n", 1, "the alias *nowhere names no anchor defined before it"),
        ("name: !python/object x\n", 1, "the tag '!python/object' is not supported"),
        ("? [a, b]\n: c\n", 1, "a key must be a single value"),
        ('name: "a\\x01b"\n', 1, "a value holds a control character"),
        ("channels: " + "[" * 40 + "]" * 40 + "\n", 1, "nested more than 32 levels deep"),
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


def test_real_yaml_anchors_block_scalars_and_multi_line_values(tmp_path: Path) -> None:
    """What real environment.yml files use and the old hand-written reader refused."""
    text = (
        "name: demo\n"
        "x-common: &common\n"
        "  - numpy=1.26\n"
        "  - scipy\n"
        "channels: &chans [conda-forge]\n"
        "dependencies:\n"
        "  - python=3.10\n"
        "  - &tq tqdm >=4\n"
        "  - >-\n"
        "    pandas\n"
        "    >=2\n"
        "  - pip:\n"
        "      - |\n"
        "        requests>=2\n"
        "      - 'click\n"
        "        ==8.1.7'\n"
        "defaults: &defaults\n  prefix: /opt/env\n"
        "variables:\n  <<: *defaults\n  KEEP: '3.10'\n"
    )
    imported = import_file(_write(tmp_path, "environment.yml", text), platforms=["linux-64"])
    assert imported.python == "3.10.*"  # conda's `=3.10`, from a string, never the float 3.1
    assert _tables(imported) == {
        "conda-dependencies": {"tqdm": ">=4", "pandas": ">=2"},
        "pypi-dependencies": {"requests": ">=2", "click": "==8.1.7"},
    }
    notes = {note.line: note.text for note in imported.notes}
    assert notes[2] == "x-common: [numpy=1.26, scipy]"
    assert notes[19] == "variables: {KEEP: 3.10, prefix: /opt/env}"


def test_yaml_aliases_and_merge_keys_keep_lines() -> None:
    document = parse_yaml("a: &x\n  k: v\nb:\n  <<: *x\n  k2: w\nc: *x\nd: !!str 3.10\ne: ~\n", "e.yml")
    assert isinstance(document, Mapping)
    b, c, d, e = (document.get(k) for k in "bcde")
    assert b is not None and b[1] == Mapping(
        ((Scalar("k2", 5), Scalar("w", 5)), (Scalar("k", 2), Scalar("v", 2))), 4
    )
    assert c is not None and c[1] == Mapping(((Scalar("k", 2), Scalar("v", 2)),), 1)  # where &x is
    assert d is not None and d[1] == Scalar("3.10", 7)
    assert e is not None and e[1] == Scalar(None, 8)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("dependencies: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 32 levels deep"),
        ("dependencies:\n" + "".join(" " * i + "- \n" for i in range(1, 1500)), "nested more than 32 levels"),
        ("".join(" " * i + "a:\n" for i in range(1500)), "nested more than 32 levels deep"),
        (
            "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(8)
            ),
            "expands to more than 100000 values",
        ),
    ],
    ids=["flow", "block-sequence", "block-mapping", "billion-laughs"],
)
def test_deep_or_exploding_yaml_is_refused_fast(tmp_path: Path, text: str, fragment: str) -> None:
    path = _write(tmp_path, "environment.yml", text)
    started = time.monotonic()
    with pytest.raises(UserError) as caught:
        import_file(path)
    assert time.monotonic() - started < 5  # the bug took 9 s to minutes; a loaded CI machine is slow
    assert caught.value.message.startswith("environment.yml:"), caught.value.message
    assert fragment in caught.value.message and caught.value.hint


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("environment.yml", b"name: caf\xe9\n", "is not UTF-8 text: bad byte at line 1"),
        ("requirements.txt", b"numpy\nsix\xff\n", "is not UTF-8 text: bad byte at line 2"),
        ("requirements.txt", b"numpy\x00\n", "holds a NUL byte at line 1"),
        ("environment.yml", b'dependencies:\n  - "nu\\0mpy"\n', "environment.yml:2: a value holds a control"),
        ("environment.yml", b"name: x\n" + b"#" * (3 * 2**20), "is larger than 2 MiB"),
    ],
)
def test_undecodable_or_binary_input(tmp_path: Path, name: str, content: bytes, fragment: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(UserError) as caught:
        import_file(tmp_path / name)
    assert fragment in caught.value.message and caught.value.hint


def test_requirement_line_with_huge_runs_of_spaces_is_fast(tmp_path: Path) -> None:
    path = _write(tmp_path, "requirements.txt", " " * 40_000 + "numpy  # c\nsix" + " " * 40_000 + "\n")
    started = time.monotonic()
    imported = import_file(path)
    assert time.monotonic() - started < 5  # the bug took 9 s to minutes; a loaded CI machine is slow
    assert _tables(imported) == {"pypi-dependencies": {"numpy": "*", "six": "*"}}
    _write(tmp_path, "bad.txt", "numpy" + " " * 40_000 + "x\n")
    with pytest.raises(UserError) as caught:
        import_file(tmp_path / "bad.txt")
    assert time.monotonic() - started < 5  # the bug took 9 s to minutes; a loaded CI machine is slow
    assert len(caught.value.message) < 400


def test_include_with_an_impossible_name_is_a_note(tmp_path: Path) -> None:
    imported = import_file(_write(tmp_path, "requirements.txt", "-r " + "x" * 5000 + "\nsix\n"))
    assert [n.reason for n in imported.notes] == ["not read: File name too long"]


# -- several files: the strategy's environment.yml + requirements-uv.txt ------------------------

#: ``conda env export``'s shape (name=version=build pins, a prefix line, a pip: section)
CONDA_ENV_EXPORT = """\
name: aiml
channels:
  - conda-forge
dependencies:
  - _libgcc_mutex=0.1=conda_forge
  - numpy=2.4.6=py311_0
  - python=3.11.7=h_condauv_0
  - six=1.16.0=pyh_0
  - pip:
    - requests==2.32.3
    - tqdm==4.66.5
prefix: /home/me/miniconda3/envs/aiml
"""


def _hashed_requirements(count: int) -> str:
    """``uv pip freeze`` / ``condauv export --format requirements`` style: header, options, hashes."""
    lines = ["# This file was autogenerated by condauv export", "--index-url https://pypi.org/simple"]
    for n in range(count):
        lines += [f"pkg{n}==1.{n} \\", f"    --hash=sha256:{n:064x} \\", f"    --hash=sha256:{n + 1:064x}"]
    return "\n".join(lines) + "\n"


def test_two_files_make_one_manifest_with_both_sides(tmp_path: Path) -> None:
    env = _write(tmp_path, "environment.yml", CONDA_ENV_EXPORT)
    req = _write(
        tmp_path,
        "requirements-uv.txt",
        "# pinned\n--extra-index-url https://download.pytorch.org/whl/cu121\nclick==8.1.7\n",
    )
    imported = import_files([env, req], platforms=["linux-64"])
    assert (imported.name, imported.python, imported.channels) == (
        "aiml",
        "3.11.7 h_condauv_0",  # the build kept: [environment] python is a conda spec
        ("conda-forge",),
    )
    assert _tables(imported) == {
        "conda-dependencies": {"numpy": "2.4.6 py311_0", "six": "1.16.0 pyh_0"},
        "pypi-dependencies": {"requests": "==2.32.3", "tqdm": "==4.66.5", "click": "==8.1.7"},
    }
    assert imported.extra_index_urls == ("https://download.pytorch.org/whl/cu121",)
    assert [(s.path, s.kind) for s in imported.sources] == [(env, "environment"), (req, "requirements")]
    assert (imported.source, imported.kind) == (env, "environment")  # the first file, as before
    written = init(tmp_path, imported=imported, platforms=["linux-64"])
    assert {r.name for r in parse_manifest(written.read_text(), written).requested} == {
        "numpy", "six", "requests", "tqdm", "click"
    }  # fmt: skip


def test_conda_env_export_file_imports_as_exact_pins(tmp_path: Path) -> None:
    env = _write(tmp_path, "environment.yml", CONDA_ENV_EXPORT)
    imported = import_file(env, platforms=["linux-64"])
    notes = {n.line: str(n) for n in imported.notes}
    assert set(notes) == {5, 12}  # _libgcc_mutex (a name the manifest refuses), prefix
    assert imported.python == "3.11.7 h_condauv_0"  # python's build is kept, as every other's
    assert "prefix: /home/me/miniconda3/envs/aiml: not kept" in notes[12]
    moved = _tables(import_file(env, reclassify=True, platforms=["linux-64"]))
    assert moved["conda-dependencies"] == {"numpy": "2.4.6 py311_0", "six": "1.16.0 pyh_0"}  # builds stay
    assert moved["dependencies"] == {"requests": "==2.32.3", "tqdm": "==4.66.5"}


def test_hashed_requirements_file_gives_one_note_per_file(tmp_path: Path) -> None:
    req = _write(tmp_path, "requirements-uv.txt", _hashed_requirements(40))
    imported = import_file(req)
    assert len(imported.entries) == 40 and _tables(imported)["pypi-dependencies"]["pkg7"] == "==1.7"
    assert [str(n) for n in imported.notes] == [
        "requirements-uv.txt:3: --hash on 40 requirements: hashes are not kept: condauv.lock records its own"
    ]
    assert imported.index_url == "https://pypi.org/simple"


def test_a_package_in_both_files(tmp_path: Path) -> None:
    """Environment files are read first, whatever the order given: the conda side is made first."""
    env = _write(tmp_path, "environment.yml", CONDA_ENV_EXPORT)
    req = _write(
        tmp_path,
        "requirements-uv.txt",
        "numpy==2.4.6\nsix==1.16.0\nrequests==2.32.3 \\\n    --hash=sha256:" + "a" * 64 + "\n"
        "tqdm==4.66.5\nclick==8.1.7\nsix==1.17.0\n",
    )
    imported = import_files([req, env], platforms=["linux-64"])
    assert [s.kind for s in imported.sources] == ["environment", "requirements"]
    tables = _tables(imported)
    assert tables["conda-dependencies"] == {"numpy": "2.4.6 py311_0", "six": "1.16.0 pyh_0"}
    assert tables["pypi-dependencies"] == {"requests": "==2.32.3", "tqdm": "==4.66.5", "click": "==8.1.7"}
    notes = [str(n) for n in imported.notes if n.file == "requirements-uv.txt"]
    assert notes == [
        "requirements-uv.txt:1: numpy==2.4.6 and 3 more: the same packages and versions as in "
        "environment.yml; kept once",
        "requirements-uv.txt:3: --hash on 1 requirement: hashes are not kept: condauv.lock records its own",
        "requirements-uv.txt:7: six==1.17.0: duplicate of 'six=1.16.0=pyh_0' (environment.yml:8) in "
        "[conda-dependencies]; the manifest holds one entry per package",
    ]


def test_two_environment_files_that_disagree(tmp_path: Path) -> None:
    first = _write(
        tmp_path, "a.yml", "name: a\nchannels: [conda-forge]\ndependencies:\n  - python=3.11\n  - numpy\n"
    )
    second = _write(
        tmp_path,
        "b.yml",
        "name: b\nchannels: [conda-forge, pytorch]\ndependencies:\n  - python=3.12\n  - pytorch\n"
        "  - pip:\n    - --index-url https://example.org/simple\n    - --find-links ./wheels\n",
    )
    req = _write(tmp_path, "r.txt", "--index-url https://other.example/simple\n--find-links ./wheels\n")
    imported = import_files([first, second, req])
    assert (imported.name, imported.python) == ("a", "3.11.*")
    assert imported.channels == ("conda-forge", "pytorch")
    assert imported.index_url == "https://example.org/simple"
    assert imported.find_links == (str(tmp_path / "wheels"),)
    assert _tables(imported) == {"conda-dependencies": {"numpy": "*", "pytorch": "*"}}
    notes = {(n.file, n.line): n.reason for n in imported.notes}
    assert "the name is already given at a.yml:1; kept 'a'" in notes[("b.yml", 1)]
    assert "added after a.yml's channels" in notes[("b.yml", 2)]
    assert "python is already given at a.yml:4" in notes[("b.yml", 4)]
    assert "a second index URL is not kept" in notes[("r.txt", 1)]
    assert len(imported.notes) == 4  # conda-forge and the find-links folder in both: no note


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda d: [d / "absent.yml"], "no file"),
        (lambda d: [d / "environment.yml", d / "." / "environment.yml"], "given twice"),
        (lambda d: [d], "is a folder"),
        (lambda d: [d / "environment.yml"] * 17, "at most 16"),
        (lambda d: [], "no file to import"),
    ],
)
def test_bad_lists_of_files(tmp_path: Path, make: Callable[[Path], list[Path]], fragment: str) -> None:
    _write(tmp_path, "environment.yml", CONDA_ENV_EXPORT)
    with pytest.raises(UserError) as caught:
        import_files(make(tmp_path))
    assert fragment in caught.value.message and caught.value.hint


def test_pip_freeze_lines_for_conda_packages_and_one_wheel_folder_in_two_spellings(tmp_path: Path) -> None:
    """``pip freeze`` in a conda environment names conda's packages by their build folders."""
    env = _write(
        tmp_path,
        "environment.yml",
        "dependencies:\n  - numpy=2.4.6=py311_0\n  - six\n  - pip:\n"
        f"    - --find-links {tmp_path.as_uri()}/w\n",
    )
    req = _write(
        tmp_path,
        "requirements.txt",
        "numpy @ file:///croot/numpy_1/work\nsix @ file:///croot/six_1/work\n--find-links ./w\n"
        "tqdm @ https://example.org/tqdm-4.66.5-py3-none-any.whl\n",
    )
    imported = import_files([env, req])
    assert imported.find_links == (f"{tmp_path.as_uri()}/w",)
    notes = [str(n) for n in imported.notes if n.file == "requirements.txt"]
    assert notes == [
        "requirements.txt:1: numpy @ file:///croot/numpy_1/work and 1 more: conda packages of "
        "environment.yml (pip freeze names conda's build folders); kept from conda",
        "requirements.txt:4: tqdm @ https://example.org/tqdm-4.66.5-py3-none-any.whl: direct URLs are "
        "not kept: the manifest holds names and versions",
    ]
