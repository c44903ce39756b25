"""Import what users already have: conda ``environment.yml`` and pip ``requirements.txt`` files.

``import_files`` reads them (and the files they include) into one set of manifest values; nothing is
dropped silently: whatever ``condauv.toml`` cannot hold comes back as a :class:`Note`
(``FILE:LINE: what was not kept: why``). Malformed input is a one-line ``UserError`` that
names the file and line. Nothing is written here: ``condauv init --from`` writes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from condauv.errors import UserError
from condauv.importing.model import Builder, Imported, Kind, Note, Source, read_input
from condauv.platforms import current_subdir
from condauv.validation import check_text

__all__ = ["MAX_IMPORT_FILES", "Imported", "Note", "Source", "detect_kind", "import_file", "import_files"]

#: The most files one ``condauv init --from`` reads (the strategy gives two).
MAX_IMPORT_FILES = 16

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
    """Read one file: :func:`import_files` with that file alone."""
    return import_files([path], reclassify=reclassify, python=python, platforms=platforms)


def import_files(
    paths: Sequence[Path],
    *,
    reclassify: bool = False,
    python: str | None = None,
    platforms: Sequence[str] = (),
) -> Imported:
    """Read ``paths`` (environment files first, then requirements files, each group in the order
    given) into one set of manifest values and notes; what a later file repeats or contradicts is
    a note (docs/import.md says who wins).

    ``reclassify`` puts plain names in ``[dependencies]`` (condauv decides the manager);
    entries only one side can hold (build strings, channel pins) stay explicit. ``python`` and
    ``platforms`` are what the manifest will say: environment markers are evaluated for them.
    """
    from condauv.importing.environment import read_environment
    from condauv.importing.requirements import read_requirements

    files = _checked(paths)
    texts = {path: read_input(path) for path in files}
    sources = sorted(
        (Source(path, detect_kind(path, text)) for path, text in texts.items()),
        key=lambda source: source.kind != "environment",  # stable: the order given within a kind
    )
    names = _display_names([source.path for source in sources])
    builder = Builder(python_override=python, platforms=tuple(platforms) or (current_subdir(),))
    for source in sources:
        start = len(builder.notes)
        file = names[source.path]
        earlier = builder.read_files.get(source.path.resolve())
        if source.kind == "environment":
            read_environment(source.path, builder, file=file, text=texts[source.path])
        elif earlier is not None:  # an earlier file's -r line read it
            builder.note(file, 1, file, f"not read again: it was read already ({earlier[1]} includes it)")
        else:
            read_requirements(source.path, builder, root=source.path.parent, file=file)
        builder.flush(start)
    environments = [s for s in sources if s.kind == "environment"]
    if environments and not builder.channels and not builder.pinned:
        builder.note(
            names[environments[0].path],
            1,
            "channels: (none)",
            "conda would use its configured default channels; condauv.toml uses conda-forge",
        )
        builder.channels.append("conda-forge")
    return builder.finish(sources=sources, reclassify=reclassify)


def _checked(paths: Sequence[Path]) -> list[Path]:
    """The paths to import: each an existing file, none twice, at most :data:`MAX_IMPORT_FILES`."""
    hint = "give the path of an environment.yml or requirements.txt"
    if not paths:
        raise UserError("no file to import", hint=hint)
    if len(paths) > MAX_IMPORT_FILES:
        raise UserError(
            f"{len(paths)} files to import; at most {MAX_IMPORT_FILES}",
            hint="merge them, or list the others with -r lines in one requirements file",
        )
    seen: dict[Path, Path] = {}
    for path in map(Path, paths):
        check_text(str(path), what="the imported path", error=UserError, hint="give a plain path")
        if not path.exists():
            raise UserError(f"no file {path}", hint=hint)
        if path.is_dir():
            raise UserError(f"{path} is a folder", hint=f"{hint} inside it")
        resolved = path.resolve()
        if resolved in seen:
            raise UserError(f"{path} is given twice (also as {seen[resolved]})", hint="give each file once")
        seen[resolved] = path
    return list(seen.values())


def _display_names(paths: Sequence[Path]) -> dict[Path, str]:
    """How notes name each file: its name, or the path as given where two files share a name."""
    counts = Counter(path.name for path in paths)
    return {path: path.name if counts[path.name] == 1 else str(path) for path in paths}
