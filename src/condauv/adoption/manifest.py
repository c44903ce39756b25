"""The manifest ``condauv adopt`` writes: the requested packages, and the channels they came from."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

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
    from condauv.manifest.edit import write_manifest

    environment: dict[str, object] = {
        "name": prefix.name,
        "python": ".".join(python.version.split(".")[:2]) + ".*",
        "channels": [_channel_spelling(url) for url in channels(records.values())],
        "platforms": [python.subdir],
    }
    if options.in_place:
        environment["prefix"] = str(prefix)
    pypi_options: dict[str, object] = {}
    if options.index_url:
        pypi_options["index-url"] = options.index_url
    if options.find_links:
        pypi_options["find-links"] = [
            link if "://" in link else str(Path(link).expanduser().resolve()) for link in options.find_links
        ]
    if options.no_index:
        pypi_options["no-index"] = True
    entries, comments = _requested(records, conda_asked, pypi_asked, copied)
    return write_manifest(
        header=[
            f"written by `condauv adopt {prefix}`: the requested packages, at their",
            "installed versions; condauv.lock holds every installed package exactly",
        ],
        environment=environment,
        requested=entries,
        comments=comments,
        pypi_options=pypi_options,
        keep_empty=("conda-dependencies", "pypi-dependencies"),
    )


def _requested(
    records: Mapping[str, CondaRecord],
    conda_asked: Mapping[str, str],
    pypi_asked: Mapping[str, str],
    copied: Sequence[Requested],
) -> tuple[list[Requested], dict[str, str]]:
    """The entries in the order they are written (``copied`` first, as they were), and the
    comment of each conda entry that was asked for under another spelling."""
    entries = list(copied)
    comments: dict[str, str] = {}
    covered = {entry.key for entry in copied}
    for name in sorted(n for n in conda_asked if n != "python"):
        if canonicalize_name(name) in covered or covered & set(records[name].provided_distributions()):
            continue
        entries.append(Requested(name=name, spec=f"=={records[name].version}", table="conda-dependencies"))
        original = conda_asked[name]
        if original and original != name:
            comments[name] = f"asked for as {original!r}"
    entries += [
        Requested(name=name, spec=spec, table="pypi-dependencies")
        for name, spec in sorted(pypi_asked.items())
        if name not in covered
    ]
    return entries, comments
