"""``[system-requirements]``: lock for the machines you deploy to, not the one you lock on.

A CPU-only machine locks a package that needs ``__cuda >=12`` when the manifest says
``cuda = "12.4"``; ``sync`` then refuses on that machine (nothing written) unless
``CONDA_OVERRIDE_CUDA`` says it has one. Real rattler and uv, local channels only.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import tomlkit

from condauv.channel.build import build_package
from condauv.channel.local import index_local_channel
from condauv.platforms import current_subdir
from tests.clirunner import CLI
from tests.helpers.wheels import write_wheel
from tests.integration.conftest import MakeProject

pytestmark = pytest.mark.slow

ENV = Path(".condauv") / "env"
HERE = current_subdir()


@pytest.fixture(scope="module")
def gpu_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A channel of one package, ``gpu-thing``, that needs a CUDA 12 driver (``__cuda >=12``)."""
    folder = tmp_path_factory.mktemp("gpu-channel")
    build_package(
        name="gpu-thing",
        version="1.0",
        output_dir=folder,
        files={"share/gpu-thing/VERSION": b"1.0\n"},
        depends=["__cuda >=12"],
        noarch="generic",
    )
    build_package(  # conda-forge's pin of the CUDA line
        name="cuda-version",
        version="12.4",
        output_dir=folder,
        files={"share/cuda-version/VERSION": b"12.4\n"},
        noarch="generic",
    )
    index_local_channel(folder)
    return folder


@pytest.fixture(autouse=True)
def _no_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine, as the tests see it, has no CUDA driver (whatever it really has)."""
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "")


def _project(
    make_project: MakeProject,
    gpu_channel: Path,
    *,
    system: Mapping[str, str] | None = None,
    platforms: tuple[str, ...] = (HERE,),
    conda: Mapping[str, str] | None = None,
    pypi: Mapping[str, str] | None = None,
    find_links: tuple[Path, ...] = (),
    torch_backend: str | None = None,
) -> Path:
    folder = make_project()
    path = folder / "condauv.toml"
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    env: Any = doc["environment"]
    env["channels"] = [*env["channels"], gpu_channel.as_uri()]
    env["platforms"] = list(platforms)
    doc["conda-dependencies"] = dict(conda or {})
    doc["pypi-dependencies"] = dict(pypi or {})
    options: Any = doc["pypi-options"]
    options["find-links"] = [*options["find-links"], *map(str, find_links)]
    if torch_backend:
        options["torch-backend"] = torch_backend
    if system:
        doc["system-requirements"] = dict(system)
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")
    return folder


def _locked(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = tomlkit.parse((folder / "condauv.lock").read_text(encoding="utf-8")).unwrap()
    return data


def test_a_cuda_package_does_not_lock_for_a_machine_without_cuda(
    cli: CLI, make_project: MakeProject, gpu_channel: Path
) -> None:
    folder = _project(make_project, gpu_channel, conda={"gpu-thing": "*"})
    result = cli("lock", cwd=folder)
    assert result.exit_code == 2, result.stderr
    assert "gpu-thing 1.0 requires __cuda >=12" in result.stderr
    assert 'set cuda = "<version>" in [system-requirements]' in result.stderr  # the way out
    assert not (folder / "condauv.lock").exists()


def test_a_cpu_machine_locks_for_cuda_and_sync_refuses_until_overridden(
    cli: CLI, make_project: MakeProject, gpu_channel: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _project(make_project, gpu_channel, system={"cuda": "12.4"}, conda={"gpu-thing": "*"})
    result = cli("lock", cwd=folder)
    assert result.exit_code == 0, result.stderr
    lock = _locked(folder)
    assert lock["environment"]["system-requirements"] == {"cuda": "12.4"}
    assert 'system-requirements = {cuda = "12.4"}' in (folder / "condauv.lock").read_text()
    assert "gpu-thing" in {p["name"] for p in lock["conda"]}
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    lock_text = (folder / "condauv.lock").read_bytes()

    result = cli("sync", cwd=folder)
    assert result.exit_code == 2, result.stderr
    assert (
        "error: this machine has no CUDA driver; the lock targets cuda 12.4; "
        "set CONDA_OVERRIDE_CUDA to install anyway"
    ) in result.stderr
    assert "hint:" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before  # nothing written
    assert (folder / "condauv.lock").read_bytes() == lock_text

    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "11.8")  # an older driver, said by the override: named so
    result = cli("sync", "--frozen", cwd=folder)
    assert result.exit_code == 2, result.stderr
    assert "error: CONDA_OVERRIDE_CUDA=11.8 says this machine has cuda 11.8; the lock targets cuda 12.4" in (
        result.stderr
    )
    assert "set CONDA_OVERRIDE_CUDA to install anyway" not in result.stderr
    assert not (folder / ENV).exists()

    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")
    result = cli("sync", "--frozen", cwd=folder)
    assert result.exit_code == 0, result.stderr
    assert list((folder / ENV / "conda-meta").glob("gpu-thing-1.0-*.json"))


def test_a_lower_glibc_than_the_target_is_refused_by_sync(
    cli: CLI, make_project: MakeProject, gpu_channel: Path
) -> None:
    if not HERE.startswith("linux"):
        pytest.skip("glibc is a linux requirement")
    folder = _project(make_project, gpu_channel, system={"glibc": "2.99"})
    assert cli("lock", cwd=folder).exit_code == 0
    assert _locked(folder)["environment"]["system-requirements"] == {"glibc": "2.99"}
    result = cli("sync", cwd=folder)
    assert result.exit_code == 2, result.stderr
    assert "; the lock targets glibc 2.99; set CONDA_OVERRIDE_GLIBC to install anyway" in result.stderr
    assert "this machine has glibc " in result.stderr
    assert not (folder / ENV).exists()


def test_one_lock_for_linux_with_cuda_and_for_osx_where_cuda_does_not_apply(
    cli: CLI, make_project: MakeProject, gpu_channel: Path
) -> None:
    if HERE != "linux-64":
        pytest.skip("the session channel's stand-ins are for linux-64 and osx-arm64")
    folder = _project(make_project, gpu_channel, system={"cuda": "12.4"}, platforms=("linux-64", "osx-arm64"))
    result = cli("lock", cwd=folder)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("cuda does not apply to osx-arm64") == 1
    lock = _locked(folder)
    assert {p["platform"] for p in lock["conda"] if p["name"] == "python"} == {"linux-64", "osx-arm64"}
    assert lock["environment"]["system-requirements"] == {"cuda": "12.4"}

    # a package that needs CUDA cannot be locked for osx-arm64: named, with the platform
    doc = tomlkit.parse((folder / "condauv.toml").read_text(encoding="utf-8"))
    doc["conda-dependencies"] = {"gpu-thing": "*"}
    (folder / "condauv.toml").write_text(tomlkit.dumps(doc), encoding="utf-8")
    result = cli("lock", cwd=folder)
    assert result.exit_code == 2, result.stderr
    assert "osx-arm64" in result.stderr and "__cuda" in result.stderr


def test_the_wheel_platform_follows_glibc(
    cli: CLI, make_project: MakeProject, gpu_channel: Path, tmp_path: Path
) -> None:
    if HERE != "linux-64":
        pytest.skip("a manylinux x86_64 wheel")
    wheels = tmp_path / "new-glibc-wheels"
    write_wheel(wheels, "fastlib", "1.0", tag="py3-none-manylinux_2_34_x86_64")
    folder = _project(
        make_project, gpu_channel, system={"glibc": "2.28"}, pypi={"fastlib": "*"}, find_links=(wheels,)
    )
    result = cli("lock", cwd=folder)  # glibc 2.28 (manylinux_2_28) cannot run a 2_34 wheel
    assert result.exit_code == 2, result.stderr
    assert "fastlib" in result.stderr

    doc = tomlkit.parse((folder / "condauv.toml").read_text(encoding="utf-8"))
    doc["system-requirements"] = {"glibc": "2.35"}
    (folder / "condauv.toml").write_text(tomlkit.dumps(doc), encoding="utf-8")
    result = cli("lock", cwd=folder)
    assert result.exit_code == 0, result.stderr
    urls = [p["url"] for p in _locked(folder)["pypi"]]
    assert [u.rsplit("/", 1)[-1] for u in urls] == ["fastlib-1.0-py3-none-manylinux_2_34_x86_64.whl"]


def test_a_torch_backend_of_another_cuda_line_than_conda_is_refused_at_lock_time(
    cli: CLI, make_project: MakeProject, gpu_channel: Path
) -> None:
    folder = _project(
        make_project,
        gpu_channel,
        conda={"cuda-version": "12.4"},
        pypi={"six": "1.17.0"},
        torch_backend="cu118",
    )
    result = cli("lock", cwd=folder)
    assert result.exit_code == 2, result.stderr
    assert "two CUDA lines in one environment" in result.stderr
    assert "conda's cuda-version 12.4 (CUDA 12)" in result.stderr
    assert '[pypi-options] torch-backend = "cu118" (CUDA 11)' in result.stderr
    assert 'torch-backend = "cu124"' in result.stderr  # the way out
    assert not (folder / "condauv.lock").exists()

    doc = tomlkit.parse((folder / "condauv.toml").read_text(encoding="utf-8"))
    doc["pypi-options"]["torch-backend"] = "cu124"
    (folder / "condauv.toml").write_text(tomlkit.dumps(doc), encoding="utf-8")
    result = cli("lock", cwd=folder)  # uv resolves with --torch-backend cu124 (it would refuse a bad flag)
    assert result.exit_code == 0, result.stderr
    assert [p["name"] for p in _locked(folder)["pypi"]] == ["six"]


@pytest.mark.network
def test_the_torch_backend_sends_torch_to_pytorchs_index_for_that_cuda_line(
    cli: CLI, make_project: MakeProject, gpu_channel: Path
) -> None:
    """uv is asked for torch at PyTorch's cu126 index, not PyPI: where that index is reachable
    the lock holds its wheel (``+cu126``); where it is not (this build machine reaches PyPI only),
    the one error line names it and nothing is written."""
    folder = _project(
        make_project, gpu_channel, system={"cuda": "12.6"}, pypi={"torch": "==2.7.1"}, torch_backend="cu126"
    )
    doc = tomlkit.parse((folder / "condauv.toml").read_text(encoding="utf-8"))
    options: Any = doc["pypi-options"]
    options["no-index"] = False
    options["index-url"] = "https://pypi.org/simple"
    (folder / "condauv.toml").write_text(tomlkit.dumps(doc), encoding="utf-8")
    result = cli("lock", cwd=folder)
    if result.exit_code == 0:
        torch = next(p for p in _locked(folder)["pypi"] if p["name"] == "torch")
        assert torch["url"].startswith("https://download.pytorch.org/whl/cu126/"), torch
        assert torch["version"] == "2.7.1+cu126"
        return
    assert "https://download.pytorch.org/whl/cu126/torch/" in result.stderr, result.stderr
    assert result.stderr.count("error:") == 1 and "hint:" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (folder / "condauv.lock").exists()


def test_a_torch_backend_newer_than_the_target_driver_is_refused_at_lock_time(
    cli: CLI, make_project: MakeProject, gpu_channel: Path
) -> None:
    folder = _project(
        make_project, gpu_channel, system={"cuda": "11.8"}, pypi={"six": "1.17.0"}, torch_backend="cu126"
    )
    result = cli("lock", cwd=folder)
    assert result.exit_code == 2, result.stderr
    assert (
        'error: the target\'s CUDA driver ([system-requirements] cuda = "11.8") cannot run '
        '[pypi-options] torch-backend = "cu126" (CUDA 12)'
    ) in result.stderr
    assert "hint: raise cuda in [system-requirements]" in result.stderr
    assert not (folder / "condauv.lock").exists()


def test_a_package_that_needs_cuda_never_locks_for_macos_whatever_this_machine_overrides(
    cli: CLI, make_project: MakeProject, gpu_channel: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if HERE != "linux-64":
        pytest.skip("the session channel's stand-ins are for linux-64 and osx-arm64")
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")  # the locking machine's: not macOS's
    folder = _project(
        make_project,
        gpu_channel,
        system={"cuda": "12.4"},
        platforms=("linux-64", "osx-arm64"),
        conda={"gpu-thing": "*"},
    )
    result = cli("lock", cwd=folder)
    assert result.exit_code == 2, result.stderr
    assert "for osx-arm64" in result.stderr and "gpu-thing 1.0 requires __cuda >=12" in result.stderr
    assert "CONDA_OVERRIDE_CUDA" not in result.stderr and "set cuda" not in result.stderr  # no way out there
    assert "hint:" in result.stderr
    assert not (folder / "condauv.lock").exists()


def test_a_malformed_override_is_one_error_in_every_command(
    cli: CLI, make_project: MakeProject, gpu_channel: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _project(make_project, gpu_channel, system={"cuda": "12.4"})
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")
    assert cli("sync", cwd=folder).exit_code == 0
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", " 12.4")
    for command in (("lock", "--upgrade"), ("sync",), ("check",), ("doctor",), ("info",), ("pack",)):
        result = cli(*command, cwd=folder)
        assert result.exit_code == 2, (command, result.stderr)
        assert "error: CONDA_OVERRIDE_CUDA=' 12.4' is not a version" in result.stderr, command
        assert result.stderr.count("error:") == 1 and "hint:" in result.stderr, (command, result.stderr)
        assert "unexpected" not in result.stderr and "channels" not in result.stderr, (command, result.stderr)


def test_auto_torch_backend_is_refused_when_the_target_names_its_cuda(
    cli: CLI, make_project: MakeProject, gpu_channel: Path
) -> None:
    folder = _project(
        make_project, gpu_channel, system={"cuda": "12.4"}, pypi={"six": "1.17.0"}, torch_backend="auto"
    )
    result = cli("lock", cwd=folder)
    assert result.exit_code == 2, result.stderr
    assert '[pypi-options] torch-backend = "auto"' in result.stderr
    assert 'torch-backend = "cu124"' in result.stderr  # the way out: the backend of that line
    assert not (folder / "condauv.lock").exists()


def test_every_requirement_that_does_not_apply_to_a_platform_is_noted(
    cli: CLI, make_project: MakeProject, gpu_channel: Path
) -> None:
    if HERE != "linux-64":
        pytest.skip("the session channel's stand-ins are for linux-64 and osx-arm64")
    folder = _project(
        make_project,
        gpu_channel,
        system={"glibc": "2.28", "macos": "13.0"},
        platforms=("linux-64", "osx-arm64"),
    )
    result = cli("lock", cwd=folder)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("note: glibc does not apply to osx-arm64") == 1
    assert result.stderr.count("note: macos does not apply to linux-64") == 1
    assert "does not apply to linux-64; locked without __glibc" not in result.stderr


def test_a_lock_without_this_platform_says_to_add_it(
    cli: CLI, make_project: MakeProject, gpu_channel: Path
) -> None:
    if HERE != "linux-64":
        pytest.skip("the session channel's stand-ins are for linux-64 and osx-arm64")
    folder = _project(make_project, gpu_channel)
    assert cli("sync", cwd=folder).exit_code == 0
    doc = tomlkit.parse((folder / "condauv.toml").read_text(encoding="utf-8"))
    doc["environment"]["platforms"] = ["osx-arm64"]
    (folder / "condauv.toml").write_text(tomlkit.dumps(doc), encoding="utf-8")
    lock_text = (folder / "condauv.lock").read_bytes()
    hint = 'hint: add "linux-64" to [environment] platforms in condauv.toml'
    result = cli("sync", cwd=folder)  # locking would not help: the manifest does not ask for it
    assert result.exit_code == 2, result.stderr
    assert hint in result.stderr and "run `condauv lock` again" not in result.stderr
    assert (folder / "condauv.lock").read_bytes() == lock_text  # nothing written
    assert cli("lock", cwd=folder).exit_code == 0
    for command in (("sync", "--frozen"), ("pack",)):
        result = cli(*command, cwd=folder)
        assert result.exit_code == 2, (command, result.stderr)
        assert hint in result.stderr, (command, result.stderr)
        assert "it locks" not in result.stderr and "sync without --frozen" not in result.stderr
