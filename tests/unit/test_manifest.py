from __future__ import annotations

from pathlib import Path

import pytest

from condauv.errors import ManifestError
from condauv.manifest import parse_manifest
from condauv.manifest.edit import ManifestDocument, initial_manifest
from condauv.manifest.model import pep440_specifier
from condauv.manifest.specs import parse_user_spec

GOOD = """
# my project
[environment]
name = "aiml"                 # optional
python = "3.11.*"
channels = ["conda-forge"]
platforms = ["linux-64", "osx-arm64"]

[dependencies]
numpy = ">=1.26"
requests = "*"

[conda-dependencies]
pytorch-cuda = "12.1.*"

[pypi-dependencies]
transformers = { version = ">=4.40", extras = ["torch"] }

[pypi-options]
find-links = ["wheels"]
no-index = true
"""


def test_parses_every_table(tmp_path: Path) -> None:
    m = parse_manifest(GOOD, tmp_path / "condauv.toml")
    assert m.environment.name == "aiml"
    assert m.environment.platforms == ("linux-64", "osx-arm64")
    assert [(r.name, r.table) for r in m.requested] == [
        ("numpy", "dependencies"),
        ("requests", "dependencies"),
        ("pytorch-cuda", "conda-dependencies"),
        ("transformers", "pypi-dependencies"),
    ]
    transformers = m.requested[-1]
    assert transformers.as_pep508() == "transformers[torch]>=4.40"
    assert m.requested[2].as_conda() == "pytorch-cuda 12.1.*"
    assert m.pypi_options.find_links == (str((tmp_path / "wheels").resolve()),)
    assert m.pypi_options.uv_args()[-1] == "--no-index"


def test_defaults(tmp_path: Path) -> None:
    m = parse_manifest("", tmp_path / "proj" / "condauv.toml")
    assert m.environment.name == "proj"
    assert m.environment.channels == ("conda-forge",)
    assert m.environment.python == "3.11.*"
    assert len(m.environment.platforms) == 1


def test_content_hash_ignores_comments_and_order(tmp_path: Path) -> None:
    a = parse_manifest('[dependencies]\nnumpy = "*"\nrequests = "*"\n', tmp_path / "condauv.toml")
    b = parse_manifest('# hi\n[dependencies]\nrequests = "*"  # x\nnumpy = "*"\n', tmp_path / "condauv.toml")
    c = parse_manifest('[dependencies]\nnumpy = ">=2"\nrequests = "*"\n', tmp_path / "condauv.toml")
    assert a.content_hash() == b.content_hash() != c.content_hash()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[environment\n", "line 1, column"),
        ("[dependencies]\nnumpy = 3\n", "dependencies.numpy must be"),
        ('[dependencies]\nnumpy = "<<2"\n', "not a valid version specifier"),
        ('[environment]\nplatforms = ["linux-65"]\n', "unknown platform 'linux-65'"),
        ('[environment]\ncolour = "red"\n', "unknown key [environment] 'colour'"),
        ('[dependencies]\nnumpy = "*"\n[pypi-dependencies]\nNumPy = "*"\n', "in both"),
        ('[dependencies]\n"bad name!" = "*"\n', "not a valid package name"),
        ("[environment]\nchannels = []\n", "channels is empty"),
        ('[conda-dependencies]\nx = "$(rm -rf)"\n', "not a conda version spec"),
        ('[pypi-options]\nno-index = "yes"\n', "no-index must be true or false"),
        ('[classify]\n"nvidia-*" = "apt"\n', "classify.nvidia-* = 'apt' is not a manager"),
    ],
)
def test_bad_manifests_name_the_problem(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(ManifestError) as info:
        parse_manifest(text, tmp_path / "condauv.toml")
    assert fragment in str(info.value)
    assert info.value.hint
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("", ""),
        ("*", ""),
        (">=1.26", ">=1.26"),
        ("1.26.*", "==1.26.*"),
        ("2.0", "==2.0"),
        (">=1, <2", ">=1,<2"),
    ],
)
def test_pep440_specifier(spec: str, expected: str) -> None:
    assert pep440_specifier(spec) == expected


def test_edit_keeps_comments(tmp_path: Path) -> None:
    path = tmp_path / "condauv.toml"
    doc = ManifestDocument(path, GOOD)
    doc.add(parse_user_spec("rich>=13", "dependencies"))
    doc.add(parse_user_spec("numpy", "conda-dependencies"))  # moves numpy between tables
    doc.remove("requests")
    text = doc.text()
    assert "# my project" in text
    assert "# optional" in text
    m = doc.manifest()
    assert {(r.name, r.table, r.spec) for r in m.requested} == {
        ("numpy", "conda-dependencies", "*"),
        ("rich", "dependencies", ">=13"),
        ("pytorch-cuda", "conda-dependencies", "12.1.*"),
        ("transformers", "pypi-dependencies", ">=4.40"),
    }


def test_remove_unknown_name(tmp_path: Path) -> None:
    doc = ManifestDocument(tmp_path / "condauv.toml", GOOD)
    with pytest.raises(ManifestError, match=r"'scipy' is not in condauv\.toml"):
        doc.remove("scipy")


def test_initial_manifest_round_trips(tmp_path: Path) -> None:
    text = initial_manifest(name="x", python="3.12.*", channels=["conda-forge"], platforms=["linux-64"])
    m = parse_manifest(text, tmp_path / "condauv.toml")
    assert m.environment.python == "3.12.*"
    assert m.requested == ()


@pytest.mark.parametrize(
    ("text", "table", "name", "spec", "extras"),
    [
        ("numpy", "dependencies", "numpy", "*", ()),
        ("numpy>=1.26", "dependencies", "numpy", ">=1.26", ()),
        ("requests[socks]>=2", "pypi-dependencies", "requests", ">=2", ("socks",)),
        ("pytorch-cuda=12.1", "conda-dependencies", "pytorch-cuda", "12.1.*", ()),
        ("numpy 1.26.*", "conda-dependencies", "numpy", "1.26.*", ()),
        ("numpy==1.26.4", "conda-dependencies", "numpy", "==1.26.4", ()),
    ],
)
def test_user_specs(text: str, table: str, name: str, spec: str, extras: tuple[str, ...]) -> None:
    entry = parse_user_spec(text, table)  # type: ignore[arg-type]
    assert (entry.name, entry.spec, entry.extras) == (name, spec, extras)


@pytest.mark.parametrize("text", ["", "pkg @ https://example.com/x.whl", "!!!", "pkg; python_version<'3'"])
def test_bad_user_specs(text: str) -> None:
    from condauv.errors import UserError

    with pytest.raises(UserError):
        parse_user_spec(text, "dependencies")


def test_classify_rules_are_part_of_the_content_hash(tmp_path: Path) -> None:
    plain = parse_manifest('[dependencies]\nsix = "*"\n', tmp_path / "condauv.toml")
    ruled = parse_manifest(
        '[dependencies]\nsix = "*"\n[classify]\n"Six" = "pypi"\n', tmp_path / "condauv.toml"
    )
    assert ruled.classify == {"six": "pypi"}
    assert plain.content_hash() != ruled.content_hash()


def test_names_table_maps_conda_packages_to_pypi(tmp_path: Path) -> None:
    plain = parse_manifest('[dependencies]\ntables = "*"\n', tmp_path / "condauv.toml")
    mapped = parse_manifest(
        '[dependencies]\ntables = "*"\n[names]\npytables = "tables"\nlab-tools = ["Lab_Tools", "lab-cli"]\n',
        tmp_path / "condauv.toml",
    )
    assert mapped.names == {"pytables": ("tables",), "lab-tools": ("lab-tools", "lab-cli")}
    assert plain.content_hash() != mapped.content_hash()
    assert (
        parse_manifest("[names]\n", tmp_path / "condauv.toml").content_hash()
        == parse_manifest("", tmp_path / "condauv.toml").content_hash()
    )  # an empty table changes nothing: older locks stay fresh


@pytest.mark.parametrize("value", ["3", "[1]", '"bad name!"', "{a = 1}"])
def test_bad_names_entries(tmp_path: Path, value: str) -> None:
    with pytest.raises(ManifestError, match=r"names\.pytables = .* is not a conda name mapped to PyPI names"):
        parse_manifest(f"[names]\npytables = {value}\n", tmp_path / "condauv.toml")


def test_a_find_links_folder_with_a_hash_reaches_uv_as_its_file_url(tmp_path: Path) -> None:
    """uv reads ``#`` in a --find-links path as a URL fragment ("/w #1" became "/w "): the
    folder goes to uv as its percent-encoded file: URL; other folders stay paths."""
    text = '[environment]\n[pypi-options]\nfind-links = ["wh #1", "plain"]\n'
    manifest = parse_manifest(text, tmp_path / "condauv.toml")
    assert manifest.pypi_options.uv_args() == [
        "--find-links",
        (tmp_path / "wh #1").as_uri(),
        "--find-links",
        str(tmp_path / "plain"),
    ]


def test_system_requirements_table(tmp_path: Path) -> None:
    text = '[system-requirements]\ncuda = "12.4"\nglibc = "2.28"\nlinux = "5.10"\nmacos = "13.0"\n'
    m = parse_manifest(text, tmp_path / "condauv.toml")
    assert m.system_requirements == {"cuda": "12.4", "glibc": "2.28", "linux": "5.10", "macos": "13.0"}
    assert parse_manifest("", tmp_path / "condauv.toml").system_requirements == {}


def test_system_requirements_are_part_of_the_content_hash(tmp_path: Path) -> None:
    plain = parse_manifest("", tmp_path / "condauv.toml")
    cuda = parse_manifest('[system-requirements]\ncuda = "12.4"\n', tmp_path / "condauv.toml")
    other = parse_manifest('[system-requirements]\ncuda = "12.6"\n', tmp_path / "condauv.toml")
    empty = parse_manifest("[system-requirements]\n", tmp_path / "condauv.toml")
    assert len({plain.content_hash(), cuda.content_hash(), other.content_hash()}) == 3
    assert empty.content_hash() == plain.content_hash()  # old locks stay fresh


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[system-requirements]\ngpu = "12.4"\n', "unknown key [system-requirements] 'gpu'"),
        ('[system-requirements]\ncuda = "twelve"\n', "system-requirements.cuda = 'twelve' is not a version"),
        ("[system-requirements]\ncuda = 12.4\n", "system-requirements.cuda must be a version string"),
        ('[system-requirements]\nglibc = "2.12"\n', "system-requirements.glibc = '2.12'"),
        ('[system-requirements]\nmacos = "13.0\\n--x"\n', "system-requirements.macos"),
    ],
)
def test_bad_system_requirements(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(ManifestError) as info:
        parse_manifest(text, tmp_path / "condauv.toml")
    assert fragment in str(info.value)
    assert info.value.hint


def test_torch_backend_reaches_uv_and_the_content_hash(tmp_path: Path) -> None:
    plain = parse_manifest("", tmp_path / "condauv.toml")
    m = parse_manifest('[pypi-options]\ntorch-backend = "cu126"\n', tmp_path / "condauv.toml")
    assert m.pypi_options.torch_backend == "cu126"
    assert m.pypi_options.uv_args()[-2:] == ["--torch-backend", "cu126"]
    assert "--torch-backend" not in plain.pypi_options.uv_args()
    assert m.content_hash() != plain.content_hash()
    for value in ("auto", "cpu", "cu118", "rocm6.2.4", "xpu"):
        text = f'[pypi-options]\ntorch-backend = "{value}"\n'
        assert parse_manifest(text, tmp_path / "condauv.toml").pypi_options.torch_backend == value


@pytest.mark.parametrize("value", ['"cuda12"', '"--index-url=x"', '"cu126 "', "126"])
def test_bad_torch_backends(tmp_path: Path, value: str) -> None:
    with pytest.raises(ManifestError) as info:
        parse_manifest(f"[pypi-options]\ntorch-backend = {value}\n", tmp_path / "condauv.toml")
    assert "pypi-options.torch-backend" in str(info.value)
    assert info.value.hint
