"""``condauv demo``: the whole hybrid flow on an embedded default, with no conda channel needed.

A local channel is built (cached) from this machine's interpreter and numpy's wheel; a
manifest asks for numpy (conda) and a few pure-Python packages (PyPI, installed by uv).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from condauv import _fs, _process
from condauv.errors import UserError
from condauv.manifest.model import MANIFEST_NAME, load_manifest
from condauv.project import Project, project_lock
from condauv.sync.apply import SyncReport, sync

__all__ = ["DemoResult", "run_demo"]

_MARK = "# condauv demo project"

DEMO_PYPI = ("requests", "tqdm", "click")


@dataclass(frozen=True, slots=True)
class DemoResult:
    project: Project
    report: SyncReport
    check_output: str
    channel: Path
    channel_built: bool  # False: the cached channel was used as it was


def demo_manifest(channel: Path) -> str:
    python = f"{sys.version_info.major}.{sys.version_info.minor}.*"
    pypi = "\n".join(f'{name} = "*"' for name in DEMO_PYPI)
    return f"""{_MARK}: numpy from a local conda channel, the rest from PyPI by uv
[environment]
name = "condauv-demo"
python = "{python}"
channels = ["{channel.as_uri()}"]

[dependencies]   # condauv decides: numpy -> conda, the others -> PyPI
numpy = "*"
{pypi}
"""


def run_demo(
    folder: Path, *, refresh: bool = False, on_build_channel: Callable[[], object] | None = None
) -> DemoResult:
    """Build the demo channel (or reuse the cached one), write the demo manifest in ``folder``,
    sync, and check imports. ``on_build_channel`` is called before the channel is built (or its
    numpy wheel fetched), never when the cached channel is used as it is."""
    from condauv.channel import demo_channel

    folder = folder.resolve()
    manifest = folder / MANIFEST_NAME
    if manifest.exists() and not manifest.read_text(encoding="utf-8").startswith(_MARK):
        raise UserError(
            f"{manifest} exists and is not a demo manifest",
            hint="run the demo in another folder: condauv demo DIR",
        )
    if folder.exists() and not manifest.exists() and any(folder.iterdir()):
        raise UserError(f"{folder} is not empty", hint="give an empty or new folder: condauv demo DIR")
    built: list[bool] = []

    def building() -> None:
        built.append(True)
        if on_build_channel is not None:
            on_build_channel()

    channel = demo_channel(refresh=refresh, on_build=building)
    with project_lock(manifest):
        _fs.atomic_write_text(manifest, demo_manifest(channel))
        project = Project.load(manifest)
        report = sync(project)
    python = project.prefix / "bin" / "python"
    check = _process.run(
        [
            python,
            "-c",
            "import numpy, requests, tqdm, click, sys; "
            "print(f'python {sys.version.split()[0]} at {sys.prefix}: numpy {numpy.__version__} '"
            "f'(conda), requests {requests.__version__} (PyPI)'); "
            "print('numpy dot:', numpy.arange(4) @ numpy.arange(4))",
        ],
        what="the demo environment imports its packages",
    )
    return DemoResult(
        Project(load_manifest(manifest), project.prefix),
        report,
        check.stdout.strip(),
        channel=channel,
        channel_built=bool(built),
    )
