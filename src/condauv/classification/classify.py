"""``condauv classify`` and ``condauv explain``: decisions for names, with nothing written."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from condauv.classification.policy import Decision, decide, needs_channel_evidence
from condauv.errors import UserError
from condauv.manifest.model import Manifest, Requested, Table
from condauv.manifest.specs import parse_user_spec
from condauv.platforms import current_subdir

__all__ = ["Classification", "classify"]

#: The version of ``classify --json``'s schema (docs/classify.md).
SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class Classification:
    spec: str
    decision: Decision
    channels_consulted: bool
    note: str | None = None  # why the channels were not consulted, when they were not

    def to_dict(self) -> dict[str, object]:
        d = self.decision
        return {
            "spec": self.spec,
            "manager": d.manager,
            "name": d.name,
            "conda-name": d.conda_name,
            "pypi-names": list(d.pypi_names),
            "reason": d.reason,
            "trace": list(d.trace),
            "channels-consulted": self.channels_consulted,
            **({"note": self.note} if self.note else {}),
        }


def _entry(spec: str, manifest: Manifest | None) -> Requested:
    """The spec as the manifest would hold it: its own table if listed there, else [dependencies]."""
    entry = parse_user_spec(spec, "dependencies")
    if manifest is not None:
        listed = next((r for r in manifest.requested if r.key == entry.key), None)
        if listed is not None:
            table: Table = listed.table
            return Requested(name=entry.name, spec=entry.spec, table=table, extras=entry.extras)
    return entry


def classify(specs: Sequence[str], *, manifest: Manifest | None, offline: bool) -> list[Classification]:
    """Decide every spec as ``condauv add`` would, consulting the channels unless ``offline``."""
    entries = [_entry(spec, manifest) for spec in specs]
    rules = manifest.classify if manifest else {}
    undecided = needs_channel_evidence(entries, rules)
    in_channels: set[str] | None = None
    note = "offline: decided from the manifest and built-in knowledge" if offline else None
    if undecided and not offline:
        from condauv.conda import engine
        from condauv.conda.channels import channel_url

        channels = manifest.environment.channels if manifest else ("conda-forge",)
        platforms = manifest.environment.platforms if manifest else (current_subdir(),)
        root = manifest.root if manifest else Path.cwd()
        try:
            urls = [channel_url(c, root) for c in channels]
            in_channels = engine.names_in_channels(urls, platforms, undecided)
        except UserError as exc:
            note = f"channels not consulted: {exc.message}"
    return [
        Classification(
            spec=spec,
            decision=decide(entry, in_channels=in_channels, rules=rules),
            channels_consulted=in_channels is not None,
            note=note,
        )
        for spec, entry in zip(specs, entries, strict=True)
    ]
