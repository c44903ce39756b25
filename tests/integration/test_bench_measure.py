"""``condauv bench``'s measurements in a real synced prefix: numpy from the local conda channel,
six and a package whose import fails from the wheelhouse (real rattler, real uv, real imports)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from condauv.bench import measure
from tests.clirunner import chdir
from tests.conftest import NUMPY_VERSION
from tests.helpers.wheels import write_wheel

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def prefix(tmp_path_factory: pytest.TempPathFactory, conda_channel: Path, wheelhouse: Path) -> Path:
    """One synced project for the module: numpy (conda), six and broken-thing (PyPI)."""
    from condauv.__main__ import main

    root = tmp_path_factory.mktemp("bench-measure")
    wheels = root / "wheels"
    wheels.mkdir()
    write_wheel(wheels, "broken-thing", "1.0", modules={"broken_thing": "raise RuntimeError('boom')\n"})
    folder = root / "proj"
    folder.mkdir()
    with chdir(folder):
        assert main(["init", "-q", "--channel", conda_channel.as_uri()]) == 0
        manifest = folder / "condauv.toml"
        text = manifest.read_text()
        for table, entries in (
            ("[conda-dependencies]\n", f'numpy = "=={NUMPY_VERSION}"\n'),
            ("[pypi-dependencies]\n", 'six = "==1.16.0"\nbroken-thing = "==1.0"\n'),
        ):
            assert table in text
            text = text.replace(table, table + entries, 1)
        options = f'\n[pypi-options]\nfind-links = ["{wheelhouse}", "{wheels}"]\nno-index = true\n'
        manifest.write_text(text + options)
        assert main(["sync", "-q"]) == 0
    return folder / ".condauv" / "env"


def _python(prefix: Path) -> Path:
    return prefix / "bin" / "python"


def test_disk_usage_counts_each_inode_once(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.bin").write_bytes(b"x" * 1000)
    os.link(tree / "a.bin", tree / "sub" / "b.bin")  # a hard link inside the tree
    (tree / "c.txt").write_bytes(b"y" * 10)
    (tree / "link").symlink_to("a.bin")  # counted as itself (5 bytes), not followed
    (tree / "dirlink").symlink_to("sub")  # never walked into
    outside = tmp_path / "cache.bin"
    outside.write_bytes(b"z" * 300)
    os.link(outside, tree / "from-cache.bin")  # hard-linked from outside: shared
    size, files, shared = measure.disk_usage(tree)
    assert files == 6
    assert size == 1000 + 10 + len("a.bin") + len("sub") + 300
    assert shared == 300
    paths_sum = sum(p.lstat().st_size for p in tree.rglob("*") if not p.is_dir() or p.is_symlink())
    assert size < paths_sum  # the inner hard link counted once


def test_footprint_of_a_synced_prefix(prefix: Path) -> None:
    found = measure.footprint(prefix, _python(prefix), ["numpy", "six"])
    assert found.rss_error is None
    size, files, shared = measure.disk_usage(prefix)
    assert (found.disk_bytes, found.files, found.shared_bytes) == (size, files, shared)
    assert found.files > 100 and found.disk_bytes > 10 * 2**20
    assert found.shared_bytes is not None and found.shared_bytes > 0  # hard links into the package cache
    assert found.rss_bytes is not None and found.rss_bytes > 20 * 2**20  # numpy's libraries are resident
    bare = measure.footprint(prefix, _python(prefix), [])
    assert bare.rss_bytes is not None and 0 < bare.rss_bytes < found.rss_bytes


def test_footprint_names_a_module_that_does_not_import(prefix: Path) -> None:
    found = measure.footprint(prefix, _python(prefix), ["six", "broken_thing"])
    assert found.rss_bytes is None
    assert found.rss_error == "not every module imports: broken_thing: RuntimeError: boom"


def test_import_times_per_distribution(prefix: Path) -> None:
    times = measure.import_times(
        _python(prefix), prefix, ["numpy", "Six", "broken-thing", "not-there"], runs=2
    )
    by_name = {t.distribution: t for t in times}
    assert list(by_name) == ["numpy", "six", "broken-thing", "not-there"]
    for name in ("numpy", "six"):
        timing = by_name[name].time
        assert timing is not None and len(timing.samples) == 2, by_name[name]
        assert all(s > 0 for s in timing.samples)
        first = by_name[name].first_s
        assert first is not None and first > 0
        assert by_name[name].error is None
    assert by_name["numpy"].modules == ("numpy",)
    assert by_name["numpy"].time is not None and by_name["six"].time is not None
    assert by_name["numpy"].time.median > by_name["six"].time.median
    broken = by_name["broken-thing"]
    assert broken.time is None and broken.error == "broken_thing: RuntimeError: boom"
    assert by_name["not-there"].error == "not installed in the prefix"


def test_functionality_measures_numpy_and_names_its_blas(prefix: Path) -> None:
    found = measure.functionality(_python(prefix), prefix, size=256, runs=2)
    assert found.torch is None  # torch is not installed
    numpy = found.numpy
    assert numpy is not None
    assert numpy.error is None and numpy.ok
    assert numpy.gflops is not None and numpy.gflops > 0
    assert numpy.numpy == NUMPY_VERSION and numpy.size == 256
    assert numpy.blas is not None and numpy.blas.startswith("openblas ")  # the wheel's scipy-openblas
    assert " threads)" in numpy.blas
