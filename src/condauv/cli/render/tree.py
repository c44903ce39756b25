"""``condauv tree`` as text: one line per package, drawn as ``uv tree`` and ``pixi tree`` draw."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from condauv.lock.tree import TreeNode

__all__ = ["node_label", "tree_lines"]


def node_label(node: TreeNode, *, inverted: bool = False) -> str:
    """``numpy v2.4.6 (conda)``; ``pytorch v2.5.1 (conda, provides torch) (*)``: the edge's PyPI
    name where it differs, ``(*)`` where the dependencies were shown above."""
    if node.manager == "virtual":
        text = f"{node.name} {node.spec} (virtual)" if node.spec else f"{node.name} (virtual)"
    elif node.manager == "missing":
        text = f"{node.name} (not in the lock)"
    else:
        via = f", {'requires' if inverted else 'provides'} {node.via}" if node.via else ""
        text = f"{node.name} v{node.version} ({node.manager}{via})"
    return f"{text} (*)" if node.repeated else text


def tree_lines(roots: Sequence[TreeNode], *, inverted: bool = False) -> Iterator[str]:
    for root in roots:
        yield node_label(root, inverted=inverted)
        yield from _children(root, "", inverted)


def _children(node: TreeNode, indent: str, inverted: bool) -> Iterator[str]:
    for index, child in enumerate(node.children):
        last = index == len(node.children) - 1
        yield f"{indent}{'└── ' if last else '├── '}{node_label(child, inverted=inverted)}"
        yield from _children(child, indent + ("    " if last else "│   "), inverted)
