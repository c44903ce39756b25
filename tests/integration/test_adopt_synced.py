"""`condauv adopt` of a prefix condauv itself synced: its copy of the lock and manifest in
conda-meta is the evidence (what was asked for, in which table; which wheel each came from)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from condauv.conda.prefix import LOCK_COPY, MANIFEST_COPY
from condauv.lock.model import load_lock
from condauv.manifest.model import load_manifest
from tests.clirunner import CLI
from tests.integration.conftest import MakeProject

pytestmark = pytest.mark.slow

ENV = Path(".condauv") / "env"


@pytest.fixture
def synced_project(cli: CLI, make_project: MakeProject) -> Path:
    """numpy and requests in [dependencies], tiny-a in [conda-dependencies], and urllib3 in
    [pypi-dependencies] though requests needs it anyway: synced by condauv."""
    folder = make_project()
    for args in (("numpy", "requests"), ("--conda", "tiny-a"), ("--pypi", "urllib3")):
        added = cli("add", *args, cwd=folder)
        assert added.exit_code == 0, added.stderr
    meta = folder / ENV / "conda-meta"
    assert (meta / LOCK_COPY).is_file() and (meta / MANIFEST_COPY).is_file()
    return folder


def _adopt(cli: CLI, prefix: Path, folder: Path, wheelhouse: Path) -> dict[str, Any]:
    folder.mkdir()
    result = cli("adopt", prefix, "--find-links", wheelhouse, "--no-index", "--json", cwd=folder)
    assert result.exit_code == 0, result.stderr
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


def test_adopt_reads_condauv_s_own_copy(
    cli: CLI, synced_project: Path, tmp_path: Path, wheelhouse: Path
) -> None:
    prefix = synced_project / ENV
    report = _adopt(cli, prefix, tmp_path / "adopted", wheelhouse)
    kinds = [n["kind"] for n in report["notes"]]
    assert "direct-url" not in kinds  # condauv's own installs are "from the lock"
    assert kinds == ["managed"]
    assert report["pypi"]["evidence"] == report["conda"]["evidence"]
    assert "copy" in report["conda"]["evidence"]
    assert set(report["pypi"]["requested"]) == {"requests", "urllib3"}  # urllib3: asked for, and a dependency
    assert set(report["conda"]["requested"]) == {"numpy", "tiny-a"}

    original = load_manifest(synced_project / "condauv.toml")
    adopted = load_manifest(tmp_path / "adopted" / "condauv.toml")
    assert {(r.table, r.key, r.spec) for r in adopted.requested} == {
        (r.table, r.key, r.spec) for r in original.requested
    }
    before, after = (
        load_lock(synced_project / "condauv.lock"),
        load_lock(tmp_path / "adopted" / "condauv.lock"),
    )
    assert before is not None and after is not None
    # the lock's URLs, sha256s, requests and reasons
    assert sorted(after.pypi, key=lambda p: p.name) == sorted(before.pypi, key=lambda p: p.name)
    conda = {p.name: (p.sha256, p.requested, p.reason) for p in after.conda if p.name != "python"}
    assert conda == {p.name: (p.sha256, p.requested, p.reason) for p in before.conda if p.name != "python"}

    relocked = cli("lock", cwd=tmp_path / "adopted")
    assert relocked.exit_code == 0, relocked.stderr


@pytest.mark.parametrize(
    ("lock_text", "why"),
    [
        ("version = [[[\n", "cannot be read"),
        ("\udcff", None),  # not UTF-8 on disk: read as absent
        ("", "cannot be read"),
        (None, "was not made from its manifest"),
    ],
)
def test_a_bad_copy_is_ignored_with_a_note(
    cli: CLI,
    synced_project: Path,
    tmp_path: Path,
    wheelhouse: Path,
    lock_text: str | None,
    why: str | None,
) -> None:
    meta = synced_project / ENV / "conda-meta"
    if lock_text is None:  # a valid lock of another manifest
        with (meta / MANIFEST_COPY).open("a", encoding="utf-8") as handle:
            handle.write('\n[classify]\n"x*" = "pypi"\n')
    elif lock_text == "\udcff":
        (meta / LOCK_COPY).write_bytes(b"\xff\xfe not utf-8")
    else:
        (meta / LOCK_COPY).write_text(lock_text, encoding="utf-8")
    report = _adopt(cli, synced_project / ENV, tmp_path / "adopted", wheelhouse)
    notes = {n["kind"]: n["message"] for n in report["notes"]}
    if why is None:
        assert "synced-copy" not in notes
    else:
        assert why in notes["synced-copy"] and "ignored" in notes["synced-copy"]
    # read as any other prefix: urllib3, a dependency of requests, is no longer known as asked for
    assert "copy" not in report["pypi"]["evidence"]
    assert set(report["pypi"]["requested"]) == {"requests"}
