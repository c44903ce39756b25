"""check's logic on prefixes written on disk: real conda-meta JSON, real dist-info folders."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from condauv.errors import UserError
from condauv.health.check import check_prefix, inspect_prefix
from condauv.health.dists import record_digest, unmet_requirement
from condauv.lock.model import CondaPackage, Lock, PypiPackage
from condauv.platforms import current_subdir, marker_environment
from tests.clirunner import CLI

SITE = "lib/python3.11/site-packages"


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDAUV_CACHE_DIR", str(tmp_path / "cache"))


def conda(
    prefix: Path,
    name: str,
    version: str,
    files: dict[str, bytes],
    *,
    depends: tuple[str, ...] = (),
    in_prefix: dict[str, bytes] | None = None,
) -> None:
    """Link a conda package the way rattler does: files, and a record with their sha256.

    ``in_prefix`` holds files whose content was rewritten at link time (prefix replaced): their
    record keeps the package's sha256 and adds ``sha256_in_prefix``.
    """
    paths = []
    for relative, data in files.items():
        target = prefix / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        entry: dict[str, object] = {"_path": relative, "path_type": "hardlink", "size_in_bytes": len(data)}
        entry["sha256"] = hashlib.sha256(data).hexdigest()
        if in_prefix and relative in in_prefix:
            target.write_bytes(in_prefix[relative])
            entry["sha256_in_prefix"] = hashlib.sha256(in_prefix[relative]).hexdigest()
        else:
            target.write_bytes(data)
        paths.append(entry)
    record = {
        "name": name,
        "version": version,
        "build": "h_0",
        "build_number": 0,
        "subdir": current_subdir(),
        "depends": list(depends),
        "files": list(files),
        "paths_data": {"paths_version": 1, "paths": paths},
    }
    (prefix / "conda-meta").mkdir(parents=True, exist_ok=True)
    (prefix / "conda-meta" / f"{name}-{version}-h_0.json").write_text(json.dumps(record))


def conda_dist(name: str, version: str, requires: tuple[str, ...] = ()) -> dict[str, bytes]:
    dist = f"{SITE}/{name}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires) + "\nA long description.\n"
    return {
        f"{SITE}/{name}/__init__.py": f'__version__ = "{version}"\n'.encode(),
        f"{dist}/METADATA": metadata.encode(),
        f"{dist}/INSTALLER": b"conda\n",
    }


def pypi(
    site: Path, name: str, version: str, *, installer: str = "uv", requires: tuple[str, ...] = ()
) -> Path:
    """Install a distribution the way uv does: files, then a dist-info with INSTALLER and RECORD."""
    module = site / name.replace("-", "_") / "__init__.py"
    module.parent.mkdir(parents=True, exist_ok=True)
    data = f'__version__ = "{version}"\n'.encode()
    module.write_bytes(data)
    dist = site / f"{name.replace('-', '_')}-{version}.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        + "".join(f"Requires-Dist: {r}\n" for r in requires)
    )
    (dist / "INSTALLER").write_text(f"{installer}\n")
    digest = record_digest(hashlib.sha256(data).digest())
    (dist / "RECORD").write_text(
        f"{module.parent.name}/__init__.py,sha256={digest},{len(data)}\n{dist.name}/RECORD,,\n{dist.name}/INSTALLER,,\n"
    )
    return dist


@pytest.fixture
def prefix(tmp_path: Path) -> Path:
    """A clean environment: python, numpy from conda, requests from PyPI."""
    root = tmp_path / "env"
    conda(root, "python", "3.11.7", {"bin/python3.11": b"\x7fELF python\n"})
    conda(
        root,
        "numpy",
        "2.3.4",
        conda_dist("numpy", "2.3.4"),
        depends=("python >=3.11,<3.12.0a0", "libzero >=1"),
    )
    conda(root, "libzero", "1.5", {"lib/libzero.so": b"\x7fELF zero\n"})
    pypi(root / SITE, "requests", "2.32.3", requires=("numpy>=2", 'colorama; sys_platform == "win32"'))
    return root


def kinds(prefix: Path, lock: Lock | None = None) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for finding in check_prefix(prefix, lock=lock).findings:
        for package in finding.packages:
            found.setdefault(package, set()).add(finding.kind)
    return found


def test_clean_prefix(prefix: Path) -> None:
    report = check_prefix(prefix)
    assert report.clean, [f.message for f in report.findings]
    assert (report.conda_packages, report.pypi_distributions) == (3, 1)
    data = report.to_dict()
    assert data["schema"] == 1 and data["clean"] is True and data["findings"] == []
    assert check_prefix(prefix).clean  # again, from the cache of verified files


def test_edited_and_deleted_conda_files(prefix: Path) -> None:
    check_prefix(prefix)  # the verified-file cache must not hide later edits
    (prefix / SITE / "numpy" / "__init__.py").write_text('__version__ = "2.3.5"\n')  # same size
    (prefix / "lib" / "libzero.so").unlink()
    findings = {f.packages[0]: f for f in check_prefix(prefix).findings}
    assert findings["numpy"].kind == "clobbered"
    assert findings["numpy"].files == (f"{SITE}/numpy/__init__.py",)
    assert "1 changed" in findings["numpy"].message
    assert findings["libzero"].files == ("lib/libzero.so",)
    assert "1 missing" in findings["libzero"].message
    _, repairs = inspect_prefix(prefix)
    assert repairs.relink == {"numpy", "libzero"}


def test_sha256_in_prefix_wins_over_sha256(tmp_path: Path) -> None:
    root = tmp_path / "env"
    conda(
        root,
        "tool",
        "1.0",
        {"etc/tool.conf": b"prefix=/placeholder\n"},
        in_prefix={"etc/tool.conf": b"p=/x\n"},
    )
    assert check_prefix(root).clean
    (root / "etc" / "tool.conf").write_bytes(b"prefix=/placeholder\n")  # the package's bytes: wrong here
    assert kinds(root) == {"tool": {"clobbered"}}


def test_altered_pypi_file_against_record(prefix: Path) -> None:
    (prefix / SITE / "requests" / "__init__.py").write_text("# patched by hand\n")
    assert kinds(prefix)["requests"] == {"clobbered"}


def test_pip_over_conda_numpy(prefix: Path) -> None:
    """pip --ignore-installed (or uv over a RECORD-less conda numpy) leaves two dist-infos."""
    stray = pypi(prefix / SITE, "numpy", "1.26.4", installer="pip")
    found = kinds(prefix)
    assert {"overlap", "installer-mismatch", "duplicate", "clobbered"} <= found["numpy"]
    _, repairs = inspect_prefix(prefix, verify_files=False)
    assert repairs.relink == {"numpy"}
    assert list(repairs.strays) == [stray]
    # requests needs numpy>=2: one of the installed copies still satisfies it
    assert "broken-dependency" not in found.get("requests", set())


def test_installer_changed_in_place(prefix: Path) -> None:
    (prefix / SITE / "numpy-2.3.4.dist-info" / "INSTALLER").write_text("uv\n")
    found = kinds(prefix)
    assert {"installer-mismatch", "overlap", "clobbered"} <= found["numpy"]


def test_duplicate_pypi_distributions(prefix: Path) -> None:
    other = prefix / SITE / "requests-2.31.0.dist-info"
    other.mkdir()
    (other / "INSTALLER").write_text("pip\n")
    report = check_prefix(prefix)
    duplicate = next(f for f in report.findings if f.kind == "duplicate")
    assert duplicate.packages == ("requests",)
    assert len(duplicate.files) == 2


def test_broken_dependencies_in_both_worlds(prefix: Path) -> None:
    for path in (prefix / "conda-meta").glob("libzero-*.json"):
        path.unlink()
    pypi(prefix / SITE, "needs-new-numpy", "1.0", requires=("numpy>=3", 'pywin32; sys_platform == "win32"'))
    messages = [f.message for f in check_prefix(prefix).findings if f.kind == "broken-dependency"]
    assert any("depends on 'libzero >=1', but libzero is not installed" in m for m in messages)
    assert any("needs-new-numpy 1.0 requires numpy>=3 is not met by numpy 2.3.4" in m for m in messages)
    assert not any("pywin32" in m or "colorama" in m for m in messages)


def test_conda_depends_version_mismatch(prefix: Path) -> None:
    conda(prefix, "scipy", "1.0", {"lib/scipy.txt": b"x\n"}, depends=("libzero >=2",))
    messages = [f.message for f in check_prefix(prefix).findings if f.kind == "broken-dependency"]
    assert messages == [
        "conda package scipy 1.0 (h_0) depends on 'libzero >=2', but libzero 1.5 (h_0) is installed"
    ]


def test_drift_from_the_lock(prefix: Path) -> None:
    platform = current_subdir()
    sha = "0" * 64

    def package(name: str, version: str) -> CondaPackage:
        return CondaPackage(
            platform=platform, name=name, version=version, build="h_0", build_number=0, subdir=platform,
            channel="c", url=f"file:///c/{name}.conda", sha256=sha,
        )  # fmt: skip

    lock = Lock(
        content_hash="x",
        channels=("c",),
        platforms=(platform,),
        conda=(package("python", "3.11.7"), package("numpy", "2.3.5"), package("six", "1.0")),
        pypi=(
            PypiPackage(
                platform=platform, name="requests", version="2.32.3", url="file:///r.whl", sha256=sha
            ),
        ),
    )
    drift = [f.message for f in check_prefix(prefix, lock=lock).findings if f.kind == "drift"]
    assert drift == [
        "conda package libzero 1.5 (h_0) is installed but not in condauv.lock",
        "conda package numpy: condauv.lock has 2.3.5 (h_0), the prefix has 2.3.4 (h_0)",
        "conda package six 1.0 (h_0) is in condauv.lock but not installed",
    ]


def test_markers_evaluated_for_the_prefix_python() -> None:
    from packaging.requirements import Requirement

    env = marker_environment("3.10.4", "linux-64")
    assert (env["python_version"], env["sys_platform"], env["platform_machine"]) == (
        "3.10",
        "linux",
        "x86_64",
    )
    versions = {"tomli": ["2.0"]}
    assert unmet_requirement(Requirement('tomli>=1; python_version < "3.11"'), env, versions) is None
    assert unmet_requirement(Requirement('exceptiongroup; python_version < "3.11"'), env, versions)
    assert unmet_requirement(Requirement('exceptiongroup; python_version < "3.10"'), env, versions) is None
    assert unmet_requirement(Requirement("x[extra]; extra == 'extra'"), env, versions) is None


def test_bad_prefixes(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no environment at"):
        check_prefix(tmp_path / "missing")
    with pytest.raises(UserError, match="not a conda prefix"):
        check_prefix(tmp_path)
    (tmp_path / "conda-meta").mkdir()
    (tmp_path / "conda-meta" / "broken-1-0.json").write_text("{")
    with pytest.raises(UserError, match="not a readable conda record"):
        check_prefix(tmp_path)


def test_cli_exit_codes(cli: CLI, prefix: Path, tmp_path: Path) -> None:
    clean = cli("check", "--prefix", prefix, cwd=tmp_path)
    assert clean.exit_code == 0, clean.stderr
    (prefix / SITE / "requests" / "__init__.py").unlink()
    found = cli("check", "--prefix", prefix, "--json", cwd=tmp_path)
    assert found.exit_code == 1
    data = json.loads(found.stdout)
    assert data["schema"] == 1
    assert data["findings"][0]["kind"] == "clobbered"
    assert set(data["findings"][0]) == {"kind", "packages", "files", "message", "fix"}
    bad = cli("check", "--prefix", tmp_path / "nope", cwd=tmp_path)
    assert bad.exit_code == 2
    assert bad.stderr.startswith("error: ") and "\nhint: " in bad.stderr


def test_removing_a_stray_empties_nested_folders_once(tmp_path: Path) -> None:
    """Regression: a stray numpy 1.26 over conda's 2.x left nested folders that emptied twice."""
    from condauv.sync.removal import remove_distribution

    site = tmp_path / SITE
    files = ["pkg/core/include/pkg/a.h", "pkg/core/b.py", "pkg/c.py", "pkg/kept.py"]
    for name in files:
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text("x")
    folder = site / "pkg-1.0.dist-info"
    folder.mkdir()
    (folder / "RECORD").write_text("".join(f"{n},,\n" for n in files) + "pkg-1.0.dist-info/RECORD,,\n")
    remove_distribution(tmp_path, folder, keep={f"{SITE}/pkg/kept.py"})
    assert sorted(p.relative_to(site).as_posix() for p in site.rglob("*")) == ["pkg", "pkg/kept.py"]


@pytest.mark.parametrize("kind", ["fifo", "link-to-a-device", "link-out-of-the-prefix"])
def test_a_recorded_file_that_is_no_longer_a_regular_file_is_changed_never_read(
    tmp_path: Path, kind: str
) -> None:
    """A prefix is untrusted: check must not open a FIFO (it would block), a device (it would
    read forever) or a file outside the prefix in place of a recorded file."""
    import os

    prefix = tmp_path / "env"
    conda(prefix, "python", "3.11.7", {"bin/python3.11": b"x" * 2000, "lib/data.bin": b"d" * 10})
    target = prefix / "lib" / "data.bin"
    target.unlink()
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "link-to-a-device":
        target.symlink_to("/dev/zero")
    else:
        outside = tmp_path / "outside.bin"
        outside.write_bytes(b"d" * 10)  # the recorded content: it must not make the file "ok"
        target.symlink_to(outside)
    report = check_prefix(prefix)
    assert [f.kind for f in report.findings] == ["clobbered"]
    assert report.findings[0].files == ("lib/data.bin",)
