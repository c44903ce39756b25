"""Session fixtures for every suite: a real local conda channel and a local wheelhouse.

The channel (this interpreter as ``python``, numpy's real wheel converted, ``six`` as noarch:
python, tiny packages for solver tests) takes seconds to build, so it is kept between pytest
sessions in ``$CONDAUV_TEST_CACHE`` (default ``~/.cache/condauv-tests``), under a key that
changes with the builder sources, the interpreter and the numpy wheel. The numpy wheel is
downloaded from PyPI once into that cache.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path

import pytest

from condauv.channel import (
    atomic_channel,
    build_package,
    build_python_package,
    build_wheel_package,
    channel_key,
)
from condauv.platforms import current_subdir
from condauv.pypi.simple import cached_wheel, fetch_wheel
from tests.helpers.wheels import write_wheel

ROOT = Path(__file__).resolve().parents[1]
#: pinned: expectations (e.g. ``numpy==2.4.6`` in adopt tests) follow this exact version.
NUMPY_VERSION = "2.4.6"
NUMPY = f"=={NUMPY_VERSION}"

#: the sources whose change invalidates a cached channel.
_BUILDER_SOURCES = (
    *sorted((ROOT / "src" / "condauv" / "channel").glob("*.py")),
    ROOT / "src" / "condauv" / "pypi" / "wheelfile.py",
    ROOT / "tests" / "helpers" / "wheels.py",
    Path(__file__),
)

#: (name, version, requires) of the wheelhouse: pure-Python stand-ins of real projects.
WHEELHOUSE = (
    ("requests", "2.32.3", ("urllib3>=1.21.1,<3", "idna>=2.5,<4", "certifi>=2017.4.17")),
    ("urllib3", "2.2.3", ()),
    ("idna", "3.10", ()),
    ("certifi", "2024.8.30", ()),
    ("six", "1.16.0", ()),
    ("six", "1.17.0", ()),
    ("needs-old-numpy", "1.0", ("numpy<2",)),
    ("needs-new-numpy", "1.0", ("numpy>=2",)),
    ("tqdm", "4.66.5", ()),
    ("click", "8.1.7", ()),
    ("gpu-thing", "1.0", ("nvidia-cudnn-cu12>=9",)),
    ("nvidia-cudnn-cu12", "9.1.0", ()),
)

#: (name, version, depends) of tiny non-Python packages for fast solver tests.
TINY_PACKAGES = (
    ("tiny-a", "1.0", ("tiny-b >=1",)),
    ("tiny-b", "1.0", ()),
    ("tiny-b", "2.0", ()),
    ("tiny-c", "1.0", ("tiny-b <2",)),
    ("tiny-d", "1.0", ("tiny-b >=2",)),
    ("cudatoolkit", "12.1.0", ()),
)


def persistent_cache() -> Path:
    """Where built channels and downloaded wheels outlive a pytest session."""
    explicit = os.environ.get("CONDAUV_TEST_CACHE")
    return Path(explicit).expanduser() if explicit else Path.home() / ".cache" / "condauv-tests"


def numpy_wheel() -> Path:
    """numpy's pinned wheel for this interpreter: from the test cache, else from PyPI."""
    wheels = persistent_cache() / "wheels"
    python = (sys.version_info.major, sys.version_info.minor)
    subdir = current_subdir()
    cached = cached_wheel("numpy", NUMPY, wheels, python_version=python, subdir=subdir)
    return cached or fetch_wheel("numpy", NUMPY, wheels, python_version=python, subdir=subdir)


def _sources_digest() -> str:
    digest = hashlib.sha256()
    for source in _BUILDER_SOURCES:
        digest.update(source.read_bytes())
    return digest.hexdigest()


def populate_test_channel(folder: Path, numpy: Path) -> None:
    """Put every package of the session channel into ``folder`` (indexed by the caller)."""
    build_python_package(folder)
    build_wheel_package(numpy, folder)
    with tempfile.TemporaryDirectory(prefix="condauv-six-") as temp:
        build_wheel_package(write_wheel(Path(temp), "six", "1.16.0"), folder)
    # stand-ins for another platform: lockable (solve + PyPI resolution), never installed here
    build_package(
        name="python",
        version="3.11.7",
        output_dir=folder,
        files={"bin/README": b"stand-in\n"},
        subdir="osx-arm64",
    )
    build_package(
        name="numpy",
        version=NUMPY_VERSION,
        output_dir=folder,
        subdir="osx-arm64",
        files={f"lib/python3.11/site-packages/numpy-{NUMPY_VERSION}.dist-info/INSTALLER": b"conda\n"},
        depends=["python >=3.11,<3.12.0a0"],
    )
    for name, version, depends in TINY_PACKAGES:
        build_package(
            name=name,
            version=version,
            output_dir=folder,
            files={f"share/{name}/VERSION": f"{version}\n".encode()},
            depends=depends,
            noarch="generic",
        )


@pytest.fixture(scope="session")
def conda_channel() -> Path:
    """An indexed local channel folder (use ``conda_channel.as_uri()``); see the module doc."""
    numpy = numpy_wheel()
    key = channel_key(_sources_digest(), sys.version, sys.base_prefix, numpy.name)
    return atomic_channel(
        persistent_cache() / f"channel-{key}", lambda folder: populate_test_channel(folder, numpy)
    )


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of synthetic pure-Python wheels (for ``find-links``); see ``WHEELHOUSE``."""
    folder = tmp_path_factory.mktemp("wheelhouse")
    for name, version, requires in WHEELHOUSE:
        write_wheel(folder, name, version, requires=requires)
    return folder
