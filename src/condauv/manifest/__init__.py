"""``condauv.toml``: what the user asks for. Parsed into frozen dataclasses; edited with tomlkit."""

from condauv.manifest.model import (
    MANIFEST_NAME,
    EnvironmentSettings,
    Manifest,
    PypiOptions,
    Requested,
    load_manifest,
    parse_manifest,
)

__all__ = [
    "MANIFEST_NAME",
    "EnvironmentSettings",
    "Manifest",
    "PypiOptions",
    "Requested",
    "load_manifest",
    "parse_manifest",
]
