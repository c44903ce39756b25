"""Edits of ``condauv.toml`` that keep the user's comments, order and layout (tomlkit)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import Table as TomlTable

from condauv.errors import ManifestError
from condauv.manifest.model import TABLES, Manifest, Requested, Table, parse_manifest

__all__ = ["ManifestDocument", "initial_manifest", "write_manifest"]


def initial_manifest(
    *,
    name: str,
    python: str,
    channels: Sequence[str],
    platforms: Sequence[str],
    pypi_options: Mapping[str, object] | None = None,
) -> str:
    """The text ``condauv init`` writes; ``pypi_options`` (from an import) adds that table."""
    doc = tomlkit.document()
    doc.add(tomlkit.comment("condauv manifest: https://github.com/condauv/condauv#manifest"))
    env = tomlkit.table()
    env.add("name", name)
    env.add("python", python)
    env["python"].comment("conda match spec for the interpreter")
    env.add("channels", list(channels))
    env.add("platforms", list(platforms))
    doc.add("environment", env)
    deps = tomlkit.table()
    deps.add(tomlkit.comment("condauv decides conda or PyPI for each; `condauv list` says why"))
    doc.add("dependencies", deps)
    conda = tomlkit.table()
    conda.add(tomlkit.comment("always from conda channels: conda match specs"))
    doc.add("conda-dependencies", conda)
    pypi = tomlkit.table()
    pypi.add(tomlkit.comment("always from PyPI, installed by uv: PEP 440 specifiers"))
    doc.add("pypi-dependencies", pypi)
    if pypi_options:
        options = tomlkit.table()
        for key, value in pypi_options.items():
            options.add(key, value)
        doc.add("pypi-options", options)
    return tomlkit.dumps(doc)


def write_manifest(
    *,
    environment: Mapping[str, object],
    requested: Sequence[Requested],
    header: Sequence[str] = (),
    comments: Mapping[str, str] | None = None,
    pypi_options: Mapping[str, object] | None = None,
    keep_empty: Sequence[Table] = (),
) -> str:
    """A whole new manifest: ``header`` as comment lines, ``[environment]`` with ``environment``'s
    keys in order, each of ``requested`` in its table (in the order given), ``comments`` (by
    entry name as written) after an entry's line, then ``[pypi-options]`` when there are any.
    A dependency table without entries is left out unless it is in ``keep_empty``."""
    doc = tomlkit.document()
    for line in header:
        doc.add(tomlkit.comment(line))
    env = tomlkit.table()
    for key, value in environment.items():
        env.add(key, value)
    doc.add("environment", env)
    tables = {table: tomlkit.table() for table in TABLES}
    for entry in requested:
        tables[entry.table].add(entry.name, _value(entry))
        if comments and entry.name in comments:
            tables[entry.table][entry.name].comment(comments[entry.name])
    for table in TABLES:
        if tables[table] or table in keep_empty:
            doc.add(table, tables[table])
    if pypi_options:
        options = tomlkit.table()
        for key, value in pypi_options.items():
            options.add(key, value)
        doc.add("pypi-options", options)
    return tomlkit.dumps(doc)


def _value(entry: Requested) -> object:
    """An entry's value as the manifest spells it: ``"spec"``, or with extras an inline table."""
    if not entry.extras:
        return entry.spec or "*"
    inline = tomlkit.inline_table()
    inline.update({"version": entry.spec or "*", "extras": list(entry.extras)})
    return inline


class ManifestDocument:
    """A manifest open for editing. Changes are applied to text; nothing is written here."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.original = text
        parse_manifest(text, path)  # refuse to edit a manifest that does not validate
        try:
            self._doc = tomlkit.parse(text)
        except TOMLKitError as exc:  # pragma: no cover - tomllib already accepted it
            raise ManifestError(f"{path.name}: {exc}", hint="fix the TOML syntax") from None

    @classmethod
    def open(cls, path: Path) -> ManifestDocument:
        from condauv.manifest.model import load_manifest

        load_manifest(path)  # one place for "missing" and "malformed" messages
        return cls(path, path.read_text(encoding="utf-8"))

    def text(self) -> str:
        return tomlkit.dumps(self._doc)

    def manifest(self) -> Manifest:
        """The edited manifest, validated."""
        return parse_manifest(self.text(), self.path)

    def _table(self, table: Table) -> TomlTable:
        if table not in self._doc:
            self._doc.add(table, tomlkit.table())
        found = self._doc[table]
        if not isinstance(found, TomlTable):
            raise ManifestError(f"{self.path.name}: [{table}] must be a table", hint=f"write it as [{table}]")
        return found

    def _find(self, key: str) -> tuple[Table, str] | None:
        from packaging.utils import canonicalize_name

        for table in TABLES:
            section = self._doc.get(table)
            if isinstance(section, TomlTable):
                for name in section:
                    if canonicalize_name(name) == key:
                        return table, name
        return None

    def add(self, entry: Requested) -> None:
        """Add or replace ``entry``; a package moves tables when ``entry.table`` differs."""
        existing = self._find(entry.key)
        if existing is not None:
            table, name = existing
            del self._table(table)[name]
        self._table(entry.table).add(entry.name, _value(entry))

    def set_sources(self, channels: Sequence[str], pypi_options: Mapping[str, object]) -> None:
        """Replace ``[environment] channels`` and the whole ``[pypi-options]`` table; the
        rest (name, python, platforms, the dependency tables, comments) is kept."""
        env = self._doc.get("environment")
        if not isinstance(env, TomlTable):
            env = tomlkit.table()
            self._doc.add("environment", env)
        env["channels"] = list(channels)
        options = tomlkit.table()
        for key, value in pypi_options.items():
            options.add(key, value)
        if "pypi-options" in self._doc:
            del self._doc["pypi-options"]
        self._doc.add("pypi-options", options)

    def unset_prefix(self) -> None:
        """Drop ``[environment] prefix``: the environment goes to the default, beside the manifest."""
        env = self._doc.get("environment")
        if isinstance(env, TomlTable) and "prefix" in env:
            del env["prefix"]

    def remove(self, name: str) -> Table:
        """Remove ``name`` from whichever table holds it; returns that table."""
        from packaging.utils import canonicalize_name

        found = self._find(canonicalize_name(name))
        if found is None:
            raise ManifestError(
                f"{name!r} is not in {self.path.name}",
                hint="`condauv list` shows what is installed and which table asked for it",
            )
        table, key = found
        del self._table(table)[key]
        return table
