"""A sync's journal in the prefix: written before its first change, removed after its last.

A sync that is killed (SIGKILL, power loss) part-way leaves packages half linked or half
installed, with records and dist-info folders that look complete: only the journal tells the
next sync that the prefix cannot be trusted as it looks. That sync then verifies every file
of what the journal names and links or installs again what is damaged.

The journal is ``conda-meta/condauv-journal``: JSON content, but not named ``*.json``, which
conda and rattler would read as a package record.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from condauv import _fs

__all__ = ["JOURNAL", "Journal", "Opener", "begin", "clear", "pending"]

JOURNAL = "condauv-journal"
_SCHEMA = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Journal:
    """What an unfinished sync was doing. ``readable`` is false for a journal whose content was
    cut or garbled (the sync was killed as it wrote it): then nothing it names can be trusted,
    and everything is verified."""

    pid: int | None
    started: float | None
    conda: tuple[str, ...]  # conda packages the sync was to make match the lock
    pypi: tuple[str, ...]  # PyPI distributions likewise
    readable: bool = True

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started)) if self.started else None
        who = f"pid {self.pid}" if self.pid else "an earlier sync"
        return f"{who}{f', started {when}' if when else ''}"


def _path(prefix: Path) -> Path:
    return prefix / "conda-meta" / JOURNAL


def begin(prefix: Path, *, conda: Iterable[str], pypi: Iterable[str]) -> None:
    """Write the journal (atomically, fsynced) before the sync changes anything in ``prefix``.

    Call it under the prefix's sync lock: it also removes the temp files a killed sync left
    beside condauv's files in conda-meta (only the lock's holder writes them).
    """
    _remove_temp_files(prefix)
    data = {
        "schema": _SCHEMA,
        "pid": os.getpid(),
        "started": time.time(),
        "conda": sorted(set(conda)),
        "pypi": sorted(set(pypi)),
    }
    _fs.atomic_write_text(_path(prefix), json.dumps(data, indent=1) + "\n")


class Opener:
    """Writes the journal once, right before a sync's first change: a sync that changes nothing
    writes nothing into the prefix (a no-op sync stays cheap, and works on a read-only copy)."""

    def __init__(self, prefix: Path, *, conda: Iterable[str], pypi: Iterable[str]) -> None:
        self.prefix = prefix
        self.conda = tuple(conda)
        self.pypi = tuple(pypi)
        self.written = False

    def __call__(self) -> None:
        if not self.written:
            begin(self.prefix, conda=self.conda, pypi=self.pypi)
            self.written = True


def pending(prefix: Path) -> Journal | None:
    """The journal an interrupted sync left in ``prefix``, or ``None`` when the last one finished."""
    path = _path(prefix)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except OSError:
        return Journal(pid=None, started=None, conda=(), pypi=(), readable=False)
    try:
        return _parse(json.loads(text))
    except (ValueError, TypeError):
        return Journal(pid=None, started=None, conda=(), pypi=(), readable=False)


def _parse(raw: object) -> Journal:
    if not isinstance(raw, dict) or raw.get("schema") != _SCHEMA:
        raise ValueError("not a condauv journal")
    pid, started = raw.get("pid"), raw.get("started")
    return Journal(
        pid=pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
        started=float(started) if isinstance(started, int | float) else None,
        conda=_names(raw.get("conda")),
        pypi=_names(raw.get("pypi")),
    )


def _names(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("names must be a list of strings")
    return tuple(value)


def clear(prefix: Path) -> None:
    """Remove the journal: the sync finished, every change it made is complete. Under the
    prefix's sync lock: a sync that finishes a killed one without a change of its own (killed
    as it wrote conda-meta's copies) removes that one's temp files here."""
    _remove_temp_files(prefix)
    with contextlib.suppress(FileNotFoundError):
        _path(prefix).unlink()


def _remove_temp_files(prefix: Path) -> None:
    """The temp files a killed sync left beside condauv's files in conda-meta (only the holder
    of the prefix's sync lock writes them)."""
    from condauv.conda.prefix import LOCK_COPY, MANIFEST_COPY, MARKER

    meta = prefix / "conda-meta"
    _fs.remove_stale_temp_files([meta / name for name in (JOURNAL, LOCK_COPY, MANIFEST_COPY, MARKER)])
