"""The manifest ``condauv adopt`` writes: the requested packages, and the channels they came from."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name

from condauv.conda.channels import DEFAULT_CHANNEL_ALIAS
from condauv.conda.records import CondaRecord
from condauv.manifest.model import Requested

if TYPE_CHECKING:
    from condauv.adoption.adopt import AdoptOptions

__all__ = ["channels", "manifest_text"]


def _channel_spelling(url: str) -> str:
    """``https://conda.anaconda.org/conda-forge`` -> ``conda-forge``; other URLs as they are."""
    if url.startswith(DEFAULT_CHANNEL_ALIAS + "/"):
        return url.removeprefix(DEFAULT_CHANNEL_ALIAS + "/")
    return url


def channels(records: Iterable[CondaRecord]) -> list[str]:
    """Channel base URLs, the one most packages came from first."""
    urls = [r.channel_url for r in records if r.channel_url]
    counts = Counter(urls)
    order = {url: i for i, url in enumerate(dict.fromkeys(urls))}
    return sorted(counts, key=lambda url: (-counts[url], order[url]))


def manifest_text(
    prefix: Path,
    python: CondaRecord,
    records: Mapping[str, CondaRecord],
    conda_asked: Mapping[str, str],
    pypi_asked: Mapping[str, str],
    options: AdoptOptions,
    copied: Sequence[Requested] = (),
) -> str:
    """The manifest: ``copied`` entries as they were written (tables, specs, extras), every other
    requested package at its installed version."""
    import tomlkit

    doc = tomlkit.document()
    doc.add(tomlkit.comment(f"written by `condauv adopt {prefix}`: the requested packages, at their"))
    doc.add(tomlkit.comment("installed versions; condauv.lock holds every installed package exactly"))
    env = tomlkit.table()
    env.add("name", prefix.name)
    env.add("python", ".".join(python.version.split(".")[:2]) + ".*")
    env.add("channels", [_channel_spelling(url) for url in channels(records.values())])
    env.add("platforms", [python.subdir])
    if options.in_place:
        env.add("prefix", str(prefix))
    doc.add("environment", env)
    _dependency_tables(doc, records, conda_asked, pypi_asked, copied)
    if options.index_url or options.find_links or options.no_index:
        pypi_options = tomlkit.table()
        if options.index_url:
            pypi_options.add("index-url", options.index_url)
        if options.find_links:
            pypi_options.add(
                "find-links",
                [
                    link if "://" in link else str(Path(link).expanduser().resolve())
                    for link in options.find_links
                ],
            )
        if options.no_index:
            pypi_options.add("no-index", True)
        doc.add("pypi-options", pypi_options)
    return tomlkit.dumps(doc)


def _dependency_tables(
    doc: Any,
    records: Mapping[str, CondaRecord],
    conda_asked: Mapping[str, str],
    pypi_asked: Mapping[str, str],
    copied: Sequence[Requested],
) -> None:
    import tomlkit

    tables = {name: tomlkit.table() for name in ("dependencies", "conda-dependencies", "pypi-dependencies")}
    covered = {entry.key for entry in copied}
    for entry in copied:
        value: Any = entry.spec or "*"
        if entry.extras:
            value = tomlkit.inline_table()
            value.update({"version": entry.spec or "*", "extras": list(entry.extras)})
        tables[entry.table].add(entry.name, value)
    conda = tables["conda-dependencies"]
    for name in sorted(n for n in conda_asked if n != "python"):
        if canonicalize_name(name) in covered or covered & set(records[name].provided_distributions()):
            continue
        conda.add(name, f"=={records[name].version}")
        original = conda_asked[name]
        if original and original != name:
            conda[name].comment(f"asked for as {original!r}")
    for name, spec in sorted(pypi_asked.items()):
        if name not in covered:
            tables["pypi-dependencies"].add(name, spec)
    if tables["dependencies"]:
        doc.add("dependencies", tables["dependencies"])
    doc.add("conda-dependencies", conda)
    doc.add("pypi-dependencies", tables["pypi-dependencies"])
