"""Taking over an existing conda prefix: a manifest and a lock that reproduce it (``condauv adopt``)."""

from __future__ import annotations

from condauv.adoption.adopt import Adoption, AdoptOptions, Note, adopt

__all__ = ["AdoptOptions", "Adoption", "Note", "adopt"]
