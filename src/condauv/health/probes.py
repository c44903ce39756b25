"""Small programs that ``condauv doctor`` runs with the environment's own interpreter.

Each probe is a source string run as ``python -I -B -c SOURCE ARGS``: isolated mode keeps the
user's site-packages, ``PYTHONPATH`` and the working folder out, so the probe sees exactly the
environment. The sources stay compatible with old interpreters (3.8: no ``match``, no ``X | Y``).
A probe prints one JSON line after :data:`MARK`; whatever an imported module prints is ignored.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from condauv import _process

__all__ = [
    "BLAS_PROBE",
    "IMPORT_PROBE",
    "MARK",
    "MATMUL_PROBE",
    "PYTHON_PROBE",
    "TORCH_PROBE",
    "ProbeResult",
    "distribution_modules",
    "modules_from_record",
    "modules_from_top_level",
    "run_probe",
    "threadpoolctl_path",
]

MARK = "@@condauv-doctor@@"

PYTHON_PROBE = f"""
import json, platform, sys, sysconfig
print({MARK!r} + json.dumps({{
    "version": platform.python_version(),
    "implementation": platform.python_implementation(),
    "executable": sys.executable,
    "prefix": sys.prefix,
    "base_prefix": sys.base_prefix,
    "site_packages": sysconfig.get_paths()["purelib"],
    "platform": sysconfig.get_platform(),
}}))
"""

#: Loads condauv's own ``threadpoolctl.py`` from the path in ``sys.argv[1]`` (nothing installed
#: in the environment) into ``out["libraries"]``; a failure goes to ``out["errors"]``.
_THREADPOOLCTL = """
try:
    spec = importlib.util.spec_from_file_location("threadpoolctl", sys.argv[1])
    threadpoolctl = importlib.util.module_from_spec(spec)
    sys.modules["threadpoolctl"] = threadpoolctl
    spec.loader.exec_module(threadpoolctl)
    out["libraries"] = threadpoolctl.threadpool_info()
except Exception as exc:
    out["errors"].append("threadpoolctl: " + why(exc))
"""

#: argv[1]: the path of condauv's own ``threadpoolctl.py``, loaded by path (nothing installed).
BLAS_PROBE = f"""
import importlib, importlib.util, json, sys, traceback

def why(exc):
    return traceback.format_exception_only(type(exc), exc)[-1].strip()

out = {{"numpy": None, "scipy": None, "numpy_config": None, "libraries": [], "errors": []}}
for name, submodule in (("numpy", "numpy"), ("scipy", "scipy.linalg")):
    if importlib.util.find_spec(name) is None:
        continue
    try:
        importlib.import_module(submodule)
        out[name] = getattr(sys.modules[name], "__version__", "?")
    except Exception as exc:
        out["errors"].append(name + ": " + why(exc))
if out["numpy"] is not None:
    import numpy
    try:
        config = numpy.show_config(mode="dicts")
        out["numpy_config"] = config.get("Build Dependencies", {{}})
    except TypeError:  # numpy < 1.25: show_config() only prints
        legacy = getattr(numpy, "__config__", None)
        out["numpy_config"] = {{
            key: value for key, value in vars(legacy).items()
            if key.endswith("_info") and isinstance(value, dict)
        }} if legacy is not None else None
    except Exception as exc:
        out["errors"].append("numpy.show_config: " + why(exc))
{_THREADPOOLCTL}
print({MARK!r} + json.dumps(out, default=str))
"""

#: argv[1]: threadpoolctl.py's path, argv[2]: the matrix size n, argv[3]: how many timed runs.
#: numpy's float64 matmul: the best time of the runs (after one untimed run that starts the
#: BLAS threads) as GFLOP/s (2 n^3 flops), checked in O(n^2): (A @ B) @ x against A @ (B @ x),
#: with the BLAS that ran it named by threadpoolctl.
MATMUL_PROBE = f"""
import importlib, importlib.util, json, sys, time, traceback

def why(exc):
    return traceback.format_exception_only(type(exc), exc)[-1].strip()

out = {{"numpy": None, "seconds": None, "relative_error": None, "finite": None}}
out.update({{"libraries": [], "errors": []}})
try:
    import numpy
    out["numpy"] = numpy.__version__
    n, runs = int(sys.argv[2]), int(sys.argv[3])
    rng = numpy.random.RandomState(0)
    a, b, x = rng.standard_normal((n, n)), rng.standard_normal((n, n)), rng.standard_normal(n)
    product = a @ b
    best = None
    for _ in range(runs):
        start = time.perf_counter()
        product = a @ b
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    out["seconds"] = best
    left, right = product @ x, a @ (b @ x)
    out["finite"] = bool(numpy.isfinite(product).all())
    out["relative_error"] = float(numpy.abs(left - right).max() / max(float(numpy.abs(right).max()), 1e-300))
except Exception as exc:
    out["errors"].append("numpy: " + why(exc))
{_THREADPOOLCTL}
print({MARK!r} + json.dumps(out, default=str))
"""

#: torch's view of CUDA, and a small matmul on the GPU checked against the CPU result. With
#: argv[1] (a size n; ``condauv bench``), also the best of 5 float32 n x n GPU matmuls as
#: ``gpu_seconds`` (synchronised; TF32 off).
TORCH_PROBE = f"""
import json, sys, time, traceback

def why(exc):
    return traceback.format_exception_only(type(exc), exc)[-1].strip()

out = {{}}
try:
    import torch
except Exception as exc:
    out["error"] = why(exc)
else:
    out["version"] = torch.__version__
    out["built_cuda"] = torch.version.cuda
    out["available"] = bool(torch.cuda.is_available())
    if out["available"]:
        try:
            out["device"] = torch.cuda.get_device_name(0)
            out["device_count"] = torch.cuda.device_count()
            torch.backends.cuda.matmul.allow_tf32 = False  # full float32, comparable with the CPU
            generator = torch.Generator().manual_seed(0)
            a = torch.randn(256, 256, generator=generator)
            b = torch.randn(256, 256, generator=generator)
            cpu = a @ b
            gpu = (a.cuda() @ b.cuda()).cpu()
            out["matmul_max_abs_diff"] = float((cpu - gpu).abs().max())
            out["matmul_ok"] = bool(torch.allclose(cpu, gpu, rtol=1e-3, atol=1e-3))
            if len(sys.argv) > 1:
                n = int(sys.argv[1])
                a = torch.randn(n, n, device="cuda")
                b = torch.randn(n, n, device="cuda")
                a @ b
                torch.cuda.synchronize()
                best = None
                for _ in range(5):
                    start = time.perf_counter()
                    a @ b
                    torch.cuda.synchronize()
                    elapsed = time.perf_counter() - start
                    best = elapsed if best is None else min(best, elapsed)
                out["gpu_matmul_size"] = n
                out["gpu_seconds"] = best
        except Exception as exc:
            out["matmul_error"] = why(exc)
print({MARK!r} + json.dumps(out))
"""

#: argv[1:]: the modules of one distribution, each imported and measured in this fresh process.
IMPORT_PROBE = f"""
import importlib, json, os, sys, time, traceback

def rss():
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024

results = []
preloaded = set(sys.modules)  # imported before the probe ran: by site, a .pth file, sitecustomize
for name in sys.argv[1:]:
    if name in preloaded:
        results.append({{"module": name, "ms": None, "rss_bytes": None, "rss_total_bytes": rss(),
                         "error": None, "preloaded": True, "namespace": False}})
        continue
    before, start, error = rss(), time.perf_counter(), None
    try:
        importlib.import_module(name)
    except BaseException as exc:
        error = traceback.format_exception_only(type(exc), exc)[-1].strip()
    elapsed = time.perf_counter() - start
    after = rss()
    module = sys.modules.get(name)
    namespace = getattr(module, "__file__", None) is None and hasattr(module, "__path__")
    results.append({{
        "module": name, "ms": elapsed * 1000, "rss_bytes": after - before, "rss_total_bytes": after,
        "error": error, "preloaded": False, "namespace": namespace,
    }})
print({MARK!r} + json.dumps(results))
"""


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """A probe's JSON answer, or why there is none (``error``)."""

    data: Any = None
    error: str | None = None
    timed_out: bool = False


def run_probe(
    python: Path,
    source: str,
    args: Sequence[str] = (),
    *,
    env: Mapping[str, str],
    cwd: Path,
    timeout: float,
    what: str,
    bytecode: bool = False,
) -> ProbeResult:
    """Run ``source`` with ``python`` in ``env`` (the whole environment, not added to ours).
    ``bytecode``: without ``-B``, so imports write the ``.pyc`` files that are missing, as a
    user's first import does (``condauv bench``); the doctor's probes never write."""
    if not cwd.is_dir():  # else the OS's "no such file" reads as a missing interpreter
        return ProbeResult(error=f"{what}: the folder to run in, {cwd}, does not exist (removed meanwhile?)")
    done = _process.run(
        [python, "-I", *(() if bytecode else ("-B",)), "-c", source, *args],
        what=what,
        cwd=cwd,
        env=env,
        inherit_env=False,
        check=False,
        timeout=timeout,
    )
    if done.timed_out:
        return ProbeResult(error=f"timed out after {timeout:g} s", timed_out=True)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(MARK):
            try:
                return ProbeResult(data=json.loads(line[len(MARK) :]))
            except ValueError:
                break
    reason = _process.last_line(done.stderr or done.stdout)
    return ProbeResult(error=f"{what} failed (exit {done.returncode}): {reason}")


def threadpoolctl_path() -> Path | None:
    """condauv's own ``threadpoolctl.py`` (pure Python, one file): the BLAS probe loads it by path."""
    import importlib.util

    spec = importlib.util.find_spec("threadpoolctl")
    return Path(spec.origin) if spec is not None and spec.origin else None


_EXTENSION = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\..*\b(so|pyd)$")


def _importable(name: str) -> bool:
    return name.isidentifier() and not name.startswith("_") and name not in ("test", "tests")


def modules_from_top_level(text: str) -> list[str]:
    """Names in a ``top_level.txt``, without private modules, tests and nested paths."""
    names = {line.strip().split("/", 1)[0] for line in text.splitlines() if line.strip()}
    return sorted(name for name in names if _importable(name))


def modules_from_record(lines: Iterable[str]) -> list[str]:
    """Top-level modules of a distribution from its ``RECORD`` (paths relative to site-packages).

    Packages (a folder with Python or extension files, namespace packages included), single
    ``.py`` modules and top-level extension modules count; dist-info, ``.data``, ``.pth`` files,
    scripts (``../../bin``), ``__pycache__``, private names and tests do not.
    """
    names = set()
    for row in csv.reader(lines):
        if not row or row[0].startswith(("..", "/")):
            continue
        path = row[0]
        first, slash, _ = path.partition("/")
        if slash:
            if path.endswith((".py", ".so", ".pyd")) and not first.endswith((".dist-info", ".data")):
                names.add(first)
        elif path.endswith(".py"):
            names.add(path.removesuffix(".py"))
        elif match := _EXTENSION.match(path):
            names.add(match.group(1))
    return sorted(name for name in names if _importable(name))


def distribution_modules(dist_info: Path, name: str) -> list[str]:
    """What to import for one installed distribution: ``top_level.txt``, else ``RECORD``, else
    the distribution's name when a module of that name sits in site-packages. A namespace
    package among them (``google`` of protobuf, ``backports`` of backports.tarfile) is replaced
    by the distribution's own packages inside it (``google.protobuf``), as its ``RECORD`` lists
    them: importing the namespace alone runs none of the distribution's code."""
    site = dist_info.parent
    record = dist_info / "RECORD"
    lines: list[str] = []
    if record.is_file():
        with record.open(encoding="utf-8", errors="replace", newline="") as handle:
            lines = list(handle)
    found: list[str] = []
    top_level = dist_info / "top_level.txt"
    if top_level.is_file():
        found = modules_from_top_level(top_level.read_text(encoding="utf-8", errors="replace"))
    found = found or modules_from_record(lines)
    if not found:
        guess = name.replace("-", "_")
        if _importable(guess) and ((site / guess).is_dir() or (site / f"{guess}.py").is_file()):
            found = [guess]
    paths = [row[0] for row in csv.reader(lines) if row and not row[0].startswith(("..", "/"))]
    return sorted({module for top in found for module in _own_packages(site, top, paths)})


def _own_packages(site: Path, module: str, paths: Sequence[str]) -> list[str]:
    """``module``, or where it is a namespace package, the modules and packages inside it that
    ``paths`` (the distribution's RECORD) holds, looked into level by level; the namespace
    itself where the RECORD names nothing inside it."""
    folder = site.joinpath(*module.split("."))
    if not _is_namespace(folder):
        return [module]
    prefix = module.replace(".", "/") + "/"
    inner = set()
    for path in paths:
        if not path.startswith(prefix) or not path.endswith((".py", ".so", ".pyd")):
            continue
        first, slash, _ = path[len(prefix) :].partition("/")
        if slash:
            inner.add(first)
        elif first.endswith(".py") and first != "__init__.py":
            inner.add(first.removesuffix(".py"))
        elif match := _EXTENSION.match(first):
            inner.add(match.group(1))
    found = [
        name
        for child in sorted(inner)
        if _importable(child)
        for name in _own_packages(site, f"{module}.{child}", paths)
    ]
    return found or [module]


#: what a pkgutil- or pkg_resources-style namespace ``__init__.py`` does, and nothing else.
_NAMESPACE_INIT = re.compile(r"extend_path|declare_namespace")


def _is_namespace(folder: Path) -> bool:
    """A folder that imports as a namespace: no ``__init__.py`` (PEP 420), or a small one that
    only extends ``__path__`` (``pkgutil.extend_path``, ``pkg_resources.declare_namespace``)."""
    if not folder.is_dir():
        return False
    init = folder / "__init__.py"
    if not init.is_file():
        return not any(folder.glob("__init__.*"))  # an extension-module package counts as code
    try:
        with init.open("rb") as handle:
            head = handle.read(2049)
    except OSError:
        return False
    return len(head) <= 2048 and _NAMESPACE_INIT.search(head.decode("utf-8", "replace")) is not None
