"""``condauv doctor``: does the environment work at run time? Python, CUDA, BLAS and imports.

Everything that must be seen from inside the environment is asked of its own interpreter by the
probes in :mod:`condauv.health.probes`, run with the environment activated. The answer is a
:class:`DoctorReport`: four sections, each ``ok``, ``warn``, ``fail`` or ``skip`` with findings;
the JSON form (``"schema": 1``) is documented in docs/doctor.md. Each section also holds its
:class:`Item` s, the things it checked, as data; the table a person reads is made from them in
:mod:`condauv.cli.render.doctor`.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from packaging.utils import canonicalize_name

from condauv import _process, progress
from condauv.conda.prefix import InstalledConda, installed_conda
from condauv.errors import UserError
from condauv.health import cuda, probes
from condauv.pypi.site import InstalledDistribution, installed_distributions, site_packages

__all__ = [
    "DEFAULT_TIMEOUT",
    "SCHEMA",
    "DoctorReport",
    "Finding",
    "Item",
    "Section",
    "blas_findings",
    "conda_blas_vendor",
    "probe_environment",
    "run_doctor",
    "worst",
]

SCHEMA = 1
DEFAULT_TIMEOUT = 30.0

Status = Literal["ok", "warn", "fail", "skip"]
_STATUSES: tuple[Status, ...] = ("skip", "ok", "warn", "fail")  # least to most serious
_RANK: dict[str, int] = {status: rank for rank, status in enumerate(_STATUSES)}


def worst(statuses: Iterable[str]) -> Status:
    """The most serious status; ``skip`` only when every part was skipped (or there is none)."""
    found = [status for status in statuses if status in _RANK]
    return _STATUSES[max((_RANK[status] for status in found), default=0)]


@dataclass(frozen=True, slots=True)
class Finding:
    """Something a person should act on: a ``fail`` makes ``doctor`` exit 1, a ``warn`` does not."""

    level: Literal["warn", "fail"]
    message: str


@dataclass(frozen=True, slots=True)
class Item:
    """One thing a section checked: what it is (``kind``: ``interpreter``, ``driver``,
    ``library``, ``import``, ...), its status, and the facts seen (for the table; the JSON
    form has them in the section's ``data``)."""

    kind: str
    status: Status
    facts: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Section:
    name: str
    status: Status
    summary: str
    findings: tuple[Finding, ...] = ()
    items: tuple[Item, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "summary": self.summary,
            "findings": [{"level": f.level, "message": f.message} for f in self.findings],
            "data": self.data,
        }


def _section(
    name: str,
    summary: str,
    findings: Sequence[Finding],
    items: Sequence[Item],
    data: dict[str, Any],
    status: Status | None = None,
) -> Section:
    """A section whose status, unless given, is the worst of its findings and items."""
    derived = worst([*(f.level for f in findings), *(i.status for i in items)])
    return Section(
        name=name,
        status=status or ("ok" if derived == "skip" and not items else derived),
        summary=summary,
        findings=tuple(findings),
        items=tuple(items),
        data=data,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class DoctorReport:
    prefix: Path
    sections: tuple[Section, ...]

    @property
    def status(self) -> Status:
        found = worst(s.status for s in self.sections)
        return "ok" if found == "skip" else found

    @property
    def exit_code(self) -> int:
        return 1 if self.status == "fail" else 0

    def section(self, name: str) -> Section:
        return next(s for s in self.sections if s.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "prefix": str(self.prefix),
            "status": self.status,
            "sections": {s.name: s.to_dict() for s in self.sections},
        }


@dataclass(frozen=True, slots=True)
class _Context:
    prefix: Path
    python: Path
    env: dict[str, str]
    scratch: Path
    timeout: float
    conda: dict[str, InstalledConda]

    def probe(
        self, source: str, args: Sequence[str] = (), *, what: str, timeout: float | None = None
    ) -> probes.ProbeResult:
        """Run a probe; the checks other than imports get at least the default time."""
        limit = timeout or max(self.timeout, DEFAULT_TIMEOUT)
        return probes.run_probe(
            self.python, source, args, env=self.env, cwd=self.scratch, timeout=limit, what=what
        )


def run_doctor(
    prefix: Path, *, timeout: float = DEFAULT_TIMEOUT, skip: Iterable[str] = (), workers: int | None = None
) -> DoctorReport:
    """Check ``prefix``; ``timeout`` bounds each probe and each distribution's import check."""
    prefix = prefix.expanduser().resolve()
    if not (prefix / "conda-meta").is_dir():
        raise UserError(f"no environment at {prefix}", hint="run `condauv sync` first, or pass --prefix DIR")
    if timeout <= 0:
        raise UserError(f"--timeout must be positive, not {timeout:g}", hint="e.g. --timeout 30")
    try:
        scratch_folder = tempfile.TemporaryDirectory(prefix="condauv-doctor-")
    except OSError as exc:
        raise UserError(
            f"no usable temporary folder: {tempfile.gettempdir()} ({exc.strerror or exc})",
            hint="set TMPDIR to a folder you can write to",
        ) from None
    with scratch_folder as scratch:
        env, conda = probe_environment(prefix), installed_conda(prefix)
        ctx = _Context(prefix, prefix / "bin" / "python", env, Path(scratch), timeout, conda)
        python, site = _python_section(ctx)
        runs = python.data.get("version") is not None
        dists = _unique(installed_distributions(site))
        no_python = Section(name="", status="skip", summary="skipped: the interpreter does not run")
        sections = (
            python,
            _cuda_section(ctx, dists, runs),
            _blas_section(ctx, dists) if runs else _renamed(no_python, "blas"),
            _imports_section(ctx, dists, skip, workers) if runs else _renamed(no_python, "imports"),
        )
    return DoctorReport(prefix=prefix, sections=sections)


def _renamed(section: Section, name: str) -> Section:
    return Section(name=name, status=section.status, summary=section.summary)


def _unique(dists: Iterable[InstalledDistribution]) -> list[InstalledDistribution]:
    """One entry per name (two dist-info folders of one project import the same modules)."""
    seen: dict[str, InstalledDistribution] = {}
    for dist in dists:
        seen.setdefault(dist.name, dist)
    return list(seen.values())


def probe_environment(prefix: Path) -> dict[str, str]:
    """The process environment of the activated prefix: rattler's activation script, run by bash,
    reports the environment it produced. Without bash: ours, with the prefix first on PATH."""
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PYTHON") and key not in ("VIRTUAL_ENV", "CONDA_PREFIX", "CONDA_SHLVL")
    }
    from condauv.activation import activated_argv

    dump = "import json, os; print(json.dumps(dict(os.environ)))"
    argv = activated_argv(prefix, [sys.executable, "-I", "-c", dump], label="doctor")
    if argv is not None:
        done = _process.run(
            argv,
            what="activating the environment",
            env=base,
            inherit_env=False,
            check=False,
            timeout=60,
        )
        if done.returncode == 0 and done.stdout.strip():
            activated: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
            activated.pop("_", None)
            return activated
    path = os.pathsep.join([str(prefix / "bin"), base.get("PATH", "")])
    return {**base, "PATH": path, "CONDA_PREFIX": str(prefix)}


# -- python ------------------------------------------------------------------------------------


def _python_section(ctx: _Context) -> tuple[Section, Path | None]:
    conda_python = ctx.conda.get("python")
    fallback_site = site_packages(ctx.prefix, conda_python.version if conda_python else None)
    findings: list[Finding] = []
    if conda_python is None:
        findings.append(Finding("fail", "python is not a conda package here: conda-meta has no python"))
    if not ctx.python.exists():
        findings.append(Finding("fail", f"no interpreter at {ctx.python}"))
        return _section("python", "no interpreter", findings, [], {}), fallback_site
    probe = ctx.probe(probes.PYTHON_PROBE, what="the interpreter")
    if probe.error:
        findings.append(Finding("fail", f"the interpreter does not run: {probe.error}"))
        return _section("python", "the interpreter does not run", findings, [], {}), fallback_site
    info: dict[str, Any] = probe.data
    real = ctx.python.resolve()
    if not real.is_relative_to(ctx.prefix):
        findings.append(Finding("fail", f"bin/python resolves to {real}, outside the prefix"))
    if Path(info["prefix"]).resolve() != ctx.prefix:
        findings.append(Finding("fail", f"sys.prefix is {info['prefix']}, not the environment's prefix"))
    if conda_python is not None and conda_python.version != info["version"]:
        findings.append(
            Finding("fail", f"the interpreter is {info['version']}, conda-meta says {conda_python.version}")
        )
    origin = {"version": conda_python.version, "build": conda_python.build} if conda_python else {}
    interpreter = {key: info[key] for key in ("implementation", "version", "executable")}
    items = [
        Item("interpreter", "ok", interpreter),
        Item("from", "ok" if conda_python else "fail", origin),
        Item("sys.prefix", "ok", {"path": info["prefix"]}),
        Item("site-packages", "ok", {"path": info["site_packages"]}),
    ]
    data = {**info, "conda_python": conda_python.version if conda_python else None}
    summary = f"python {info['version']} ({'conda' if conda_python else 'not from conda'})"
    return _section("python", summary, findings, items, data), Path(info["site_packages"])


# -- cuda --------------------------------------------------------------------------------------


def _cuda_section(ctx: _Context, dists: Sequence[InstalledDistribution], runs: bool) -> Section:
    driver = cuda.detect_driver_cuda()
    smi = cuda.query_nvidia_smi(ctx.env, timeout=max(ctx.timeout, DEFAULT_TIMEOUT))
    need = cuda.cuda_requirement(ctx.conda, (d.name for d in dists), _cuda_depends(ctx.prefix))
    torch: dict[str, Any] | None = None
    if runs and any(d.name == "torch" for d in dists):
        with progress.task("importing torch to check CUDA"):  # seconds: torch loads its CUDA libraries
            probe = ctx.probe(probes.TORCH_PROBE, what="the torch CUDA check", timeout=max(ctx.timeout, 120))
        torch = probe.data if probe.data is not None else {"error": probe.error}
    reasons = list(need.reasons)
    built = torch.get("built_cuda") if torch else None
    if built:
        reasons.append(f"torch {torch.get('version') if torch else ''} built for CUDA {built}")
    via = "CONDA_OVERRIDE_CUDA" if driver.source == "override" else "detected by py-rattler"
    items, findings = _driver_check(
        driver, via, reasons, [(need.version, need.version_from), *need.floors, (built, "torch")]
    )
    if smi is None:
        items.append(Item("nvidia-smi", "skip"))  # not on PATH
    elif smi.error:
        items.append(Item("nvidia-smi", "warn", smi.to_dict()))
        findings.append(Finding("warn", f"nvidia-smi failed: {smi.error}"))
    else:
        items.append(Item("nvidia-smi", "ok", smi.to_dict()))
    items.append(Item("required by", "ok", {"reasons": reasons}))
    if torch is not None:
        findings += _torch_findings(torch, driver.version)
        items.append(Item("torch", "fail" if "error" in torch else "ok", torch))
    data = {
        "driver": {"cuda_version": driver.version, "source": driver.source},
        "nvidia_smi": smi.to_dict() if smi else None,
        "required_by": reasons,
        "required_version": need.version,
        "torch": torch,
    }
    if driver.version is None:
        summary = "no CUDA" + (f", but required by {reasons[0]}" if reasons else "")
    else:
        summary = f"CUDA {driver.version} driver ({via})"
    status: Status | None = "skip" if driver.version is None and not reasons and not findings else None
    return _section("cuda", summary, findings, items, data, status)


def _cuda_depends(prefix: Path) -> list[tuple[str, str]]:
    """The conda records that depend on ``__cuda``: what conda-forge's CUDA builds declare."""
    from condauv.conda.records import read_records

    records = read_records(prefix, on_error=lambda path, exc: None)
    return cuda.cuda_dependencies({r.label: r.depends for r in records})


def _driver_check(
    driver: cuda.DriverCuda,
    via: str,
    reasons: Sequence[str],
    wants: Sequence[tuple[str | None, str | None]],
) -> tuple[list[Item], list[Finding]]:
    """No driver where something needs one, or a driver older than the CUDA a package was built for."""
    facts = {"cuda_version": driver.version, "via": via}
    if driver.version is None:
        item = Item("driver", "fail" if reasons else "skip", facts)
        if not reasons:
            return [item], []
        return [item], [Finding("fail", f"no CUDA driver, but the environment requires CUDA: {reasons[0]}")]
    findings = []
    for required, source in wants:
        if required and cuda.newer_than(required, driver.version):
            wanted = ".".join(map(str, cuda.major_minor(required) or ()))
            message = f"{source} needs CUDA {wanted}, the driver supports only {driver.version}"
            findings.append(Finding("fail", message))
    return [Item("driver", "ok", facts)], findings


def _torch_findings(torch: dict[str, Any], driver: str | None) -> list[Finding]:
    if "error" in torch:
        return [Finding("fail", f"torch does not import: {torch['error']}")]
    found = []
    if torch.get("built_cuda") and not torch.get("available") and driver is not None:
        found.append(Finding("fail", f"torch.cuda.is_available() is False with a CUDA {driver} driver"))
    if "matmul_error" in torch:
        found.append(Finding("fail", f"a matmul on the GPU failed: {torch['matmul_error']}"))
    elif torch.get("matmul_ok") is False:
        diff = torch.get("matmul_max_abs_diff")
        found.append(Finding("fail", f"a GPU matmul differs from the CPU result (max diff {diff:.3g})"))
    return found


# -- blas --------------------------------------------------------------------------------------

#: vendors a ``libblas`` build string names (``20_linux64_openblas``) that threadpoolctl also sees.
_VENDORS = ("openblas", "mkl", "blis", "flexiblas")


def conda_blas_vendor(conda: dict[str, InstalledConda]) -> str | None:
    """The BLAS the conda side selected through ``libblas``'s build string, when it says."""
    libblas = conda.get("libblas")
    if libblas is None:
        return None
    vendor = libblas.build.rsplit("_", 1)[-1]
    return vendor if vendor in _VENDORS else None


def _blas_section(ctx: _Context, dists: Sequence[InstalledDistribution]) -> Section:
    if not any(d.name in ("numpy", "scipy") for d in dists):
        return Section(name="blas", status="skip", summary="numpy is not installed")
    threadpoolctl = probes.threadpoolctl_path()
    probe = ctx.probe(probes.BLAS_PROBE, [str(threadpoolctl or "")], what="the BLAS check")
    if probe.error:
        return _section("blas", "the BLAS check failed", [Finding("fail", probe.error)], [], {})
    info: dict[str, Any] = probe.data
    libraries: list[dict[str, Any]] = info["libraries"]
    blas = [lib for lib in libraries if lib.get("user_api") == "blas"]
    items = [Item("library", "ok", lib) for lib in libraries]
    vendor = conda_blas_vendor(ctx.conda)
    findings = blas_findings(info, vendor)
    config = info.get("numpy_config")
    if _names_a_blas(config):
        items.append(Item("numpy build", "ok", {"config": config}))
    data = {
        "numpy": info["numpy"],
        "scipy": info["scipy"],
        "libraries": libraries,
        "numpy_build": info.get("numpy_config"),
        "conda_blas": vendor,
    }
    if blas:
        first = blas[0]
        summary = f"{first.get('internal_api')} {first.get('version')} ({first.get('num_threads')} threads)"
        summary += f" + {len(blas) - 1} more" if len(blas) > 1 else ""
    else:
        summary = "no BLAS seen at run time"
    return _section("blas", summary, findings, items, data)


def blas_findings(info: dict[str, Any], conda_vendor: str | None) -> list[Finding]:
    """What the BLAS probe's answer (``BLAS_PROBE``'s JSON) says is wrong."""
    findings = [
        Finding("warn" if error.startswith("threadpoolctl") else "fail", error) for error in info["errors"]
    ]
    blas = [lib for lib in info["libraries"] if lib.get("user_api") == "blas"]
    if len({os.path.realpath(str(lib.get("filepath"))) for lib in blas}) > 1:
        names = ", ".join(f"{lib.get('internal_api')} ({lib.get('filepath')})" for lib in blas)
        findings.append(Finding("warn", f"{len(blas)} BLAS libraries are loaded at once: {names}"))
    runtime = sorted({str(lib.get("internal_api")) for lib in blas})
    if conda_vendor and runtime and conda_vendor not in runtime:
        message = f"the conda side installed libblas for {conda_vendor}, but {', '.join(runtime)} runs"
        findings.append(Finding("warn", message))
    if info["numpy"] is not None and not blas and not info["errors"]:
        findings.append(Finding("warn", "no BLAS library is loaded at run time (threadpoolctl found none)"))
    return findings


def _names_a_blas(config: Any) -> bool:
    """Whether numpy's build configuration names its BLAS or LAPACK."""
    if not isinstance(config, dict):
        return False
    return any(isinstance(config.get(key), dict) and config[key].get("name") for key in ("blas", "lapack"))


# -- imports -----------------------------------------------------------------------------------


def _imports_section(
    ctx: _Context, dists: Sequence[InstalledDistribution], skip: Iterable[str], workers: int | None
) -> Section:
    skipped = {canonicalize_name(name) for name in skip}
    plan = [(dist, probes.distribution_modules(dist.path, dist.name)) for dist in dists]
    todo = [(dist, modules) for dist, modules in plan if modules and dist.name not in skipped]
    count = workers or min(8, max(2, os.cpu_count() or 2))
    several = f"{len(todo)} distribution{'s' if len(todo) != 1 else ''}"
    with (
        progress.task(f"importing {several}, each in its own process", len(todo)) as update,
        ThreadPoolExecutor(max_workers=count) as pool,
    ):
        advance = progress.counter(update, len(todo))

        def one(modules: Sequence[str]) -> dict[str, Any]:
            try:
                return _import_one(ctx, modules)
            finally:
                advance(1)

        measured = dict(
            zip((dist.name for dist, _ in todo), pool.map(lambda item: one(item[1]), todo), strict=True)
        )
    items, results = [], []
    for dist, modules in plan:
        result: dict[str, Any]
        if dist.name in skipped or not modules:
            why = "skipped (--skip)" if dist.name in skipped else "no importable module"
            result = {"distribution": dist.name, "version": dist.version, "status": "skip", "reason": why}
        else:
            result = {"distribution": dist.name, "version": dist.version, **measured[dist.name]}
        results.append(result)
        items.append(Item("import", result["status"], result))
    findings = [
        Finding("fail", f"{r['distribution']}: {r['module']}: {r['error']}")
        for r in results
        if r["status"] == "fail"
    ]
    done = [r for r in results if r["status"] == "ok"]
    tried = [r for r in results if r["status"] != "skip"]
    if not tried:
        data = {"timeout_s": ctx.timeout, "results": results}
        return _section("imports", "no distribution to import", [], items, data, "skip")
    summary = f"{len(done)} of {len(tried)} distributions import"
    timed = [r for r in done if r["ms"] is not None]
    if timed:
        slowest = max(timed, key=lambda r: r["ms"])
        summary += f" (slowest: {slowest['distribution']} {slowest['ms']:.0f} ms)"
    return _section("imports", summary, findings, items, {"timeout_s": ctx.timeout, "results": results})


def _import_one(ctx: _Context, modules: Sequence[str]) -> dict[str, Any]:
    """Import ``modules`` in one fresh interpreter: time, memory growth, or the failure."""
    probe = ctx.probe(probes.IMPORT_PROBE, modules, what=f"importing {modules[0]}", timeout=ctx.timeout)
    if probe.error:
        error = f"timed out after {ctx.timeout:g} s" if probe.timed_out else probe.error
        return {"modules": list(modules), "status": "fail", "module": modules[0], "error": error}
    each: list[dict[str, Any]] = probe.data
    failed = next((m for m in each if m["error"]), None)
    measured = [m for m in each if not m.get("preloaded")]  # a preloaded module costs nothing here
    return {
        "modules": list(modules),
        "status": "fail" if failed else "ok",
        "ms": round(sum(m["ms"] for m in measured), 3) if measured else None,
        "rss_mb": round(sum(m["rss_bytes"] for m in measured) / 2**20, 1) if measured else None,
        "module": failed["module"] if failed else None,
        "error": failed["error"] if failed else None,
        "preloaded": [m["module"] for m in each if m.get("preloaded")],
        "namespace_only": [m["module"] for m in each if m.get("namespace")],
    }
