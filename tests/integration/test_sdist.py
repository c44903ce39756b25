"""A PyPI package published only as an sdist, end to end with the real uv: lock, sync (which
builds it in an isolated build environment whose backend comes from the manifest's index),
``sync --frozen`` elsewhere, ``--offline`` on a warm cache, and the errors when the backend
cannot be had. Nothing comes from PyPI: the sdist names ``tinybackend``, a backend of our own
(:mod:`tests.helpers.sdists`), which the local index serves as a wheel."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clirunner import CLI
from tests.helpers.index import SimpleIndex, index_entry, serve_index
from tests.helpers.projects import clone_project
from tests.helpers.sdists import BACKEND_VERSION, write_backend_wheel, write_sdist
from tests.integration.conftest import MakeProject

pytestmark = pytest.mark.slow

SDIST = "tinysdist-1.0.tar.gz"


@pytest.fixture
def sdist_files(tmp_path: Path) -> dict[str, bytes]:
    """The sdist and its build backend's wheel, by file name."""
    folder = tmp_path / "dists"
    paths = [write_sdist(folder, "tinysdist", "1.0"), write_backend_wheel(folder)]
    return {path.name: path.read_bytes() for path in paths}


@pytest.fixture
def sdist_index(sdist_files: dict[str, bytes]) -> Iterator[SimpleIndex]:
    """tinysdist (its sdist only) and tinybackend (a wheel) on a localhost index."""
    pages = {name.split("-")[0]: [index_entry(name, data)] for name, data in sorted(sdist_files.items())}
    with serve_index() as start:
        yield start(pages, sdist_files)


def _project(make_project: MakeProject, options: str, name: str = "proj") -> Path:
    """A project asking for tinysdist from PyPI, whose [pypi-options] are ``options``."""
    folder = make_project(name)
    manifest = folder / "condauv.toml"
    text = manifest.read_text(encoding="utf-8")
    text = text[: text.rindex("[pypi-options]")] + f"[pypi-options]\n{options}\n"
    text = text.replace("[pypi-dependencies]\n", '[pypi-dependencies]\ntinysdist = "==1.0"\n')
    manifest.write_text(text, encoding="utf-8")
    return folder


def _imports(prefix: Path) -> str:
    code = "import tinysdist; print(tinysdist.__version__, tinysdist.BUILT_BY)"
    done = subprocess.run(
        [str(prefix / "bin" / "python"), "-c", code], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _dists(prefix: Path) -> set[str]:
    site = next(prefix.glob("lib/python3*/site-packages"))
    return {p.name.split("-")[0].lower() for p in site.glob("*.dist-info")}


def test_sync_builds_an_sdist_from_the_index(
    cli: CLI, make_project: MakeProject, sdist_index: SimpleIndex
) -> None:
    folder = _project(make_project, f'index-url = "{sdist_index.url}"')
    locked = cli("lock", cwd=folder)
    assert locked.exit_code == 0, locked.stderr
    lock_text = (folder / "condauv.lock").read_text(encoding="utf-8")
    assert f"/files/{SDIST}" in lock_text and "tinybackend" not in lock_text  # build deps unlocked

    asked = len(sdist_index.requested)
    synced = cli("sync", cwd=folder)
    assert synced.exit_code == 0, synced.stderr
    prefix = folder / ".condauv" / "env"
    assert _imports(prefix) == f"1.0 tinybackend {BACKEND_VERSION}"
    assert "tinybackend" not in _dists(prefix)  # built in isolation: the env gains no backend
    assert (next(prefix.glob("lib/python3*/site-packages/tinysdist-1.0.dist-info")) / "INSTALLER").read_text(
        encoding="utf-8"
    ).strip() == "uv"
    # the index was asked for the build backend only: tinysdist is the lock's URL and hash
    assert set(sdist_index.requested[asked:]) == {"tinybackend"}
    checked = cli("check", cwd=folder)
    assert checked.exit_code == 0, checked.stdout + checked.stderr

    clone = clone_project(folder, "clone")
    frozen = cli("sync", "--frozen", cwd=clone)
    assert frozen.exit_code == 0, frozen.stderr
    assert _imports(clone / ".condauv" / "env") == f"1.0 tinybackend {BACKEND_VERSION}"
    assert (clone / "condauv.lock").read_bytes() == (folder / "condauv.lock").read_bytes()

    # uv's cache is warm: with the index gone, --offline still installs (and builds) it
    sdist_index.server.shutdown()
    offline = clone_project(folder, "offline")
    result = cli("sync", "--frozen", "--offline", cwd=offline)
    assert result.exit_code == 0, result.stderr
    assert _imports(offline / ".condauv" / "env") == f"1.0 tinybackend {BACKEND_VERSION}"
    assert cli("check", cwd=offline).exit_code == 0


def test_sync_builds_an_sdist_from_find_links(
    cli: CLI, make_project: MakeProject, sdist_files: dict[str, bytes], tmp_path: Path
) -> None:
    links = tmp_path / "links"
    links.mkdir()
    for name, data in sdist_files.items():
        (links / name).write_bytes(data)
    folder = _project(make_project, f'find-links = ["{links}"]\nno-index = true')
    synced = cli("add", "--pypi", "tinysdist==1.0", cwd=folder)  # lock and sync in one
    assert synced.exit_code == 0, synced.stderr
    assert _imports(folder / ".condauv" / "env") == f"1.0 tinybackend {BACKEND_VERSION}"


def test_wheels_only_ask_no_index(cli: CLI, make_project: MakeProject, sdist_index: SimpleIndex) -> None:
    """Every artifact a wheel: uv installs with --no-index, the index hears nothing."""
    folder = _project(make_project, f'index-url = "{sdist_index.url}"')
    manifest = folder / "condauv.toml"
    text = manifest.read_text(encoding="utf-8").replace('tinysdist = "==1.0"', 'tinybackend = "==1.0"')
    manifest.write_text(text, encoding="utf-8")
    assert cli("lock", cwd=folder).exit_code == 0
    asked = len(sdist_index.requested)
    synced = cli("sync", cwd=folder)
    assert synced.exit_code == 0, synced.stderr
    assert sdist_index.requested[asked:] == []


def _error_lines(stderr: str) -> list[str]:
    """The error and its hint, after the one line that says the build was started."""
    notice, *lines = stderr.strip().splitlines()
    assert notice == "building tinysdist 1.0 from its sdist: this runs its build code", stderr
    assert len(lines) == 2 and lines[0].startswith("error: ") and lines[1].startswith("hint: "), stderr
    return lines


def test_a_backend_nowhere_to_be_found_is_one_error(
    cli: CLI,
    make_project: MakeProject,
    sdist_files: dict[str, bytes],
    sdist_index: SimpleIndex,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sdist in a find-links folder, its backend on no index: sync says so in one line;
    with the backend on the index but uv's cache cold, ``--offline`` says to go online once."""
    links = tmp_path / "only-the-sdist"
    links.mkdir()
    (links / SDIST).write_bytes(sdist_files[SDIST])
    folder = _project(make_project, f'find-links = ["{links}"]\nno-index = true')
    assert cli("lock", cwd=folder).exit_code == 0
    result = cli("sync", cwd=folder)
    assert result.exit_code == 1
    error, hint = _error_lines(result.stderr)
    assert "tinysdist==1.0" in error and "build backend" in error and "tinybackend" in error, error
    assert "[pypi-options]" in hint
    assert not (folder / ".condauv" / "env" / "bin" / "tinysdist").exists()

    manifest = folder / "condauv.toml"
    text = manifest.read_text(encoding="utf-8").replace("no-index = true", f'index-url = "{sdist_index.url}"')
    manifest.write_text(text, encoding="utf-8")
    assert cli("lock", cwd=folder).exit_code == 0
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "cold-uv-cache"))
    result = cli("sync", "--offline", cwd=folder)
    assert result.exit_code == 1
    error, hint = _error_lines(result.stderr)
    assert "tinysdist==1.0" in error and "build backend" in error and "--offline" in error, error
    assert "online" in hint


def test_a_failing_backend_is_one_error(cli: CLI, make_project: MakeProject, tmp_path: Path) -> None:
    links = tmp_path / "broken"
    write_sdist(links, "tinysdist", "1.0", build_requires=(), backend="no_such_backend")
    folder = _project(make_project, f'find-links = ["{links}"]\nno-index = true')
    assert cli("lock", cwd=folder).exit_code == 0
    result = cli("sync", cwd=folder)
    assert result.exit_code == 1
    error, hint = _error_lines(result.stderr)
    assert error.startswith("error: uv could not build tinysdist==1.0 from its sdist: "), error
    assert "no_such_backend" in error and "-v" in hint


def test_the_build_leaves_conda_packages_alone(
    cli: CLI, make_project: MakeProject, tmp_path: Path, wheelhouse: Path
) -> None:
    """conda's six 1.16.0 stays when the sdist needs six at run time (``--no-deps``) and another
    six to build (installed in the isolated build environment only)."""
    folder_dists = tmp_path / "dists"
    paths = [
        write_sdist(
            folder_dists,
            "tinysdist",
            "1.0",
            requires=("six>=1.16",),
            build_requires=(f"tinybackend=={BACKEND_VERSION}", "six==1.17.0"),
        ),
        write_backend_wheel(folder_dists),
        *sorted(wheelhouse.glob("six-*.whl")),
    ]
    files = {path.name: path.read_bytes() for path in paths}
    pages: dict[str, list[dict[str, object]]] = {}
    for name, data in sorted(files.items()):
        pages.setdefault(name.split("-")[0], []).append(index_entry(name, data))
    with serve_index() as start:
        index = start(pages, files)
        folder = _project(make_project, f'index-url = "{index.url}"')
        manifest = folder / "condauv.toml"
        text = manifest.read_text(encoding="utf-8")
        manifest.write_text(
            text.replace("[conda-dependencies]\n", '[conda-dependencies]\nsix = "*"\n'), "utf-8"
        )
        assert cli("lock", cwd=folder).exit_code == 0
        asked = len(index.requested)
        synced = cli("sync", cwd=folder)
        assert synced.exit_code == 0, synced.stderr
        assert set(index.requested[asked:]) == {"tinybackend", "six"}  # the build's requirements
    prefix = folder / ".condauv" / "env"
    assert _imports(prefix) == f"1.0 tinybackend {BACKEND_VERSION}"
    six = list(prefix.glob("lib/python3*/site-packages/six-*.dist-info"))
    assert [p.name for p in six] == ["six-1.16.0.dist-info"]
    assert (six[0] / "INSTALLER").read_text(encoding="utf-8").strip() == "conda"
    checked = cli("check", cwd=folder)
    assert checked.exit_code == 0, checked.stdout + checked.stderr


def test_a_bundle_names_its_sdists(
    cli: CLI,
    make_project: MakeProject,
    sdist_index: SimpleIndex,
    sdist_files: dict[str, bytes],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``pack --bundle`` says that the site must build tinysdist without its backend; on the site
    (no network, empty caches) sync says so in one line, and works once the backend's wheel is in
    the bundle's wheels/ folder, as the warning advises."""
    folder = _project(make_project, f'index-url = "{sdist_index.url}"')
    assert cli("lock", cwd=folder).exit_code == 0
    bundle = tmp_path / "out" / "site.tar.gz"
    bundle.parent.mkdir()
    packed = cli("pack", "--bundle", "-o", bundle, cwd=folder)
    assert packed.exit_code == 0, packed.stderr
    assert "tinysdist 1.0 is locked as an sdist" in packed.stderr and "wheels/" in packed.stderr
    sdist_index.server.shutdown()
    monkeypatch.setenv("CONDAUV_CACHE_DIR", str(tmp_path / "site-cache"))
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "site-uv-cache"))
    unpacked = cli("unbundle", bundle, "-C", tmp_path / "site", cwd=tmp_path)
    assert unpacked.exit_code == 0, unpacked.stderr
    site = tmp_path / "site" / "site"
    result = cli("sync", "--frozen", "--offline", cwd=site)
    assert result.exit_code == 1
    error, _ = _error_lines(result.stderr)
    assert "tinysdist==1.0" in error and "build backend tinybackend==1.0" in error, error
    backend = next(name for name in sdist_files if name.startswith("tinybackend-"))
    (site / "wheels" / backend).write_bytes(sdist_files[backend])
    result = cli("sync", "--frozen", "--offline", cwd=site)
    assert result.exit_code == 0, result.stderr
    assert _imports(site / ".condauv" / "env") == f"1.0 tinybackend {BACKEND_VERSION}"
