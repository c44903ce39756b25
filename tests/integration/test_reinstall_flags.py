"""uv's ``--reinstall`` implies ``--refresh`` of every package: a sync asks it only for the
distributions already in the prefix (``--reinstall-package``), so that a repair still replaces
what is there, and a new prefix pays for no refresh at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clirunner import CLI
from tests.helpers.wheels import write_wheel

pytestmark = pytest.mark.slow

ENV = Path(".condauv") / "env"


def _uv_install_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "running:" in line and " pip install " in line]


def test_only_installed_names_are_reinstalled(cli: CLI, tmp_path: Path, conda_channel: Path) -> None:
    links = tmp_path / "links"
    write_wheel(links, "reinstall-one", "1.0", modules={"reinstall_one": "WHICH = 'a'\n"})
    write_wheel(links, "reinstall-two", "1.0", modules={"reinstall_two": "WHICH = 'a'\n"})
    folder = tmp_path / "proj"
    folder.mkdir()
    assert cli("init", "--channel", conda_channel.as_uri(), cwd=folder).exit_code == 0
    with (folder / "condauv.toml").open("a", encoding="utf-8") as handle:
        handle.write(f'\n[pypi-options]\nfind-links = ["{links}"]\nno-index = true\n')
    assert (
        cli("add", "--no-sync", "--pypi", "reinstall-one==1.0", "reinstall-two==1.0", cwd=folder).exit_code
        == 0
    )

    fresh = cli("sync", "--frozen", "-vv", cwd=folder)
    assert fresh.exit_code == 0, fresh.stderr
    (line,) = _uv_install_lines(fresh.stderr)
    assert "--reinstall" not in line

    site = next((folder / ENV).glob("lib/python3.*/site-packages"))
    module = site / "reinstall_one" / "__init__.py"
    module.unlink()
    module.write_text("WHICH = 'tampered'\n", encoding="utf-8")  # a new inode: uv's cache is intact
    repaired = cli("sync", "--repair", "-vv", cwd=folder)
    assert repaired.exit_code == 0, repaired.stderr
    (line,) = _uv_install_lines(repaired.stderr)
    assert "--reinstall-package reinstall-one" in line
    assert "reinstall-two" not in line.split(" -r ")[0] and "--reinstall " not in line
    assert module.read_text(encoding="utf-8") == "WHICH = 'a'\n"
    assert cli("check", cwd=folder).exit_code == 0
