"""``environment.yml`` read with ruamel.yaml's parser, as conda reads it, keeping line numbers.

ruamel.yaml (imported here only: ``condauv init --from``) turns the text into events; they are
assembled below, without recursion, into :class:`Scalar`, :class:`Sequence` and
:class:`Mapping` nodes that remember their line, for the ``FILE:LINE:`` of every message.
Every scalar stays the string it was written as (``3.10`` is never the float ``3.1``); a plain
empty value, ``~`` or ``null`` is None. Anchors and aliases, merge keys (``<<``), block and
multi-line scalars, flow collections and the core schema's tags read as YAML defines them.
Refused, with the file and line: more than one document, nesting deeper than
:data:`~condauv.validation.MAX_DEPTH`, aliases that expand past :data:`MAX_NODES` values (a
"billion laughs" file), duplicate or non-scalar keys, other tags, and control characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NoReturn

from condauv.errors import UserError
from condauv.validation import MAX_DEPTH

if TYPE_CHECKING:
    from ruamel.yaml.events import Event

__all__ = ["MAX_NODES", "Mapping", "Node", "Scalar", "Sequence", "parse_yaml"]

#: The most values a document may hold once its aliases are expanded (real files: hundreds).
MAX_NODES = 100_000


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

_HINT = "fix the YAML there; `conda env export` writes a file of the expected shape"
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_CORE_TAG = "tag:yaml.org,2002:"
_UNCLOSED = ("end of stream", "<stream end>", "could not find expected ':'")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # newlines and tabs belong to YAML text


class _Fail(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(slots=True)
class _Open:
    """A collection whose end event has not come yet."""

    mapping: bool
    line: int
    anchor: str | None
    size: int = 1  # values inside it, aliases expanded
    items: list[Node] = field(default_factory=list)
    pairs: list[tuple[Scalar, Node]] = field(default_factory=list)
    merged: list[tuple[Scalar, Node]] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)  # key -> its line
    key: Scalar | None = None
    merging: bool = False

    def add(self, node: Node, size: int, *, merge_key: bool) -> None:
        self.size += size
        if not self.mapping:
            self.items.append(node)
        elif self.merging:
            self.merging = False
            for source in node.items if isinstance(node, Sequence) else (node,):
                if not isinstance(source, Mapping):
                    raise _Fail(node.line, "a merge key (<<) takes a mapping or a list of mappings")
                self.merged.extend(source.entries)
        elif self.key is not None:
            if isinstance(node, Scalar) and node.value is None:
                node = Scalar(None, self.key.line)  # `key:` alone: the parser marks the next line
            self.pairs.append((self.key, node))
            self.key = None
        elif merge_key:
            self.merging = True
        elif not isinstance(node, Scalar) or node.value is None:
            raise _Fail(node.line, "a key must be a single value (not a list, a mapping or empty)")
        else:
            if node.value in self.lines:
                first = self.lines[node.value]
                raise _Fail(node.line, f"duplicate key {node.value!r:.60} (first on line {first})")
            self.lines[node.value] = node.line
            self.key = node

    def close(self) -> Node:
        if not self.mapping:
            return Sequence(tuple(self.items), self.line)
        pairs = list(self.pairs)
        seen: set[str | None] = set(self.lines)
        for key, value in self.merged:  # explicit keys win, then the first merged mapping
            if key.value not in seen:
                seen.add(key.value)
                pairs.append((key, value))
        return Mapping(tuple(pairs), self.line)


def _check_tag(tag: str | None, line: int) -> None:
    if tag is not None and tag != "!" and not tag.startswith(_CORE_TAG):
        raise _Fail(line, f"the tag {tag!r:.60} is not supported")


class _Assembler:
    """Parser events into nodes: a stack of open collections, anchors, and a value budget."""

    def __init__(self) -> None:
        self.anchors: dict[str, tuple[Node, int]] = {}
        self.stack: list[_Open] = []
        self.root: Node | None = None
        self.documents = 0
        self.total = 0

    def feed(self, event: Event) -> None:
        from ruamel.yaml import events as ev

        line = event.start_mark.line + 1 if event.start_mark is not None else 1
        if isinstance(event, ev.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise _Fail(line, "only one YAML document is supported")
        elif isinstance(event, ev.CollectionStartEvent):
            _check_tag(event.tag, line)
            if len(self.stack) >= MAX_DEPTH:
                raise _Fail(line, f"values are nested more than {MAX_DEPTH} levels deep")
            self.stack.append(_Open(isinstance(event, ev.MappingStartEvent), line, event.anchor))
        elif isinstance(event, ev.CollectionEndEvent):
            opened = self.stack.pop()
            self.attach(opened.close(), opened.size, 1, opened.anchor, line)
        elif isinstance(event, ev.AliasEvent):
            if event.anchor not in self.anchors:
                raise _Fail(line, f"the alias *{event.anchor} names no anchor defined before it")
            node, size = self.anchors[event.anchor]
            self.attach(node, size, size, None, line)
        elif isinstance(event, ev.ScalarEvent):
            _check_tag(event.tag, line)
            value: str = event.value
            if _CONTROL.search(value):
                raise _Fail(line, f"a value holds a control character: {value!r:.60}")
            plain = event.style is None and event.tag is None
            scalar = Scalar(None if plain and value in _NULLS else value, line)
            self.attach(scalar, 1, 1, event.anchor, line, merge_key=plain and value == "<<")

    def attach(
        self, node: Node, size: int, count: int, anchor: str | None, line: int, *, merge_key: bool = False
    ) -> None:
        self.total += count
        if self.total > MAX_NODES:
            raise _Fail(line, f"the document expands to more than {MAX_NODES} values (aliases?)")
        if anchor is not None:
            self.anchors[anchor] = (node, size)
        if self.stack:
            self.stack[-1].add(node, size, merge_key=merge_key)
        else:
            self.root = node


def parse_yaml(text: str, file: str) -> Node | None:
    """Parse ``text``; None for an empty document. Errors are ``FILE:LINE: ...`` UserErrors."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.reader import ReaderError

    def fail(line: int, message: str) -> NoReturn:
        raise UserError(f"{file}:{line}: {message}", hint=_HINT) from None

    assembler = _Assembler()
    try:
        for event in YAML(typ="safe", pure=True).parse(text):
            assembler.feed(event)
    except _Fail as exc:
        fail(exc.line, exc.message)
    except MarkedYAMLError as exc:
        # what was left open (a quote, a bracket, a key) is named where it started
        unclosed = any(word in str(exc.problem) for word in _UNCLOSED) and exc.context_mark
        mark = exc.context_mark if unclosed else exc.problem_mark or exc.context_mark
        problem = " ".join(filter(None, (exc.context, exc.problem))) or "not valid YAML"
        fail(mark.line + 1 if mark is not None else 1, problem)
    except ReaderError as exc:
        fail(text.count("\n", 0, max(exc.position, 0)) + 1, f"character {exc.character!r} is not allowed")
    except YAMLError as exc:
        fail(1, f"not valid YAML: {str(exc).strip().splitlines()[0]:.200}")
    except RecursionError:  # pragma: no cover - the parser is iterative; kept as a last guard
        fail(1, "values are nested too deeply")
    return assembler.root
