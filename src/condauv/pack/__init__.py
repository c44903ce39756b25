"""Shipping an environment elsewhere: ``condauv pack`` (a relocatable archive of the synced
prefix, :mod:`condauv.pack.archive`) and ``condauv pack --bundle`` (every locked artifact for an
air-gapped site, :mod:`condauv.pack.bundle`)."""

from __future__ import annotations

from condauv.pack.archive import FORMATS, PackResult, pack_environment

__all__ = ["FORMATS", "PackResult", "pack_environment"]
