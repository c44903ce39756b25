"""A strict reader for the YAML subset that ``environment.yml`` files use, keeping line numbers.

Why our own: a YAML library would be a dependency for one command, it turns ``3.10`` into
the float ``3.1``, and it forgets where a value came from, which every message needs.
Supported: block mappings and sequences (a sequence may sit at its key's indentation),
``- key: value`` items, comments, plain, single- and double-quoted scalars, one-line flow
sequences (``[a, b]``), empty ``{}``, a leading ``---``. Every scalar stays a string.
Anything else (anchors, tags, block scalars, multi-line scalars, tabs) is refused with the
file and line, rather than read wrongly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NoReturn

from condauv.errors import UserError

__all__ = ["Mapping", "Node", "Scalar", "Sequence", "parse_yaml"]


@dataclass(frozen=True, slots=True)
class Scalar:
    """A scalar; ``value`` is None for an empty value (``key:`` with nothing under it)."""

    value: str | None
    line: int


@dataclass(frozen=True, slots=True)
class Sequence:
    items: tuple[Node, ...]
    line: int


@dataclass(frozen=True, slots=True)
class Mapping:
    entries: tuple[tuple[Scalar, Node], ...]
    line: int

    def get(self, key: str) -> tuple[Scalar, Node] | None:
        for name, value in self.entries:
            if name.value == key:
                return name, value
        return None


Node = Scalar | Sequence | Mapping

_HINT = "write it as plain block YAML (key: value, - item), as `conda env export` does"
_KEY = re.compile(
    r"""^(?P<key>"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"\-?:,\[\]{}&*!|>%@`][^#]*?|-[^\s#][^#]*?)\s*:(?:\s+|$)"""
)
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "n": "\n", "t": "\t", "r": "\r", "0": "\0", " ": " "}


@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    indent: int
    text: str  # without the indentation; may still hold a trailing comment


class _Parser:
    def __init__(self, text: str, file: str) -> None:
        self.file = file
        self.lines: list[_Line] = []
        self.pos = 0
        if text.startswith("\ufeff"):
            text = text[1:]
        started = False
        for number, raw in enumerate(text.splitlines(), start=1):
            stripped = raw.rstrip()
            body = stripped.lstrip(" ")
            if not body or body.startswith("#"):
                continue
            if body.startswith("\t"):
                self.fail(number, "tabs are not allowed in YAML indentation")
            if body in ("---", "...") or body.startswith(("--- ", "---\t")):
                if body == "---" and not started and not self.lines:
                    started = True
                    continue
                self.fail(number, "only one YAML document is supported")
            if body.startswith("%"):
                self.fail(number, "YAML directives are not supported")
            self.lines.append(_Line(number, len(stripped) - len(body), body))

    def fail(self, line: int, message: str) -> NoReturn:
        raise UserError(f"{self.file}:{line}: {message}", hint=_HINT)

    # -- blocks --------------------------------------------------------------------------------

    def document(self) -> Node | None:
        if not self.lines:
            return None
        first = self.lines[0]
        node = self.block(first.indent, context="the file")
        if self.pos < len(self.lines):
            extra = self.lines[self.pos]
            self.fail(extra.number, f"unexpected indentation before {_show(extra.text)}")
        return node

    def block(self, indent: int, *, context: str) -> Node:
        line = self.lines[self.pos]
        if _is_item(line.text):
            return self.sequence(indent, context=context)
        if not _KEY.match(line.text):
            found = _show(line.text)
            self.fail(line.number, f'expected "key: value" or "- item" in {context}, found {found}')
        return self.mapping(indent)

    def sequence(self, indent: int, *, context: str) -> Sequence:
        start = self.lines[self.pos].number
        items: list[Node] = []
        while self.pos < len(self.lines):
            line = self.lines[self.pos]
            if line.indent < indent:
                break
            if line.indent > indent:
                self.fail(line.number, f"unexpected indentation before {_show(line.text)}")
            if not _is_item(line.text):
                if _KEY.match(line.text):
                    break  # the next key of the mapping around this sequence
                self.fail(line.number, f'expected "- item" in {context}, found {_show(line.text)}')
            rest = line.text[1:]
            inner = len(rest) - len(rest.lstrip(" "))
            rest = rest.lstrip(" ")
            if not rest or rest.startswith("#"):
                self.pos += 1
                items.append(self.nested(indent, line.number, context=context, after_item=True))
                continue
            column = indent + 1 + inner
            if _is_item(rest) or _KEY.match(rest):
                # `- key: value` or `- - x`: the rest of the line opens a block at its column
                self.lines[self.pos] = _Line(line.number, column, rest)
                items.append(self.block(column, context=context))
                continue
            self.pos += 1
            items.append(self.inline(rest, line.number))
            self.no_continuation(indent, line.number)
        return Sequence(tuple(items), start)

    def mapping(self, indent: int) -> Mapping:
        start = self.lines[self.pos].number
        entries: list[tuple[Scalar, Node]] = []
        seen: dict[str, int] = {}
        while self.pos < len(self.lines):
            line = self.lines[self.pos]
            if line.indent < indent:
                break
            if line.indent > indent:
                self.fail(line.number, f"unexpected indentation before {_show(line.text)}")
            if _is_item(line.text):
                break  # a sequence that belongs to an outer key at this indentation
            match = _KEY.match(line.text)
            if match is None:
                self.fail(line.number, f'expected "key: value", found {_show(line.text)}')
            name = _unquote(match.group("key").strip(), line.number, self)
            if name in seen:
                self.fail(line.number, f"duplicate key {name!r} (first on line {seen[name]})")
            seen[name] = line.number
            key = Scalar(name, line.number)
            rest = line.text[match.end() :].strip()
            self.pos += 1
            if not rest or rest.startswith("#"):
                value = self.nested(indent, line.number, context=f"the {name} list", after_item=False)
            else:
                value = self.inline(rest, line.number)
                self.no_continuation(indent, line.number)
            entries.append((key, value))
        return Mapping(tuple(entries), start)

    def nested(self, indent: int, number: int, *, context: str, after_item: bool) -> Node:
        """The block under ``key:`` or ``-``; a key's sequence may sit at the key's own indentation."""
        if self.pos < len(self.lines):
            following = self.lines[self.pos]
            if following.indent > indent:
                return self.block(following.indent, context=context)
            if not after_item and following.indent == indent and _is_item(following.text):
                return self.sequence(indent, context=context)
        return Scalar(None, number)

    def no_continuation(self, indent: int, number: int) -> None:
        if self.pos < len(self.lines) and self.lines[self.pos].indent > indent:
            following = self.lines[self.pos]
            if not _is_item(following.text) and not _KEY.match(following.text):
                self.fail(
                    following.number, "multi-line scalars are not supported; write the value on one line"
                )
            self.fail(following.number, f"unexpected indentation before {_show(following.text)}")

    # -- scalars -------------------------------------------------------------------------------

    def inline(self, text: str, number: int) -> Node:
        if text.startswith("["):
            return self.flow_sequence(text, number)
        if text.startswith("{"):
            if _strip_comment(text) == "{}":
                return Mapping((), number)
            self.fail(number, "flow mappings ({...}) are not supported")
        value, rest = self.scalar(text, number, flow=False)
        if rest:
            self.fail(number, f"unexpected text after a value: {_show(rest)}")
        return Scalar(value, number)

    def flow_sequence(self, text: str, number: int) -> Sequence:
        items: list[Node] = []
        rest = text[1:].lstrip()
        if rest.startswith("]"):
            rest = rest[1:]
        else:
            while True:
                value, rest = self.scalar(rest, number, flow=True)
                items.append(Scalar(value, number))
                if rest.startswith(","):
                    rest = rest[1:].lstrip()
                    continue
                if rest.startswith("]"):
                    rest = rest[1:]
                    break
                self.fail(number, "a flow sequence must be closed with ] on the same line")
        if _strip_comment(rest):
            self.fail(number, f"unexpected text after a flow sequence: {_show(rest)}")
        return Sequence(tuple(items), number)

    def scalar(self, text: str, number: int, *, flow: bool) -> tuple[str, str]:
        """One scalar at the start of ``text``; returns it and what follows (comments removed)."""
        if text[:1] in ("'", '"'):
            end = _quoted_end(text)
            if end < 0:
                self.fail(number, "a quoted value must end on the same line")
            value = _unquote(text[: end + 1], number, self)
            return value, _strip_comment(text[end + 1 :])
        if text[:1] in "&*!|>%@`" or (text[:1] in "?" and text[1:2] in (" ", "")):
            self.fail(number, f"{_show(text[:1])} (anchors, aliases, tags, block scalars) is not supported")
        body = _strip_comment(text)
        if flow:
            end = len(re.split(r"[,\[\]{}]", body, maxsplit=1)[0])
            value = body[:end].strip()
            if not value:
                self.fail(number, "empty item in a flow sequence")
            return value, body[end:].lstrip()
        if re.search(r":(\s|$)", body):
            self.fail(number, f"unexpected ': ' in a value: {_show(body)}; quote the value")
        return body, ""


def _is_item(text: str) -> bool:
    return text == "-" or text.startswith(("- ", "-\t"))


def _strip_comment(text: str) -> str:
    """Text before a ``#`` that starts a comment (at the start, or after whitespace)."""
    match = re.search(r"(^|\s)#", text)
    return (text[: match.start()] if match else text).strip()


def _quoted_end(text: str) -> int:
    quote = text[0]
    index = 1
    while index < len(text):
        char = text[index]
        if quote == '"' and char == "\\":
            index += 2
            continue
        if char == quote:
            if quote == "'" and text[index + 1 : index + 2] == "'":
                index += 2
                continue
            return index
        index += 1
    return -1


def _unquote(text: str, number: int, parser: _Parser) -> str:
    if text[:1] == "'" and text.endswith("'") and len(text) >= 2:
        return text[1:-1].replace("''", "'")
    if text[:1] == '"' and text.endswith('"') and len(text) >= 2:
        out: list[str] = []
        body = text[1:-1]
        index = 0
        while index < len(body):
            char = body[index]
            if char == "\\":
                code = body[index + 1 : index + 2]
                if code in _ESCAPES:
                    out.append(_ESCAPES[code])
                    index += 2
                    continue
                if code == "u" and re.fullmatch(r"[0-9A-Fa-f]{4}", body[index + 2 : index + 6]):
                    out.append(chr(int(body[index + 2 : index + 6], 16)))
                    index += 6
                    continue
                parser.fail(number, f"unsupported escape \\{code} in a quoted value")
            out.append(char)
            index += 1
        return "".join(out)
    return text


def _show(text: str) -> str:
    text = text.strip()
    return repr(text if len(text) <= 60 else text[:57] + "...")


def parse_yaml(text: str, file: str) -> Node | None:
    """Parse ``text``; None for an empty document. Errors are ``FILE:LINE: ...`` UserErrors."""
    return _Parser(text, file).document()
