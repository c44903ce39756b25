"""What ``condauv bench`` measures inside one finished environment: its size on disk, the memory
of an interpreter that imported its modules, each distribution's import time, and whether numpy
(and torch on CUDA) compute the right thing, how fast.

Everything that runs code runs it in the environment's own interpreter through the doctor's
probes (:mod:`condauv.health.probes`: ``python -I``, a fresh process each, the activated
environment), never in condauv's process. A measurement that cannot be taken comes back as
``None`` with the reason, never as a zero. How each one is taken, and its caveats: docs/bench.md.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from condauv import _fs
from condauv.bench.model import Footprint, Functionality, ImportTime, Matmul, Timing, TorchCheck
from condauv.health import probes
from condauv.pypi.site import InstalledDistribution, installed_distributions, site_packages

__all__ = [
    "GPU_MATMUL_SIZE",
    "MATMUL_RUNS",
    "MATMUL_SIZE",
    "RELATIVE_TOLERANCE",
    "disk_usage",
    "footprint",
    "functionality",
    "import_times",
    "matmul_result",
    "top_level_modules",
    "torch_result",
]

#: seconds one probe (an import, the RSS, the matmul) may take before it counts as failed.
DEFAULT_TIMEOUT = 120.0
#: torch's import alone can take tens of seconds on a cold disk.
TORCH_TIMEOUT = 300.0
MATMUL_SIZE = 1024
MATMUL_RUNS = 5
GPU_MATMUL_SIZE = 4096
#: (A @ B) @ x against A @ (B @ x) in float64: rounding gives ~1e-13 at n=1024; a wrong kernel ~1.
RELATIVE_TOLERANCE = 1e-9


class _Prober:
    """Runs probes with ``python`` in ``prefix``'s activated environment, from a scratch folder."""

    def __init__(self, python: Path, prefix: Path, scratch: Path) -> None:
        from condauv.health.doctor import probe_environment

        self.python, self.scratch = python, scratch
        self.env = probe_environment(prefix)

    def __call__(
        self, source: str, args: Sequence[str], *, what: str, timeout: float, bytecode: bool = False
    ) -> probes.ProbeResult:
        return probes.run_probe(
            self.python,
            source,
            args,
            env=self.env,
            cwd=self.scratch,
            timeout=timeout,
            what=what,
            bytecode=bytecode,
        )


# -- footprint ---------------------------------------------------------------------------------


def disk_usage(root: Path) -> tuple[int, int, int]:
    """(bytes, files, shared bytes) under ``root``: ``st_size`` of each inode once (a file linked
    twice inside the tree counts once), every non-folder path in ``files``; symlinks count as
    themselves (their own size), never followed. Shared: inodes with more links than the tree
    holds, i.e. hard links from outside it (the package cache), on disk once for all of them."""
    seen: dict[tuple[int, int], list[int]] = {}  # inode -> [st_size, st_nlink, links seen]
    files = 0
    folders = [root]
    while folders:
        try:
            entries = list(os.scandir(folders.pop()))
        except OSError:
            continue  # removed meanwhile, or unreadable: nothing to count there
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    folders.append(Path(entry.path))
                    continue
                stat = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            files += 1
            key = (stat.st_dev, stat.st_ino)
            if key in seen:
                seen[key][2] += 1
            else:
                seen[key] = [stat.st_size, stat.st_nlink, 1]
    size = sum(entry[0] for entry in seen.values())
    shared = sum(entry[0] for entry in seen.values() if entry[1] > entry[2])
    return size, files, shared


def footprint(
    prefix: Path, python: Path, modules: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT
) -> Footprint:
    """The prefix's size on disk and the RSS of a fresh interpreter after importing ``modules``
    (all in one process; none: the bare interpreter). Take it before :func:`import_times`,
    whose first import writes the ``.pyc`` files the installer did not."""
    size, files, shared = disk_usage(prefix)
    with _fs.scratch_dir("condauv-bench-") as scratch:
        probe = _Prober(python, prefix, scratch)(
            probes.IMPORT_PROBE, list(modules) or ["sys"], what="the RSS after imports", timeout=timeout
        )
    if probe.error:
        return Footprint(disk_bytes=size, files=files, shared_bytes=shared, rss_error=probe.error)
    each: list[dict[str, Any]] = probe.data
    failed = [m for m in each if m["error"]]
    if failed:
        why = "; ".join(f"{m['module']}: {m['error']}" for m in failed)
        why = f"not every module imports: {why}"
        return Footprint(disk_bytes=size, files=files, shared_bytes=shared, rss_error=why)
    rss = int(each[-1]["rss_total_bytes"])
    return Footprint(disk_bytes=size, files=files, shared_bytes=shared, rss_bytes=rss)


# -- import times ------------------------------------------------------------------------------


def _distributions(prefix: Path) -> dict[str, InstalledDistribution]:
    found: dict[str, InstalledDistribution] = {}
    for dist in installed_distributions(site_packages(prefix)):
        found.setdefault(dist.name, dist)  # two dist-info folders of one project import the same
    return found


def top_level_modules(prefix: Path, distributions: Sequence[str]) -> list[str]:
    """The top-level modules of ``distributions`` as installed in ``prefix`` (those it lacks
    left out), in order, each once: what :func:`footprint` imports."""
    installed = _distributions(prefix)
    wanted = [
        installed[n] for n in dict.fromkeys(canonicalize_name(d) for d in distributions) if n in installed
    ]
    return list(dict.fromkeys(m for d in wanted for m in probes.distribution_modules(d.path, d.name)))


def _import_seconds(probe: probes.ProbeResult) -> tuple[float | None, str | None]:
    if probe.error:
        return None, probe.error
    each: list[dict[str, Any]] = probe.data
    failed = next((m for m in each if m["error"]), None)
    if failed:
        return None, f"{failed['module']}: {failed['error']}"
    # a module imported before the probe ran (a .pth file) has no time of its own: ``ms`` is None
    return sum(float(m["ms"]) for m in each if m["ms"] is not None) / 1000, None


def import_times(
    python: Path,
    prefix: Path,
    distributions: Sequence[str],
    runs: int,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> tuple[ImportTime, ...]:
    """Each distribution's top-level modules imported in a fresh interpreter: once first (which
    writes the missing bytecode, as a user's first import does: ``first_s``), then ``runs`` timed
    samples, the distributions alternated run by run. The time is taken inside the interpreter
    around the imports (its start-up is not in it). A failed import is an ``error``, never a time."""
    if runs < 1:
        raise ValueError(f"runs must be at least 1, not {runs}")
    installed = _distributions(prefix)
    results: dict[str, ImportTime] = {}
    todo: dict[str, tuple[str, ...]] = {}
    wanted: list[str] = list(dict.fromkeys(str(canonicalize_name(d)) for d in distributions))
    for name in wanted:
        dist = installed.get(name)
        if dist is None:
            results[name] = ImportTime(name, (), None, error="not installed in the prefix")
            continue
        modules = tuple(probes.distribution_modules(dist.path, dist.name))
        if not modules:
            results[name] = ImportTime(name, (), None, error="no importable module")
            continue
        todo[name] = modules
    samples: dict[str, list[float]] = {name: [] for name in todo}
    first: dict[str, float] = {}
    with _fs.scratch_dir("condauv-bench-") as scratch:
        prober = _Prober(python, prefix, scratch)
        for run in range(runs + 1):
            for name, modules in todo.items():
                if name in results:
                    continue  # failed in an earlier run
                probe = prober(
                    probes.IMPORT_PROBE,
                    modules,
                    what=f"importing {modules[0]}",
                    timeout=timeout,
                    bytecode=True,
                )
                seconds, error = _import_seconds(probe)
                if seconds is None:
                    results[name] = ImportTime(name, modules, None, error=error, first_s=first.get(name))
                elif run == 0:
                    first[name] = seconds
                else:
                    samples[name].append(seconds)
    for name, modules in todo.items():
        if name not in results:
            results[name] = ImportTime(name, modules, Timing(tuple(samples[name])), first_s=first[name])
    return tuple(results[name] for name in wanted)


# -- functionality -----------------------------------------------------------------------------


def _blas_name(libraries: Sequence[Mapping[str, Any]]) -> str | None:
    """``openblas 0.3.29 (pthreads, 2 threads)`` for each BLAS threadpoolctl saw, joined by +."""
    names = []
    for lib in libraries:
        if lib.get("user_api") != "blas":
            continue
        name = " ".join(str(lib[key]) for key in ("internal_api", "version") if lib.get(key))
        details = [str(lib["threading_layer"])] if lib.get("threading_layer") else []
        details.append(f"{lib.get('num_threads')} threads")
        names.append(f"{name or 'unknown BLAS'} ({', '.join(details)})")
    return " + ".join(names) or None


def matmul_result(data: Mapping[str, Any], size: int) -> Matmul:
    """:data:`~condauv.health.probes.MATMUL_PROBE`'s answer as a :class:`Matmul`."""
    blas = _blas_name(data.get("libraries") or ())
    numpy_errors = [e for e in data.get("errors") or () if e.startswith("numpy: ")]
    if numpy_errors or not data.get("seconds"):
        error = numpy_errors[0].removeprefix("numpy: ") if numpy_errors else "no time measured"
        return Matmul(size=size, gflops=None, blas=blas, ok=False, numpy=data.get("numpy"), error=error)
    gflops = 2 * size**3 / float(data["seconds"]) / 1e9
    relative = data.get("relative_error")
    error = None
    if not data.get("finite"):
        error = "the product holds NaN or infinite values"
    elif relative is None or float(relative) > RELATIVE_TOLERANCE:
        error = (
            f"(A @ B) @ x differs from A @ (B @ x) by {relative} (relative; at most {RELATIVE_TOLERANCE:g})"
        )
    return Matmul(size=size, gflops=gflops, blas=blas, ok=error is None, numpy=data.get("numpy"), error=error)


def torch_result(data: Mapping[str, Any]) -> TorchCheck:
    """:data:`~condauv.health.probes.TORCH_PROBE`'s answer (run with a size) as a :class:`TorchCheck`."""
    if data.get("error"):
        return TorchCheck(
            version=None, cuda_available=False, reason=f"torch does not import: {data['error']}"
        )
    version = data.get("version")
    if not data.get("available"):
        built = data.get("built_cuda")
        why = f"torch built for CUDA {built} sees no GPU" if built else "torch is a CPU-only build"
        return TorchCheck(version=version, cuda_available=False, reason=f"no CUDA: {why}")
    seconds, size = data.get("gpu_seconds"), data.get("gpu_matmul_size")
    gflops = 2 * int(size) ** 3 / float(seconds) / 1e9 if seconds and size else None
    error = data.get("matmul_error")
    return TorchCheck(
        version=version,
        cuda_available=True,
        device=data.get("device"),
        gflops=gflops,
        max_abs_diff=data.get("matmul_max_abs_diff"),
        ok=None if error else data.get("matmul_ok"),
        reason=f"the GPU matmul failed: {error}" if error else None,
    )


def functionality(
    python: Path,
    prefix: Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    size: int = MATMUL_SIZE,
    runs: int = MATMUL_RUNS,
    gpu_size: int = GPU_MATMUL_SIZE,
) -> Functionality:
    """numpy's matmul (GFLOP/s, BLAS, checked) and torch on CUDA, each only where installed."""
    installed = _distributions(prefix)
    numpy: Matmul | None = None
    torch: TorchCheck | None = None
    with _fs.scratch_dir("condauv-bench-") as scratch:
        prober = _Prober(python, prefix, scratch)
        if "numpy" in installed:
            threadpoolctl = str(probes.threadpoolctl_path() or "")
            args = [threadpoolctl, str(size), str(runs)]
            probe = prober(probes.MATMUL_PROBE, args, what="numpy's matmul", timeout=timeout)
            if probe.error:
                numpy = Matmul(size=size, gflops=None, blas=None, ok=False, error=probe.error)
            else:
                numpy = matmul_result(probe.data, size)
        if "torch" in installed:
            limit = max(timeout, TORCH_TIMEOUT)
            probe = prober(probes.TORCH_PROBE, [str(gpu_size)], what="the torch check", timeout=limit)
            if probe.error:
                torch = TorchCheck(
                    version=None, cuda_available=False, reason=f"the torch check failed: {probe.error}"
                )
            else:
                torch = torch_result(probe.data)
    return Functionality(numpy=numpy, torch=torch)
