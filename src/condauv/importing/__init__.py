"""Import what users already have: a conda ``environment.yml`` or a pip ``requirements.txt``.

``import_file`` reads one file (and the files it includes) into manifest values; nothing is
dropped silently: whatever ``condauv.toml`` cannot hold comes back as a :class:`Note`
(``FILE:LINE: what was not kept: why``). Malformed input is a one-line ``UserError`` that
names the file and line. Nothing is written here: ``condauv init --from`` writes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from condauv.errors import UserError
from condauv.importing.model import Builder, Imported, Note, read_input
from condauv.platforms import current_subdir
from condauv.validation import check_text

__all__ = ["Imported", "Note", "detect_kind", "import_file"]

Kind = Literal["environment", "requirements"]

_ENV_KEYS = re.compile(r"^(name|channels|dependencies|prefix|variables)\s*:", re.MULTILINE)


def detect_kind(path: Path, text: str) -> Kind:
    """``.yml``/``.yaml``: environment file; ``.txt``/``.in``: requirements; else the content says."""
    suffix = path.suffix.lower()
    if suffix in (".yml", ".yaml"):
        return "environment"
    if suffix in (".txt", ".in"):
        return "requirements"
    return "environment" if _ENV_KEYS.search(text) else "requirements"


def import_file(
    path: Path,
    *,
    reclassify: bool = False,
    python: str | None = None,
    platforms: Sequence[str] = (),
) -> Imported:
    """Read ``path`` into manifest values and notes.

    ``reclassify`` puts plain names in ``[dependencies]`` (condauv decides the manager);
    entries only one side can hold (build strings, channel pins) stay explicit. ``python`` and
    ``platforms`` are what the manifest will say: environment markers are evaluated for them.
    """
    from condauv.importing.environment import read_environment
    from condauv.importing.requirements import display, read_requirements

    path = Path(path)
    check_text(str(path), what="the imported path", error=UserError, hint="give a plain path")
    if not path.exists():
        raise UserError(f"no file {path}", hint="give the path of an environment.yml or requirements.txt")
    text = read_input(path)
    kind = detect_kind(path, text)
    builder = Builder(python_override=python, platforms=tuple(platforms) or (current_subdir(),))
    root = path.parent
    if kind == "environment":
        read_environment(path, builder, file=display(path, root), text=text)
        if not builder.channels and not builder.pinned:
            builder.note(
                display(path, root),
                1,
                "channels: (none)",
                "conda would use its configured default channels; condauv.toml uses conda-forge",
            )
            builder.channels.append("conda-forge")
    else:
        read_requirements(path, builder, root=root)
    return builder.finish(source=path, kind=kind, reclassify=reclassify)
