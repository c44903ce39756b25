"""The pure parts of bench's strategies: what conda-only asks conda for, where each run's
programs keep their temporary files."""

from __future__ import annotations

from pathlib import Path

import pytest

from condauv.bench.strategies import Caches, conda_only_spec
from condauv.manifest.model import Requested, Table


def test_every_program_of_a_run_keeps_its_temporary_files_in_the_run_folder(tmp_path: Path) -> None:
    """pip writes into $TMPDIR: a pip killed with SIGKILL left /tmp/pip-* behind."""
    caches = Caches(tmp_path / "run")
    env = caches.env()
    assert Path(env["TMPDIR"]).is_relative_to(caches.root)
    assert Path(env["TMPDIR"]).is_dir()  # made: a program refuses a TMPDIR that is not there


@pytest.mark.parametrize(
    ("table", "spec", "conda"),
    [
        ("pypi-dependencies", "~=1.16", ">=1.16,1.*"),  # PEP 440's meaning, in conda's spelling
        ("pypi-dependencies", "==1.16.*", "1.16.*"),
        ("pypi-dependencies", ">=1.0, <2", ">=1.0,<2"),
        ("pypi-dependencies", "1.16", "==1.16"),
        ("pypi-dependencies", "*", ""),
        ("pypi-dependencies", "", ""),
        ("dependencies", ">=1.16", ">=1.16"),  # as the hybrid's lock would give it to conda
        ("conda-dependencies", "1.16.*|>=2", "1.16.*|>=2"),
    ],
)
def test_conda_only_asks_conda_for_the_entrys_version_in_conda_spelling(
    table: Table, spec: str, conda: str
) -> None:
    entry = Requested(name="Six", spec=spec, table=table)
    assert conda_only_spec(entry, None) == conda


def test_conda_only_pins_the_hybrid_locks_conda_version() -> None:
    entry = Requested(name="six", spec="~=1.16", table="pypi-dependencies")
    assert conda_only_spec(entry, "1.16.0") == "==1.16.0"


def test_an_arbitrary_equality_has_no_conda_spelling() -> None:
    entry = Requested(name="six", spec="===1.16.0", table="pypi-dependencies")
    assert conda_only_spec(entry, None) is None
