"""conda ``environment.yml`` files: name, channels, conda match specs and the ``pip:`` section.

Match specs come in every form people write (``numpy``, ``numpy=1.26``, ``numpy==1.26.4``,
``numpy>=1.2,<2``, ``numpy 1.26.*``, ``numpy=1.26.4=py311h64a7726_0``,
``conda-forge::numpy``); each becomes a ``[conda-dependencies]`` value in the manifest's
spelling (conda's ``=1.26`` means ``1.26.*``; ``=1.26.4=build`` means exactly 1.26.4 with
that build).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from condauv.errors import UserError
from condauv.importing.model import Builder, Pending, read_input
from condauv.importing.requirements import read_pip_lines
from condauv.importing.yaml import Mapping, Node, Scalar, Sequence, parse_yaml
from condauv.manifest.model import Requested

__all__ = ["CondaSpec", "parse_conda_spec", "read_environment"]

_SPEC = re.compile(r"^(?:(?P<channel>[^\s\[\]]+?)::)?(?P<name>[A-Za-z0-9_][A-Za-z0-9._-]*)(?P<rest>.*)$")
_HINT = "write it like the conda documentation's environment.yml (name, channels, dependencies)"
_OPERATOR_END = ("<", ">", "=", "!", "~", ",")


@dataclass(frozen=True, slots=True)
class CondaSpec:
    name: str
    version: str  # manifest spelling; "" for any
    build: str | None
    channel: str | None

    @property
    def manifest_spec(self) -> str:
        if self.build:
            return f"{self.version or '*'} {self.build}"
        return self.version


def parse_conda_spec(text: str) -> CondaSpec | None:
    """A conda match spec as written in ``environment.yml``; None when it is not one we read."""
    match = _SPEC.match(text.strip())
    if match is None:
        return None
    rest = match.group("rest").strip()
    if rest.startswith("["):
        return None  # bracket syntax (numpy[version='>=1']): rare; reported, not guessed
    version, build = _version_and_build(rest)
    if version is None:
        return None
    return CondaSpec(match.group("name"), version, build, match.group("channel"))


def _version_and_build(rest: str) -> tuple[str | None, str | None]:
    if not rest:
        return "", None
    if rest.startswith("=") and not rest.startswith("=="):
        body = rest[1:].strip()
        if "=" in body:
            version, build = body.split("=", 1)
            return version.strip(), build.strip() or None
        if re.fullmatch(r"[\w.!+]+", body):
            return f"{body}.*", None  # conda's `=1.26` is a prefix match
        return body, None
    exact = re.fullmatch(r"==\s*([^=\s]+)=([^=\s]+)", rest)
    if exact:
        return f"=={exact.group(1)}", exact.group(2)
    tokens = rest.split()
    if (
        len(tokens) >= 2
        and not tokens[-1].startswith(_OPERATOR_END)
        and not tokens[-2].endswith(_OPERATOR_END)
    ):
        return "".join(tokens[:-1]), tokens[-1]
    if not rest[0].isdigit() and not rest.startswith(_OPERATOR_END) and not rest.startswith("*"):
        return None, None
    return "".join(tokens), None


def read_environment(path: Path, builder: Builder, *, file: str, text: str | None = None) -> None:
    """Read ``path`` (named ``file`` in messages; ``text``: its content if read) into ``builder``."""
    document = parse_yaml(read_input(path) if text is None else text, file)
    if document is None:
        raise UserError(f"{file}: the file is empty", hint=_HINT)
    if not isinstance(document, Mapping):
        raise UserError(
            f"{file}:{document.line}: expected a mapping (name:, channels:, dependencies:)", hint=_HINT
        )
    for key, value in document.entries:
        if key.value == "name":
            builder.set_name(_string(value, file, "name"), file, key.line)
        elif key.value == "channels":
            for item in _items(value, file, "channels"):
                builder.channel(_string(item, file, "channels"), file, item.line)
        elif key.value == "dependencies":
            for item in _items(value, file, "dependencies"):
                _dependency(item, builder, file=file, base=path.parent)
        elif key.value == "prefix":
            builder.note(
                file,
                key.line,
                f"prefix: {_flat(value)}",
                "not kept: the environment lives in .condauv/env (or --prefix)",
            )
        elif key.value == "variables":
            builder.note(
                file,
                key.line,
                f"variables: {_flat(value)}",
                "not kept: condauv sets no environment variables",
            )
        else:
            builder.note(
                file,
                key.line,
                f"{key.value}: {_flat(value)}",
                "not kept: not an environment.yml key condauv reads",
            )


def _items(value: Node, file: str, key: str) -> tuple[Node, ...]:
    if isinstance(value, Scalar) and value.value is None:
        return ()
    if not isinstance(value, Sequence):
        raise UserError(f'{file}:{value.line}: expected "- item" in the {key} list', hint=_HINT)
    return value.items


def _string(value: Node, file: str, key: str) -> str:
    """One value on one line (a block scalar's final newline dropped)."""
    text = value.value.strip() if isinstance(value, Scalar) and value.value else ""
    if not text:
        raise UserError(f"{file}:{value.line}: expected a single value for {key}", hint=_HINT)
    if "\n" in text or "\t" in text:
        raise UserError(f"{file}:{value.line}: {key}: {text!r:.60} is more than one value", hint=_HINT)
    return text


def _flat(value: Node) -> str:
    if isinstance(value, Scalar):
        return " ".join((value.value or "").split())
    if isinstance(value, Sequence):
        return "[" + ", ".join(_flat(v) for v in value.items) + "]"
    return "{" + ", ".join(f"{k.value}: {_flat(v)}" for k, v in value.entries) + "}"


def _dependency(item: Node, builder: Builder, *, file: str, base: Path) -> None:
    if isinstance(item, Mapping):
        for key, value in item.entries:
            if key.value != "pip":
                builder.note(
                    file,
                    key.line,
                    f"{key.value}: {_flat(value)}",
                    "not kept: only a pip: section is read here",
                )
                continue
            lines = [(v.line, _string(v, file, "pip")) for v in _items(value, file, "pip")]
            read_pip_lines(lines, builder, file=file, base=base, root=base, stack=())
        return
    text = _string(item, file, "dependencies")
    spec = parse_conda_spec(text)
    if spec is None:
        builder.note(file, item.line, text, "not kept: not a conda match spec condauv can read")
        return
    if spec.channel:
        builder.pin(spec.channel, file, item.line, text)
    if spec.name == "python":  # [environment] python is a conda spec: it holds a build too
        builder.set_python(spec.manifest_spec or "*", file, item.line, text)
        return
    entry = Requested(name=spec.name, spec=spec.manifest_spec or "*", table="conda-dependencies")
    movable = spec.build is None and spec.channel is None
    builder.add(Pending(entry=entry, file=file, line=item.line, text=text, movable=movable))
