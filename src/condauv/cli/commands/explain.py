from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from condauv.cli.commands.classify import load_optional_manifest
from condauv.cli.output import Output

if TYPE_CHECKING:
    from condauv.classification.classify import Classification

HELP = "explain in full how condauv classifies one package, and how to override it"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME")
    parser.add_argument(
        "--offline",
        action="store_true",
        help="decide from the manifest, built-in knowledge and the index cache; no network",
    )


def handle(args: argparse.Namespace, out: Output) -> int:
    from condauv.classification.classify import SCHEMA_VERSION, classify

    manifest = load_optional_manifest(args)
    result = classify([args.name], manifest=manifest, offline=args.offline)[0]
    if out.json_mode:
        out.data({"schema": SCHEMA_VERSION, **result.to_dict()})
        return 0
    from condauv._process import mask  # an index URL in the explanation shows no credentials

    print(mask("\n".join(_explanation(args.name, result))))
    return 0


def _channels(result: Classification) -> str:
    d = result.decision
    if d.kept:
        return f"not consulted: the decision is kept from condauv.lock (its conda name: {d.conda_name!r})"
    if not result.channels_consulted:
        return "not consulted"
    text = f"consulted ({', '.join(result.channels)})"
    if d.looked_up:
        asked = ", ".join(repr(s) for s in d.looked_up)
        found = f"they have {d.found_as!r}" if d.found_as else "they have none of them"
        text += f": looked up {asked}; {found}"
    return text


def _explanation(name: str, result: Classification) -> list[str]:
    from condauv.classification.knowledge import knowledge

    d = result.decision
    other = "pypi" if d.manager == "conda" else "conda"
    lines = [
        f"{name}: installed by {'conda' if d.manager == 'conda' else 'uv from PyPI'} as {d.name!r}",
        f"  conda name: {d.conda_name}; PyPI distribution(s): {', '.join(d.pypi_names) or 'none'}",
        "  rules consulted, strongest first:",
        *(f"    {line}" for line in d.trace),
        "  evidence:",
        f"    conda channels: {_channels(result)}",
    ]
    if result.evidence is None:
        lines.append("    package index: not consulted (a conda-side name is never sent to PyPI)")
    else:
        ev = result.evidence
        lines.append(f"    package index: {ev.project} {ev.version or ''} from {ev.source}".rstrip())
        lines += [f"      {p.subdir}: {p.describe()}" for p in ev.platforms]
    system = knowledge().conda_reason(d.conda_name)
    lines.append(f"    system libraries: {system or 'none known (manylinux/macOS wheels bundle theirs)'}")
    if result.dependencies is not None:
        lines.append(f"  dependencies ({result.target}):")
        lines += [f"    {v.requirement}: {v.note}" for v in result.dependencies] or ["    none"]
    if result.note:
        lines.append(f"  note: {result.note}")
    lines += [
        "  to override it:",
        f"    condauv add --{other} {name}      (the explicit table wins over every rule)",
        f'    or in condauv.toml: [classify] "{d.conda_name}" = "{other}"   (globs allowed)',
    ]
    return lines
