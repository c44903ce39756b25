"""A packed environment runs a real Spark job's Python workers: numpy (from the local conda
channel) and pyspark + py4j (pinned, PyPI's files) synced, packed with ``condauv pack -o
env.tar.gz``, and handed to ``spark-submit --archives env.tar.gz#environment --conf
spark.pyspark.python=./environment/bin/python``: every Python worker runs the archive's
interpreter and imports numpy from the archive, as Spark unpacked it beside each executor.

The master is ``local-cluster[2,1,1024]`` (a standalone master, two workers and two executor
JVMs, all on this machine), not ``local[2]``: in local mode (Spark 3.5.7, seen here) Spark
unpacks the archive into the driver's ``userFiles-*`` folder but starts the Python workers in
the driver's own working folder, so ``./environment/bin/python`` is not there ("Cannot run
program "./environment/bin/python": error=2, No such file or directory"). Real executors start
their Python workers in the folder that holds the unpacked ``environment``, as YARN and
Kubernetes do.

pyspark is an sdist only on PyPI (317 MB). condauv's sync installs locked artifacts with uv
``--no-index``, so an sdist whose build needs setuptools cannot be built there; the test builds
the wheel once from the pinned sdist (sha256 checked) with ``uv build`` and keeps it in the test
cache (``$CONDAUV_TEST_CACHE``), and the project takes it from that folder (find-links)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from condauv.platforms import current_subdir
from condauv.pypi.simple import cached_wheel, download_verified, fetch_wheel
from condauv.pypi.uv import find_uv
from tests.clirunner import CLI
from tests.conftest import persistent_cache

pytestmark = [
    pytest.mark.network,
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("java") is None, reason="Spark needs Java 17 (Debian: openjdk-17-jre-headless)"
    ),
]

#: Spark 3.5.7 runs on Java 17 and Python 3.11; py4j is the version pyspark 3.5.7 requires.
PYSPARK = "3.5.7"
PY4J = "0.10.9.7"
PYSPARK_SDIST = (
    "https://files.pythonhosted.org/packages/cb/65/2764b1840aa6ea5f7e668a36702c3128ac54d0b861d3d57669b2453469a6/"
    f"pyspark-{PYSPARK}.tar.gz"
)
PYSPARK_SHA256 = "80e36514e0c5c126d35a26adf4f405cd4a69de96a8ea8a3c1e9a65fce2fb4eaa"

JOB = textwrap.dedent(
    """
    import json, time
    from pyspark import SparkContext

    def where(_):
        import os, sys, numpy
        return {"python": sys.executable, "numpy": numpy.__file__, "cwd": os.getcwd()}

    sc = SparkContext(appName="condauv-pack")
    try:
        deadline = time.monotonic() + 60  # both executors (and the driver) registered
        while sc._jsc.sc().getExecutorMemoryStatus().size() < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        print("RESULT " + json.dumps(sc.parallelize(range(4), 4).map(where).collect()))
    finally:
        sc.stop()
    """
)


def _pyspark_wheel(folder: Path) -> Path:
    """pyspark's wheel, built by ``uv build`` from the pinned sdist (its sha256 checked)."""
    wheel = folder / f"pyspark-{PYSPARK}-py2.py3-none-any.whl"
    if wheel.is_file():
        return wheel
    with tempfile.TemporaryDirectory(dir=folder, prefix=".build-") as scratch:
        sdist = Path(scratch) / f"pyspark-{PYSPARK}.tar.gz"
        download_verified(PYSPARK_SDIST, sdist, PYSPARK_SHA256)
        built = Path(scratch) / "dist"
        command = [find_uv(), "build", "--no-config", "--wheel", "--out-dir", str(built), str(sdist)]
        subprocess.run(command, check=True, capture_output=True, timeout=300)
        (built / wheel.name).replace(wheel)
    return wheel


@pytest.fixture(scope="module")
def spark_wheels() -> Path:
    """A find-links folder holding exactly pyspark's and py4j's wheels (kept between sessions)."""
    folder = persistent_cache() / f"spark-{PYSPARK}"
    folder.mkdir(parents=True, exist_ok=True)
    _pyspark_wheel(folder)
    python, subdir = (sys.version_info.major, sys.version_info.minor), current_subdir()
    spec = f"=={PY4J}"
    if cached_wheel("py4j", spec, folder, python_version=python, subdir=subdir) is None:
        fetch_wheel("py4j", spec, folder, python_version=python, subdir=subdir)
    return folder


@pytest.fixture
def packed(tmp_path: Path, cli: CLI, conda_channel: Path, spark_wheels: Path) -> tuple[Path, Path]:
    """(the synced prefix, ``env.tar.gz`` packed from it)."""
    project = tmp_path / "proj"
    project.mkdir()
    assert cli("init", "--channel", conda_channel.as_uri(), "-q", cwd=project).exit_code == 0
    text = (project / "condauv.toml").read_text()
    text = text.replace("[conda-dependencies]\n", '[conda-dependencies]\nnumpy = "*"\n', 1)
    pins = f'pyspark = "=={PYSPARK}"\npy4j = "=={PY4J}"\n'
    text = text.replace("[pypi-dependencies]\n", f"[pypi-dependencies]\n{pins}", 1)
    text += f'\n[pypi-options]\nfind-links = ["{spark_wheels}"]\nno-index = true\n'
    (project / "condauv.toml").write_text(text)
    synced = cli("sync", "-q", cwd=project)
    assert synced.exit_code == 0, synced.stderr
    archive = tmp_path / "env.tar.gz"
    result = cli("pack", "-o", archive, "-q", cwd=project)
    assert result.exit_code == 0, result.stderr
    return project / ".condauv" / "env", archive


def _spark_home(prefix: Path, folder: Path) -> Path:
    """A SPARK_HOME of links to the synced pyspark's ``bin`` and ``jars``: the standalone
    workers write their ``work/`` folder under SPARK_HOME, which is then not in the prefix."""
    pyspark = prefix / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    folder.mkdir()
    for name in ("bin", "jars"):
        (folder / name).symlink_to(pyspark / "pyspark" / name, target_is_directory=True)
    return folder


def _stop(process: subprocess.Popen[str]) -> None:
    """spark-submit and what it started (the executors' JVMs and their Python workers)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    with contextlib.suppress(ProcessLookupError):  # what outlived spark-submit
        os.killpg(process.pid, signal.SIGKILL)


def test_spark_python_workers_run_in_the_archive(packed: tuple[Path, Path], tmp_path: Path) -> None:
    prefix, archive = packed
    home = _spark_home(prefix, tmp_path / "spark-home")
    run = tmp_path / "run"
    run.mkdir()
    (run / "job.py").write_text(JOB)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHON", "CONDA", "VIRTUAL_ENV", "SPARK_", "PYSPARK_"))
    }
    env |= {"PATH": f"{prefix / 'bin'}{os.pathsep}{env.get('PATH', '')}", "SPARK_HOME": str(home)}
    env |= {"SPARK_LOCAL_IP": "127.0.0.1", "SPARK_LOCAL_DIRS": str(tmp_path / "spark-local")}
    command = [str(home / "bin" / "spark-submit"), "--master", "local-cluster[2,1,1024]"]
    command += ["--archives", f"{archive}#environment"]
    command += ["--conf", "spark.pyspark.python=./environment/bin/python"]
    command += ["--conf", f"spark.pyspark.driver.python={prefix / 'bin' / 'python'}"]
    command += ["--conf", "spark.ui.enabled=false", "job.py"]
    log = tmp_path / "spark-submit.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=run,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            start_new_session=True,
        )
    try:
        stdout, _ = process.communicate(timeout=150)
    finally:
        _stop(process)
    assert process.returncode == 0, log.read_text()[-6000:]
    line = next(x for x in stdout.splitlines() if x.startswith("RESULT "))
    ran = json.loads(line.removeprefix("RESULT "))
    assert len(ran) == 4
    for task in ran:
        environment = Path(task["python"]).parent.parent
        assert environment.name == "environment" and environment.parent == Path(task["cwd"]), task
        assert environment.is_relative_to(home / "work"), task  # unpacked by Spark, per executor
        assert Path(task["numpy"]).is_relative_to(environment), task
        assert not Path(task["numpy"]).is_relative_to(prefix), task
    assert len({task["cwd"] for task in ran}) == 2  # both executors ran tasks, each its own copy
