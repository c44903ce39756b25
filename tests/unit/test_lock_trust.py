"""Whole-lock validation (condauv.lock.validate), URL containment (condauv.validation.url_within)
and the pylock.toml uv installs from (condauv.pypi.uv.write_pylock): pure logic, pinned inputs."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from condauv.errors import ArchiveError, LockfileError
from condauv.lock import CondaPackage, Lock, PypiPackage, load_lock, parse_lock
from condauv.lock.validate import check_sources, load_previous, pypi_sources
from condauv.manifest import parse_manifest
from condauv.manifest.model import Manifest, PypiOptions
from condauv.pypi.uv import _hash_mismatch, write_pylock
from condauv.validation import url_within

SHA = "a" * 64
CHANNEL = "https://conda.anaconda.org/conda-forge"
FILES = "https://files.pythonhosted.org/packages/7a/3e"

PYTHON = CondaPackage(
    platform="linux-64",
    name="python",
    version="3.11.7",
    build="h_0",
    build_number=0,
    subdir="linux-64",
    channel=f"{CHANNEL}/",
    url=f"{CHANNEL}/linux-64/python-3.11.7-h_0.conda",
    sha256=SHA,
    md5="b" * 32,
    requested="3.11.*",
)
SIX = CondaPackage(
    platform="linux-64",
    name="six",
    version="1.16.0",
    build="pyhd8ed1ab_0",
    build_number=0,
    subdir="noarch",
    channel=f"{CHANNEL}/",
    url=f"{CHANNEL}/noarch/six-1.16.0-pyhd8ed1ab_0.tar.bz2",
    sha256=SHA,
    noarch="python",
    provides=("six==1.16.0",),
)
REQUESTS = PypiPackage(
    platform="linux-64",
    name="requests",
    version="2.32.3",
    url=f"{FILES}/requests-2.32.3-py3-none-any.whl",
    sha256=SHA,
)
TQDM = PypiPackage(
    platform="linux-64", name="tqdm", version="4.66.5", url=f"{FILES}/tqdm-4.66.5.tar.gz", sha256=SHA
)


def _lock(
    conda: tuple[CondaPackage, ...] = (PYTHON, SIX), pypi: tuple[PypiPackage, ...] = (REQUESTS, TQDM)
) -> Lock:
    return Lock(content_hash="sha256:x", channels=(CHANNEL,), platforms=("linux-64",), conda=conda, pypi=pypi)


def _text(
    conda: tuple[CondaPackage, ...] = (PYTHON, SIX), pypi: tuple[PypiPackage, ...] = (REQUESTS, TQDM)
) -> str:
    return _lock(conda, pypi).to_toml()


def test_a_real_lock_reads_back() -> None:
    assert parse_lock(_text()) == _lock()


# -- each field held to its grammar ---------------------------------------------------------------

CONDA_CASES: list[tuple[dict[str, object], str]] = [
    ({"name": "../../x"}, "conda[0].name is not a valid conda package name"),
    ({"name": "a/b"}, "not a valid conda package name"),
    ({"version": "1.0-1"}, "conda[0].version is not a conda version"),
    ({"version": "1.*"}, "is not a conda version"),
    ({"version": "3.11.7 --force"}, "is not a conda version"),
    ({"build": "h/../0"}, "conda[0].build is not a conda build string"),
    ({"platform": "linux-evil"}, "].platform 'linux-evil' is not a platform condauv knows"),
    ({"subdir": "osx-arm64"}, "subdir 'osx-arm64' is neither its platform nor noarch"),
    ({"md5": "zz"}, "md5 is not an md5 hex digest"),
    ({"noarch": "evil"}, "noarch 'evil' is not python or generic"),
    ({"python_site_packages_path": "../../etc"}, "python-site-packages-path leaves its folder"),
    ({"provides": ("six",)}, "provides[0] is not name==version"),
    ({"provides": ("-r x==1",)}, "provides[0] is not name==version"),
    (
        {"url": "ftp://conda.anaconda.org/conda-forge/linux-64/python-3.11.7-h_0.conda"},
        "has the scheme 'ftp'",
    ),
    (
        {"url": "https://u:p@conda.anaconda.org/conda-forge/linux-64/python-3.11.7-h_0.conda"},
        "holds credentials",
    ),
    ({"url": "{}"}, "is not a URL"),
    ({"url": f"{CHANNEL}/linux-64/python-3.12.0-h_0.conda"}, "the URL's file is not python-3.11.7-h_0.conda"),
    ({"url": f"{CHANNEL}/linux-64/python-3.11.7-h_0.conda?x=1"}, "carries a query or fragment"),
    ({"url": f"{CHANNEL}/osx-64/python-3.11.7-h_0.conda"}, "is not in the linux-64 folder of a channel"),
    ({"url": "https://evil.example/c/linux-64/python-3.11.7-h_0.conda"}, "is not in its channel"),
    ({"reason": "line\nbreak"}, "control character"),
    ({"depends": ("python\x00",)}, "control character"),
]


@pytest.mark.parametrize(("change", "fragment"), CONDA_CASES)
def test_conda_fields_are_checked(change: dict[str, object], fragment: str) -> None:
    with pytest.raises(LockfileError) as info:
        parse_lock(_text(conda=(replace(PYTHON, **change), SIX)))  # type: ignore[arg-type]
    assert fragment in info.value.message
    assert info.value.message.startswith("condauv.lock: ")
    assert info.value.hint
    assert "\n" not in info.value.message


PYPI_CASES: list[tuple[dict[str, object], str]] = [
    ({"name": "-r /etc/passwd #"}, "pypi[0].name is not a valid PyPI name"),
    ({"name": "--index-url https://evil.example/simple #"}, "is not a valid PyPI name"),
    ({"version": "2.32.3; rm -rf /"}, "pypi[0].version is not a PEP 440 version"),
    ({"version": " 2.32.3"}, "is not a PEP 440 version"),
    ({"version": "2.32.4"}, "the URL's file 'requests-2.32.3-py3-none-any.whl' is not requests 2.32.4"),
    ({"name": "urllib3"}, "is not urllib3 2.32.3"),
    ({"url": f"{FILES}/requests-2.32.3.exe"}, "is neither a wheel nor an sdist"),
    ({"url": "{}"}, "is not a URL"),
    ({"url": f"{FILES}/requests-2.32.3-py3-none-any.whl#sha256={SHA}"}, "carries a query or fragment"),
    ({"url": f"{FILES}/requests-2.32.3-py3-none-any.whl -r /etc/passwd"}, "is not a URL"),
    ({"url": "javascript:alert(1)"}, "has the scheme 'javascript'"),
    ({"sha256": "A" * 64}, "pypi[0].sha256 is not a sha256"),
    ({"platform": "noarch"}, "is not a platform condauv knows"),
]


@pytest.mark.parametrize(("change", "fragment"), PYPI_CASES)
def test_pypi_fields_are_checked(change: dict[str, object], fragment: str) -> None:
    with pytest.raises(LockfileError) as info:
        parse_lock(_text(pypi=(replace(REQUESTS, **change), TQDM)))  # type: ignore[arg-type]
    assert fragment in info.value.message


def test_a_channel_written_with_its_subdir_as_real_conda_does_is_accepted() -> None:
    package = replace(SIX, channel=f"{CHANNEL}/noarch")
    assert parse_lock(_text(conda=(PYTHON, package))).conda[1] == package


def test_a_normalised_wheel_name_agrees_with_its_entry() -> None:
    package = replace(
        REQUESTS,
        name="charset-normalizer",
        version="3.5.3",
        url=f"{FILES}/charset_normalizer-3.5.3-cp311-cp311-manylinux_2_28_x86_64.whl",
    )
    assert parse_lock(_text(pypi=(package,))).pypi == (package,)


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (
            lambda t: t.replace('platforms = ["linux-64"]', 'platforms = ["linux-64", "plan9"]'),
            "environment.platforms[1]",
        ),
        (
            lambda t: t.replace(f'channels = ["{CHANNEL}"]', 'channels = ["ftp://x"]'),
            "environment.channels[0]",
        ),
        (lambda t: t + "\n[x]\ny = [" + "[" * 40 + "]" * 40 + "]\n", "deep"),
        (lambda t: t + "\nz = " + "[" * 5000 + "]" * 5000 + "\n", "deep"),
    ],
)
def test_bad_locks_are_one_lockfile_error(mutate: Callable[[str], str], fragment: str) -> None:
    with pytest.raises(LockfileError) as info:
        parse_lock(mutate(_text()))
    assert fragment in info.value.message


def test_a_second_entry_for_one_package_is_refused() -> None:
    with pytest.raises(LockfileError, match=r"pypi\[1\] \(requests 2.32.3\): a second entry for requests"):
        parse_lock(_text(pypi=(REQUESTS, REQUESTS)))
    with pytest.raises(LockfileError, match="a platform the lock is not for"):
        parse_lock(_text(pypi=(replace(REQUESTS, platform="osx-arm64"),)))


def test_undecodable_or_nul_lock_files_are_lockfile_errors(tmp_path: Path) -> None:
    path = tmp_path / "condauv.lock"
    assert load_lock(path) is None
    path.write_bytes(_text().encode() + b"\n# \xff\n")
    with pytest.raises(LockfileError, match="not UTF-8"):
        load_lock(path)
    path.write_bytes(_text().encode() + b"\n# \x00\n")
    with pytest.raises(LockfileError, match="NUL"):
        load_lock(path)


# -- every URL belongs to a source of the manifest ------------------------------------------------


def _manifest(tmp_path: Path, pypi_options: str = "") -> Manifest:
    text = f'[environment]\nname = "t"\npython = "3.11.*"\nchannels = ["conda-forge"]\n{pypi_options}'
    return parse_manifest(text, tmp_path / "condauv.toml")


def test_urls_of_the_manifests_channels_and_default_index_pass(tmp_path: Path) -> None:
    check_sources(_lock(), _manifest(tmp_path))


@pytest.mark.parametrize(
    "url",
    [
        "https://conda.anaconda.org/evil/linux-64/python-3.11.7-h_0.conda",
        "http://conda.anaconda.org/conda-forge/linux-64/python-3.11.7-h_0.conda",
        "https://conda.anaconda.org/conda-forge/x/../evil/linux-64/python-3.11.7-h_0.conda",
        "https://conda.anaconda.org:8443/conda-forge/linux-64/python-3.11.7-h_0.conda",
    ],
)
def test_a_conda_url_outside_the_manifests_channels_is_refused(tmp_path: Path, url: str) -> None:
    hostile = replace(PYTHON, url=url, channel=url.rsplit("/", 2)[0] + "/")
    with pytest.raises(LockfileError) as info:
        check_sources(_lock(conda=(hostile,)), _manifest(tmp_path))
    assert info.value.message == (
        f"condauv.lock: conda[0] (python 3.11.7): URL {url} is not in a channel of condauv.toml"
    )


@pytest.mark.parametrize(
    ("options", "url", "ok"),
    [
        ("", f"{FILES}/requests-2.32.3-py3-none-any.whl", True),
        ("", "https://pypi.org/packages/requests-2.32.3-py3-none-any.whl", True),
        ("", "http://files.pythonhosted.org/requests-2.32.3-py3-none-any.whl", False),
        ("", "https://evil.example/requests-2.32.3-py3-none-any.whl", False),
        ("", "https://files.pythonhosted.org.evil.example/requests-2.32.3-py3-none-any.whl", False),
        ("", "file:///tmp/requests-2.32.3-py3-none-any.whl", False),
        (
            'index-url = "https://user:tok@pkgs.example/simple"',
            "https://pkgs.example/files/requests-2.32.3-py3-none-any.whl",
            True,
        ),
        ('index-url = "https://pkgs.example/simple"', f"{FILES}/requests-2.32.3-py3-none-any.whl", False),
        (
            'extra-index-urls = ["https://pkgs.example/simple"]',
            "https://pkgs.example/f/requests-2.32.3-py3-none-any.whl",
            True,
        ),
        ("no-index = true", f"{FILES}/requests-2.32.3-py3-none-any.whl", False),
        (
            'find-links = ["https://dl.example/whl/stable.html"]\nno-index = true',
            "https://dl.example/whl/cu/requests-2.32.3-py3-none-any.whl",
            True,
        ),
        (
            'find-links = ["https://dl.example/whl/stable.html"]\nno-index = true',
            "https://dl.example/other/requests-2.32.3-py3-none-any.whl",
            False,
        ),
        (
            'find-links = ["https://dl.example/whl/stable.html"]\nno-index = true',
            "https://dl.example/whl/../other/requests-2.32.3-py3-none-any.whl",
            False,
        ),
    ],
)
def test_a_pypi_url_must_be_on_an_index_or_find_links_of_the_manifest(
    tmp_path: Path, options: str, url: str, ok: bool
) -> None:
    manifest = _manifest(tmp_path, f"[pypi-options]\n{options}\n" if options else "")
    lock = _lock(pypi=(replace(REQUESTS, url=url),))
    if ok:
        check_sources(lock, manifest)
        return
    with pytest.raises(LockfileError) as info:
        check_sources(lock, manifest)
    assert info.value.message.startswith(
        f"condauv.lock: pypi[0] (requests 2.32.3): URL {url} is not on an index"
    )


def test_a_file_url_must_resolve_inside_a_find_links_folder(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (wheels / "link").symlink_to(outside)
    manifest = _manifest(tmp_path, '[pypi-options]\nfind-links = ["wheels"]\nno-index = true\n')
    name = "requests-2.32.3-py3-none-any.whl"
    check_sources(_lock(pypi=(replace(REQUESTS, url=(wheels / name).as_uri()),)), manifest)
    for url in (
        (outside / name).as_uri(),
        (wheels / "link" / name).as_uri(),
        f"{wheels.as_uri()}/../outside/{name}",
    ):
        with pytest.raises(LockfileError, match="is not on an index"):
            check_sources(_lock(pypi=(replace(REQUESTS, url=url),)), manifest)


def test_pypi_sources_of_the_default_index() -> None:
    assert pypi_sources(PypiOptions()) == ["https://pypi.org/", "https://files.pythonhosted.org/"]
    assert pypi_sources(PypiOptions(no_index=True)) == []


def test_the_previous_lock_is_used_only_where_it_is_valid(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    manifest = _manifest(tmp_path)
    path = tmp_path / "condauv.lock"
    assert load_previous(path, manifest) is None
    evil = replace(REQUESTS, url="https://evil.example/requests-2.32.3-py3-none-any.whl")
    path.write_text(_text(pypi=(evil, TQDM)), encoding="utf-8")
    assert load_previous(path, manifest) == _lock(pypi=(TQDM,))
    assert "pypi[0] (requests 2.32.3): URL https://evil.example/" in caplog.text
    assert "the new lock is made without them" in caplog.text
    path.write_text(_text(pypi=(replace(REQUESTS, name="-r x #"),)), encoding="utf-8")
    assert load_previous(path, manifest) is None
    assert "not a valid PyPI name" in caplog.text
    path.write_text(_text(), encoding="utf-8")
    assert load_previous(path, manifest) == _lock()


@pytest.mark.parametrize(
    ("candidate", "base", "inside"),
    [
        ("https://h.example/a/b/c", "https://h.example/a/b", True),
        ("https://h.example/a/b", "https://h.example/a/b/", True),
        ("https://H.EXAMPLE:443/a/b/c", "https://h.example/a/b", True),
        ("https://h.example/a/bc", "https://h.example/a/b", False),
        ("https://h.example/a/b/../c", "https://h.example/a/b", False),
        ("https://h.example/a/b/%2e%2e/c", "https://h.example/a/b", False),
        ("https://h.example:8443/a/b/c", "https://h.example/a/b", False),
        ("http://h.example/a/b/c", "https://h.example/a/b", False),
        ("https://other.example/a/b/c", "https://h.example/a/b", False),
        ("file://host/x/y", "file:///x", False),
        ("https://[::1", "https://h.example/", False),
    ],
)
def test_url_within(candidate: str, base: str, inside: bool) -> None:
    assert url_within(candidate, base) is inside


# -- the pylock.toml uv installs from -------------------------------------------------------------


def test_write_pylock_is_a_structured_file(tmp_path: Path) -> None:
    path = write_pylock(tmp_path, [REQUESTS, TQDM])
    assert path.name == "pylock.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assert data["lock-version"] == "1.0"
    requests, tqdm = data["packages"]
    assert requests == {
        "name": "requests",
        "version": "2.32.3",
        "wheels": [{"url": REQUESTS.url, "hashes": {"sha256": SHA}}],
    }
    assert tqdm["sdist"] == {"url": TQDM.url, "hashes": {"sha256": SHA}}


@pytest.mark.parametrize(
    "change",
    [
        {"name": "-r /etc/passwd #"},
        {"name": "six\n-r /etc/passwd"},
        {"version": "2.32.3 --index-url https://evil.example"},
        {"url": f"{FILES}/requests-2.32.3-py3-none-any.whl --no-deps"},
        {"url": "${HOME}/requests-2.32.3-py3-none-any.whl"},
        {"url": f"{FILES}/requests-2.32.3-py3-none-any.whl#egg=evil"},
        {"sha256": SHA[:-1] + " -r x"},
    ],
)
def test_write_pylock_checks_every_field_again(tmp_path: Path, change: dict[str, Any]) -> None:
    with pytest.raises(LockfileError):
        write_pylock(tmp_path, [replace(REQUESTS, **change)])
    assert not (tmp_path / "pylock.toml").exists()


UV_MISMATCH = """\
Using Python 3.11.7 environment at: venv
error: Failed to download `tqdm==4.66.5`
  cause: Hash mismatch for `tqdm==4.66.5`

         Expected:
           sha256:0000000000000000000000000000000000000000000000000000000000000000

         Computed:
           sha256:a6a3ba5fbae42028194577d2766e9e95309626a968eccb9135357bf0aef29a72
"""


def test_uv_hash_mismatch_becomes_one_line_with_both_hashes_and_the_file() -> None:
    error = _hash_mismatch(
        UV_MISMATCH, [REQUESTS, replace(TQDM, url=f"{FILES}/tqdm-4.66.5-py3-none-any.whl")]
    )
    assert isinstance(error, ArchiveError)
    assert error.message == (
        "hash mismatch for tqdm==4.66.5 (tqdm-4.66.5-py3-none-any.whl): condauv.lock says "
        "sha256:0000000000000000000000000000000000000000000000000000000000000000, the file has "
        "sha256:a6a3ba5fbae42028194577d2766e9e95309626a968eccb9135357bf0aef29a72"
    )
    assert _hash_mismatch("error: Failed to download `tqdm==4.66.5`\n  cause: timed out\n", [TQDM]) is None
