"""``environment-yml``: conda's ``environment.yml``, the strategy's ``conda env export`` file.

``name``, ``channels`` and ``dependencies`` with every conda package pinned ``name=version=build``,
then a ``pip:`` section with ``name==version`` for the PyPI side, after the manifest's index
options. Read by ``conda env create -f`` (and mamba, micromamba, pixi's importer) and by
``condauv init --from``. It carries no hashes and no URLs: condauv.lock has them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from condauv.export._shared import (
    Exported,
    YamlValue,
    conda_channels,
    dump_yaml,
    index_option_lines,
    single_line,
)

if TYPE_CHECKING:
    from condauv.lock.model import Lock
    from condauv.manifest.model import Manifest

__all__ = ["FILE_NAME", "environment_yml"]

FILE_NAME = "environment.yml"


def environment_yml(lock: Lock, manifest: Manifest, platform: str) -> tuple[str, tuple[str, ...]]:
    """The document for ``platform`` and its notes (what it does not carry)."""
    conda = sorted(lock.conda_for(platform), key=lambda p: p.name)
    pypi = sorted(lock.pypi_for(platform), key=lambda p: p.name)
    dependencies: list[YamlValue] = [
        single_line(f"{p.name}={p.version}={p.build}", f"conda package {p.name}") for p in conda
    ]
    notes = [f"{FILE_NAME} carries no hashes nor URLs; condauv.lock has them (or export --format explicit)"]
    if pypi:
        pip = [*index_option_lines(manifest), *(single_line(f"{p.name}=={p.version}", p.name) for p in pypi)]
        dependencies.append({"pip": pip})
        if not any(p.name == "pip" for p in conda):
            notes.append(
                f"no conda package pip on {platform}: `conda env create` needs pip for the pip: "
                "section (add pip to [conda-dependencies], or install the PyPI side with "
                "--format requirements)"
            )
    document: dict[str, YamlValue] = {
        "name": single_line(manifest.environment.name, "[environment] name"),
        "channels": list(conda_channels(manifest)),
        "dependencies": dependencies,
    }
    header = f"# written by condauv export from condauv.lock, for {platform}\n"
    return header + dump_yaml(document), tuple(notes)


def export(lock: Lock, manifest: Manifest, platform: str) -> Exported:
    text, notes = environment_yml(lock, manifest, platform)
    return Exported(format="environment-yml", platform=platform, file_name=FILE_NAME, text=text, notes=notes)
