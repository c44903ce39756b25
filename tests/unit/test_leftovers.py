"""What a killed or interrupted command leaves, and what the next one may remove: only its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from condauv import _fs
from condauv.conda import verify


def test_a_users_tmp_files_beside_the_manifest_are_kept(tmp_path: Path) -> None:
    manifest = tmp_path / "condauv.toml"
    manifest.write_text("", encoding="utf-8")
    users = [tmp_path / ".condauv.toml.notes.tmp", tmp_path / ".condauv.toml.my.backup.tmp"]
    for path in users:
        path.write_text("mine\n", encoding="utf-8")
    stale = _fs._write_temp(manifest, "half-written")  # what a killed atomic write leaves
    removed = _fs.remove_stale_temp_files([manifest])
    assert removed == [stale]
    assert not stale.exists()
    assert all(path.read_text(encoding="utf-8") == "mine\n" for path in users)


def test_place_entry_keeps_a_verified_entry_another_process_placed(tmp_path: Path) -> None:
    """Another process may be linking from a verified entry: replacing it under that process
    would take files away mid-link."""
    cache = tmp_path / "pkgs"
    entry = cache / "pkg-1.0-0"
    (entry / "info").mkdir(parents=True)
    (entry / "lib.txt").write_text("first\n", encoding="utf-8")
    sha = "a" * 64
    (entry / verify.STAMP).write_text(
        json.dumps({"version": verify.STAMP_VERSION, "sha256": sha}) + "\n", encoding="utf-8"
    )
    assert verify.is_verified(entry, sha)
    inode = (entry / "lib.txt").stat().st_ino
    extracted = tmp_path / "mine"
    (extracted / "info").mkdir(parents=True)
    (extracted / "lib.txt").write_text("first\n", encoding="utf-8")
    verify.place_entry(cache, extracted, entry, sha)
    assert (entry / "lib.txt").stat().st_ino == inode  # the same files, never removed
    assert verify.is_verified(entry, sha)
    assert not extracted.exists()


def test_ctrl_c_while_condauv_starts_says_interrupted(tmp_path: Path) -> None:
    """A real SIGINT delivered while the CLI's modules are imported: no traceback, exit 130."""
    script = (
        "import builtins, os, signal\n"
        "real = builtins.__import__\n"
        "def hooked(name, *args, **kwargs):\n"
        "    if name == 'condauv.cli.app':\n"
        "        builtins.__import__ = real\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "    return real(name, *args, **kwargs)\n"
        "builtins.__import__ = hooked\n"
        "from condauv.__main__ import entrypoint\n"
        "entrypoint()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "check"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "CONDAUV_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip() == "error: interrupted"
