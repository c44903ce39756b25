"""``condauv shell``: $SHELL in the activated environment, run as a person runs it (a real
process, its stdin a script or a pseudo-terminal), over a project synced by rattler and uv."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from condauv.__main__ import main
from tests.clirunner import CLI, chdir

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory, conda_channel: Path) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("shell") / "proj"
    folder.mkdir()
    with chdir(folder):
        assert main(["init", "--channel", conda_channel.as_uri(), "-q"]) == 0
        assert main(["add", "numpy", "-q"]) == 0
    yield folder


def _env(home: Path, shell: str = "/bin/bash") -> dict[str, str]:
    """A clean HOME (no rc files of the machine's user), the test session's caches."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONDA_", "PS1"))}
    return {**env, "SHELL": shell, "HOME": str(home), "TERM": "dumb"}


def test_a_script_on_stdin_runs_activated_and_its_status_is_returned(synced: Path, tmp_path: Path) -> None:
    script = 'echo "prefix=$CONDA_PREFIX"\npython -c "import sys; print(\'sys=\' + sys.prefix)"\nexit 3\n'
    done = subprocess.run(
        [sys.executable, "-m", "condauv", "shell"],
        input=script,
        check=False,
        capture_output=True,
        text=True,
        cwd=synced,
        env=_env(tmp_path),
        timeout=60,
    )
    prefix = (synced / ".condauv" / "env").resolve()
    assert done.returncode == 3, done.stderr
    assert f"prefix={prefix}" in done.stdout.splitlines()
    assert f"sys={prefix}" in done.stdout.splitlines()


def test_an_interactive_session_under_a_pseudo_terminal(synced: Path, tmp_path: Path) -> None:
    (tmp_path / ".bashrc").write_text('export FROM_BASHRC=yes\nexport PATH="/nowhere:$PATH"\n')
    pid, master = pty.fork()
    if pid == 0:  # the child: condauv shell on the terminal's slave side
        os.chdir(synced)
        os.execve(sys.executable, [sys.executable, "-m", "condauv", "shell"], _env(tmp_path))  # noqa: S606
    os.write(master, b'echo "got:$CONDAUV_SHELL:$FROM_BASHRC:$(command -v python)"\nexit 4\n')
    output = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1)
        if not ready:
            continue
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the terminal closed: the shell is gone
            break
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    os.close(master)
    text = output.decode(errors="replace")
    python = synced / ".condauv" / "env" / "bin" / "python"
    assert os.waitstatus_to_exitcode(status) == 4, text
    # the user's ~/.bashrc ran, then the activation (the prefix's bin first, after the rc's PATH)
    assert f"got:proj:yes:{python}" in text
    assert "(proj) " in text  # the prompt names the environment


def test_no_environment_and_no_shell_are_refused(cli: CLI, synced: Path, tmp_path: Path) -> None:
    result = cli("shell", "--no-sync", "--prefix", tmp_path / "none", cwd=synced)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no environment at ")
    saved = os.environ.get("SHELL")
    os.environ["SHELL"] = str(tmp_path / "no-such-shell")
    try:
        result = cli("shell", "--no-sync", cwd=synced)
    finally:
        if saved is None:
            os.environ.pop("SHELL")
        else:
            os.environ["SHELL"] = saved
    assert result.exit_code == 2
    assert "no-such-shell" in result.stderr.splitlines()[0]
    assert result.stderr.splitlines()[1].startswith("hint: ")
