"""`condauv bench` on a project whose PyPI index wants credentials (a localhost index behind
basic auth, real uv and pip): every tool that installs from it gets them, none is printed or
written (terminal, --json, report.md, report.json, the charts)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.index import SimpleIndex
from tests.integration.conftest import MakeProject
from tests.integration.test_private_index import TOKEN, USER, _with_credentials, private_index

__all__ = ["private_index"]  # the fixture, imported for this module

pytestmark = pytest.mark.slow


def test_pip_and_uv_get_the_index_credentials_and_none_is_shown(
    make_project: MakeProject, private_index: SimpleIndex, tmp_path: Path
) -> None:
    """Seen: pip vs uv failed, 'No matching distribution found for idna==3.10': the
    requirements file names the index without its credentials and pip was given none."""
    folder = make_project()
    manifest = folder / "condauv.toml"
    text = manifest.read_text(encoding="utf-8")
    text = (
        text[: text.rindex("[pypi-options]")]
        + f'[pypi-options]\nindex-url = "{_with_credentials(private_index)}"\n'
    )
    manifest.write_text(
        text.replace("[pypi-dependencies]\n", '[pypi-dependencies]\nidna = "==3.10"\n'), "utf-8"
    )
    output = tmp_path / "report"
    command = ["bench", "-vv", "--runs", "1", "--cold", "--strategies", "uv-only,pip-vs-uv"]
    result = subprocess.run(
        [sys.executable, "-m", "condauv", *command, "--json", "--output", str(output)],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    (uv_only,) = report["strategies"]
    assert uv_only["error"] is None and uv_only["packages"] == {"idna": "3.10"}
    assert [p["error"] for p in report["pip_vs_uv"]] == [None, None], report["pip_vs_uv"]
    written = b"".join(p.read_bytes() for p in sorted(output.iterdir()))
    for shown in (result.stdout, result.stderr, written.decode("latin-1")):
        assert TOKEN not in shown and f"{USER}:" not in shown
