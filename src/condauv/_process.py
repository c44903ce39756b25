"""The one way condauv runs an external program: logged, captured, and explained on failure."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from condauv.errors import ProcessError

__all__ = ["Completed", "mask", "run", "strip_credentials"]

#: The user info of a URL (``scheme://user:token@``): up to the LAST ``@`` before the authority
#: ends, as urlsplit and uv (WHATWG) read it: a password may hold a raw ``@``.
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^\s/?#'\"<>]*@")
#: An anaconda.org-style channel token in a URL's path (``https://host/t/<TOKEN>/channel``), which
#: conda and rattler send as the credential; conda itself leaves it out of what it exports.
_TOKEN = re.compile(r"(?P<base>[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#'\"<>]+)/t/[^\s/?#'\"<>]+(?=/)")


class Completed:
    """What a finished program left behind (a plain class, not a dataclass: importing
    dataclasses, and inspect with it, cost ``condauv run`` 10 ms at every start)."""

    __slots__ = ("command", "returncode", "stderr", "stdout", "timed_out")

    def __init__(
        self, command: list[str], returncode: int, stdout: str, stderr: str, *, timed_out: bool = False
    ) -> None:
        self.command = command
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.timed_out = timed_out  # killed after ``timeout`` seconds (only seen with ``check=False``)

    def __repr__(self) -> str:
        return f"Completed(command={self.command!r}, returncode={self.returncode!r})"


def _debug(message: str, *args: object) -> None:
    """A debug line of ``condauv.process``, where logging is loaded (the CLI loads and configures
    it before any command that runs a program; ``condauv run``'s quickest path does not)."""
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.getLogger("condauv.process").debug(message, *args)


def mask(text: str) -> str:
    """``text`` with the credentials of every URL in it hidden (``https://****@host``,
    ``https://host/t/****/channel``): for commands, program output and messages, which may quote
    an index or channel URL."""
    text = _USERINFO.sub(r"\g<scheme>****@", text) if "@" in text else text
    return _TOKEN.sub(r"\g<base>/t/****", text) if "/t/" in text else text


def strip_credentials(text: str) -> str:
    """``text`` with the user info and channel tokens of every URL in it removed
    (``https://host``, ``https://host/channel``): for copies of files that may hold credentials,
    written where other people read them."""
    text = _USERINFO.sub(r"\g<scheme>", text) if "@" in text else text
    return _TOKEN.sub(r"\g<base>", text) if "/t/" in text else text


def describe(command: Sequence[str | os.PathLike[str]]) -> str:
    """A command as a person would type it, with secrets masked."""
    return shlex.join(mask(os.fspath(part)) for part in command)


def run(
    command: Sequence[str | os.PathLike[str]],
    *,
    what: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    hint: str | None = None,
    timeout: float | None = None,
    inherit_env: bool = True,
    own_group: bool = False,
) -> Completed:
    """Run ``command``, capture its output, and raise :class:`ProcessError` when it fails.

    ``what`` names the step for a person ("uv resolves the PyPI side"); it starts the error
    message. ``env`` entries are added to the current environment, or replace it whole with
    ``inherit_env=False`` (a clean, activated environment). A program still running after
    ``timeout`` seconds is killed: an error with ``check``, else ``Completed.timed_out``.
    ``own_group``: the program runs in a process group of its own, which a Ctrl-C (or any
    exception) in this process kills whole, children included, before it propagates: nothing
    started here still writes after the caller has moved on (``condauv bench`` then removes
    the folders they wrote in).
    """
    argv = [os.fspath(part) for part in command]
    _debug("running: %s", describe(argv))
    full_env = None if env is None else {**os.environ, **env} if inherit_env else dict(env)
    try:
        if own_group:
            proc = _run_in_group(argv, cwd=cwd, env=full_env, timeout=timeout)
        else:
            proc = subprocess.run(
                argv, cwd=cwd, env=full_env, capture_output=True, text=True, check=False, timeout=timeout
            )
    except subprocess.TimeoutExpired as exc:
        stdout, stderr = _text(exc.stdout), _text(exc.stderr)
        if check:
            raise ProcessError(
                f"{what} timed out after {timeout:g} s",
                command=argv,
                returncode=-9,
                stdout=stdout,
                stderr=stderr,
                hint=hint or "add -v to see the full command",
            ) from exc
        return Completed(argv, -9, stdout, stderr, timed_out=True)
    except FileNotFoundError as exc:
        raise ProcessError(
            f"{what}: cannot run {argv[0]!r} ({exc.strerror})",
            command=argv,
            returncode=127,
            hint=hint or f"install {Path(argv[0]).name} or put it on PATH",
        ) from exc
    completed = Completed(argv, proc.returncode, proc.stdout, proc.stderr)
    if proc.stderr:
        _debug("stderr of %s:\n%s", Path(argv[0]).name, mask(proc.stderr.rstrip()))
    if check and proc.returncode != 0:
        raise ProcessError(
            f"{what} failed (exit {proc.returncode}): {mask(last_line(proc.stderr or proc.stdout))}",
            command=argv,
            returncode=proc.returncode,
            stdout=mask(proc.stdout),
            stderr=mask(proc.stderr),
            hint=hint or "add -v to see the full command and its output",
        )
    return completed


def _run_in_group(
    argv: list[str], *, cwd: Path | None, env: dict[str, str] | None, timeout: float | None
) -> subprocess.CompletedProcess[str]:
    """``subprocess.run`` in a new session; on a timeout, Ctrl-C or any other exception the
    whole group is killed and waited for (its last member gone) before the exception goes on."""
    with subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except BaseException:
            _kill_group(process)
            raise
        return subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)


def _kill_group(process: subprocess.Popen[str]) -> None:
    """SIGKILL ``process``'s group, reap ``process``, and wait (up to 10 s) until no member of
    the group is left (a grandchild is reaped by whoever inherited it)."""
    import signal
    import time

    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 10
    while _group_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.02)


def _group_alive(group: int) -> bool:
    """Whether a process of ``group`` still runs: zombies do not count (a container's init may
    never reap them); from ``/proc`` where there is one, else by ``killpg(group, 0)``."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        try:
            os.killpg(group, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True
    for stat in proc.glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text(encoding="ascii", errors="replace").rpartition(")")[2].split()
            if int(fields[2]) == group and fields[0] != "Z":  # state, ppid, pgrp
                return True
    return False


def _text(output: str | bytes | None) -> str:
    """Output captured before a timeout (bytes on some platforms even in text mode)."""
    if isinstance(output, bytes):
        return output.decode("utf-8", errors="replace")
    return output or ""


def last_line(text: str) -> str:
    """The last non-empty line of a program's output: usually the one that says what went wrong."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def call(
    command: Sequence[str | os.PathLike[str]], *, what: str, env: Mapping[str, str] | None = None
) -> int:
    """Run ``command`` attached to this terminal (stdin/stdout/stderr passed through)."""
    argv = [os.fspath(part) for part in command]
    _debug("running (attached): %s", describe(argv))
    full_env = None if env is None else {**os.environ, **env}
    try:
        return subprocess.call(argv, env=full_env)
    except FileNotFoundError as exc:
        raise ProcessError(
            f"{what}: cannot run {argv[0]!r} ({exc.strerror})",
            command=argv,
            returncode=127,
            hint=f"install {Path(argv[0]).name} or put it on PATH",
        ) from exc
