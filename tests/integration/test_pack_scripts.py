"""An unpacked copy of a packed environment whose PyPI side has console scripts: conda-pack
rewrites their shebangs (``#!/usr/bin/env python``), so their bytes differ from the RECORD that
uv wrote. ``condauv check`` must still find the copy clean, and still find a real edit, or a
shebang that names any other interpreter."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.clirunner import CLI
from tests.helpers.wheels import write_wheel

pytestmark = pytest.mark.slow


def _unpacked(tmp_path: Path, conda_channel: Path, cli: CLI) -> Path:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    write_wheel(
        wheels,
        "scripted",
        "1.0",
        modules={"scripted": "def main():\n    print('scripted ran')\n"},
        entry_points="[console_scripts]\nscripted = scripted:main\n",
    )
    project = tmp_path / "proj"
    project.mkdir()
    (project / "condauv.toml").write_text(
        f'[environment]\nname = "proj"\nchannels = ["{conda_channel.as_uri()}"]\n'
        '[pypi-dependencies]\nscripted = "*"\n'
        f'[pypi-options]\nfind-links = ["{wheels}"]\nno-index = true\n',
        encoding="utf-8",
    )
    assert (result := cli("sync", cwd=project)).exit_code == 0, result.stderr
    archive = tmp_path / "env.tar.gz"
    assert (result := cli("pack", "-o", str(archive), cwd=project)).exit_code == 0, result.stderr
    unpacked = tmp_path / "elsewhere" / "env"
    unpacked.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="tar")
    subprocess.run([str(unpacked / "bin" / "conda-unpack")], check=True)
    shutil.rmtree(project / ".condauv" / "env")  # the original is gone
    return unpacked


def test_check_is_clean_on_an_unpacked_copy_with_console_scripts(
    tmp_path: Path, conda_channel: Path, cli: CLI
) -> None:
    unpacked = _unpacked(tmp_path, conda_channel, cli)
    script = unpacked / "bin" / "scripted"
    assert script.read_text(encoding="utf-8").startswith("#!")
    env = {**os.environ, "PATH": f"{unpacked / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    ran = subprocess.run([str(script)], env=env, capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "scripted ran"
    result = cli("check", "--prefix", str(unpacked), cwd=tmp_path)
    assert result.exit_code == 0, result.stdout + result.stderr
    pristine = script.read_bytes()
    # uv's own form, at the prefix the copy now lies at, is as good as conda-pack's
    here = b"#!" + bytes(unpacked / "bin" / "python")
    script.write_bytes(pristine.replace(b"#!/usr/bin/env python", here, 1))
    result = cli("check", "--prefix", str(unpacked), cwd=tmp_path)
    assert result.exit_code == 0, result.stdout + result.stderr
    # any other interpreter is an edit, even one whose name holds "python"
    for evil in (b"#!/tmp/evil-python", b"#!/usr/bin/env evil-python", b"#!/tmp/evil/bin/python"):
        script.write_bytes(pristine.replace(b"#!/usr/bin/env python", evil, 1))
        result = cli("check", "--prefix", str(unpacked), cwd=tmp_path)
        assert result.exit_code == 1 and "scripted" in result.stdout, (evil, result.stdout + result.stderr)
    script.write_bytes(pristine)
    # a real edit of the script's body is still found
    script.write_text(script.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    result = cli("check", "--prefix", str(unpacked), cwd=tmp_path)
    assert result.exit_code == 1 and "scripted" in result.stdout, result.stdout + result.stderr
