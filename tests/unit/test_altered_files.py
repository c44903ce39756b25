"""The RECORD check after each ``uv pip install`` (condauv.sync.integrity.altered_files), on
dist-info folders written in ``tmp_path``: which folders are read, which files are judged."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from condauv.sync.integrity import altered_files

SITE = Path("lib/python3.11/site-packages")


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _install(prefix: Path, folder: str, files: dict[str, bytes], installer: str = "uv") -> Path:
    """A dist-info ``folder`` whose RECORD holds ``files`` (relative to site-packages) and the
    files an installer writes, as uv writes them."""
    site = prefix / SITE
    dist_info = site / folder
    dist_info.mkdir(parents=True)
    written = {
        f"{folder}/INSTALLER": f"{installer}\n".encode(),
        f"{folder}/REQUESTED": b"",
        f"{folder}/uv_cache.json": b"{}",
        f"{folder}/direct_url.json": b"{}",
    }
    lines = []
    for path, data in {**files, **written}.items():
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_bytes(data)
        lines.append(f"{path},sha256={_digest(data)},{len(data)}\n")
    (dist_info / "RECORD").write_text("".join(lines) + f"{folder}/RECORD,,\n")
    return site


def test_a_changed_or_missing_file_is_named_relative_to_the_prefix(tmp_path: Path) -> None:
    prefix = tmp_path / "env"
    site = _install(prefix, "six-1.17.0.dist-info", {"six.py": b"x = 1\n", "../../../bin/six": b"#!\n"})
    _install(prefix, "tqdm-4.66.5.dist-info", {"tqdm/__init__.py": b""})
    assert altered_files(prefix, "3.11.7", ["six", "tqdm"]) == {}
    (site / "six.py").write_bytes(b"x = 2\n")
    (prefix / "bin" / "six").unlink()
    found = altered_files(prefix, "3.11.7", ["six", "tqdm"])
    assert found == {"six": [str(SITE / "six.py"), str(Path("bin", "six"))]}


def test_only_the_wanted_distributions_are_judged_and_never_condas(tmp_path: Path) -> None:
    prefix = tmp_path / "env"
    site = _install(prefix, "six-1.17.0.dist-info", {"six.py": b"x = 1\n"})
    _install(prefix, "numpy-2.3.4.dist-info", {"numpy/__init__.py": b""}, installer="conda")
    (site / "six.py").write_bytes(b"changed")
    (site / "numpy" / "__init__.py").write_bytes(b"changed")
    assert altered_files(prefix, "3.11.7", ["numpy"]) == {}
    assert altered_files(prefix, "3.11.7", ["tqdm"]) == {}
    assert list(altered_files(prefix, "3.11.7", ["six", "numpy"])) == ["six"]
    assert altered_files(tmp_path / "nothing", "3.11.7", ["six"]) == {}


def test_what_the_installer_writes_afresh_is_not_hashed(tmp_path: Path) -> None:
    """INSTALLER, REQUESTED, direct_url.json and uv's uv_cache.json are written by the install
    itself, never linked from uv's cache: the check is about what the cache may have carried."""
    prefix = tmp_path / "env"
    site = _install(prefix, "six-1.17.0.dist-info", {"six.py": b"x = 1\n"})
    for name in ("REQUESTED", "uv_cache.json", "direct_url.json"):
        (site / "six-1.17.0.dist-info" / name).write_bytes(b"rewritten")
    assert altered_files(prefix, "3.11.7", ["six"]) == {}
    (site / "six.py").write_bytes(b"x = 2\n")
    assert altered_files(prefix, "3.11.7", ["six"]) == {"six": [str(SITE / "six.py")]}
