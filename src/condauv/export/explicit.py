"""``explicit``: conda's ``@EXPLICIT`` file (CEP 23), the conda side as URLs with sha256.

``# platform: P``, ``@EXPLICIT``, then one artifact URL per line followed by its sha256 as
``#sha256:HEX`` (CEP 23 allows ``#MD5``, a bare 64-hex digest and ``#sha256:HEX``; the prefixed
form says which hash it is, so no reader takes it for an md5). conda installs the lines in file
order without solving, so they come in dependency order (a package after what it depends on),
ties by name. Read by ``conda create --file`` and ``mamba``/``micromamba create --file``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from condauv._process import strip_credentials
from condauv.conda.records import spec_name
from condauv.errors import LockfileError
from condauv.export._shared import Exported, single_line

if TYPE_CHECKING:
    from condauv.lock.model import CondaPackage, Lock

__all__ = ["FILE_NAME", "dependency_order", "explicit_txt"]

FILE_NAME = "explicit.txt"
#: conda leaves channel tokens out of what it exports too; it adds them back from its token store
TOKENS_LEFT_OUT = (
    "the channel token of {count} URL(s) is left out (a credential); conda adds it back from its "
    "token store (`anaconda login`, `conda token set`)"
)


def dependency_order(packages: Sequence[CondaPackage]) -> list[CondaPackage]:
    """``packages`` with each after the packages of the set it depends on (a cycle is broken
    where it closes); otherwise by name, so that the order is the same every time."""
    by_name = {p.name.lower(): p for p in packages}
    done: set[str] = set()
    visiting: set[str] = set()
    order: list[CondaPackage] = []

    def visit(name: str) -> None:
        if name in done or name in visiting:
            return
        visiting.add(name)
        needs = sorted({spec_name(d) for d in by_name[name].depends} & by_name.keys() - {name})
        for dependency in needs:
            visit(dependency)
        visiting.discard(name)
        done.add(name)
        order.append(by_name[name])

    for name in sorted(by_name):
        visit(name)
    return order


def explicit_txt(lock: Lock, platform: str) -> tuple[str, tuple[str, ...]]:
    """The file for ``platform`` and its notes (the PyPI packages it leaves out)."""
    lines = [
        "# This file may be used to create an environment using:",
        "# $ conda create --name <env> --file <this file>",
        f"# platform: {platform}",
        "# created-by: condauv export (from condauv.lock)",
        "@EXPLICIT",
    ]
    tokens = 0
    for package in dependency_order(lock.conda_for(platform)):
        url = single_line(strip_credentials(package.url), f"the URL of {package.name}")
        tokens += url != package.url
        if "#" in url or " " in url:
            raise LockfileError(
                f"the URL of {package.name} holds '#' or a space: {url:.120}",
                hint="run `condauv lock` again",
            )
        lines.append(f"{url}#sha256:{package.sha256}")
    pypi = sorted(lock.pypi_for(platform), key=lambda p: p.name)
    notes = [TOKENS_LEFT_OUT.format(count=tokens)] if tokens else []
    if pypi:
        left_out = ", ".join(f"{p.name}=={p.version}" for p in pypi)
        notes.append(
            f"an explicit file holds conda packages only; left out ({len(pypi)} PyPI): {left_out} "
            "(export --format requirements or pylock for them)"
        )
    return "\n".join(lines) + "\n", tuple(notes)


def export(lock: Lock, platform: str) -> Exported:
    text, notes = explicit_txt(lock, platform)
    return Exported(format="explicit", platform=platform, file_name=FILE_NAME, text=text, notes=notes)
