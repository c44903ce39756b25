"""PEP 508 requirements (a wheel's ``Requires-Dist``) as conda dependency specs.

Markers are evaluated for the target the package is built for (its Python and platform), as a
conda-forge recipe does when it drops a backport that its Python no longer needs. Requirements
behind an ``extra`` are optional features and never become conda dependencies. Names are only
normalised (``Foo_Bar`` -> ``foo-bar``): a PyPI name that conda spells otherwise is not mapped.
"""

from __future__ import annotations

from collections.abc import Iterable

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from condauv.errors import UserError

__all__ = ["conda_depends", "conda_version_spec", "python_depends"]

#: lower bounds first, the way people write ranges (``>=1,<2``)
_OPERATOR_ORDER = (">=", ">", "~=", "==", "===", "<=", "<", "!=")


def _has_extra(marker: Marker) -> bool:
    return "extra" in str(marker)


def conda_version_spec(specifier: SpecifierSet | str, *, what: str = "requirement") -> str:
    """A PEP 440 specifier set as a conda version spec (``""`` when it allows any version).

    ``~=1.4.5`` becomes ``>=1.4.5,1.4.*`` (exactly PEP 440's meaning); ``==1.2.*`` becomes
    ``1.2.*``; other operators mean the same in both worlds. ``===`` has no conda spelling.
    """
    try:
        specifiers = SpecifierSet(str(specifier))
    except InvalidSpecifier as exc:
        raise UserError(
            f"invalid version specifier in {what}: {exc}", hint="use PEP 440 specifiers"
        ) from None
    parts: list[str] = []
    for spec in sorted(specifiers, key=lambda s: (_OPERATOR_ORDER.index(s.operator), s.version)):
        parts.extend(_one_spec(spec, what))
    return ",".join(parts)


def _one_spec(spec: Specifier, what: str) -> list[str]:
    operator, version = spec.operator, spec.version
    if operator == "===":
        raise UserError(
            f"{what}: arbitrary equality {spec} has no conda equivalent",
            hint="use == with a PEP 440 version",
        )
    if operator == "~=":
        # ~=X.Y[.Z] means >=X.Y[.Z] and the same release up to the last-but-one segment
        parsed = Version(version)
        epoch = f"{parsed.epoch}!" if parsed.epoch else ""
        return [f">={version}", f"{epoch}{'.'.join(map(str, parsed.release[:-1]))}.*"]
    if operator == "==" and version.endswith(".*"):
        return [version]
    return [f"{operator}{version}"]


def conda_depends(requires_dist: Iterable[str], environment: dict[str, str]) -> list[str]:
    """Conda specs for the ``Requires-Dist`` lines that apply in ``environment`` (see module doc)."""
    depends: list[str] = []
    for line in requires_dist:
        try:
            requirement = Requirement(line)
        except InvalidRequirement as exc:
            raise UserError(
                f"invalid Requires-Dist {line!r}: {exc}", hint="fix the wheel's METADATA"
            ) from None
        if requirement.url:
            raise UserError(
                f"Requires-Dist {line!r} points at a URL: a conda package cannot depend on one",
                hint="build the wheel with a plain name and version requirement",
            )
        marker = requirement.marker
        if marker is not None and (_has_extra(marker) or not marker.evaluate({**environment, "extra": ""})):
            continue
        name = canonicalize_name(requirement.name)
        version = conda_version_spec(requirement.specifier, what=f"Requires-Dist {line!r}")
        spec = f"{name} {version}" if version else name
        if spec not in depends:
            depends.append(spec)
    return depends


def python_depends(requires_python: str | None) -> str:
    """The ``python`` spec of a pure wheel from its ``Requires-Python`` (plain ``python`` if none)."""
    version = conda_version_spec(requires_python or "", what=f"Requires-Python {requires_python!r}")
    return f"python {version}" if version else "python"
