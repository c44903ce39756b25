"""``condauv run`` and ``condauv shell``: a command, or the user's shell, inside the activated
environment (rattler writes the activation; condauv keeps what it wrote, see
:func:`activation_script`)."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from condauv import _process
from condauv.errors import UserError

__all__ = ["activated_argv", "activation_script", "run_in_prefix", "run_kept", "shell_in_prefix"]


def activated_argv(
    prefix: Path, command: Sequence[str], *, label: str, then: str = 'exec "$@"', script: str | None = None
) -> list[str] | None:
    """``command`` wrapped to run with ``prefix`` activated: the activation ``script`` (default
    :func:`activation_script`) first, then (``then``) ``exec`` hands the process over to the
    command. ``None`` where there is no bash."""
    bash = shutil.which("bash")
    if bash is None:
        return None
    script = activation_script(prefix) if script is None else script
    return [bash, "--noprofile", "--norc", "-c", f"{script}\n{then}", label, *command]


def activation_script(prefix: Path, shell: str = "bash") -> str:
    """The script that activates ``prefix`` in ``shell`` (``bash``, ``zsh`` or ``fish``), as
    rattler writes it, kept in condauv's cache: importing rattler (and asyncio) to write it
    again cost ``condauv run`` about 0.1 s at every start.

    A kept script is used only where everything rattler read to write it is as it was: the
    shell, the prefix, ``PATH`` and the ``CONDA_*`` variables, and for the prefix and the
    environment active now (``CONDA_PREFIX``, whose deactivation comes first) the entries of
    ``etc/conda/{activate,deactivate,env_vars}.d`` and ``conda-meta/state`` (their names and
    ``stat``): the scripts there are sourced by path, the variables copied in. Anything else,
    or a kept file that cannot be read: rattler writes it again."""
    from condauv.conda import activation

    key = activation.key(prefix, shell)
    kept = activation.kept(key)
    if kept is not None:
        return kept
    script = activation.write(prefix, shell)
    activation.keep(key, script)
    return script


def run_kept(prefix: Path, command: Sequence[str]) -> int | None:
    """:func:`run_in_prefix` at its cheapest, for a prefix whose stamp was just proved: only
    where the activation is kept (:func:`activation_script`) and ``command`` names a program
    on the prefix's ``bin`` or the ``PATH`` that would start; otherwise ``None`` (nothing was
    run: :func:`run_in_prefix` then decides, and explains what cannot start)."""
    from condauv.conda import activation

    script = activation.kept(activation.key(prefix, "bash"))
    if script is None or not command or os.sep in command[0]:
        return None
    found = shutil.which(command[0], path=_activated_path(prefix))
    interpreter = _interpreter(Path(found)) if found is not None else None
    if found is None or (interpreter is not None and _locate(prefix, interpreter, probe=False) is None):
        return None
    argv = activated_argv(prefix, command, label="condauv-run", script=script)
    return None if argv is None else _process.call(argv, what="condauv run")


def run_in_prefix(prefix: Path, command: Sequence[str]) -> int:
    """Run ``command`` with ``prefix`` activated (PATH, CONDA_PREFIX, activate.d scripts)."""
    if not command:
        raise UserError("no command to run", hint="write it after --, e.g. condauv run -- python -V")
    if not (prefix / "conda-meta").is_dir():
        raise UserError(f"no environment at {prefix}", hint="run `condauv sync` first")
    argv = activated_argv(prefix, command, label="condauv-run")
    if argv is None:
        raise UserError("condauv run needs bash to apply the activation", hint="install bash")
    _check_startable(prefix, command[0])
    return _process.call(argv, what="condauv run")  # the command's own status, 127 included


def _check_startable(prefix: Path, name: str) -> None:
    """Raise a :class:`UserError` where bash's ``exec`` of ``name`` would fail (its message
    would follow ours, and its 126/127 read like the command's own status): a name that is
    not a program on the activated PATH (a builtin such as ``cd`` is not), a file that is not
    executable, a script whose ``#!`` interpreter is missing."""
    program = _locate(prefix, name)
    if program is None:
        raise UserError(
            f"command not found in the environment: {name}", hint="check the name, or add the package"
        )
    if program.is_dir():
        raise UserError(f"cannot run {name}: it is a folder", hint="name a program in it")
    if not os.access(program, os.X_OK):
        raise UserError(
            f"cannot run {name}: it is not executable",
            hint=f"chmod +x {name}, or name its interpreter first: condauv run -- python {name}",
        )
    interpreter = _interpreter(program)
    if interpreter is not None and _locate(prefix, interpreter) is None:
        raise UserError(
            f"cannot run {name}: its interpreter {interpreter} is not in the environment",
            hint=f"fix the #! line of {program}, or add the package that provides {interpreter}",
        )


def _locate(prefix: Path, name: str, *, probe: bool = True) -> Path | None:
    """The file the activated environment would start for ``name``: a path as it is (if it
    exists); a bare name on the activated PATH (the prefix's ``bin`` first), and, only if that
    fails and ``probe``, as bash finds it after the activation (``activate.d`` scripts may
    extend PATH)."""
    if os.sep in name:
        return Path(name) if Path(name).exists() else None
    found = shutil.which(name, path=_activated_path(prefix))
    if found:
        return Path(found)
    if not probe:
        return None
    # ``type -P``: a program file only; ``command -v`` also answers for builtins and keywords
    argv = activated_argv(prefix, [name], label="condauv-run", then='type -P -- "$1"')
    if argv is None:
        return None
    done = _process.run(argv, what="condauv run looks up the command", check=False)
    lines = done.stdout.strip().splitlines()
    return Path(lines[-1]) if done.returncode == 0 and lines else None


def _activated_path(prefix: Path) -> str:
    """``PATH`` as the activation starts it: the prefix's ``bin`` first."""
    return os.pathsep.join([str(prefix / "bin"), os.environ.get("PATH", "")])


def _interpreter(program: Path) -> str | None:
    """The program a ``#!`` script needs: the interpreter's path, or for ``#!/usr/bin/env NAME``
    the NAME that env looks up; ``None`` for a binary, a script without ``#!`` (bash runs it
    itself) or one that cannot be read (the kernel has the last word)."""
    try:
        with program.open("rb") as handle:
            head = handle.readline(256)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    words = head[2:].decode("utf-8", errors="replace").split()
    if not words:
        return None
    if Path(words[0]).name == "env" and Path(words[0]).is_file():
        names = [word for word in words[1:] if not word.startswith("-") and "=" not in word]
        return names[0] if names else None
    return words[0]


def shell_in_prefix(prefix: Path, *, name: str, shell: str | None = None) -> int:
    """Start ``shell`` (default ``$SHELL``, else ``/bin/sh``) with ``prefix`` activated; its
    exit status. On a terminal, bash and zsh read the user's rc file first and the activation
    after it (as ``pixi shell`` does: a ``conda activate base`` there does not win), and the
    prompt starts with ``(name)``; fish gets the activation as ``--init-command``. Otherwise (a
    script on stdin) the shell reads stdin in the activated environment. ``CONDAUV_SHELL`` holds
    ``name`` inside, for the user's prompt or to see a nested shell."""
    if not (prefix / "conda-meta").is_dir():
        raise UserError(f"no environment at {prefix}", hint="run `condauv sync` first")
    program = shell or os.environ.get("SHELL") or "/bin/sh"
    found = shutil.which(program)
    if found is None:
        raise UserError(
            f"cannot start the shell {program!r:.200}: no such program",
            hint="set SHELL to a shell that exists (e.g. SHELL=/bin/bash)",
        )
    kind = _shell_kind(found)
    label = _prompt_name(name)
    env = {"CONDAUV_SHELL": label}
    from condauv import _fs

    with _fs.scratch_dir("condauv-shell-") as folder:
        if not os.isatty(0):  # a script on stdin (or none): the shell reads it as it is
            argv = activated_argv(prefix, [found], label="condauv-shell")
        elif kind == "bash":
            rc = folder / "bashrc"
            rc.write_text(_rc(prefix, "bash", "~/.bashrc", label), encoding="utf-8")
            argv = [found, "--rcfile", str(rc), "-i"]
        elif kind == "zsh":
            argv, env = [found, "-i"], {**env, **_zdotdir(prefix, folder, label)}
        elif kind == "fish":
            rc = folder / "activate.fish"
            rc.write_text(activation_script(prefix, "fish"), encoding="utf-8")
            argv = [found, "--init-command", f"source {shlex.quote(str(rc))}"]
        else:  # sh, dash, ksh...: the activated environment, the prompt through PS1
            then = f'export PS1={shlex.quote(f"({label}) ")}"${{PS1:-$ }}"; exec "$@"'
            argv = activated_argv(prefix, [found, "-i"], label="condauv-shell", then=then)
        if argv is None:
            raise UserError("condauv shell needs bash to apply the activation", hint="install bash")
        with _interrupts_go_to_the_shell():
            return _process.call(argv, what="condauv shell", env=env)


def _shell_kind(path: str) -> str:
    name = Path(path).name.lstrip("-")
    return next((kind for kind in ("bash", "zsh", "fish") if name.startswith(kind)), "posix")


def _prompt_name(name: str) -> str:
    """The environment's name as the prompt shows it: characters no prompt expands (a manifest
    may name it anything; bash expands ``$(...)`` in PS1 at every prompt)."""
    return re.sub(r"[^A-Za-z0-9._+-]", "", name)[:40] or "condauv"


def _rc(prefix: Path, shell: str, user_rc: str, label: str) -> str:
    """The user's rc file (if any), then the activation, then the prompt's marker."""
    rc = f"if [ -f {user_rc} ]; then . {user_rc}; fi\n" if user_rc else ""
    prompt = f'PS1={shlex.quote(f"({label}) ")}"${{PS1-}}"\n'
    return f"{rc}{activation_script(prefix, shell)}\n{prompt}"


def _zdotdir(prefix: Path, folder: Path, label: str) -> dict[str, str]:
    """zsh reads ``$ZDOTDIR/.zshenv`` and ``.zshrc``: ours read the user's, put ZDOTDIR back,
    then activate."""
    user = os.environ.get("ZDOTDIR") or str(Path.home())
    restore = f"ZDOTDIR={shlex.quote(os.environ['ZDOTDIR'])}" if "ZDOTDIR" in os.environ else "unset ZDOTDIR"
    home = shlex.quote(user)
    zshenv = f"if [ -f {home}/.zshenv ]; then . {home}/.zshenv; fi\n"
    (folder / ".zshenv").write_text(zshenv, encoding="utf-8")
    rc = _rc(prefix, "zsh", f"{home}/.zshrc", label)
    (folder / ".zshrc").write_text(f"{restore}\n{rc}", encoding="utf-8")
    return {"ZDOTDIR": str(folder)}


@contextlib.contextmanager
def _interrupts_go_to_the_shell() -> Iterator[None]:
    """Ctrl-C belongs to the shell: condauv, waiting for it, must not die of it (a handler that
    does nothing, not SIG_IGN, which the shell would inherit)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: None)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
