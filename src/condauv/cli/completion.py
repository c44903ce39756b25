"""Shell completion scripts for bash, zsh and fish, written from condauv's own argparse parser
(``condauv.cli.app.build_parser``), so that they never drift from the commands.

The scripts are static: completing runs no Python (argcomplete's hook would start condauv on
every Tab). Commands and their actions (``channel from-wheels``, ``cache clean``), options,
choices, and file or folder names for path arguments are completed.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

__all__ = ["Command", "script", "tree"]

#: What a value is completed with: nothing, file names, folder names, or fixed words.
Kind = Literal["none", "file", "dir", "choices"]


@dataclass(frozen=True, slots=True)
class Value:
    kind: Kind
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Option:
    flags: tuple[str, ...]
    help: str
    value: Value | None  # None: a flag that takes no value
    repeat: bool
    name: str = ""  # what its value is called (its metavar)


@dataclass(slots=True)
class Command:
    path: tuple[str, ...]  # () for condauv itself, ("cache", "clean") for an action
    help: str
    options: list[Option] = field(default_factory=list)
    positional: Value | None = None  # what its arguments are (the first positional's kind)
    remainder: bool = False  # takes a whole command line (`condauv run -- CMD...`)
    subcommands: dict[str, Command] = field(default_factory=dict)

    def walk(self) -> list[Command]:
        return [self, *(c for sub in self.subcommands.values() for c in sub.walk())]


_DIR_METAVARS = {"DIR", "PREFIX", "FOLDER"}
_DIR_DESTS = {"prefix", "directory", "dir"}


def _value(action: argparse.Action) -> Value:
    choices = action.choices or getattr(action.type, "choices", None)
    if choices:
        return Value("choices", tuple(str(c) for c in choices))
    metavar = action.metavar if isinstance(action.metavar, str) else ""
    from condauv.cli.app import path_argument  # the type of --manifest and --prefix

    path_types = (Path, path_argument)
    is_path = action.type in path_types or metavar in {"FILE", "PATH", "WHEEL", "BUNDLE", *_DIR_METAVARS}
    if metavar in _DIR_METAVARS or (is_path and action.dest in _DIR_DESTS):
        return Value("dir")
    return Value("file") if is_path else Value("none")


def _help(text: str | None) -> str:
    """A help text cut for a completion menu: one line, at most 80 characters, at a word."""
    if not text or text == argparse.SUPPRESS:
        return ""
    text = " ".join(text.replace("%(default)s", "").replace("%%", "%").split())
    if len(text) <= 80:
        return text
    return text[:79].rsplit(" ", 1)[0].rstrip(",;:(") + "…"


def tree(parser: argparse.ArgumentParser, path: tuple[str, ...] = (), help_text: str = "") -> Command:
    """condauv's commands as completion sees them, from the parser itself."""
    command = Command(path, help_text or _help(parser.description))
    for action in parser._actions:  # argparse has no public walk of its actions
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: _help(a.help) for a in action._choices_actions}
            for name, sub in action.choices.items():
                command.subcommands[name] = tree(sub, (*path, name), helps.get(name, ""))
        elif action.option_strings:
            if action.help == argparse.SUPPRESS:
                continue
            takes = action.nargs != 0
            repeat = isinstance(action, argparse._AppendAction | argparse._CountAction)
            name = action.metavar if isinstance(action.metavar, str) else action.dest.replace("_", "-")
            value = _value(action) if takes else None
            command.options.append(
                Option(tuple(action.option_strings), _help(action.help), value, repeat, name)
            )
        elif action.nargs == argparse.REMAINDER:
            command.remainder = True
        elif command.positional is None:
            command.positional = _value(action)
    return command


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script of ``shell`` (bash, zsh or fish) for ``parser``."""
    root = tree(parser)
    prog = parser.prog
    return {"bash": _bash, "zsh": _zsh, "fish": _fish}[shell](root, prog)


def _func(prog: str) -> str:
    return "_" + re.sub(r"[^A-Za-z0-9_]", "_", prog)


def _key(command: Command) -> str:
    return " ".join(command.path)


# -- bash ----------------------------------------------------------------------------------------

_BASH_BODY = r"""
# bash completion for {prog}, written by `{prog} completion bash` from {prog}'s own parser.
# Load it with: eval "$({prog} completion bash)"   (e.g. in ~/.bashrc)

{f}() {{
    local cur="${{COMP_WORDS[COMP_CWORD]}}" prev="" path="" word i skip=0
    (( COMP_CWORD > 0 )) && prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    if [[ "$prev" == "=" ]] && (( COMP_CWORD > 1 )); then
        prev="${{COMP_WORDS[COMP_CWORD-2]}}"
    elif [[ "$cur" == "=" ]]; then
        prev="${{COMP_WORDS[COMP_CWORD-1]}}"; cur=""
    fi
    local dashdash=0 rest=0
    for (( i = 1; i < COMP_CWORD; i++ )); do
        word="${{COMP_WORDS[i]}}"
        if (( skip )); then skip=0; continue; fi
        if {f}_takes_command "$path"; then
            if (( dashdash )) || [[ "$word" != -* ]]; then rest=1; break; fi
            if [[ "$word" == "--" ]]; then dashdash=1; continue; fi
        fi
        case "$word" in
            -*=*|=) ;;
            -*) [[ -n "$({f}_value "$path" "$word")" ]] && skip=1 ;;
            *) if [[ " $({f}_subcommands "$path") " == *" $word "* ]]; then
                   path="${{path:+$path }}$word"
               fi ;;
        esac
    done
    if {f}_takes_command "$path"; then
        if (( rest )); then {f}_complete file "$cur"; return 0; fi
        if (( dashdash )) || [[ "$cur" != -* ]]; then {f}_complete command "$cur"; return 0; fi
    fi
    local kind
    if [[ "$prev" == -* && "$prev" != "--" ]]; then
        kind="$({f}_value "$path" "$prev")"
        if [[ -n "$kind" ]]; then {f}_complete "$kind" "$cur"; return 0; fi
    fi
    if [[ "$cur" == -* ]]; then
        {f}_complete "words $({f}_options "$path")" "$cur"
        return 0
    fi
    local subs
    subs="$({f}_subcommands "$path")"
    if [[ -n "$subs" ]]; then
        {f}_complete "words $subs" "$cur"
    else
        {f}_complete "$({f}_positional "$path")" "$cur"
    fi
}}

{f}_complete() {{
    local IFS=$'\n'
    case "$1" in
        file|dir)  # compgen -f or -d; names with spaces stay whole (IFS), quoted by readline
            type compopt &>/dev/null && compopt -o filenames 2>/dev/null
            COMPREPLY=($(compgen "-${{1:0:1}}" -- "$2")) ;;
        command) COMPREPLY=($(compgen -c -- "$2")) ;;
        words\ *) IFS=$' \t\n'; COMPREPLY=($(compgen -W "${{1#words }}" -- "$2")) ;;
        *) COMPREPLY=() ;;
    esac
}}
"""


def _bash_case(name: str, f: str, arms: list[tuple[str, str]], args: str) -> str:
    lines = [f"{f}_{name}() {{", f"    case {args} in"]
    lines += [f"        {pattern}) echo {answer} ;;" for pattern, answer in arms]
    lines += ["    esac", "}"]
    return "\n".join(lines)


def _bash_status(name: str, f: str, patterns: list[str]) -> str:
    arms = [f"        {pattern}) return 0 ;;" for pattern in patterns]
    return "\n".join([f"{f}_{name}() {{", '    case "$1" in', *arms, "    esac", "    return 1", "}"])


def _bash_word(kind: Value) -> str:
    if kind.kind == "choices":
        return _sh_quote("words " + " ".join(kind.choices))
    return "none" if kind.kind == "none" else kind.kind


def _sh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _bash(root: Command, prog: str) -> str:
    f = _func(prog)
    commands = root.walk()
    subs = [(_sh_quote(_key(c)), _sh_quote(" ".join(c.subcommands))) for c in commands if c.subcommands]
    options = [
        (_sh_quote(_key(c)), _sh_quote(" ".join(f for o in c.options for f in o.flags))) for c in commands
    ]
    values = [
        (f"{_sh_quote(_key(c))}:{_sh_quote(flag)}", _bash_word(o.value))
        for c in commands
        for o in c.options
        if o.value is not None
        for flag in o.flags
    ]
    positional = [(_sh_quote(_key(c)), _bash_word(c.positional)) for c in commands if c.positional]
    takes = [(_sh_quote(_key(c)), "") for c in commands if c.remainder]
    parts = [
        _BASH_BODY.format(prog=prog, f=f).strip("\n"),
        _bash_case("subcommands", f, subs, '"$1"'),
        _bash_case("options", f, options, '"$1"'),
        _bash_case("value", f, values, '"$1:${2%%=*}"'),
        _bash_case("positional", f, positional, '"$1"'),
        _bash_status("takes_command", f, [p for p, _ in takes]),
        f"complete -F {f} {prog}",
    ]
    return "\n\n".join(parts) + "\n"


# -- zsh -----------------------------------------------------------------------------------------


_CONTINUED = " \\"


def _zsh_escape(text: str) -> str:
    """Text inside a single-quoted ``_arguments`` spec: brackets and colons escaped."""
    text = text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    return text.replace("'", "'\\''")


def _zsh_action(value: Value) -> str:
    if value.kind == "file":
        return "_files"
    if value.kind == "dir":
        return "_files -/"
    if value.kind == "choices":
        return "(" + " ".join(value.choices) + ")"
    return " "


def _zsh_option(option: Option) -> str:
    help_text = _zsh_escape(option.help)
    value = "" if option.value is None else f":{option.name.replace(':', '')}:{_zsh_action(option.value)}"
    star = "*" if option.repeat else ""
    if len(option.flags) == 1:
        return f"'{star}{option.flags[0]}[{help_text}]{value}'"
    exclusive = "" if option.repeat else "(" + " ".join(option.flags) + ")"
    return f"'{exclusive}{star}'{{{','.join(option.flags)}}}'[{help_text}]{value}'"


def _zsh_function(command: Command, f: str) -> str:
    name = f + "".join("_" + re.sub(r"[^A-Za-z0-9]", "_", p) for p in command.path)
    specs = [_zsh_option(o) for o in command.options]
    body = [f"{name}() {{"]
    if command.subcommands:
        entries = " ".join(
            _sh_quote(sub.replace(":", "\\:") + ":" + c.help) for sub, c in command.subcommands.items()
        )
        body += [
            '    local curcontext="$curcontext" state line',
            "    local -a subcommands",
            f"    subcommands=({entries})",
            "    _arguments -C \\",
            *(f"        {spec} \\" for spec in specs),
            "        '1: :->subcommand' \\",
            "        '*:: :->args'",
            "    case $state in",
            "        subcommand) _describe -t commands 'command' subcommands ;;",
            "        args)",
            "            case $words[1] in",
            *(
                f"                {_sh_quote(sub)}) {name}_{re.sub(r'[^A-Za-z0-9]', '_', sub)} ;;"
                for sub in command.subcommands
            ),
            "            esac ;;",
            "    esac",
        ]
    else:
        if command.remainder:
            rest = ["'*::command:_normal'"]
        elif command.positional is not None:
            rest = [f"'*:argument:{_zsh_action(command.positional)}'"]
        else:
            rest = []
        lines = [*specs, *rest]
        body.append("    _arguments -s" + _CONTINUED if lines else "    _arguments")
        body += [f"        {spec}{_CONTINUED if i < len(lines) - 1 else ''}" for i, spec in enumerate(lines)]
    body.append("}")
    return "\n".join(body)


def _zsh(root: Command, prog: str) -> str:
    f = _func(prog)
    header = [
        f"#compdef {prog}",
        f"# zsh completion for {prog}, written by `{prog} completion zsh` from {prog}'s own parser.",
        f'# Load it with: eval "$({prog} completion zsh)" after compinit, or save it as _{prog} in $fpath.',
    ]
    functions = [_zsh_function(c, f) for c in root.walk()]
    footer = f'if [[ "$funcstack[1]" == "{f}" ]]; then\n    {f} "$@"\nelse\n    compdef {f} {prog}\nfi'
    return "\n".join(header) + "\n\n" + "\n\n".join(functions) + "\n\n" + footer + "\n"


# -- fish ----------------------------------------------------------------------------------------


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fish(root: Command, prog: str) -> str:
    f = "__" + re.sub(r"[^A-Za-z0-9_]", "_", prog)
    commands = root.walk()
    lines = [
        f"# fish completion for {prog}, written by `{prog} completion fish` from {prog}'s own parser.",
        f"# Load it with: {prog} completion fish | source   (or save it in ~/.config/fish/completions/)",
        "",
        f"function {f}_subcommands",
        '    switch "$argv"',
        *(
            f"        case {_fish_quote(_key(c))}\n            printf '%s\\n' {' '.join(c.subcommands)}"
            for c in commands
            if c.subcommands
        ),
        "    end",
        "end",
        "",
        "# the command path so far: '', 'cache', 'cache clean'",
        f"function {f}_path",
        "    set -l path",
        "    set -l words (commandline -opc)",
        "    set -e words[1]",
        "    for word in $words",
        "        string match -q -- '-*' $word; and continue",
        f"        if contains -- $word ({f}_subcommands $path)",
        "            set path $path $word",
        "        end",
        "    end",
        "    echo $path",
        "end",
        "",
        f"function {f}_at",
        f"    set -l path ({f}_path)",
        '    test "$path" = "$argv"',
        "end",
        "",
        f"complete -c {prog} -f",
    ]
    for command in commands:
        at = f"-n {_fish_quote(f'{f}_at ' + _key(command))}"
        for sub, child in command.subcommands.items():
            lines.append(f"complete -c {prog} {at} -a {_fish_quote(sub)} -d {_fish_quote(child.help)}")
        for option in command.options:
            flags = " ".join(
                f"-l {flag[2:]}" if flag.startswith("--") else f"-s {flag[1:]}" for flag in option.flags
            )
            value = "" if option.value is None else " " + _fish_value(option.value)
            lines.append(f"complete -c {prog} {at} {flags}{value} -d {_fish_quote(option.help)}")
        if command.positional is not None and command.positional.kind != "none":
            lines.append(f"complete -c {prog} {at} {_fish_value(command.positional)}")
        if command.remainder:
            lines.append(f"complete -c {prog} {at} -a '(__fish_complete_subcommand --fcs-skip=2)'")
    return "\n".join(lines) + "\n"


def _fish_value(value: Value) -> str:
    if value.kind == "file":
        return "-r -F"
    if value.kind == "dir":
        return "-r -f -a '(__fish_complete_directories)'"
    if value.kind == "choices":
        return "-r -f -a " + _fish_quote(" ".join(value.choices))
    return "-r"
