"""Decisions that hold still, and names that follow the channels (issue 7, E15 and E16).

A lock's conda/PyPI decision is kept for manifest entries that did not change; only
``condauv lock --reclassify`` recomputes it. The package index is never asked about a name the
conda side or the channels hold (dependency confusion). A name is looked up in the channels in
both spellings (``torch``/``pytorch``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from condauv.channel import channel_from_wheels
from condauv.lock import load_lock
from tests.clirunner import CLI
from tests.helpers.index import IndexFactory, SimpleIndex, index_entry, serve_index
from tests.helpers.wheels import write_wheel


@pytest.fixture
def indexes() -> Iterator[IndexFactory]:
    with serve_index() as start:
        yield start


def _lab_channel(tmp_path: Path, *wheels: tuple[str, str]) -> Path:
    """A local channel of ``wheels`` (name, version) converted to conda packages."""
    folder = tmp_path / "wheels-for-channel"
    built = [write_wheel(folder, name, version) for name, version in wheels]
    channel = tmp_path / "lab-channel"
    channel_from_wheels(built, channel)
    return channel


def _project(cli: CLI, tmp_path: Path, channels: list[Path], index: SimpleIndex) -> Path:
    folder = tmp_path / "proj"
    folder.mkdir()
    flags = [arg for channel in channels for arg in ("--channel", channel.as_uri())]
    result = cli("init", *flags, cwd=folder)
    assert result.exit_code == 0, result.stderr
    with (folder / "condauv.toml").open("a") as handle:
        handle.write(f'\n[pypi-options]\nindex-url = "{index.url}"\n')
    return folder


def _publish(index: SimpleIndex, tmp_path: Path, name: str, version: str) -> None:
    wheel = write_wheel(tmp_path / "published", name, version)
    data = wheel.read_bytes()
    index.pages[name] = [index_entry(wheel.name, data)]
    index.files[wheel.name] = data


def _managers(folder: Path) -> dict[str, str]:
    lock = load_lock(folder / "condauv.lock")
    assert lock is not None
    found = {p.name: "conda" for p in lock.conda if p.requested is not None}
    found.update({p.name: "pypi" for p in lock.pypi if p.requested is not None})
    return found


CHANNEL_HELD = (
    "[dependencies]: the conda channels have it; names a channel holds are never looked up on a package index"
)


def _gain(channel: Path, tmp_path: Path, name: str, version: str) -> None:
    """Add a conda package ``name`` (made from a pure wheel) to the local ``channel``."""
    channel_from_wheels([write_wheel(tmp_path / "gained", name, version)], channel)


def test_a_pypi_decision_holds_when_the_channel_gains_the_name(
    cli: CLI,
    tmp_path: Path,
    conda_channel: Path,
    indexes: IndexFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lab = _lab_channel(tmp_path, ("bar", "1.0"))
    index = indexes({}, {})
    _publish(index, tmp_path, "foo", "1.0")
    folder = _project(cli, tmp_path, [lab, conda_channel], index)

    first = cli("add", "--no-sync", "foo", cwd=folder)
    assert first.exit_code == 0, first.stderr
    assert _managers(folder)["foo"] == "pypi"  # the channels lack it: the index's wheel decides
    was = "[dependencies]: PyPI has a pure-Python wheel (foo 1.0)"

    _gain(lab, tmp_path, "foo", "1.0")  # now the lab channel has `foo` too
    # fresh caches (the channels' repodata, the index's pages), as after a while
    monkeypatch.setenv("CONDAUV_CACHE_DIR", str(tmp_path / "fresh-cache"))
    second = cli("add", "--no-sync", "tiny-a", cwd=folder)  # an unrelated change
    assert second.exit_code == 0, second.stderr
    assert _managers(folder) == {"python": "conda", "foo": "pypi", "tiny-a": "conda"}
    lock = load_lock(folder / "condauv.lock")
    assert lock is not None
    assert next(p.reason for p in lock.pypi if p.name == "foo") == was
    explained = cli("explain", "foo", cwd=folder)
    assert explained.exit_code == 0, explained.stderr
    assert f"=> pypi: {was} (kept from condauv.lock)" in explained.stdout
    assert "condauv lock --reclassify" in explained.stdout
    relocked = cli("lock", cwd=folder)  # and locking again changes nothing
    assert relocked.exit_code == 0 and "unchanged" in relocked.stderr, relocked.stderr

    index.requested.clear()
    moved = cli("lock", "--reclassify", cwd=folder)
    assert moved.exit_code == 0, moved.stderr
    assert f"moved foo: pypi -> conda: {CHANNEL_HELD} (was: {was})" in moved.stderr, moved.stderr
    assert _managers(folder)["foo"] == "conda"
    assert "foo" not in index.requested  # a name the channels hold is not asked of the index


def test_reclassify_reports_moves_as_json(
    cli: CLI,
    tmp_path: Path,
    conda_channel: Path,
    indexes: IndexFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lab = _lab_channel(tmp_path, ("bar", "1.0"))
    index = indexes({}, {})
    _publish(index, tmp_path, "foo", "1.0")
    folder = _project(cli, tmp_path, [lab, conda_channel], index)
    assert cli("add", "--no-sync", "foo", cwd=folder).exit_code == 0
    unchanged = cli("lock", "--json", "--reclassify", cwd=folder)
    assert unchanged.exit_code == 0, unchanged.stderr
    assert json.loads(unchanged.stdout)["moved"] == []
    _gain(lab, tmp_path, "foo", "1.0")
    monkeypatch.setenv("CONDAUV_CACHE_DIR", str(tmp_path / "fresh-cache"))
    result = cli("lock", "--json", "--reclassify", cwd=folder)
    assert result.exit_code == 0, result.stderr
    (move,) = json.loads(result.stdout)["moved"]
    assert (move["name"], move["from"], move["to"]) == ("foo", "pypi", "conda")
    assert move["reason"] == CHANNEL_HELD
    assert move["was"].startswith("[dependencies]: PyPI has a pure-Python wheel")


def test_a_name_the_channels_hold_is_never_asked_of_an_index(
    cli: CLI, tmp_path: Path, conda_channel: Path, indexes: IndexFactory
) -> None:
    # a private channel's `my-lab-tools`: anyone may register that name on PyPI, with a pure wheel
    lab = _lab_channel(tmp_path, ("my-lab-tools", "1.0"), ("other-lab", "2.0"))
    index = indexes({}, {})
    for name in ("my-lab-tools", "other-lab", "pub-only"):
        _publish(index, tmp_path, name, "9.9")
    folder = _project(cli, tmp_path, [lab, conda_channel], index)

    added = cli("add", "--no-sync", "my-lab-tools", cwd=folder)
    assert added.exit_code == 0, added.stderr
    assert _managers(folder)["my-lab-tools"] == "conda"
    lock = load_lock(folder / "condauv.lock")
    assert lock is not None
    assert next(p.reason for p in lock.conda if p.name == "my-lab-tools") == CHANNEL_HELD
    for command in (
        ("lock",),
        ("lock", "--reclassify"),
        ("classify", "my-lab-tools", "other-lab", "My_Lab.Tools"),  # any spelling looked up
        ("classify", "--json", "other-lab"),  # not in the manifest
        ("explain", "my-lab-tools"),
        ("explain", "other-lab"),
    ):
        result = cli(*command, cwd=folder)
        assert result.exit_code == 0, (command, result.stderr)
    assert {"my-lab-tools", "my-lab.tools", "my_lab_tools", "other-lab"}.isdisjoint(index.requested), (
        index.requested
    )
    explained = cli("explain", "other-lab", cwd=folder).stdout
    assert f"=> conda: {CHANNEL_HELD}" in explained
    assert "package index: not consulted" in explained
    # a name the channels lack is asked, and the index's evidence decides it
    report = json.loads(cli("classify", "--json", "pub-only", cwd=folder).stdout)
    (package,) = report["packages"]
    assert (package["manager"], package["pypi-evidence"]["kind"]) == ("pypi", "pure")
    assert "pub-only" in index.requested


def test_conda_side_names_never_reach_the_index(
    cli: CLI, tmp_path: Path, conda_channel: Path, indexes: IndexFactory
) -> None:
    index = indexes({}, {})
    folder = _project(cli, tmp_path, [conda_channel], index)
    with (folder / "condauv.toml").open("a") as handle:
        handle.write("\n[names]\nlab-data = []\n")
    added = cli("add", "--no-sync", "--conda", "tiny-c", cwd=folder)
    assert added.exit_code == 0, added.stderr
    assert cli("add", "--no-sync", "numpy", "tiny-a", cwd=folder).exit_code == 0
    # tiny-b is on the conda side (a dependency of tiny-a and tiny-c): adding it asks no index
    index.requested.clear()
    assert cli("add", "--no-sync", "tiny-b", cwd=folder).exit_code == 0
    assert _managers(folder)["tiny-b"] == "conda"
    lock = load_lock(folder / "condauv.lock")
    assert lock is not None
    assert "the conda side already has it" in next(p.reason for p in lock.conda if p.name == "tiny-b")
    # nor do explain/classify of conda-side names; lab-data provides no PyPI distribution
    for name in ("tiny-b", "tiny-c", "numpy", "tiny-a", "lab-data", "pytorch-cuda"):
        assert cli("explain", name, cwd=folder).exit_code == 0
    assert index.requested == [], index.requested


def test_a_channel_spelling_wins_over_the_name_table(
    cli: CLI, tmp_path: Path, conda_channel: Path, indexes: IndexFactory
) -> None:
    # `condauv channel from-wheels torch-*.whl` makes a conda package named `torch`
    wheels = tmp_path / "torch-wheel"
    wheel = write_wheel(wheels, "torch", "2.4.1")
    lab = tmp_path / "lab-channel"
    made = cli("channel", "from-wheels", wheel, "--output", lab, cwd=tmp_path)
    assert made.exit_code == 0, made.stderr
    index = indexes({}, {})
    folder = _project(cli, tmp_path, [lab, conda_channel], index)

    added = cli("add", "--no-sync", "torch", cwd=folder)
    assert added.exit_code == 0, added.stderr
    lock = load_lock(folder / "condauv.lock")
    assert lock is not None
    torch = next(p for p in lock.conda if p.name == "torch")
    assert (torch.version, torch.requested) == ("2.4.1", "*")
    assert "pytorch" not in {p.name for p in lock.conda}

    explained = cli("explain", "torch", cwd=folder)
    assert explained.exit_code == 0, explained.stderr
    text = explained.stdout
    assert "installed by conda as 'torch'" in text
    assert "conda channels: not consulted" not in text
    assert f"conda channels: consulted ({lab.as_uri()}, {conda_channel.as_uri()})" in text
    assert "looked up 'pytorch', 'torch'; they have 'torch'" in text
    report = json.loads(cli("classify", "--json", "torch", cwd=folder).stdout)
    (package,) = report["packages"]
    assert package["conda-spelling"] == {"looked-up": ["pytorch", "torch"], "found": "torch"}
    assert (package["manager"], package["name"]) == ("conda", "torch")
    assert "torch" not in index.requested  # a conda-side name is never sent to the index


def test_the_conda_spelling_is_preferred_when_the_channels_have_both(
    cli: CLI, tmp_path: Path, conda_channel: Path, indexes: IndexFactory
) -> None:
    lab = _lab_channel(tmp_path, ("torch", "2.4.1"), ("pytorch", "2.4.0"))
    index = indexes({}, {})
    folder = _project(cli, tmp_path, [lab, conda_channel], index)
    report = json.loads(cli("classify", "--json", "torch", cwd=folder).stdout)
    (package,) = report["packages"]
    assert package["conda-spelling"] == {"looked-up": ["pytorch", "torch"], "found": "pytorch"}
    assert package["name"] == "pytorch"
