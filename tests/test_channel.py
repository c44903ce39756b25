"""The local-channel builder: real packages, indexed, solved and installed by py-rattler."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import shutil
import sys
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
import rattler
import uv
from rattler.package_streaming import extract

from condauv import _process
from condauv.channel import (
    build_package,
    build_python_package,
    build_wheel_package,
    channel_from_wheels,
    demo_channel,
)
from condauv.channel.requirements import conda_depends, conda_version_spec, python_depends
from condauv.errors import CondauvError, UserError
from condauv.platforms import current_subdir, marker_environment, subdir_for_wheel_tag
from condauv.pypi.simple import fetch_wheel
from tests.conftest import numpy_wheel
from tests.helpers.index import IndexFactory, index_entry, serve_index
from tests.helpers.wheels import write_wheel

PY = f"{sys.version_info.major}.{sys.version_info.minor}"
SITE = f"lib/python{PY}/site-packages"


def solve(channels: Sequence[Path], specs: Sequence[str]) -> list[rattler.RepoDataRecord]:
    return asyncio.run(
        rattler.solve(
            [rattler.Channel(c.as_uri()) for c in channels],
            specs,
            platforms=[rattler.Subdir(current_subdir()), rattler.Subdir("noarch")],
        )
    )


def install(records: list[rattler.RepoDataRecord], prefix: Path, pkgs: Path) -> Path:
    asyncio.run(rattler.install(records, target_prefix=prefix, cache_dir=pkgs, show_progress=False))
    return prefix


def unpack(package: Path, dest: Path) -> tuple[Path, dict[str, object]]:
    """Extract a .conda; returns the folder and its info/index.json."""
    extract(package, dest)
    return dest, json.loads((dest / "info" / "index.json").read_text())


def python(prefix: Path, code: str) -> str:
    return _process.run([prefix / "bin" / "python", "-c", code], what="the env's python").stdout.strip()


@pytest.fixture(scope="session")
def pkgs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pkgs")


@pytest.fixture(scope="session")
def numpy_env(conda_channel: Path, pkgs_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """python + numpy + six installed from the session channel."""
    prefix = tmp_path_factory.mktemp("numpy-env")
    return install(solve([conda_channel], ["python", "numpy", "six"]), prefix, pkgs_dir)


# --- Requires-Dist -> conda depends ---------------------------------------------------------


@pytest.mark.parametrize(
    ("pep440", "conda"),
    [
        (">=1,<2", ">=1,<2"),
        ("<2,>=1", ">=1,<2"),
        ("==1.2.*", "1.2.*"),
        ("==1.2", "==1.2"),
        ("~=1.2", ">=1.2,1.*"),
        ("~=1.4.5", ">=1.4.5,1.4.*"),
        ("!=1.5,>=1", ">=1,!=1.5"),
        ("!=1.5.*", "!=1.5.*"),
        ("", ""),
    ],
)
def test_version_specs_convert(pep440: str, conda: str) -> None:
    assert conda_version_spec(pep440) == conda


def test_compatible_release_means_the_same_in_conda() -> None:
    spec = rattler.MatchSpec("x " + conda_version_spec("~=1.4.5"))
    matches = {
        v
        for v in ("1.4.4", "1.4.5", "1.4.9", "1.5.0", "2.0a0")
        if spec.matches(rattler.PackageRecord("x", v, rattler.BuildString("0"), 0, "noarch"))
    }
    assert matches == {"1.4.5", "1.4.9"}


def test_arbitrary_equality_is_refused() -> None:
    with pytest.raises(UserError, match="arbitrary equality"):
        conda_version_spec("===1.0")


def test_requires_dist_markers_and_extras() -> None:
    requires = [
        "Foo_Bar>=1,<3",
        "pysocks!=1.5.7; extra == 'socks'",
        "colorama; sys_platform == 'win32'",
        "tomli>=1.1; python_version < '3.11'",
        "typing-extensions; python_version >= '3.11'",
    ]
    linux = conda_depends(requires, marker_environment("3.11", "linux-64"))
    assert linux == ["foo-bar >=1,<3", "typing-extensions"]
    windows = conda_depends(requires, marker_environment("3.10", "win-64"))
    assert windows == ["foo-bar >=1,<3", "colorama", "tomli >=1.1"]


def test_url_requirement_is_refused() -> None:
    with pytest.raises(UserError, match="URL"):
        conda_depends(["foo @ https://example.com/foo.whl"], marker_environment("3.11", "linux-64"))


def test_python_depends() -> None:
    assert python_depends(">=3.8") == "python >=3.8"
    assert python_depends(None) == "python"


@pytest.mark.parametrize(
    ("tag", "subdir"),
    [
        ("manylinux_2_17_x86_64", "linux-64"),
        ("manylinux2014_aarch64", "linux-aarch64"),
        ("macosx_10_9_x86_64", "osx-64"),
        ("macosx_11_0_arm64", "osx-arm64"),
        ("win_amd64", "win-64"),
        ("any", "noarch"),
        ("musllinux_1_2_x86_64", None),
        ("macosx_10_9_universal2", None),
    ],
)
def test_subdir_for_wheel_tag(tag: str, subdir: str | None) -> None:
    assert subdir_for_wheel_tag(tag) == subdir


# --- build_package and build_wheel_package --------------------------------------------------


def test_build_package_writes_subdir_and_files(tmp_path: Path) -> None:
    built = build_package(
        name="tool",
        version="1.2",
        output_dir=tmp_path / "chan",
        files={"bin/tool": b"#!/bin/sh\necho hi\n", "share/tool/data.txt": b"x"},
        depends=["tiny-b >=1"],
        subdir="linux-64",
    )
    assert built == tmp_path / "chan" / "linux-64" / "tool-1.2-h_0.conda"
    folder, index = unpack(built, tmp_path / "x")
    assert index["depends"] == ["tiny-b >=1"]
    assert (folder / "share" / "tool" / "data.txt").read_bytes() == b"x"
    assert (folder / "bin" / "tool").stat().st_mode & 0o111


def test_build_package_refuses_paths_outside_the_prefix(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="leaves the prefix"):
        build_package(name="bad", version="1", output_dir=tmp_path, files={"../evil": b""})


def test_pure_wheel_becomes_noarch_python(tmp_path: Path) -> None:
    wheel = write_wheel(
        tmp_path,
        "Hello_World",
        "1.0",
        requires=["six>=1.16", "pysocks; extra == 'socks'"],
        entry_points="[console_scripts]\nhello = hello_world.cli:main\n",
        files={
            "hello_world-1.0.data/scripts/hello-raw": b"#!python\nprint('raw')\n",
            "hello_world-1.0.data/data/share/hello/notes.txt": b"notes",
            "hello_world-1.0.data/headers/hello.h": b"/* h */",
        },
    )
    built = build_wheel_package(wheel, tmp_path / "chan")
    assert built == tmp_path / "chan" / "noarch" / "hello-world-1.0-pyh_0.conda"
    folder, index = unpack(built, tmp_path / "x")
    assert index["noarch"] == "python"
    assert index["depends"] == ["python", "six >=1.16"]
    dist = folder / "site-packages" / "hello_world-1.0.dist-info"
    assert (dist / "INSTALLER").read_text() == "conda\n"
    assert (folder / "site-packages" / "hello_world" / "__init__.py").is_file()
    assert (folder / "share" / "hello" / "notes.txt").read_bytes() == b"notes"
    assert (folder / "include" / "hello.h").is_file()
    script = (folder / "python-scripts" / "hello").read_text()
    assert script.startswith("#!/bin/sh\n") and "from hello_world.cli import main" in script
    assert (folder / "python-scripts" / "hello-raw").read_text().endswith("print('raw')\n")
    record = (dist / "RECORD").read_text().splitlines()
    assert "../../../bin/hello-raw" in {line.split(",")[0] for line in record}
    assert "hello_world-1.0.dist-info/RECORD,," in record
    assert not any(line.startswith("hello_world-1.0.dist-info/INSTALLER,,") for line in record)


@pytest.mark.parametrize(
    ("tag", "subdir", "python_spec"),
    [
        ("cp311-cp311-manylinux_2_17_x86_64", "linux-64", "python >=3.11,<3.12.0a0"),
        ("cp39-abi3-macosx_11_0_arm64", "osx-arm64", "python >=3.9"),
        (
            "cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64",
            "linux-aarch64",
            "python >=3.12,<3.13.0a0",
        ),
    ],
)
def test_platform_wheel_targets_its_tag(tmp_path: Path, tag: str, subdir: str, python_spec: str) -> None:
    wheel = write_wheel(tmp_path, "fast", "2.0", requires=["numpy>=1.26"], tag=tag)
    built = build_wheel_package(wheel, tmp_path / "chan")
    python_build = tag.split("-", 1)[0].removeprefix("cp")
    assert built == tmp_path / "chan" / subdir / f"fast-2.0-py{python_build}_0.conda"
    folder, index = unpack(built, tmp_path / "x")
    assert index["depends"] == [python_spec, "numpy >=1.26"]
    version = f"{python_build[0]}.{python_build[1:]}"
    assert (folder / "lib" / f"python{version}" / "site-packages" / "fast" / "__init__.py").is_file()


def test_local_version_is_kept(tmp_path: Path) -> None:
    built = build_wheel_package(write_wheel(tmp_path, "loc", "1.0+cpu"), tmp_path / "chan")
    assert built.name == "loc-1.0+cpu-pyh_0.conda"


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_bad_wheels_are_user_errors(tmp_path: Path) -> None:
    cases = {
        tmp_path / "notes.txt": "not a wheel file name",
        (tmp_path / "x-1.0-py3-none-any.whl"): "not a readable wheel",
        _zip(tmp_path / "y-1.0-py3-none-any.whl", {"y.py": b""}): "METADATA",
        _zip(
            tmp_path / "z-1.0-py3-none-any.whl", {"z-1.0.dist-info/METADATA": b"Name: z\n", "../z": b""}
        ): "leaves",
        tmp_path / "missing-1.0-py3-none-any.whl": "does not exist",
        write_wheel(tmp_path, "uni", "1.0", tag="cp311-cp311-macosx_10_9_universal2"): "one conda platform",
        write_wheel(tmp_path, "pypy", "1.0", tag="pp310-pypy310_pp73-manylinux_2_17_x86_64"): "CPython",
    }
    (tmp_path / "notes.txt").write_text("hi")
    (tmp_path / "x-1.0-py3-none-any.whl").write_text("garbage")
    for wheel, message in cases.items():
        with pytest.raises(UserError, match=message) as info:
            build_wheel_package(wheel, tmp_path / "chan")
        assert info.value.hint, wheel


def test_unsupported_interpreter_layout(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    with pytest.raises(UserError, match="cannot repackage the interpreter") as info:
        build_python_package(tmp_path / "out", base_prefix=tmp_path)
    assert info.value.hint


# --- channels ---------------------------------------------------------------------------------


def test_channel_from_wheels_indexes_and_grows(tmp_path: Path, wheelhouse: Path) -> None:
    channel = tmp_path / "chan"
    first = sorted(wheelhouse.glob("requests-*.whl")) + sorted(wheelhouse.glob("urllib3-*.whl"))
    built = channel_from_wheels(first, channel)
    assert [p.name for p in built] == ["requests-2.32.3-pyh_0.conda", "urllib3-2.2.3-pyh_0.conda"]
    assert (channel / current_subdir() / "repodata.json").is_file()
    more = [*wheelhouse.glob("idna-*.whl"), *wheelhouse.glob("certifi-*.whl")]
    channel_from_wheels(more, channel)
    repodata = json.loads((channel / "noarch" / "repodata.json").read_text())
    names = sorted(record["name"] for record in repodata["packages.conda"].values())
    assert names == ["certifi", "idna", "requests", "urllib3"]


def test_tiny_packages_solve(conda_channel: Path) -> None:
    versions = {r.name.normalized: str(r.version) for r in solve([conda_channel], ["tiny-a", "tiny-c"])}
    assert versions == {"tiny-a": "1.0", "tiny-b": "1.0", "tiny-c": "1.0"}
    assert {str(r.version) for r in solve([conda_channel], ["tiny-b"])} == {"2.0"}
    with pytest.raises(rattler.exceptions.SolverError):
        solve([conda_channel], ["tiny-c", "tiny-d"])


@pytest.mark.slow
def test_numpy_env_runs_from_its_own_prefix(numpy_env: Path) -> None:
    out = python(numpy_env, "import sys, ssl, sqlite3, ctypes, numpy; print(sys.prefix, numpy.__version__)")
    prefix, numpy_version = out.split()
    assert Path(prefix) == numpy_env
    assert numpy_version.startswith("2.")
    numpy_dist = next((numpy_env / SITE).glob("numpy-*.dist-info"))
    assert (numpy_dist / "INSTALLER").read_text().strip() == "conda"
    assert (numpy_env / SITE / "six" / "__init__.py").is_file()
    assert python(numpy_env, "import sysconfig; print(sysconfig.get_config_var('LIBDIR'))") == str(
        numpy_env / "lib"
    )


_BYTECODE_CHECK = """
import importlib.util, json, pathlib, sysconfig
found = {}
for module in ("json", "sysconfig", "email.parser", sysconfig._get_sysconfigdata_name()):
    source = pathlib.Path(importlib.util.find_spec(module).origin)
    cached = pathlib.Path(importlib.util.cache_from_source(str(source)))
    data = cached.read_bytes() if cached.is_file() else b""
    found[module] = {
        "flags": int.from_bytes(data[4:8], "little") if data else None,
        "hash_ok": data[8:16] == importlib.util.source_hash(source.read_bytes()),
    }
print(json.dumps(found))
"""


@pytest.mark.slow
def test_the_stdlib_ships_its_bytecode(numpy_env: Path) -> None:
    """Compiled at build time (checked-hash: valid whatever the files' times), so a new
    environment's first imports (uv's interpreter query among them) compile nothing."""
    found = json.loads(python(numpy_env, _BYTECODE_CHECK))
    assert found and all(entry == {"flags": 3, "hash_ok": True} for entry in found.values()), found
    stdlib = numpy_env / "lib" / f"python{PY}"
    before = {p: p.stat().st_mtime_ns for p in stdlib.rglob("*.pyc")}
    assert not [p for p in before if ".opt-" in p.name]  # -O bytecode is not shipped
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    _process.run(
        [numpy_env / "bin" / "python", "-c", "import json, sysconfig, email.parser, argparse, asyncio"],
        what="the env's python imports",
        env=env,
        inherit_env=False,
    )
    assert {p: p.stat().st_mtime_ns for p in stdlib.rglob("*.pyc")} == before  # nothing (re)written


@pytest.mark.slow
def test_uv_sees_conda_numpy(numpy_env: Path) -> None:
    listed = _process.run(
        [uv.find_uv_bin(), "pip", "list", "--python", numpy_env / "bin" / "python", "--format", "json"],
        what="uv lists the env",
    )
    versions = {row["name"]: row["version"] for row in json.loads(listed.stdout)}
    assert versions["numpy"].startswith("2.") and versions["six"] == "1.16.0"


@pytest.mark.slow
def test_console_scripts_run(numpy_env: Path, conda_channel: Path, pkgs_dir: Path, tmp_path: Path) -> None:
    assert _process.run([numpy_env / "bin" / "f2py", "-v"], what="f2py").stdout.strip().startswith("2.")
    wheel = write_wheel(
        tmp_path,
        "greet",
        "0.1",
        modules={"greet": "def main():\n    print('hello from greet')\n"},
        entry_points="[console_scripts]\ngreet = greet:main\n",
    )
    extra = tmp_path / "extra"
    channel_from_wheels([wheel], extra)
    prefix = install(solve([conda_channel, extra], ["python", "greet"]), tmp_path / "env", pkgs_dir)
    assert _process.run([prefix / "bin" / "greet"], what="greet").stdout == "hello from greet\n"
    assert (prefix / SITE / "greet" / "__init__.py").is_file()


# --- the simple-API client --------------------------------------------------------------------


@pytest.fixture
def simple_index() -> Iterator[IndexFactory]:
    with serve_index() as factory:
        yield factory


def test_fetch_wheel_picks_newest_compatible(tmp_path: Path, simple_index: IndexFactory) -> None:
    names = {
        "demo-1.0-py3-none-any.whl": b"one",
        "demo-2.0-cp311-cp311-manylinux_2_17_x86_64.whl": b"two-linux",
        "demo-2.0-py3-none-any.whl": b"two-pure",
        "demo-3.0-py3-none-any.whl": b"three-yanked",
        "demo-4.0-py3-none-any.whl": b"four-needs-py4",
        "demo-2.5-cp311-cp311-win_amd64.whl": b"windows",
    }
    page = [index_entry(n, d) for n, d in names.items()]
    page[3]["yanked"] = "broken"
    page[4]["requires-python"] = ">=4"
    index = simple_index({"demo": page}, names)
    fetch = functools.partial(fetch_wheel, python_version=(3, 11), subdir="linux-64", index_url=index.url)
    got = fetch("Demo", "", tmp_path)
    assert got.name == "demo-2.0-cp311-cp311-manylinux_2_17_x86_64.whl" and got.read_bytes() == b"two-linux"
    assert fetch("demo", "<2", tmp_path).name == "demo-1.0-py3-none-any.whl"
    assert index.downloads == 2
    fetch("demo", "", tmp_path)
    assert index.downloads == 2, "a file with the right hash is reused"
    got.write_bytes(b"damaged")
    assert fetch("demo", "", tmp_path).read_bytes() == b"two-linux"
    assert index.downloads == 3, "a file with another hash is downloaded again"
    with pytest.raises(UserError, match="no wheel of demo >=5"):
        fetch("demo", ">=5", tmp_path)


def test_fetch_wheel_refuses_a_wrong_hash(tmp_path: Path, simple_index: IndexFactory) -> None:
    page = [index_entry("demo-1.0-py3-none-any.whl", b"expected")]
    index = simple_index({"demo": page}, {"demo-1.0-py3-none-any.whl": b"tampered"})
    with pytest.raises(CondauvError, match="sha256 mismatch"):
        fetch_wheel("demo", "", tmp_path, python_version=(3, 11), subdir="linux-64", index_url=index.url)
    assert list(tmp_path.iterdir()) == []


def test_fetch_wheel_unknown_project(tmp_path: Path, simple_index: IndexFactory) -> None:
    index = simple_index({}, {})
    with pytest.raises(UserError, match="no such project"):
        fetch_wheel("nothing", "", tmp_path, python_version=(3, 11), subdir="linux-64", index_url=index.url)


# --- the demo channel -------------------------------------------------------------------------


@pytest.mark.slow
def test_demo_channel_is_built_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDAUV_CACHE_DIR", str(tmp_path / "cache"))
    wheels = tmp_path / "cache" / "wheels"
    wheels.mkdir(parents=True)
    shutil.copy(numpy_wheel(), wheels)  # no network: the cached wheel is used
    builds: list[str] = []
    channel = demo_channel(on_build=lambda: builds.append("built"))
    assert builds == ["built"]
    assert channel.parent == tmp_path / "cache" / "channels"
    names = {r.name.normalized for r in solve([channel], ["python", "numpy"])}
    assert names == {"python", "numpy"}
    mtime = (channel / current_subdir() / "repodata.json").stat().st_mtime_ns
    assert demo_channel(on_build=lambda: builds.append("again")) == channel
    assert builds == ["built"]  # cached: not built, and not announced as built
    assert (channel / current_subdir() / "repodata.json").stat().st_mtime_ns == mtime
    assert not [p for p in channel.parent.iterdir() if p.name.startswith(".")]
    assert not (channel / ".tmp").exists()
    assert channel.stat().st_mode & 0o777 == 0o755
