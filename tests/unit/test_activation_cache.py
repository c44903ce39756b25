"""The activation scripts condauv keeps (``condauv.conda.activation``): used only for exactly what
rattler wrote them from, rattler asked again for anything else, a damaged cache a miss."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from condauv.activation import activation_script
from condauv.conda import activation


@pytest.fixture
def prefix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CONDAUV_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    root = tmp_path / "env"
    (root / "conda-meta").mkdir(parents=True)
    (root / "bin").mkdir()
    return root


def _kept_files(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "cache" / activation.FOLDER
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_the_kept_script_is_rattlers_and_is_used_the_second_time(prefix: Path, tmp_path: Path) -> None:
    first = activation_script(prefix)
    assert first == activation.write(prefix)
    assert len(_kept_files(tmp_path)) == 1
    assert activation_script(prefix) == first
    assert activation.kept(activation.key(prefix, "bash")) == first
    fish = activation_script(prefix, "fish")
    assert fish == activation.write(prefix, "fish") and fish != first
    assert len(_kept_files(tmp_path)) == 2


def _change_path(monkeypatch: pytest.MonkeyPatch, prefix: Path) -> None:
    monkeypatch.setenv("PATH", f"/condauv-other:{os.environ.get('PATH', '')}")


def _activate_script(monkeypatch: pytest.MonkeyPatch, prefix: Path) -> None:
    folder = prefix / "etc" / "conda" / "activate.d"
    folder.mkdir(parents=True)
    (folder / "x.sh").write_text("export X=1\n")


def _env_vars(monkeypatch: pytest.MonkeyPatch, prefix: Path) -> None:
    folder = prefix / "etc" / "conda" / "env_vars.d"
    folder.mkdir(parents=True)
    (folder / "a.json").write_text('{"CONDAUV_A": "1"}')


def _state(monkeypatch: pytest.MonkeyPatch, prefix: Path) -> None:
    (prefix / "conda-meta" / "state").write_text('{"env_vars": {"CONDAUV_S": "1"}}')


def _another_active(monkeypatch: pytest.MonkeyPatch, prefix: Path) -> None:
    other = prefix.parent / "other"
    (other / "conda-meta").mkdir(parents=True)
    monkeypatch.setenv("CONDA_PREFIX", str(other))


def _shlvl(monkeypatch: pytest.MonkeyPatch, prefix: Path) -> None:
    monkeypatch.setenv("CONDA_SHLVL", "3")


@pytest.mark.parametrize(
    "change", [_change_path, _activate_script, _env_vars, _state, _another_active, _shlvl]
)
def test_anything_rattler_reads_makes_another_key(
    prefix: Path, monkeypatch: pytest.MonkeyPatch, change: object
) -> None:
    before = activation.key(prefix, "bash")
    activation_script(prefix)
    change(monkeypatch, prefix)  # type: ignore[operator]
    assert activation.key(prefix, "bash") != before
    assert activation_script(prefix) == activation.write(prefix)


def test_an_edited_env_vars_file_makes_another_key(prefix: Path) -> None:
    folder = prefix / "etc" / "conda" / "env_vars.d"
    folder.mkdir(parents=True)
    (folder / "a.json").write_text('{"CONDAUV_A": "1"}')
    first = activation_script(prefix)
    assert "CONDAUV_A" in first
    before = activation.key(prefix, "bash")
    (folder / "a.json").write_text('{"CONDAUV_A": "22"}')
    assert activation.key(prefix, "bash") != before
    assert "22" in activation_script(prefix)


@pytest.mark.parametrize(
    "damage",
    [
        lambda path, digest: path.write_bytes(b""),
        lambda path, digest: path.write_bytes(b"condauv-activation 1 " + b"0" * 64 + b"\nexport X=1\n"),
        lambda path, digest: path.write_bytes(f"condauv-activation 9 {digest}\nexport X=1\n".encode()),
        lambda path, digest: path.write_bytes(f"condauv-activation 1 {digest}\n\xff\xfe".encode("latin-1")),
        lambda path, digest: path.write_bytes(f"condauv-activation 1 {digest}\n".encode() + b"#" * (1 << 20)),
    ],
    ids=["empty", "another-key", "another-format", "not-utf8", "too-large"],
)
def test_a_damaged_kept_file_is_a_miss_and_is_written_again(
    prefix: Path, tmp_path: Path, damage: object
) -> None:
    activation_script(prefix)
    (path,) = _kept_files(tmp_path)
    digest = activation.key(prefix, "bash")
    damage(path, digest)  # type: ignore[operator]
    assert activation.kept(digest) is None
    assert activation_script(prefix) == activation.write(prefix)
    assert activation.kept(digest) == activation.write(prefix)


def test_a_cache_that_cannot_be_written_costs_only_the_saving(
    prefix: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache folder should be")
    assert activation_script(prefix) == activation.write(prefix)
    if os.geteuid() != 0:  # root writes through a read-only folder
        monkeypatch.setenv("CONDAUV_CACHE_DIR", str(tmp_path / "ro"))
        (tmp_path / "ro").mkdir()
        (tmp_path / "ro").chmod(stat.S_IRUSR | stat.S_IXUSR)
        assert activation_script(prefix) == activation.write(prefix)
