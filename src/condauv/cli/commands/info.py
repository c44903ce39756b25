from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from condauv.cli.output import Output

if TYPE_CHECKING:
    from condauv.info import Info

HELP = "versions, platform, virtual packages, cache folders, and the project's manifest, lock and prefix"


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    pass


def handle(args: argparse.Namespace, out: Output) -> int:
    from condauv._process import mask
    from condauv.info import collect

    info = collect(args.manifest, args.prefix)
    if out.json_mode:
        out.data(info.to_dict())
        return 0
    print(mask("\n".join(_lines(info))))
    return 0


def _rows(title: str, rows: list[tuple[str, str | list[str]]]) -> list[str]:
    """A titled block of ``key: value`` lines, keys aligned; a list value takes one line each."""
    width = max(len(key) for key, _ in rows)
    lines = [title, "-" * len(title)]
    for key, value in rows:
        values = value if isinstance(value, list) else [value]
        for i, item in enumerate(values or ["none"]):
            lines.append(f"{key:>{width}}: {item}" if i == 0 else f"{'':>{width}}  {item}")
    return [*lines, ""]


def _lines(info: Info) -> list[str]:
    v = info.versions
    system: list[tuple[str, str | list[str]]] = [
        ("condauv", v["condauv"]),
        ("py-rattler", v["py-rattler"]),
        ("uv", v["uv"]),
        ("python", f"{v['python']} ({info.python_executable})"),
        ("platform", info.platform),
        ("virtual packages", list(info.virtual_packages)),
    ]
    if info.overrides:
        system.append(("overrides", [f"{k}={value}" for k, value in info.overrides.items()]))
    lines = _rows("System", system)
    lines += _rows("Cache", [(key, value) for key, value in info.caches.items()])
    if info.project is not None:
        p = info.project
        lines += _rows(
            "Project",
            [
                ("manifest", str(p.manifest)),
                ("name", p.name),
                ("python", p.python),
                ("channels", list(p.channels)),
                ("platforms", list(p.platforms)),
                ("system-requirements", [f"{k} = {value}" for k, value in p.system_requirements.items()]),
                ("lock", f"{p.lock} ({p.lock_state}: {p.lock_note})"),
            ],
        )
    if info.prefix is not None:
        state = "exists" if info.prefix.exists else "no environment there yet"
        lines += _rows("Environment", [("prefix", f"{info.prefix.path} ({state})")])
    elif info.project is None:
        lines += ["not in a project (no condauv.toml here or above)", ""]
    return lines[:-1]
