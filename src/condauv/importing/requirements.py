"""pip requirement lines, from a ``requirements.txt`` or an ``environment.yml`` ``pip:`` section.

Each line is one of: a PEP 508 requirement (kept in ``[pypi-dependencies]``), an index
option (kept in ``[pypi-options]``), an include (``-r``, followed relative to the file that
names it), or something the manifest cannot hold (``-e``, ``-c``, URLs, paths, hashes,
other pip options), which becomes a note that says why.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from packaging.requirements import InvalidRequirement, Requirement

from condauv.errors import UserError
from condauv.importing.model import Builder, Pending, read_input
from condauv.manifest.model import Requested

__all__ = ["logical_lines", "read_pip_lines", "read_requirements"]

_VCS = ("git+", "hg+", "svn+", "bzr+")
_COMMENT = re.compile(r"(?:^|(?<=\s))#")
_NOT_KEPT_OPTIONS = {
    "--pre": "the lock pins exact versions; add a pre-release specifier to the entry instead",
    "--trusted-host": "condauv uses HTTPS certificates as they are",
    "--prefer-binary": "uv's own defaults apply",
    "--only-binary": "uv's own defaults apply",
    "--no-binary": "uv's own defaults apply",
    "--use-feature": "a pip feature flag has no meaning for uv",
    "--require-hashes": "the lock records sha256 hashes of every artifact by itself",
}
_OPTION_ALIASES = {
    "-r": "--requirement",
    "-c": "--constraint",
    "-e": "--editable",
    "-i": "--index-url",
    "-f": "--find-links",
}
_WITH_VALUE = {
    "--requirement",
    "--constraint",
    "--editable",
    "--index-url",
    "--extra-index-url",
    "--find-links",
    "--trusted-host",
    "--only-binary",
    "--no-binary",
    "--use-feature",
}


def logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines with ``\\`` continuations joined and comments removed, each with its first line number."""
    out: list[tuple[int, str]] = []
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not buffer:
            start = number
        if raw.endswith("\\"):
            buffer.append(raw[:-1])
            continue
        buffer.append(raw)
        out.append((start, _strip_comment(" ".join(buffer))))
        buffer = []
    if buffer:
        out.append((start, _strip_comment(" ".join(buffer))))
    return [(n, line) for n, line in out if line]


def _strip_comment(line: str) -> str:
    """The line before a ``#`` that starts a comment (at the start or after whitespace).

    Linear in the line's length: the look-behind tests one character per position (a
    "whitespace run, then #" pattern retried at each of 40,000 spaces took seconds)."""
    match = _COMMENT.search(line)
    return (line[: match.start()] if match else line).strip()


def read_requirements(
    path: Path,
    builder: Builder,
    *,
    root: Path,
    stack: tuple[Path, ...] = (),
    file: str | None = None,
    via: str | None = None,
) -> None:
    """Read one requirements file (named ``file`` in notes; default: relative to ``root``;
    ``via``: the ``FILE:LINE`` that includes it) and what it includes into ``builder``."""
    text = read_input(path)
    file = file or display(path, root)
    builder.read_files.setdefault(path.resolve(), (file, via))
    read_pip_lines(
        logical_lines(text),
        builder,
        file=file,
        base=path.parent,
        root=root,
        stack=(*stack, path),
    )


def display(path: Path, root: Path) -> str:
    """How notes and errors name a file: relative to the imported file's folder when inside it."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def read_pip_lines(
    lines: Iterable[tuple[int, str]],
    builder: Builder,
    *,
    file: str,
    base: Path,
    root: Path,
    stack: tuple[Path, ...],
) -> None:
    """Requirement lines (already joined and without comments) into ``builder``."""
    for number, line in lines:
        if line.startswith("-"):
            _option(line, number, builder, file=file, base=base, root=root, stack=stack)
        else:
            _requirement(line, number, builder, file=file)


def _option(
    line: str, number: int, builder: Builder, *, file: str, base: Path, root: Path, stack: tuple[Path, ...]
) -> None:
    try:
        tokens = shlex.split(line)
    except ValueError as exc:
        raise UserError(f"{file}:{number}: cannot split {line!r}: {exc}", hint="check the quotes") from None
    option, value = tokens[0], tokens[1] if len(tokens) > 1 else ""
    if option.startswith("--") and "=" in option:
        option, value = option.split("=", 1)
    elif option[:2] in _OPTION_ALIASES and len(option) > 2:
        option, value = option[:2], option[2:]
    option = _OPTION_ALIASES.get(option, option)
    if option in _WITH_VALUE and not value:
        raise UserError(
            f"{file}:{number}: {option} needs a value", hint=f"write `{option} VALUE` on this line"
        )
    if option == "--requirement":
        _include(value, line, number, builder, file=file, base=base, root=root, stack=stack)
    elif option == "--constraint":
        builder.note(file, number, line, "constraints are not kept: condauv.lock pins every version")
    elif option == "--editable":
        builder.note(
            file, number, line, "editable installs are not kept: the manifest holds names and versions"
        )
    elif not _index_option(option, value, line, number, builder, file=file, base=base):
        reason = _NOT_KEPT_OPTIONS.get(option, "condauv.toml has no equivalent")
        builder.note(file, number, line, f"pip option not kept: {reason}")


def _index_option(
    option: str, value: str, line: str, number: int, builder: Builder, *, file: str, base: Path
) -> bool:
    """Where uv looks for packages: these go to ``[pypi-options]``; False for other options.
    condauv.toml is meant to be committed: an index's credentials are left out of it (a note says
    where uv and condauv find them instead)."""
    if option in ("--index-url", "--extra-index-url", "--find-links"):
        value = _without_credentials(value, line, number, builder, file=file)
    if option == "--index-url":
        if builder.index_url and builder.index_url != value:
            builder.note(
                file, number, line, f"a second index URL is not kept; the first was {builder.index_url}"
            )
        else:
            builder.index_url = value
    elif option == "--extra-index-url":
        builder.extra_index_urls.append(value)
    elif option == "--find-links":
        builder.find_links.append(value if "://" in value else str((base / value).resolve()))
    elif option == "--no-index":
        builder.no_index = True
    else:
        return False
    return True


def _without_credentials(value: str, line: str, number: int, builder: Builder, *, file: str) -> str:
    from condauv.pypi.auth import parse_index

    index = parse_index(value) if "://" in value else None
    if index is None or not index.has_credentials:
        return value
    host = urlsplit(index.url).hostname or "HOST"
    builder.note(
        file,
        number,
        line,
        "this URL's credentials are not written to condauv.toml: put them in ~/.netrc "
        f"(machine {host} login USER password TOKEN), or name the index (NAME=URL) and set "
        "UV_INDEX_<NAME>_USERNAME and UV_INDEX_<NAME>_PASSWORD",
    )
    return f"{index.name}={index.url}" if index.name else index.url


def _include(
    target: str,
    line: str,
    number: int,
    builder: Builder,
    *,
    file: str,
    base: Path,
    root: Path,
    stack: tuple[Path, ...],
) -> None:
    target = target.removeprefix("file:")
    if "://" in target:
        builder.note(file, number, line, "a remote requirements file is not read (no network during init)")
        return
    path = base / os.path.expandvars(Path(target).expanduser())
    try:
        if path.resolve() in {p.resolve() for p in stack}:
            builder.note(file, number, line, "not read again: this file includes itself")
            return
        found = path.is_file()
    except (OSError, RuntimeError) as exc:  # a name too long, a symlink loop
        builder.note(file, number, line, f"not read: {getattr(exc, 'strerror', None) or exc}")
        return
    if not found:
        builder.note(file, number, line, f"not read: no file {display(path, root)}")
        return
    earlier = builder.read_files.get(path.resolve())
    if earlier is not None:  # given with --from too, or included by another file
        builder.note(file, number, line, f"not read again: {earlier[0]} was read already")
        return
    read_requirements(path, builder, root=root, stack=stack, via=f"{file}:{number}")


def _requirement(line: str, number: int, builder: Builder, *, file: str) -> None:
    options = ""
    split = re.search(r"\s--?[A-Za-z]", line)
    if split:
        line, options = line[: split.start()].strip(), line[split.start() :].strip()
    if "${" in line:
        builder.note(file, number, line, "not kept: environment variables are not expanded during init")
        return
    try:
        req = Requirement(line)
    except InvalidRequirement as exc:
        if "://" in line or line.startswith(_VCS):
            builder.note(
                file, number, line, "direct URLs are not kept: the manifest holds names and versions"
            )
            return
        if (
            line.startswith((".", "/", "~"))
            or "/" in line
            or "\\" in line
            or line.endswith((".whl", ".zip", ".tar.gz"))
        ):
            builder.note(
                file, number, line, "local paths are not kept: the manifest holds names and versions"
            )
            return
        raise UserError(
            f"{file}:{number}: {line!r:.80} is not a requirement: {str(exc).splitlines()[0]:.200}",
            hint="write a PEP 508 requirement such as 'numpy>=1.26', or remove the line",
        ) from None
    found = re.findall(r"--?[A-Za-z][\w-]*", options)
    if "--hash" in found:
        builder.hash_option(file, number)  # one note per file, not one per hash
    for option in dict.fromkeys(o for o in found if o != "--hash"):
        builder.note(file, number, f"{req.name} {option}", "per-requirement pip options are not kept")
    if req.url:
        if not builder.conda_provides(req.name, file, number, line):
            builder.note(
                file, number, line, "direct URLs are not kept: the manifest holds names and versions"
            )
        return
    if req.name.lower() == "python":
        builder.note(file, number, line, "python is not a PyPI package here: set it with --python")
        return
    if req.marker is not None and not builder.keeps_marker(req.marker, file, number, line):
        return
    entry = Requested(
        name=req.name,
        spec=str(req.specifier) or "*",
        table="pypi-dependencies",
        extras=tuple(sorted(req.extras)),
    )
    builder.add(Pending(entry=entry, file=file, line=number, text=line, movable=True))
