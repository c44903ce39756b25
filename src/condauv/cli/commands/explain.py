from __future__ import annotations

import argparse

from condauv.cli.commands.classify import load_optional_manifest
from condauv.cli.output import Output

HELP = "explain in full how condauv classifies one package, and how to override it"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME")
    parser.add_argument("--offline", action="store_true", help="decide without consulting the channels")


def handle(args: argparse.Namespace, out: Output) -> int:
    from condauv.classification.classify import SCHEMA_VERSION, classify

    manifest = load_optional_manifest(args)
    result = classify([args.name], manifest=manifest, offline=args.offline)[0]
    if out.json_mode:
        out.data({"schema": SCHEMA_VERSION, **result.to_dict()})
        return 0
    d = result.decision
    other = "pypi" if d.manager == "conda" else "conda"
    lines = [
        f"{args.name}: installed by {'conda' if d.manager == 'conda' else 'uv from PyPI'} as {d.name!r}",
        f"  conda name: {d.conda_name}; PyPI distribution(s): {', '.join(d.pypi_names) or 'none'}",
        "  rules consulted, strongest first:",
        *(f"    {line}" for line in d.trace),
    ]
    if result.note:
        lines.append(f"  note: {result.note}")
    lines += [
        "  to override it:",
        f"    condauv add --{other} {args.name}      (the explicit table wins over every rule)",
        f'    or in condauv.toml: [classify] "{d.conda_name}" = "{other}"   (globs allowed)',
    ]
    print("\n".join(lines))
    return 0
