"""A packed environment runs a real Dask cluster elsewhere: distributed (pinned, with every
dependency, from the real PyPI) and numpy (from the local conda channel) synced, packed, unpacked
into another folder and relocated with ``bin/conda-unpack``; the original prefix is deleted; a
scheduler and two workers start from the unpacked copy, and a client from it too runs tasks that
import numpy: every one of them imports it from the unpacked prefix."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import textwrap
import time
from pathlib import Path

import pytest

from tests.clirunner import CLI

pytestmark = [pytest.mark.network, pytest.mark.slow]

#: distributed and its whole dependency set for Python 3.11 (uv pip compile, 2026-01-01), pinned
#: exactly: the manifest has no cut-off date, so each version is named.
DISTRIBUTED = {
    "distributed": "2025.12.0",
    "dask": "2025.12.0",
    "click": "8.3.1",
    "cloudpickle": "3.1.2",
    "fsspec": "2025.12.0",
    "importlib-metadata": "8.7.1",
    "jinja2": "3.1.6",
    "locket": "1.0.0",
    "markupsafe": "3.0.3",
    "msgpack": "1.1.2",
    "packaging": "25.0",
    "partd": "1.4.2",
    "psutil": "7.2.1",
    "pyyaml": "6.0.3",
    "sortedcontainers": "2.4.0",
    "tblib": "3.2.2",
    "toolz": "1.1.0",
    "tornado": "6.5.4",
    "urllib3": "2.6.2",
    "zict": "3.0.0",
    "zipp": "3.23.0",
}

CLIENT = textwrap.dedent(
    """
    import json, sys
    from distributed import Client, get_worker

    def where(x, address=None):
        import numpy, sys
        return {"worker": address or get_worker().address, "numpy": numpy.__file__,
                "python": sys.executable, "value": int(numpy.arange(x + 1).sum())}

    def on_worker(dask_worker):  # client.run passes the worker itself
        return where(0, dask_worker.address)

    with Client(sys.argv[1], timeout=30) as client:
        client.wait_for_workers(2, timeout=30)
        on_each = client.run(on_worker)
        futures = client.map(where, range(8), pure=False)
        print(json.dumps({"each": list(on_each.values()), "tasks": client.gather(futures)}))
    """
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def unpacked(tmp_path: Path, cli: CLI, conda_channel: Path) -> Path:
    """The project synced, packed, unpacked elsewhere, conda-unpack run, the original deleted."""
    project = tmp_path / "proj"
    project.mkdir()
    assert cli("init", "--channel", conda_channel.as_uri(), "-q", cwd=project).exit_code == 0
    pins = "".join(f'{name} = "=={version}"\n' for name, version in DISTRIBUTED.items())
    text = (project / "condauv.toml").read_text()
    text = text.replace("[conda-dependencies]\n", '[conda-dependencies]\nnumpy = "*"\n', 1)
    text = text.replace("[pypi-dependencies]\n", f"[pypi-dependencies]\n{pins}", 1)
    (project / "condauv.toml").write_text(text)
    synced = cli("sync", cwd=project)
    assert synced.exit_code == 0, synced.stderr
    archive = tmp_path / "env.tar.gz"
    packed = cli("pack", "-o", archive, "-q", cwd=project)
    assert packed.exit_code == 0, packed.stderr
    target = tmp_path / "elsewhere" / "env"
    target.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="tar")
    subprocess.run([target / "bin" / "conda-unpack"], check=True, capture_output=True)
    shutil.rmtree(project / ".condauv" / "env")
    return target


def _start(command: list[str | Path], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as handle:
        return subprocess.Popen(
            command, env=env, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """The process and everything it started (a worker's nanny starts the worker process)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    else:
        with contextlib.suppress(ProcessLookupError):  # what it started, if it outlived it
            os.killpg(process.pid, signal.SIGKILL)


def _wait_for_port(port: int, scheduler: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert scheduler.poll() is None, log.read_text()
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        time.sleep(0.2)
    raise AssertionError(f"the scheduler did not listen on {port}:\n{log.read_text()}")


def test_dask_cluster_from_the_unpacked_copy(unpacked: Path, tmp_path: Path) -> None:
    python = unpacked / "bin" / "python"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "CONDA", "VIRTUAL_ENV", "DASK_"))
    }
    env["PATH"] = f"{unpacked / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["DASK_TEMPORARY_DIRECTORY"] = str(tmp_path / "dask-scratch")
    run = tmp_path / "run"
    run.mkdir()
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    processes: list[subprocess.Popen[bytes]] = []
    logs = [run / "scheduler.log", run / "worker-1.log", run / "worker-2.log"]
    scheduler: list[str | Path] = [python, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1"]
    scheduler += ["--port", str(port), "--no-dashboard"]
    worker: list[str | Path] = [python, "-m", "distributed.cli.dask_worker", address, "--host", "127.0.0.1"]
    worker += ["--nworkers", "1", "--nthreads", "1", "--no-dashboard"]
    try:
        processes.append(_start(scheduler, env, run, logs[0]))
        _wait_for_port(port, processes[0], logs[0])
        processes += [_start(worker, env, run, log) for log in logs[1:]]
        done = subprocess.run(
            [python, "-c", CLIENT, address],
            check=False,
            env=env,
            cwd=run,
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert done.returncode == 0, done.stderr + "".join(log.read_text() for log in logs)
    finally:
        for process in reversed(processes):
            _stop(process)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    ran = result["each"] + result["tasks"]
    assert len(result["each"]) == 2 and len({r["worker"] for r in result["each"]}) == 2
    assert [r["value"] for r in result["tasks"]] == [x * (x + 1) // 2 for x in range(8)]
    for task in ran:
        assert Path(task["numpy"]).is_relative_to(unpacked), task
        assert Path(task["python"]).is_relative_to(unpacked), task
    assert sys.executable not in {r["python"] for r in ran}
