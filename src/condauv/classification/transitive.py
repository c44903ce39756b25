"""The transitive view: which dependencies of a PyPI package the conda side already provides.

uv installs a PyPI package's dependencies from PyPI unless a conda package provides them; the
view says which way each one goes, so that a user sees numpy coming from conda under
``pandas-stubs`` or, the other way, a BLAS-linked package that uv would bring in from PyPI.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from packaging.markers import InvalidMarker, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from condauv.classification.policy import seed_manager
from condauv.platforms import marker_environment

__all__ = ["DependencyView", "dependency_view"]


@dataclass(frozen=True, slots=True)
class DependencyView:
    requirement: str  # as the package's metadata writes it
    name: str  # normalised PyPI name
    conda_package: str | None  # the conda package that provides it, when conda does
    note: str

    def to_dict(self) -> dict[str, object]:
        return {
            "requirement": self.requirement,
            "name": self.name,
            "conda-package": self.conda_package,
            "note": self.note,
        }


def _applies(requirement: Requirement, extras: Sequence[str], environment: dict[str, str]) -> bool:
    if requirement.marker is None:
        return True
    try:
        return any(requirement.marker.evaluate({**environment, "extra": extra}) for extra in ("", *extras))
    except (InvalidMarker, UndefinedEnvironmentName):
        return True  # a marker we cannot evaluate: show the dependency rather than hide it


def dependency_view(
    requires_dist: Sequence[str],
    *,
    extras: Sequence[str],
    python: str,
    subdir: str,
    conda_provides: Mapping[str, str],
) -> tuple[DependencyView, ...]:
    """Each direct dependency that applies to CPython ``python`` on ``subdir`` (with ``extras``),
    and whether conda provides it; ``conda_provides`` maps PyPI names to conda package labels."""
    environment = marker_environment(python, subdir)
    seen: set[str] = set()
    views = []
    for text in requires_dist:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        name = canonicalize_name(requirement.name)
        if name in seen or not _applies(requirement, extras, environment):
            continue
        seen.add(name)
        provider = conda_provides.get(name)
        if provider is not None:
            note = f"conda provides it: {provider}"
        elif seed_manager(name) == "conda":
            note = "uv installs it from PyPI; built-in knowledge prefers conda: add it to the manifest"
        else:
            note = "uv installs it from PyPI"
        views.append(DependencyView(str(requirement), name, provider, note))
    return tuple(views)
