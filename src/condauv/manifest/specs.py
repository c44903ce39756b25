"""Package specs as users type them on the command line, in either ecosystem's syntax."""

from __future__ import annotations

import re

from packaging.requirements import InvalidRequirement, Requirement

from condauv.errors import UserError
from condauv.manifest.model import Requested, Table

__all__ = ["parse_user_spec"]

_CONDA = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?P<version>(?:[=<>!~]|\d).*)?$")


def parse_user_spec(text: str, table: Table) -> Requested:
    """``numpy>=1.26``, ``requests[socks]``, ``pytorch-cuda=12.1``, ``numpy 1.26.*`` -> an entry.

    A PEP 508 requirement is read first; conda's ``name=1.2`` means ``1.2.*``. URLs, paths and
    markers are refused: the manifest holds names and versions.
    """
    raw = text.strip()
    if not raw:
        raise UserError("empty package spec", hint="write it like numpy or 'numpy>=1.26'")
    if table != "conda-dependencies":
        try:
            req = Requirement(raw)
        except InvalidRequirement:
            pass
        else:
            if req.url or req.marker:
                raise UserError(
                    f"{raw!r:.80}: URLs and markers are not supported in the manifest",
                    hint="give a name and a version specifier, e.g. 'pkg>=1.0'",
                )
            return Requested(
                name=req.name,
                spec=str(req.specifier) or "*",
                table=table,
                extras=tuple(sorted(req.extras)),
            )
    match = _CONDA.match(raw)
    if match is None:
        raise UserError(
            f"{raw!r:.80} is not a package spec",
            hint="write a name and optionally a version, e.g. numpy or 'numpy>=1.26'",
        )
    version = (match.group("version") or "").strip()
    if version.startswith("=") and not version.startswith("=="):
        version = version[1:]
        version = version if version.endswith("*") else f"{version}.*"
    # the manifest validates the version for its table when the edited document is parsed
    return Requested(name=match.group("name"), spec=version or "*", table=table)
