"""condauv export against hostile or awkward input: values that a reader splits into lines
(pip and conda's pip: section read a file with ``str.splitlines``, YAML folds NEL), find-links
folders whose names pip's option parser splits, and ``-o`` pointed at the project's own files."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from condauv.errors import UserError
from condauv.export import export
from condauv.export._shared import index_option_lines, single_line, yaml_scalar
from condauv.lock import parse_lock
from condauv.manifest import parse_manifest
from tests.clirunner import CLI
from tests.unit.test_export import BOTH, HERE, _assert_user_error, _files, _lock_text, _project

#: every character ``str.splitlines`` (pip's requirements reader) breaks a line at, beyond \n and \r
LINE_BREAKS = ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


@pytest.mark.parametrize("char", LINE_BREAKS)
def test_a_unicode_line_break_is_refused_in_every_written_value(char: str) -> None:
    value = f"numpy{char}--index-url https://evil.example/simple"
    assert len(value.splitlines()) == 2  # what pip's reader sees
    with pytest.raises(UserError):
        single_line(value, "a value")
    with pytest.raises(UserError):
        yaml_scalar(value)


@pytest.mark.parametrize("char", ["\u2028", "\x85"])
@pytest.mark.parametrize("fmt", ["environment-yml", "requirements"])
def test_a_manifest_value_with_a_unicode_line_break_never_reaches_an_export(
    tmp_path: Path, char: str, fmt: str
) -> None:
    """A find-links folder (or name) holding U+2028, which pip reads as a new line (an index
    option of the attacker's choosing): refused when the manifest is read, or by the export."""
    text = (
        f'[environment]\nname = "demo{char}x"\nplatforms = ["{HERE}"]\n'
        f'[pypi-options]\nfind-links = ["wheels{char}-i https:evil.example/simple"]\n'
    )
    lock = parse_lock(_lock_text((HERE,)))
    try:
        manifest = parse_manifest(text, tmp_path / "condauv.toml")
        [doc] = export(lock, manifest, fmt)
    except UserError:
        return
    for line in doc.text.splitlines():  # as pip reads it: the folder's name stays in its option
        assert "evil" not in line or "--find-links" in line, doc.text


@pytest.mark.parametrize("folder", ["wheel house", "wheels #1", "it's", 'a"b'])
def test_a_find_links_folder_pip_would_split_is_written_as_a_file_url(tmp_path: Path, folder: str) -> None:
    """pip splits an option line with shlex (``/w h`` is two words) and ends it at `` #``; uv reads
    the line whole. A file: URL is read the same by both."""
    text = f'[environment]\nplatforms = ["{HERE}"]\n[pypi-options]\nfind-links = [{json.dumps(folder)}]\n'
    manifest = parse_manifest(text, tmp_path / "condauv.toml")
    [line] = index_option_lines(manifest)
    flag, value = shlex.split(line, comments=True)
    assert flag == "--find-links"
    assert value == (tmp_path / folder).resolve().as_uri()


def test_a_plain_find_links_folder_stays_a_path(tmp_path: Path) -> None:
    text = f'[environment]\nplatforms = ["{HERE}"]\n[pypi-options]\nfind-links = ["wheels"]\n'
    manifest = parse_manifest(text, tmp_path / "condauv.toml")
    assert index_option_lines(manifest) == [f"--find-links {(tmp_path / 'wheels').resolve()}"]


@pytest.mark.parametrize(
    "target",
    [
        "condauv.lock",
        "condauv.toml",
        "./sub/../condauv.lock",
        ".condauv/env/conda-meta/x.json",
        "envlink/x.yml",
    ],
)
def test_cli_refuses_to_export_over_the_project_s_own_files(cli: CLI, tmp_path: Path, target: str) -> None:
    folder = _project(tmp_path / "p", BOTH)
    (folder / "sub").mkdir()
    (folder / ".condauv" / "env" / "conda-meta").mkdir(parents=True)
    (folder / "envlink").symlink_to(folder / ".condauv" / "env")
    before = _files(folder)
    for fmt in ("environment-yml", "pylock"):
        for frozen in ((), ("--frozen",)):
            result = cli("export", "--format", fmt, "--platform", HERE, "-o", target, *frozen, cwd=folder)
            _assert_user_error(result, "-o")
    assert _files(folder) == before


def test_cli_writes_through_no_symlink(cli: CLI, tmp_path: Path) -> None:
    """A symlink at -o is replaced by the file, never followed: its target is untouched."""
    folder = _project(tmp_path / "p", BOTH)
    outside = tmp_path / "outside.txt"
    outside.write_text("keep\n")
    (folder / "out.yml").symlink_to(outside)
    result = cli("export", "--format", "environment-yml", "--platform", HERE, "-o", "out.yml", cwd=folder)
    assert result.exit_code == 0, result.stderr
    assert outside.read_text() == "keep\n"
    assert not (folder / "out.yml").is_symlink() and "dependencies:" in (folder / "out.yml").read_text()


def test_a_channel_token_never_reaches_an_explicit_or_conda_lock_export(tmp_path: Path) -> None:
    """anaconda.org-style tokens (``/t/<TOKEN>/``) are credentials: conda leaves them out of its
    exports, and so does condauv (with a note); condauv's output masks them."""
    from condauv._process import mask

    token = "ab-12345678-abcd-ef01-2345-6789abcdef01"  # noqa: S105 (a made-up token)
    base = f"https://conda.anaconda.org/t/{token}/conda-forge"
    text = _lock_text((HERE,)).replace("https://conda.anaconda.org/conda-forge", base)
    assert token in text
    manifest = parse_manifest(
        f'[environment]\nplatforms = ["{HERE}"]\nchannels = ["{base}"]\n', tmp_path / "condauv.toml"
    )
    lock = parse_lock(text)
    for fmt in ("explicit", "conda-lock", "environment-yml"):
        [doc] = export(lock, manifest, fmt)
        assert token not in doc.text, fmt
        if fmt != "environment-yml":
            assert any("token" in note for note in doc.notes), fmt
    assert token not in mask(f"fetching {base}/linux-64/repodata.json failed")
