"""What else real conda 26.7.1 leaves in a prefix, as a user meets it with check, list, doctor, adopt.

conda records more than the fixture's six shows (its source: conda's ``core/path_actions.py``):
the ``.pyc`` files it compiles for a ``noarch: python`` package (``path_type: pyc_file``, a prefix
path, no hash: Python rewrites them), entry points (``unix_python_entry_point``, a prefix path,
only the size), ``python-scripts/`` files (package paths, linked to ``bin/``), softlinks,
``no_link`` copies, and binary packages whose Python metadata is a bare ``*.egg-info`` file with
no INSTALLER. ``conda-meta/pinned`` holds the user's pins. Real conda cannot be installed here:
the interpreter is linked by py-rattler, its record rewritten to conda's shape, and the other
packages are linked and recorded the way conda links and records them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import py_compile
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from condauv.conda import engine
from condauv.platforms import current_subdir, python_site_packages
from tests.clirunner import CLI

pytestmark = pytest.mark.slow

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
SITE = python_site_packages(PYTHON)
PKGS = "/opt/conda/pkgs"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _conda_fields(fn: str, requested: str | None) -> dict[str, Any]:
    """What conda adds to every record it writes (``CreatePrefixRecordAction``)."""
    stem = fn.removesuffix(".conda")
    return {
        "fn": fn,
        "requested_spec": requested or "None",
        "requested_specs": [requested] if requested else [],
        "package_tarball_full_path": f"{PKGS}/{fn}",
        "extracted_package_dir": f"{PKGS}/{stem}",
        "link": {"source": f"{PKGS}/{stem}", "type": 1},
    }


def _python_prefix(prefix: Path, channel: Path) -> Path:
    """The interpreter, linked by py-rattler, its record then in conda's shape."""
    subdir = current_subdir()
    records = engine.solve([channel.as_uri()], [f"python {PYTHON}.*"], subdir)
    engine.install([engine.record_to_package(r, subdir) for r in records], prefix, requested=["python"])
    for path in (prefix / "conda-meta").glob("*.json"):
        raw = json.loads(path.read_text(encoding="utf-8"))
        raw.update(_conda_fields(raw["url"].rsplit("/", 1)[-1], f"python={PYTHON}"))
        for entry in raw["paths_data"]["paths"]:
            if entry.get("path_type", "hardlink") == "hardlink":
                entry.setdefault("sha256_in_prefix", entry["sha256"])
        path.write_text(json.dumps(raw, indent=2), encoding="utf-8")
    return prefix


def _dist_info(name: str, version: str, extra: Mapping[str, bytes] = ()) -> dict[str, bytes]:  # type: ignore[assignment]
    folder = f"site-packages/{name}-{version}.dist-info"
    files = {
        f"{folder}/INSTALLER": b"conda\n",
        f"{folder}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        **dict(extra),
    }
    files[f"{folder}/RECORD"] = "".join(f"{p.removeprefix('site-packages/')},,\n" for p in files).encode()
    return files


def _conda_links_noarch(
    prefix: Path,
    name: str,
    version: str,
    files: Mapping[str, bytes],
    *,
    entry_points: Sequence[str] = (),
    requested: str | None = None,
) -> dict[str, Any]:
    """Link and record a ``noarch: python`` package as conda 26.7.1 does: package paths in
    ``paths_data``, then its ``.pyc`` files (compiled, ``pyc_file``), then its entry points."""
    fn = f"{name}-{version}-pyhd8ed1ab_0.conda"
    listed: list[str] = []
    paths: list[dict[str, Any]] = []
    for package_path, data in files.items():
        head, _, rest = package_path.partition("/")
        target = f"{SITE}/{rest}" if head == "site-packages" else f"bin/{rest}"
        (prefix / target).parent.mkdir(parents=True, exist_ok=True)
        (prefix / target).write_bytes(data)
        listed.append(target)
        digest = _sha(data)
        paths.append(
            {
                "_path": package_path,
                "path_type": "hardlink",
                "sha256": digest,
                "size_in_bytes": len(data),
                "sha256_in_prefix": digest,
            }
        )
    for target in [t for t in listed if t.startswith(SITE) and t.endswith(".py")]:
        pyc = importlib.util.cache_from_source(target)
        py_compile.compile(str(prefix / target), cfile=str(prefix / pyc), doraise=True)
        listed.append(pyc)
        paths.append({"_path": pyc, "path_type": "pyc_file"})
    for entry_point in entry_points:
        command, _, target = entry_point.partition(" = ")
        module, _, func = target.partition(":")
        script = (
            f"#!{prefix}/bin/python{PYTHON}\nimport sys\nfrom {module} import {func}\nsys.exit({func}())\n"
        )
        (prefix / "bin" / command).write_text(script, encoding="utf-8")
        (prefix / "bin" / command).chmod(0o755)
        listed.append(f"bin/{command}")
        paths.append(
            {"_path": f"bin/{command}", "path_type": "unix_python_entry_point", "size_in_bytes": len(script)}
        )
    raw = {
        "name": name,
        "version": version,
        "build": "pyhd8ed1ab_0",
        "build_number": 0,
        "channel": "https://conda.anaconda.org/conda-forge/noarch",
        "subdir": "noarch",
        "url": f"https://conda.anaconda.org/conda-forge/noarch/{fn}",
        "md5": "0" * 32,
        "sha256": _sha(fn.encode()),
        "depends": ["python >=3.9"],
        "constrains": [],
        "noarch": "python",
        "package_type": "noarch_python",
        "size": 1000,
        "files": listed,
        "paths_data": {"paths_version": 1, "paths": paths},
        **_conda_fields(fn, requested),
    }
    (prefix / "conda-meta" / f"{fn.removesuffix('.conda')}.json").write_text(json.dumps(raw, indent=2))
    return raw


def _conda_links_binary(prefix: Path, depends: Sequence[str] = ()) -> dict[str, Any]:
    """``libfoo``: a library, its softlink, and Python bindings whose metadata is a bare
    ``*.egg-info`` file (no INSTALLER), as older conda-forge builds ship them."""
    library, module = b"\x7fELF stand-in\n", b"X = 1\n"
    egg = b"Metadata-Version: 1.1\nName: pyfoo\nVersion: 0.5\n"
    egg_path = f"{SITE}/pyfoo-0.5-py{PYTHON}.egg-info"
    (prefix / "lib").mkdir(exist_ok=True)
    (prefix / "lib" / "libfoo.so.1").write_bytes(library)
    (prefix / "lib" / "libfoo.so").symlink_to("libfoo.so.1")
    (prefix / egg_path).write_bytes(egg)
    (prefix / SITE / "pyfoo.py").write_bytes(module)
    fn = "libfoo-0.5-h123_0.conda"

    def hardlink(path: str, data: bytes) -> dict[str, Any]:
        digest = _sha(data)
        return {
            "_path": path,
            "path_type": "hardlink",
            "sha256": digest,
            "size_in_bytes": len(data),
            "sha256_in_prefix": digest,
        }

    raw = {
        "name": "libfoo",
        "version": "0.5",
        "build": "h123_0",
        "build_number": 0,
        "channel": "https://conda.anaconda.org/conda-forge/linux-64",
        "subdir": current_subdir(),
        "url": f"https://conda.anaconda.org/conda-forge/{current_subdir()}/{fn}",
        "md5": "1" * 32,
        "sha256": _sha(fn.encode()),
        "depends": [f"python {PYTHON}.*", *depends],
        "constrains": [],
        "size": 99,
        "files": ["lib/libfoo.so", "lib/libfoo.so.1", egg_path, f"{SITE}/pyfoo.py"],
        "paths_data": {
            "paths_version": 1,
            "paths": [
                {
                    "_path": "lib/libfoo.so",
                    "path_type": "softlink",
                    "sha256": _sha(library),
                    "size_in_bytes": 14,
                },
                hardlink("lib/libfoo.so.1", library),
                hardlink(egg_path, egg),
                hardlink(f"{SITE}/pyfoo.py", module),
            ],
        },
        **_conda_fields(fn, None),
    }
    (prefix / "conda-meta" / "libfoo-0.5-h123_0.json").write_text(json.dumps(raw, indent=2))
    return raw


@pytest.fixture
def conda_env(tmp_path: Path, conda_channel: Path) -> Path:
    prefix = _python_prefix(tmp_path / "env", conda_channel)
    _conda_links_noarch(
        prefix,
        "mytool",
        "3.1",
        {
            **_dist_info("mytool", "3.1"),
            "site-packages/mytool/__init__.py": b"def main():\n    return 0\n",
            "python-scripts/mytool-helper": b"#!/bin/sh\necho helper\n",
        },
        entry_points=["mytool = mytool:main"],
        requested="mytool >=3",
    )
    _conda_links_binary(prefix)
    return prefix


def _check(cli: CLI, prefix: Path) -> tuple[int, dict[str, Any]]:
    result = cli("check", "--prefix", prefix, "--json", cwd=prefix.parent)
    assert result.exit_code in (0, 1), result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return result.exit_code, report


def test_a_conda_made_prefix_is_clean_and_its_damage_found(cli: CLI, conda_env: Path) -> None:
    code, report = _check(cli, conda_env)
    assert (code, report["findings"]) == (0, [])
    assert report["pypi_distributions"] == 0  # pyfoo's egg-info is libfoo's, though it has no INSTALLER
    helper, entry_point = conda_env / "bin" / "mytool-helper", conda_env / "bin" / "mytool"
    helper.write_text("#!/bin/sh\necho altered\n")
    entry_point.unlink()
    (conda_env / "lib" / "libfoo.so").unlink()
    _, report = _check(cli, conda_env)
    assert sorted((f["packages"][0], sorted(f["files"])) for f in report["findings"]) == [
        ("libfoo", ["lib/libfoo.so"]),
        ("mytool", ["bin/mytool", "bin/mytool-helper"]),
    ]


def test_a_missing_pyc_is_no_damage(cli: CLI, conda_env: Path) -> None:
    """conda records the .pyc files it compiled, but Python writes them again when they are
    gone (or stale): ``conda doctor`` leaves ``.pyc`` out of its missing-files check too."""
    pyc = conda_env / importlib.util.cache_from_source(f"{SITE}/mytool/__init__.py")
    assert pyc.is_file()
    pyc.unlink()
    code, report = _check(cli, conda_env)
    assert (code, report["findings"]) == (0, [])


def test_list_shows_a_conda_package_s_egg_info_as_conda(cli: CLI, conda_env: Path) -> None:
    result = cli("list", "--prefix", conda_env, "--json", cwd=conda_env.parent)
    assert result.exit_code == 0, result.stderr
    rows = {row["name"]: row["manager"] for row in json.loads(result.stdout)["packages"]}
    assert rows == {"python": "conda", "mytool": "conda", "libfoo": "conda"}


def test_doctor_reads_a_record_s_cuda_dependency(
    cli: CLI, tmp_path: Path, conda_channel: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A conda-forge CUDA build says so in its ``depends`` (``__cuda``), not in its name."""
    prefix = _python_prefix(tmp_path / "env", conda_channel)
    _conda_links_binary(prefix, depends=["__cuda >=12"])

    def cuda_section() -> tuple[int, dict[str, Any]]:
        result = cli("doctor", "--prefix", prefix, "--json", "--skip", "pyfoo", cwd=tmp_path)
        section: dict[str, Any] = json.loads(result.stdout)["sections"]["cuda"]
        return result.exit_code, section

    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "")
    code, section = cuda_section()
    assert code == 1 and section["status"] == "fail"
    assert section["data"]["required_by"] == ["libfoo 0.5 (h123_0): __cuda >=12"]
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "11.8")
    code, section = cuda_section()
    assert code == 1 and section["status"] == "fail"
    assert [f["message"] for f in section["findings"]] == [
        "libfoo 0.5 (h123_0) needs CUDA 12.0, the driver supports only 11.8"
    ]
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")
    code, section = cuda_section()
    assert (code, section["status"]) == (0, "ok")


def test_adopt_says_what_it_does_with_conda_s_pins(cli: CLI, conda_env: Path, tmp_path: Path) -> None:
    (conda_env / "conda-meta" / "pinned").write_text(f"python {PYTHON}.*\nlibfoo 0.5.*\n# a comment\n")
    project = tmp_path / "proj"
    project.mkdir()
    result = cli("adopt", conda_env, "--no-index", "--json", cwd=project)
    assert result.exit_code == 0, result.stderr
    notes = [n for n in json.loads(result.stdout)["notes"] if n["kind"] == "pinned"]
    assert [n["package"] for n in notes] == ["python", "libfoo"]
    assert f"'python {PYTHON}.*'" in notes[0]["message"]
