"""Issue 9's whole story, through the CLI only: lock on a CPU-only machine for linux-64 with CUDA
12.4 and for osx-arm64 (where ``cuda`` does not apply), sync there as a build host standing in for
a GPU node, pack, delete the project, and run worker processes from the unpacked copy elsewhere.

Local inputs only: the session channel (python, numpy and their osx-arm64 stand-ins), a channel
of ``gpu-kernels`` whose linux-64 build needs ``__cuda >=12`` and whose osx-arm64 build does not
(the manifest has no per-platform tables: the need is in the build), and a local pure-Python wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import textwrap
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

#: run from the unpacked python, by file: two spawned worker processes each say where they import from.
WORKERS = textwrap.dedent(
    """
    import json, sys
    from multiprocessing import get_context

    def work(numbers, results):
        import os, sys, numpy, fleetlib
        kernels = os.path.join(sys.prefix, "share", "gpu-kernels", "BUILD")
        with open(kernels) as handle:
            build = handle.read().strip()
        results.put({"pid": os.getpid(), "executable": sys.executable, "prefix": sys.prefix,
                     "numpy": numpy.__file__, "fleetlib": fleetlib.__file__, "kernels": kernels,
                     "build": build, "version": fleetlib.__version__,
                     "sums": [int(numpy.arange(n + 1).sum()) for n in numbers]})

    if __name__ == "__main__":
        spawn = get_context("spawn")  # a fresh interpreter per worker, as on another host
        results = spawn.Queue()
        workers = [spawn.Process(target=work, args=(range(i, 8, 2), results)) for i in range(2)]
        for worker in workers:
            worker.start()
        done = [results.get(timeout=60) for _ in workers]
        for worker in workers:
            worker.join(timeout=60)
        print(json.dumps({"main": sys.executable, "workers": done,
                          "exit codes": [worker.exitcode for worker in workers]}))
    """
)


@pytest.fixture
def cuda_channel(tmp_path: Path) -> Path:
    """``gpu-kernels`` 1.0: the linux-64 build needs a CUDA 12 driver, the osx-arm64 build (Metal) none."""
    folder = tmp_path / "cuda-channel"
    for subdir, depends in (("linux-64", ["__cuda >=12"]), ("osx-arm64", [])):
        build_package(
            name="gpu-kernels",
            version="1.0",
            output_dir=folder,
            files={"share/gpu-kernels/BUILD": f"{subdir}\n".encode()},
            depends=depends,
            subdir=subdir,
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


def _tree(folder: Path) -> list[tuple[str, bytes | None]]:
    return sorted(
        (str(p.relative_to(folder)), p.read_bytes() if p.is_file() else None) for p in folder.rglob("*")
    )


def test_lock_on_a_cpu_machine_for_cuda_and_osx_pack_and_run_workers_elsewhere(
    cli: CLI, make_project: MakeProject, cuda_channel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if current_subdir() != "linux-64":
        pytest.skip("the session channel's stand-ins are for linux-64 and osx-arm64")
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "")  # 1. a CPU-only machine, whatever this one has
    wheels = tmp_path / "wheels"
    write_wheel(wheels, "fleetlib", "2.0")

    folder = make_project()
    doc = tomlkit.parse((folder / "condauv.toml").read_text(encoding="utf-8"))
    env: Any = doc["environment"]
    env["channels"] = [*env["channels"], cuda_channel.as_uri()]
    env["platforms"] = ["linux-64", "osx-arm64"]
    doc["system-requirements"] = {"cuda": "12.4"}
    doc["conda-dependencies"] = {"numpy": "*", "gpu-kernels": "*"}
    doc["pypi-dependencies"] = {"fleetlib": "==2.0"}
    options: Any = doc["pypi-options"]
    options["find-links"] = [*options["find-links"], str(wheels)]
    (folder / "condauv.toml").write_text(tomlkit.dumps(doc), encoding="utf-8")

    result = cli("lock", cwd=folder)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("note: cuda does not apply to osx-arm64; locked without __cuda\n") == 1
    lock: dict[str, Any] = tomlkit.parse((folder / "condauv.lock").read_text(encoding="utf-8")).unwrap()
    assert lock["environment"]["system-requirements"] == {"cuda": "12.4"}
    conda = {(p["name"], p["platform"]) for p in lock["conda"]}
    for name in ("python", "numpy", "gpu-kernels"):
        assert {(name, "linux-64"), (name, "osx-arm64")} <= conda, conda
    assert {p["name"] for p in lock["pypi"]} == {"fleetlib"}

    # 2. sync on this machine: refused, nothing written; the build host says it stands in for a GPU
    before = _tree(folder)
    result = cli("sync", cwd=folder)
    assert result.exit_code == 2, result.stderr
    assert (
        "error: this machine has no CUDA driver; the lock targets cuda 12.4; "
        "set CONDA_OVERRIDE_CUDA to install anyway"
    ) in result.stderr
    assert "hint:" in result.stderr and "Traceback" not in result.stderr
    assert _tree(folder) == before
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")
    result = cli("sync", "--frozen", cwd=folder)
    assert result.exit_code == 0, result.stderr
    prefix = folder / ".condauv" / "env"
    assert (prefix / "share" / "gpu-kernels" / "BUILD").read_text() == "linux-64\n"

    # 3. pack, back on the CPU machine's own view; then nothing can come from the project any more
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "")
    archive = tmp_path / "out" / "env.tar.gz"
    archive.parent.mkdir()
    result = cli("pack", "-o", archive, cwd=folder)
    assert result.exit_code == 0, result.stderr
    assert f"wrote {archive}" in result.stderr
    shutil.rmtree(folder)

    # 4. a worker elsewhere: unpack, relocate, start worker processes from the unpacked python
    unpacked = tmp_path / "worker" / "env"
    unpacked.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="tar")
    subprocess.run([unpacked / "bin" / "conda-unpack"], check=True, capture_output=True)
    script = tmp_path / "worker" / "job.py"
    script.write_text(WORKERS, encoding="utf-8")
    leaks = ("PYTHON", "VIRTUAL_ENV", "CONDA")  # PYTHONPATH, CONDA_PREFIX, ... of the test process
    clean = {k: v for k, v in os.environ.items() if not k.startswith(leaks)}
    clean["PATH"] = f"{unpacked / 'bin'}{os.pathsep}/usr/bin{os.pathsep}/bin"
    done = subprocess.run(
        ["python", script],
        cwd=script.parent,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert Path(report["main"]).is_relative_to(unpacked), report
    assert report["exit codes"] == [0, 0]
    workers = report["workers"]
    assert len({w["pid"] for w in workers}) == 2
    assert sorted(s for w in workers for s in w["sums"]) == [n * (n + 1) // 2 for n in range(8)]
    for worker in workers:
        assert worker["build"] == "linux-64" and worker["version"] == "2.0"
        for key in ("executable", "prefix", "numpy", "fleetlib", "kernels"):
            assert Path(worker[key]).resolve().is_relative_to(unpacked.resolve()), (key, worker)

    # check on the copy, as the worker (a GPU node) sees it: clean; on a machine without CUDA, not
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")
    checked = cli("check", "--prefix", unpacked, cwd=tmp_path)
    assert checked.exit_code == 0, checked.stdout + checked.stderr
    assert f"{unpacked} is clean" in checked.stderr
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "")
    checked = cli("check", "--prefix", unpacked, "--json", cwd=tmp_path)
    assert checked.exit_code == 1, checked.stdout + checked.stderr
    findings = json.loads(checked.stdout)["findings"]
    assert [(f["kind"], f["packages"]) for f in findings] == [
        ("broken-dependency", ["gpu-kernels", "__cuda"])
    ]
    assert "no CUDA driver" in findings[0]["message"] and "CONDA_OVERRIDE_CUDA" in findings[0]["fix"]
