"""The manifest's writer: a whole new ``condauv.toml`` from requested entries (``condauv adopt``)."""

from __future__ import annotations

from pathlib import Path

from condauv.manifest.edit import write_manifest
from condauv.manifest.model import TABLES, Requested, parse_manifest


def test_a_new_manifest_holds_what_it_was_given_in_order() -> None:
    entries = [
        Requested(name="click", spec=">=8", table="dependencies"),
        Requested(name="tqdm", spec=">=4", table="pypi-dependencies", extras=("notebook",)),
        Requested(name="numpy", spec="==2.4.6", table="conda-dependencies"),
        Requested(name="attrs", spec="==25.1", table="pypi-dependencies"),
    ]
    text = write_manifest(
        header=["first line", "second line"],
        environment={
            "name": "env",
            "python": "3.11.*",
            "channels": ["conda-forge"],
            "platforms": ["linux-64"],
        },
        requested=entries,
        comments={"numpy": "asked for as 'numpy>=2'"},
        pypi_options={"index-url": "https://example.org/simple", "no-index": True},
    )
    assert text == (
        "# first line\n"
        "# second line\n"
        "\n"
        "[environment]\n"
        'name = "env"\n'
        'python = "3.11.*"\n'
        'channels = ["conda-forge"]\n'
        'platforms = ["linux-64"]\n'
        "\n"
        "[dependencies]\n"
        'click = ">=8"\n'
        "\n"
        "[conda-dependencies]\n"
        "numpy = \"==2.4.6\" # asked for as 'numpy>=2'\n"
        "\n"
        "[pypi-dependencies]\n"
        'tqdm = {version = ">=4", extras = ["notebook"]}\n'
        'attrs = "==25.1"\n'
        "\n"
        "[pypi-options]\n"
        'index-url = "https://example.org/simple"\n'
        "no-index = true\n"
    )
    manifest = parse_manifest(text, Path("condauv.toml"))
    in_table_order = sorted(entries, key=lambda e: TABLES.index(e.table))  # stable within a table
    assert list(manifest.requested) == in_table_order


def test_empty_tables_are_written_only_when_asked_for() -> None:
    text = write_manifest(
        environment={"name": "env"},
        requested=[],
        keep_empty=("conda-dependencies", "pypi-dependencies"),
    )
    assert text == '[environment]\nname = "env"\n\n[conda-dependencies]\n\n[pypi-dependencies]\n'
