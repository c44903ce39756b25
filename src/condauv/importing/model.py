"""What an import produces, and the one place that decides what is kept and what becomes a note.

Both readers (``environment.yml`` and ``requirements.txt``) feed a :class:`Builder`; it keeps
the first entry of each package, turns every later one, every channel pin and every marker
into a :class:`Note`, and checks each entry against the manifest's own validation so that
the manifest written from it always parses.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from packaging.markers import Marker
from packaging.utils import canonicalize_name

from condauv.errors import ManifestError, UserError
from condauv.manifest.model import DEFAULT_PYTHON, Requested, parse_manifest, python_minor
from condauv.validation import read_text

__all__ = ["MAX_IMPORT_BYTES", "Builder", "Imported", "Kind", "Note", "Pending", "Source", "read_input"]

#: what ``defaults`` means to conda on Linux and macOS (pkgs/r holds R, not Python)
DEFAULTS_URL = "https://repo.anaconda.com/pkgs/main"
_CHECK_PATH = Path("condauv.toml")
#: The largest environment.yml or requirements file read (real ones hold a few KiB; 2 MiB of
#: YAML parses in about two seconds).
MAX_IMPORT_BYTES = 2 * 2**20


def read_input(path: Path) -> str:
    """An imported file's text (strict UTF-8, no NUL, at most :data:`MAX_IMPORT_BYTES`)."""
    return read_text(
        path,
        what=f"the imported file {path.name!r:.80}",
        error=UserError,
        hint="save it as UTF-8 text, as conda and pip write it",
        limit=MAX_IMPORT_BYTES,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Note:
    """Something in the input that the manifest does not hold, and why."""

    file: str
    line: int
    text: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.text}: {self.reason}"

    def to_dict(self) -> dict[str, str | int]:
        return {"file": self.file, "line": self.line, "text": self.text, "reason": self.reason}


Kind = Literal["environment", "requirements"]


@dataclass(frozen=True, slots=True)
class Source:
    """One imported file: its path as given, and how it was read."""

    path: Path
    kind: Kind

    def to_dict(self) -> dict[str, str]:
        return {"path": str(self.path), "kind": self.kind}


@dataclass(frozen=True, slots=True, kw_only=True)
class Imported:
    """The imported files as manifest values, plus the notes on everything left out."""

    sources: tuple[Source, ...]
    name: str | None
    python: str | None
    channels: tuple[str, ...]
    entries: tuple[Requested, ...]
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    notes: tuple[Note, ...] = ()

    @property
    def source(self) -> Path:
        """The first file read (environment files are read first)."""
        return self.sources[0].path

    @property
    def kind(self) -> Kind:
        return self.sources[0].kind

    def pypi_options(self) -> dict[str, str | bool | list[str]]:
        """The ``[pypi-options]`` table, holding only what the input set."""
        options: dict[str, str | bool | list[str]] = {}
        if self.index_url:
            options["index-url"] = self.index_url
        if self.extra_index_urls:
            options["extra-index-urls"] = list(self.extra_index_urls)
        if self.find_links:
            options["find-links"] = list(self.find_links)
        if self.no_index:
            options["no-index"] = True
        return options


@dataclass(frozen=True, slots=True, kw_only=True)
class Pending:
    """An entry on its way to the manifest, with where it came from."""

    entry: Requested
    file: str
    line: int
    text: str
    movable: bool  # may go to [dependencies] with --reclassify


@dataclass(slots=True)
class Builder:
    python_override: str | None
    platforms: Sequence[str]
    name: str | None = None
    name_at: tuple[str, int] | None = None
    python: str | None = None
    python_at: tuple[str, int] | None = None
    channels: list[str] = field(default_factory=list)
    channel_files: dict[str, str] = field(default_factory=dict)  # channel -> the file that listed it
    #: per file: the first line and count of requirements with ``--hash`` (one note per file)
    hashed: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: (file, earlier file, by URL) -> (line, text) of each entry that repeats the earlier file's
    repeats: dict[tuple[str, str, bool], list[tuple[int, str]]] = field(default_factory=dict)
    pinned: list[str] = field(default_factory=list)
    #: each requirements file read (resolved) -> its name in notes, and the -r line that read it
    read_files: dict[Path, tuple[str, str | None]] = field(default_factory=dict)
    pending: dict[str, Pending] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    index_url: str | None = None
    extra_index_urls: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    no_index: bool = False

    def note(self, file: str, line: int, text: str, reason: str) -> None:
        from condauv._process import mask  # a line quoting an index URL keeps its token out of notes

        self.notes.append(Note(file=file, line=line, text=mask(text.strip()), reason=mask(reason)))

    def hash_option(self, file: str, line: int) -> None:
        """A requirement carried ``--hash``: counted, and said once per file by :meth:`flush`."""
        first, count = self.hashed.get(file, (line, 0))
        self.hashed[file] = (first, count + 1)

    def flush(self, start: int) -> None:
        """After one imported file (and its includes): its summary notes, then its notes
        (from ``notes[start:]``) in order of file and line."""
        for file, (line, count) in self.hashed.items():
            several = "s" if count > 1 else ""
            text = f"--hash on {count} requirement{several}"
            self.note(file, line, text, "hashes are not kept: condauv.lock records its own")
        for (file, earlier, by_url), repeated in self.repeats.items():
            (line, text), more = repeated[0], len(repeated) - 1
            text += f" and {more} more" if more else ""
            if by_url:
                what = "conda packages" if more else "a conda package"
                reason = f"{what} of {earlier} (pip freeze names conda's build folders); kept from conda"
            else:
                what = "packages and versions" if more else "package and version"
                reason = f"the same {what} as in {earlier}; kept once"
            self.note(file, line, text, reason)
        self.hashed.clear()
        self.repeats.clear()
        chunk = self.notes[start:]
        rank = {file: n for n, file in reversed(list(enumerate(note.file for note in chunk)))}
        self.notes[start:] = sorted(chunk, key=lambda note: (rank[note.file], note.line))

    # -- name and channels ---------------------------------------------------------------------

    def set_name(self, name: str, file: str, line: int) -> None:
        if self.name_at is None:
            self.name, self.name_at = name, (file, line)
        elif name != self.name or file == self.name_at[0]:
            first = f"{self.name_at[0]}:{self.name_at[1]}"
            self.note(
                file, line, f"name: {name}", f"the name is already given at {first}; kept {self.name!r}"
            )

    def channel(self, name: str, file: str, line: int) -> None:
        """A channel of the ``channels:`` list, in order; a later file's new channels come after."""
        if name == "nodefaults":
            self.note(file, line, name, "condauv never adds conda's defaults channels; nothing to keep")
            return
        if name == "defaults":
            self.note(
                file, line, name, f"conda's defaults channels became {DEFAULTS_URL} (Anaconda's terms apply)"
            )
            name = DEFAULTS_URL
        if name in self.channels:
            if self.channel_files[name] == file:
                self.note(file, line, name, "channel listed twice; kept once")
            return  # another file's channel too: the same channel
        earlier = next((f for f in self.channel_files.values() if f != file), None)
        if earlier is not None:
            self.note(file, line, name, f"channel added after {earlier}'s channels (they come first)")
        self.channels.append(name)
        self.channel_files[name] = file

    def pin(self, channel: str, file: str, line: int, text: str) -> None:
        """``channel::pkg``: the manifest has no per-package channel, so the channel joins the list."""
        channel = DEFAULTS_URL if channel == "defaults" else channel
        where = "[environment] channels"
        if channel in self.channels or channel in self.pinned:
            reason = f"the pin to {channel!r} is not kept (no per-package channel); {channel!r} is in {where}"
        else:
            self.pinned.append(channel)
            reason = f"the pin to {channel!r} became channel {channel!r}, added after the others in {where}"
        self.note(file, line, text, reason)

    def final_channels(self) -> tuple[str, ...]:
        return tuple(self.channels + [c for c in self.pinned if c not in self.channels])

    # -- python --------------------------------------------------------------------------------

    def set_python(self, spec: str, file: str, line: int, text: str) -> None:
        if self.python_at is not None:
            if spec == self.python and file != self.python_at[0]:
                return  # another file says the same
            first = f"{self.python_at[0]}:{self.python_at[1]}"
            self.note(file, line, text, f"python is already given at {first}; kept that one")
            return
        manifest_value = f"[environment]\npython = {json.dumps(spec)}\n"
        problem = _check(manifest_value) or _match_spec_problem(f"python {spec}")
        if problem:
            self.note(file, line, text, f"not kept: {problem}")
            return
        self.python = spec
        self.python_at = (file, line)

    def marker_python(self) -> tuple[int, int]:
        """The Python that markers are evaluated for: the given one, else the file's, else the default."""
        for spec in (self.python_override, self.python, DEFAULT_PYTHON):
            minor = python_minor(spec or "")
            if minor:
                return minor
        raise AssertionError("DEFAULT_PYTHON names a minor version")  # pragma: no cover

    def keeps_marker(self, marker: Marker, file: str, line: int, text: str) -> bool:
        """Markers have no place in the manifest: keep the entry only if its marker holds everywhere."""
        from condauv.platforms import marker_environment

        python = self.marker_python()
        results = {p: marker.evaluate(marker_environment("{}.{}".format(*python), p)) for p in self.platforms}
        where = f"Python {python[0]}.{python[1]} on {', '.join(self.platforms)}"
        if all(results.values()):
            self.note(
                file, line, text, f"the marker is not kept (the manifest has none); it holds for {where}"
            )
            return True
        self.note(file, line, text, f"not kept: its marker does not hold for {where}")
        return False

    # -- entries -------------------------------------------------------------------------------

    def add(self, pending: Pending) -> None:
        entry = pending.entry
        problem = _check_entry(entry)
        if problem:
            self.note(pending.file, pending.line, pending.text, f"not kept: {problem}")
            return
        first = self.pending.get(entry.key)
        if first is not None and first.file != pending.file and _same_pin(first.entry, entry):
            self.repeats.setdefault((pending.file, first.file, False), []).append(
                (pending.line, pending.text)
            )
            return
        if first is not None:
            where = f"{first.file}:{first.line}" if first.file != pending.file else f"line {first.line}"
            side = "" if first.entry.table == entry.table else f" in [{first.entry.table}]"
            self.note(
                pending.file,
                pending.line,
                pending.text,
                f"duplicate of {first.text!r} ({where}){side}; the manifest holds one entry per package",
            )
            return
        self.pending[entry.key] = pending

    def conda_provides(self, name: str, file: str, line: int, text: str) -> bool:
        """``name @ URL`` where another file put ``name`` on the conda side: ``pip freeze`` in a
        conda environment writes conda's packages so (``numpy @ file:///croot/...``); counted."""
        first = self.pending.get(canonicalize_name(name))
        if first is None or first.file == file or first.entry.table != "conda-dependencies":
            return False
        self.repeats.setdefault((file, first.file, True), []).append((line, text))
        return True

    def finish(self, *, sources: Sequence[Source], reclassify: bool) -> Imported:
        entries = []
        for pending in self.pending.values():
            entry = pending.entry
            if reclassify and pending.movable:
                moved = replace(entry, table="dependencies")
                if _check_entry(moved) is None:
                    entry = moved
            entries.append(entry)
        return Imported(
            sources=tuple(sources),
            name=self.name,
            python=self.python,
            channels=self.final_channels(),
            entries=tuple(entries),
            index_url=self.index_url,
            extra_index_urls=tuple(dict.fromkeys(self.extra_index_urls)),
            find_links=_unique_links(self.find_links),
            no_index=self.no_index,
            notes=tuple(self.notes),
        )


def _unique_links(links: Sequence[str]) -> tuple[str, ...]:
    """Each find-links entry once, as first written; ``file:///w`` and ``/w`` are one folder."""
    from urllib.parse import unquote, urlsplit

    kept: dict[str, str] = {}
    for link in links:
        parts = urlsplit(link) if link.startswith("file://") else None
        key = unquote(parts.path) if parts is not None and parts.netloc in ("", "localhost") else link
        kept.setdefault(key, link)
    return tuple(kept.values())


def _same_pin(first: Requested, later: Requested) -> bool:
    """Whether ``later`` (from another file) says what ``first`` says: the same entry, or the same
    exact version from the other side (``numpy==2.4.6`` after conda's ``numpy=2.4.6=py311_0``:
    ``uv pip freeze`` lists conda's packages too)."""
    if first.table == later.table:
        return (first.spec, first.extras) == (later.spec, later.extras)
    if later.extras and later.extras != first.extras:
        return False
    versions = {_exact_version(first), _exact_version(later)}
    return len(versions) == 1 and None not in versions


def _exact_version(entry: Requested) -> object:
    """The one version an entry pins (``==2.4.6``, conda's ``2.4.6`` or ``2.4.6 build``), else None."""
    from packaging.version import InvalidVersion, Version

    words = entry.spec.split()
    if not words or len(words) > (2 if entry.table == "conda-dependencies" else 1):
        return None
    text = words[0].removeprefix("==")
    if entry.table != "conda-dependencies" and text == words[0]:
        return None  # a bare PyPI version is not a pin
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _check_entry(entry: Requested) -> str | None:
    """The manifest's own verdict on one entry (plus rattler's for conda specs), or None."""
    value = json.dumps(entry.spec or "*")
    if entry.extras:
        value = f"{{ version = {value}, extras = {json.dumps(list(entry.extras))} }}"
    problem = _check(f"[{entry.table}]\n{json.dumps(entry.name)} = {value}\n")
    if problem is None and entry.table == "conda-dependencies":
        return _match_spec_problem(entry.as_conda())
    return problem


def _match_spec_problem(spec: str) -> str | None:
    """rattler's verdict on a conda match spec, or None when it reads it."""
    from rattler import MatchSpec

    try:
        MatchSpec(spec)
    except Exception as exc:  # rattler's parse errors share no public base class
        return f"{spec!r} is not a conda match spec ({str(exc).splitlines()[0]})"
    return None


def _check(text: str) -> str | None:
    try:
        parse_manifest(text, _CHECK_PATH)
    except ManifestError as exc:
        return exc.message.removeprefix(f"{_CHECK_PATH.name}: ")
    return None
