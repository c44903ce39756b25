"""``condauv doctor``'s table: one line per section, then its items, then its findings.

The report (:mod:`condauv.health.doctor`) holds what was checked as data; the words a person
reads are chosen here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from condauv.health.doctor import DoctorReport, Item

__all__ = ["COLUMNS", "item_row", "table_rows"]

COLUMNS = ["check", "item", "status", "detail"]

#: a module the interpreter had imported before the check ran: it has no import time of its own.
_PRELOADED = "already imported at start-up (site, a .pth file or sitecustomize)"


def table_rows(report: DoctorReport) -> list[list[str]]:
    """The report as one table for a person: section, item, status, detail; findings last in each."""
    rows = []
    for section in report.sections:
        rows.append([section.name, "", section.status, section.summary])
        rows += [["", *item_row(item)] for item in section.items]
        rows += [["", "finding", f.level, f.message] for f in section.findings]
    return rows


def item_row(item: Item) -> list[str]:
    """``[item, status, detail]`` for one checked thing."""
    label, detail = _RENDERERS.get(item.kind, _plain)(item)
    return [label, item.status, detail]


def _plain(item: Item) -> tuple[str, str]:
    """A kind without words of its own: its name, and its facts as ``key: value``."""
    return item.kind, ", ".join(f"{key}: {value}" for key, value in item.facts.items())


def _interpreter(item: Item) -> tuple[str, str]:
    facts = item.facts
    return "interpreter", f"{facts['implementation']} {facts['version']} at {facts['executable']}"


def _origin(item: Item) -> tuple[str, str]:
    facts = item.facts
    return "from", f"conda python {facts['version']} ({facts['build']})" if facts else "not conda"


def _path(item: Item) -> tuple[str, str]:
    return item.kind, str(item.facts["path"])


def _driver(item: Item) -> tuple[str, str]:
    version, via = item.facts["cuda_version"], item.facts["via"]
    return "driver", f"no CUDA (no __cuda; {via})" if version is None else f"CUDA {version} ({via})"


def _nvidia_smi(item: Item) -> tuple[str, str]:
    smi = item.facts
    if not smi:
        return "nvidia-smi", "not on PATH"
    if smi.get("error"):
        return "nvidia-smi", str(smi["error"])
    gpus = ", ".join(smi.get("gpus") or ()) or "no GPU listed"
    return "nvidia-smi", f"driver {smi.get('driver_version')}, CUDA {smi.get('cuda_version')}: {gpus}"


def _required_by(item: Item) -> tuple[str, str]:
    reasons = item.facts["reasons"]
    return "required by", "; ".join(reasons) if reasons else "nothing here requires CUDA"


def torch_detail(torch: Mapping[str, Any]) -> str:
    """torch's build, device and GPU matmul check in one line, or why it does not import."""
    if "error" in torch:
        return str(torch["error"])
    build = f"built for CUDA {torch['built_cuda']}" if torch.get("built_cuda") else "CPU build"
    parts = [f"{torch.get('version')}, {build}"]
    if torch.get("available"):
        parts.append(f"on {torch.get('device')}")
        if "matmul_ok" in torch:
            verdict = "matches" if torch["matmul_ok"] else "differs from"
            parts.append(f"GPU matmul {verdict} CPU (max diff {torch['matmul_max_abs_diff']:.2g})")
    else:
        parts.append("torch.cuda.is_available() is False")
    return ", ".join(parts)


def _torch(item: Item) -> tuple[str, str]:
    return "torch", torch_detail(item.facts)


def _library(item: Item) -> tuple[str, str]:
    lib = item.facts
    extras = [f"{lib.get('num_threads')} threads"]
    extras += [str(lib[key]) for key in ("threading_layer", "architecture") if lib.get(key)]
    label = f"{lib.get('internal_api')} {lib.get('version')}"
    return label, f"{lib.get('user_api')}, {', '.join(extras)}: {lib.get('filepath')}"


def _numpy_build(item: Item) -> tuple[str, str]:
    """``blas: scipy-openblas 0.3.29, lapack: ...`` from numpy's build configuration."""
    config = item.facts["config"]
    parts = []
    for key in ("blas", "lapack"):
        entry = config.get(key)
        if isinstance(entry, dict) and entry.get("name"):
            parts.append(f"{key}: {entry['name']} {entry.get('version', '')}".rstrip())
    return "numpy build", ", ".join(parts)


def _import(item: Item) -> tuple[str, str]:
    result = item.facts
    label = f"{result['distribution']} {result['version']}"
    if result["status"] == "skip":
        return label, str(result["reason"])
    if result["status"] == "fail":
        return label, f"{result['module']}: {result['error']}"
    modules = ", ".join(result["modules"])
    if result["ms"] is None:
        return label, f"{_PRELOADED}: not measured ({modules})"
    ms = result["ms"]
    text = f"{ms:.0f} ms" if ms >= 10 else f"{ms:.1f} ms" if ms >= 0.1 else "<0.1 ms"
    detail = f"{text}, +{result['rss_mb']:.1f} MiB ({modules})"
    if result.get("preloaded"):
        detail += f"; already imported at start-up: {', '.join(result['preloaded'])}"
    if result.get("namespace_only"):
        detail += f"; a namespace package only, none of its code: {', '.join(result['namespace_only'])}"
    return label, detail


_RENDERERS: dict[str, Callable[[Item], tuple[str, str]]] = {
    "interpreter": _interpreter,
    "from": _origin,
    "sys.prefix": _path,
    "site-packages": _path,
    "driver": _driver,
    "nvidia-smi": _nvidia_smi,
    "required by": _required_by,
    "torch": _torch,
    "library": _library,
    "numpy build": _numpy_build,
    "import": _import,
}
