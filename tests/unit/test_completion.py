"""``condauv completion bash|zsh|fish``: scripts written from the real parser, run in the real
shells (bash always; zsh and fish where they are installed), completing real command lines."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from condauv.cli.app import build_parser
from condauv.cli.commands import COMMANDS
from condauv.cli.completion import script, tree
from tests.clirunner import CLI

_BASH_COMPLETE = """
source "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMPREPLY=()
_condauv
printf '%s\\n' "${COMPREPLY[@]}"
"""

#: zsh's completion system needs a terminal: a pty runs an interactive zsh, whose compadd is
#: wrapped to print each candidate (markers split so that the echoed input never matches).
_ZSH_CAPTURE = r"""
compadd () {
    if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return $?; fi
    typeset -a __hits
    builtin compadd -A __hits "$@"
    local r=$? h
    for h in $__hits; do print -r -- "<H""IT>$h"; done
    builtin compadd "$@"
    return r
}
comppostfuncs=(__done)
__done() { print -r -- "<DO""NE>"; }
bindkey '^I' complete-word
"""
_ZSH_COMPLETE = r"""
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PROMPT='>'"
zpty -w z "autoload -Uz compinit && compinit -u -D"
zpty -w z "source ${1}; source ${2}"
zpty -n -w z "${3}"$'\t'
while zpty -r z line; do
  print -r -- "$line"
  [[ $line == *'<DONE>'* ]] && break
done
zpty -d z
"""


def _write(tmp_path: Path, shell: str) -> Path:
    path = tmp_path / f"condauv.{shell}"
    path.write_text(script(build_parser(), shell), encoding="utf-8")
    return path


def _bash(completion: Path, *words: str, cwd: Path | None = None) -> list[str]:
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", _BASH_COMPLETE, "bash", str(completion), *words],
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,
        timeout=30,
    )
    return done.stdout.split()


def _zsh(completion: Path, line: str) -> list[str]:
    capture = completion.with_name("capture.zsh")
    capture.write_text(_ZSH_CAPTURE, encoding="utf-8")
    done = subprocess.run(
        ["zsh", "-f", "-c", _ZSH_COMPLETE, "zsh", str(completion), str(capture), line],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return sorted({hit.split("<", 1)[0].strip() for hit in done.stdout.split("<HIT>")[1:]})


def _fish(completion: Path, line: str) -> list[str]:
    done = subprocess.run(
        ["fish", "--no-config", "-c", f"source {completion}; complete -C {line!r}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return sorted(row.split("\t")[0] for row in done.stdout.splitlines())


def test_the_tree_is_the_parser() -> None:
    root = tree(build_parser())
    assert list(root.subcommands) == list(COMMANDS)
    assert set(root.subcommands["cache"].subcommands) == {"size", "clean", "dir"}
    export = root.subcommands["export"]
    fmt = next(o for o in export.options if "--format" in o.flags)
    assert fmt.value is not None and "pylock" in fmt.value.choices
    sync = root.subcommands["sync"]
    prefix = next(o for o in sync.options if "--prefix" in o.flags)
    manifest = next(o for o in sync.options if "--manifest" in o.flags)
    assert prefix.value is not None and prefix.value.kind == "dir"
    assert manifest.value is not None and manifest.value.kind == "file"
    assert root.subcommands["run"].remainder


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_every_command_is_in_every_script(shell: str) -> None:
    text = script(build_parser(), shell)
    for name in COMMANDS:
        assert name in text
    assert "--dry-run" in text and "environment-yml" in text


def test_bash_script_is_valid_and_completes(tmp_path: Path) -> None:
    completion = _write(tmp_path, "bash")
    subprocess.run(["bash", "-n", str(completion)], check=True)
    assert _bash(completion, "condauv", "sy") == ["sync"]
    assert _bash(completion, "condauv", "cache", "") == ["size", "clean", "dir"]
    assert _bash(completion, "condauv", "cache", "clean", "") == [
        "conda",
        "repodata",
        "pypi-simple",
        "uv",
        "tmp",
    ]
    assert _bash(completion, "condauv", "cache", "clean", "--d") == ["--dry-run"]
    assert "pylock" in _bash(completion, "condauv", "export", "--format", "")
    assert "pylock" in _bash(completion, "condauv", "export", "--format", "=", "")  # --format=<Tab>
    assert _bash(completion, "condauv", "completion", "") == ["bash", "zsh", "fish"]
    assert _bash(completion, "condauv", "init", "--name", "sync", "") == []  # a value, not a command


def test_bash_completes_paths_and_commands(tmp_path: Path) -> None:
    completion = _write(tmp_path, "bash")
    (tmp_path / "envs").mkdir()
    (tmp_path / "environment.yml").write_text("name: x\n")
    assert sorted(_bash(completion, "condauv", "init", "--from", "env", cwd=tmp_path)) == [
        "environment.yml",
        "envs",
    ]
    assert _bash(completion, "condauv", "sync", "--prefix", "env", cwd=tmp_path) == ["envs"]  # folders only
    assert "bash" in _bash(completion, "condauv", "run", "--", "bas")
    assert sorted(_bash(completion, "condauv", "run", "--", "bash", "env", cwd=tmp_path)) == [
        "environment.yml",
        "envs",
    ]


def _shell(name: str) -> None:
    """Skip where ``name`` is not installed, except where CI installed it (``.ci/run`` sets
    ``CONDAUV_TEST_SHELLS``): there a missing shell is a failure, not a silent skip."""
    if shutil.which(name) is None:
        if name in os.environ.get("CONDAUV_TEST_SHELLS", "").split(","):
            pytest.fail(f"{name} is not installed, though CONDAUV_TEST_SHELLS names it")
        pytest.skip(f"{name} is not installed")


def test_zsh_script_is_valid_and_completes(tmp_path: Path) -> None:
    _shell("zsh")
    completion = _write(tmp_path, "zsh")
    subprocess.run(["zsh", "-n", str(completion)], check=True)
    assert _zsh(completion, "condauv sy") == ["sync"]
    assert _zsh(completion, "condauv cache clean ") == ["conda", "pypi-simple", "repodata", "tmp", "uv"]
    assert _zsh(completion, "condauv sync --fr") == ["--frozen"]


def test_fish_script_is_valid_and_completes(tmp_path: Path) -> None:
    _shell("fish")
    completion = _write(tmp_path, "fish")
    subprocess.run(["fish", "--no-execute", str(completion)], check=True)
    assert _fish(completion, "condauv sy") == ["sync"]
    assert _fish(completion, "condauv cache ") == ["clean", "dir", "size"]
    assert _fish(completion, "condauv cache clean ") == ["conda", "pypi-simple", "repodata", "tmp", "uv"]
    assert _fish(completion, "condauv export --format ")[:2] == ["conda-lock", "environment-yml"]


def test_cli_prints_the_script(cli: CLI, tmp_path: Path) -> None:
    result = cli("completion", "bash", cwd=tmp_path)
    assert result.exit_code == 0 and result.stdout.rstrip().endswith("complete -F _condauv condauv")
    result = cli("completion", "tcsh", cwd=tmp_path)
    assert result.exit_code == 2 and result.stderr.startswith("error:") and "hint:" in result.stderr
