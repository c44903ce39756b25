"""What ``condauv adopt`` says about a prefix it cannot reproduce as it is: one :class:`Note` each."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from condauv.conda.records import CondaRecord, spec_name

__all__ = ["Note", "note_managed", "note_pinned"]


@dataclass(frozen=True, slots=True)
class Note:
    """Something in the prefix the manifest and lock do not reproduce as it is, and why."""

    kind: str  # editable, local-dir, vcs, unknown-origin, shadowing, direct-url, no-sha256, ...
    package: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "package": self.package, "message": self.message}


def note_managed(prefix: Path, notes: list[Note]) -> None:
    """A prefix condauv already manages has a project: adopting it makes a second one."""
    from condauv.conda.prefix import MARKER

    marker = prefix / "conda-meta" / MARKER
    if marker.is_file():
        try:
            manifest = json.loads(marker.read_text(encoding="utf-8")).get("manifest", "?")
        except (OSError, ValueError, AttributeError):
            manifest = "?"
        notes.append(Note("managed", prefix.name, f"condauv already manages this prefix from {manifest}"))


def note_pinned(
    prefix: Path, records: Mapping[str, CondaRecord], asked: Mapping[str, str], notes: list[Note]
) -> None:
    """conda's pins (``conda-meta/pinned``, one spec a line) have no place in condauv.toml: say
    what becomes of each, rather than drop it silently."""
    try:
        text = (prefix / "conda-meta" / "pinned").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    for line in text.splitlines():
        spec = line.split("#", 1)[0].strip()
        name = spec_name(spec)
        if not name:
            continue
        record = records.get(name)
        if record is None:
            held = f"{name} is not installed: the pin is left out"
        elif name == "python":
            held = f"the lock holds python {record.version}; [environment] python keeps its minor version"
        elif name in asked:
            held = f"[conda-dependencies] asks for {name} =={record.version}, which keeps it"
        else:
            held = (
                f"the lock holds {name} {record.version}, but a later `condauv lock` may move it: "
                "add it to [conda-dependencies] to keep the pin"
            )
        notes.append(Note("pinned", name, f"conda-meta/pinned pins {spec!r}; condauv keeps no pins: {held}"))
