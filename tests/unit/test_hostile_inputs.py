"""Round 2 of issue 7 (B7, D13): hostile locks and manifests that the first suite did not hold.

Each case was found by attacking the real CLI; each is one :class:`~condauv.errors.UserError`
(one line, a hint, exit 2) before anything is read further or changed. Pure logic, pinned inputs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from condauv.errors import LockfileError, ManifestError
from condauv.lock import parse_lock
from condauv.manifest import parse_manifest
from condauv.validation import read_text, url
from tests.unit.test_lock_trust import PYTHON, REQUESTS, SIX, TQDM, _text

# -- names: one package, one spelling ------------------------------------------------------------


@pytest.mark.parametrize("other", ["Requests", "REQUESTS"])
def test_a_pypi_name_is_in_its_normal_form(other: str) -> None:
    """condauv writes PEP 503 names; ``Six`` beside ``six`` made uv see two entries for one
    project, and ``Six`` alone left `check` reporting drift after every sync."""
    with pytest.raises(LockfileError) as info:
        parse_lock(_text(pypi=(replace(REQUESTS, name=other), TQDM)))
    assert info.value.message.startswith("condauv.lock: pypi[0].name ")
    assert "normal form" in info.value.message


def test_two_conda_entries_that_differ_only_in_case_are_one_package() -> None:
    upper = replace(SIX, name="SIX", url=SIX.url.replace("/six-", "/SIX-"))
    with pytest.raises(LockfileError, match=r"conda\[2\] \(six 1.16.0\): a second entry for six on linux-64"):
        parse_lock(_text(conda=(PYTHON, SIX, upper)))


def test_a_provided_name_is_in_its_normal_form() -> None:
    with pytest.raises(LockfileError, match=r"provides\[0\] .*normal form"):
        parse_lock(_text(conda=(PYTHON, replace(SIX, provides=("Six==1.16.0",)))))


def test_a_pypi_entry_for_what_a_conda_entry_provides_is_refused_on_load() -> None:
    """Found after the prefix was created (sync's own check came after the conda side); with a
    differently spelt name (``Six``), not found at all and uv installed over conda's files."""
    six = replace(
        REQUESTS, name="six", version="1.16.0", url=REQUESTS.url.replace("requests-2.32.3", "six-1.16.0")
    )
    with pytest.raises(LockfileError) as info:
        parse_lock(_text(conda=(PYTHON, SIX), pypi=(six,)))
    assert info.value.message == (
        "condauv.lock: pypi[0] (six 1.16.0): six is provided by the conda package six "
        "on linux-64 (conda[1]); one of the two must go"
    )


# -- conda match specs: parsed on load, not when rattler first meets them -------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"requested": ">=1 ; --index-url http://x"},  # was "unexpected InvalidMatchSpecError", exit 1
        {"requested": "<<>>1"},
        {"depends": ("tiny-b <<>>1",)},
        {"depends": ("../../x",)},
        {"depends": ("",)},
        {"constrains": ("!!!",)},
    ],
)
def test_conda_specs_in_the_lock_are_match_specs(change: dict[str, object]) -> None:
    with pytest.raises(LockfileError) as info:
        parse_lock(_text(conda=(replace(PYTHON, **change), SIX)))  # type: ignore[arg-type]
    field = next(iter(change))
    assert info.value.message.startswith(f"condauv.lock: conda[0] (python 3.11.7): {field}")
    assert "is not a conda match spec" in info.value.message


def test_good_conda_specs_pass() -> None:
    package = replace(
        PYTHON,
        requested="3.11.*",
        depends=("bzip2 >=1.0.8,<2.0a0", "libzlib"),
        constrains=("python_abi 3.11.* *_cp311",),
    )
    assert parse_lock(_text(conda=(package, SIX))).conda[0] == package


# -- bounded time ---------------------------------------------------------------------------------


def test_a_very_long_url_is_refused_at_once() -> None:
    """A file: URL of 500,000 ``a/`` and ``../`` segments kept `sync` busy past 5 minutes
    (``realpath`` is quadratic in the number of segments)."""
    long = "file:///tmp/chan/" + "a/" * 50_000 + "../" * 50_000 + "noarch/x-1-0.conda"
    started = time.monotonic()
    with pytest.raises(LockfileError, match="longer than"):
        url(long, schemes=("file",), what="condauv.lock: conda[0]: URL", error=LockfileError, hint="h")
    assert time.monotonic() - started < 5  # the bug took 9 s to minutes; a loaded CI machine is slow
    hostile = replace(SIX, url=SIX.url.replace("/noarch/", "/" + "a/" * 5000 + "../" * 5000 + "noarch/"))
    with pytest.raises(LockfileError, match="longer than"):
        parse_lock(_text(conda=(PYTHON, hostile)))


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_lock_or_manifest_that_is_no_regular_file_is_refused(tmp_path: Path, kind: str) -> None:
    """A FIFO in condauv.lock's place made `sync` wait forever; /dev/zero was read to 256 MiB."""
    path = tmp_path / "condauv.lock"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    with pytest.raises(LockfileError, match="is not a regular file"):
        read_text(path, what="condauv.lock", error=LockfileError, hint="h")


def test_a_fifo_lock_does_not_hang_the_cli(tmp_path: Path) -> None:
    (tmp_path / "condauv.toml").write_text('[environment]\nchannels = ["conda-forge"]\n', encoding="utf-8")
    os.mkfifo(tmp_path / "condauv.lock")
    done = subprocess.run(
        [sys.executable, "-m", "condauv", "sync", "--frozen"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: condauv.lock ")
    assert "is not a regular file" in done.stderr
    assert not (tmp_path / ".condauv").exists()


# -- the manifest ---------------------------------------------------------------------------------


def _manifest(tmp_path: Path, body: str) -> object:
    text = f'[environment]\nname = "t"\nchannels = ["conda-forge"]\n{body}'
    return parse_manifest(text, tmp_path / "condauv.toml")


@pytest.mark.parametrize(
    "link",
    [
        "--index-url=http://evil.example/simple",  # uv read it as its own option
        "ftp://host/wheels/",
        "https://user:token@host/wheels/ x",  # credentials are allowed (uv gets them), spaces not
        "https://",
    ],
)
def test_find_links_are_urls_or_folders_never_options(tmp_path: Path, link: str) -> None:
    with pytest.raises(ManifestError) as info:
        _manifest(tmp_path, f'[pypi-options]\nfind-links = ["{link}"]\n')
    assert info.value.message.startswith("condauv.toml: pypi-options.find-links[0] ")


def test_find_links_folders_and_urls_pass(tmp_path: Path) -> None:
    manifest = _manifest(
        tmp_path, '[pypi-options]\nfind-links = ["wheels", "https://dl.example/whl/stable.html"]\n'
    )
    assert manifest.pypi_options.find_links == (  # type: ignore[attr-defined]
        str((tmp_path / "wheels").resolve()),
        "https://dl.example/whl/stable.html",
    )


@pytest.mark.parametrize("extra", ["../x", "a,b", "a] ; python_version < '0'", ""])
def test_extras_are_names(tmp_path: Path, extra: str) -> None:
    """A bad extra was reported as a bad version ("tqdm = '*' is not a valid version specifier"),
    and ``a,b`` was pasted into the requirement as two extras."""
    with pytest.raises(ManifestError) as info:
        _manifest(tmp_path, f'[pypi-dependencies]\ntqdm = {{ version = "*", extras = ["{extra}"] }}\n')
    assert info.value.message == (
        f"condauv.toml: pypi-dependencies.tqdm.extras[0] = {extra!r} is not an extra's name"
    )


def test_a_long_bad_value_is_shown_cut_short(tmp_path: Path) -> None:
    with pytest.raises(ManifestError) as info:
        _manifest(tmp_path, f'[pypi-dependencies]\nsix = ">={"1." * 20_000}"\n')
    assert len(info.value.message) < 300
