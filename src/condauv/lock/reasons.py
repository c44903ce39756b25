"""Why each package is in the lock: the ``reason`` of every ``[[conda]]`` and ``[[pypi]]`` table.

``condauv lock`` and ``condauv adopt`` both write reasons; they come from here so that the
wording is the same, and ``condauv lock`` after ``adopt`` changes nothing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence

__all__ = ["conda_reasons", "pypi_dependency_reason", "python_reason"]


def python_reason(python: str) -> str:
    """The reason of the python package: the manifest's ``[environment] python``."""
    return f"[environment] python = {python!r}"


def conda_reasons(depends: Mapping[str, Iterable[str]], start: Mapping[str, str]) -> dict[str, str]:
    """name -> reason for every package of ``depends`` (name -> its dependencies' names).

    ``start`` holds the reasons of the packages asked for; every other package is the dependency
    of the first one, breadth first in ``start``'s order, that reaches it.
    """
    reasons = dict(start)
    frontier = deque(reasons)
    while frontier:
        parent = frontier.popleft()
        for child in depends.get(parent, ()):
            if child in depends and child not in reasons:
                reasons[child] = f"dependency of {parent} (conda)"
                frontier.append(child)
    for name in depends:
        reasons.setdefault(name, "dependency (conda)")
    return reasons


def pypi_dependency_reason(parents: Sequence[str]) -> str:
    """The reason of a PyPI package that no manifest entry asked for."""
    who = ", ".join(parents) if parents else "the PyPI packages"
    return f"required by {who} (PyPI); conda does not provide it"
