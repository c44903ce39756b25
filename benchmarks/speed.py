"""Issue 10's speed goals, measured side by side in one run, on synthetic environments.

For each size N (default 10, 100, 500 packages: python, N/2 - 1 conda packages, N/2 wheels) it
builds, offline, a local conda channel (this interpreter as ``python``; small conda packages,
half of them Python distributions with a dist-info that says ``INSTALLER = conda``, half
libraries; dependency edges between them) and a find-links folder of small wheels (requiring
each other and, some, conda's Python distributions), then times, as a user runs them (the
``condauv`` console script, interpreter start-up included), each against its baseline:

======================  =================================================  ==========
condauv                 baseline (separate processes too)                  goal
======================  =================================================  ==========
sync --frozen, empty    ``cp -al`` of the finished tree                    <= 4x
  prefix, warm caches   py-rattler ``install`` + ``uv pip install``        < 1x
no-op ``sync``          ``uv pip install`` of the installed locked set     <= 2x
``run true``            the same uv no-op                                  <= 2x
``lock`` (no lock yet)  py-rattler ``solve`` + ``uv pip compile``          <= 1.5x
first ``check``         (every file hashed; no goal but at 300 packages)
no-op ``check``                                                            < 0.2 s
======================  =================================================  ==========

Then ``condauv check`` on benchmarks/check.py's prefix of 300 conda packages (0.8 GB): first
(< 1 s) and no-op (< 0.2 s). Every figure is the median of ``--repeat`` rounds, the steps of a
group interleaved within each round so that the machine's noise hits them alike; next to the
wall time, the CPU time of the processes a step ran (it moves less on a loaded machine). Every
process runs with bytecode cached (``PYTHONDONTWRITEBYTECODE`` dropped, ``PYTHONPYCACHEPREFIX``
in the bench cache), as a ``pip install`` leaves condauv. Exit status 1 when a goal is missed.

Run: ``python benchmarks/speed.py [--sizes 10,100,500] [--repeat N] [--json] [--save FILE]
[--no-check300] [--keep DIR]`` (about 3 minutes on 2 cores; ``--keep`` leaves the projects for profiling).
The channels are built once (about 10 s for 500 packages) and kept in ``~/.cache/condauv-bench``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

if not __package__:  # run as a file: import the benchmarks as the package they are
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._shared import (
    DirectInputs,
    Samples,
    bench_cache,
    direct_inputs,
    direct_install,
    median,
    side_by_side,
    user_env,
    uv_binary,
)

#: bump when the synthetic packages change: cached channels are then built again
GENERATOR = "1"
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
SITE = f"lib/python{PYTHON}/site-packages"
CONDAUV = str(Path(sys.executable).with_name("condauv"))

DIRECT_SOLVE = r"""
import asyncio, json, os, sys
import rattler
from rattler import Channel, Gateway, VirtualPackage
channels, specs, subdir, cache = json.loads(sys.argv[1])
records = asyncio.run(rattler.solve(
    [Channel(url) for url in channels], specs, gateway=Gateway(cache_dir=cache, show_progress=False),
    platforms=[subdir, "noarch"], virtual_packages=VirtualPackage.detect()))
with open(sys.argv[2], "w", encoding="utf-8") as handle:
    json.dump([record.url for record in records], handle)
sys.stdout.flush()
os._exit(0)
"""


@dataclass(frozen=True, slots=True)
class Goal:
    label: str  # "<= 4x", "< 0.2 s"
    limit: float
    ratio: bool  # on the ratio against the row's baseline, else on seconds

    def met(self, value: float) -> bool:
        return value <= self.limit if self.label.startswith("<=") else value < self.limit


@dataclass(slots=True)
class Row:
    name: str
    wall: list[float]
    cpu: list[float]  # user + system seconds of the processes the step ran
    against: Row | None = None  # the baseline of the ratio
    goal: Goal | None = None

    @property
    def seconds(self) -> float:
        return median(self.wall)

    @property
    def cpu_seconds(self) -> float:
        return median(self.cpu)

    @property
    def ratio(self) -> float | None:
        return self.seconds / self.against.seconds if self.against else None

    @property
    def cpu_ratio(self) -> float | None:
        return self.cpu_seconds / self.against.cpu_seconds if self.against else None

    @property
    def met(self) -> bool | None:
        if self.goal is None:
            return None
        value = self.ratio if self.goal.ratio else self.seconds
        return self.goal.met(value if value is not None else float("inf"))


@dataclass(slots=True)
class Result:
    title: str
    rows: list[Row] = field(default_factory=list)
    facts: dict[str, object] = field(default_factory=dict)

    def add(
        self, name: str, samples: Samples, key: str, against: Row | None = None, goal: Goal | None = None
    ) -> Row:
        row = Row(name, samples.wall[key], samples.cpu[key], against, goal)
        self.rows.append(row)
        return row


# --- the synthetic inputs ----------------------------------------------------------------------


def conda_names(size: int) -> list[str]:
    """The conda packages besides python: even ones Python distributions, odd ones libraries."""
    return [f"cpy-{i:03d}" if i % 2 == 0 else f"clib-{i:03d}" for i in range(size // 2 - 1)]


def wheel_names(size: int) -> list[str]:
    return [f"wpy-{j:03d}" for j in range(size - size // 2)]


def _conda_files(name: str, i: int) -> dict[str, bytes]:
    extra = 3 + i % 5
    ident = name.replace("-", "_")
    if name.startswith("cpy-"):
        files = {f"{SITE}/{ident}/__init__.py": f'__version__ = "1.0"\n# {name}\n'.encode()}
        files |= {
            f"{SITE}/{ident}/m{k}.py": f"VALUE = {k}  # {name}\n".encode() * (k + 1) for k in range(extra)
        }
        dist = f"{SITE}/{ident}-1.0.dist-info"
        files[f"{dist}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode()
        files[f"{dist}/INSTALLER"] = b"conda\n"
        files[f"{dist}/WHEEL"] = b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        files[f"{dist}/top_level.txt"] = f"{ident}\n".encode()
        return files
    files = {f"lib/lib{ident}.so.1": (f"\x7fELF {name}\n".encode() * 256)}
    files |= {f"include/{ident}/h{k}.h": f"#define {ident.upper()}_{k} {k}\n".encode() for k in range(extra)}
    files[f"share/licenses/{name}/LICENSE"] = f"{name}: BSD-3-Clause\n".encode()
    return files


def _conda_depends(names: Sequence[str], i: int) -> list[str]:
    depends = (
        [f"python >={PYTHON},<3.{sys.version_info.minor + 1}.0a0"] if names[i].startswith("cpy-") else []
    )
    if i > 0:
        depends.append(f"{names[(i - 1) // 2]} >=1.0")
    return depends


def build_channel(size: int) -> Path:
    """The local conda channel of ``size`` (cached): python and :func:`conda_names`."""
    from condauv.channel import atomic_channel, build_package, build_python_package, channel_key

    cache = bench_cache()
    key = channel_key(GENERATOR, sys.version, sys.base_prefix)
    python_channel = atomic_channel(cache / f"speed-python-{key}", build_python_package)
    (python_package,) = python_channel.glob("*/python-*.conda")

    def populate(folder: Path) -> None:
        target = folder / python_package.parent.name / python_package.name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(python_package, target)
        names = conda_names(size)
        for i, name in enumerate(names):
            build_package(
                name=name,
                version="1.0",
                output_dir=folder,
                files=_conda_files(name, i),
                depends=_conda_depends(names, i),
            )

    return atomic_channel(cache / f"speed-{size}-{key}", populate)


def write_wheels(size: int, folder: Path) -> None:
    """The find-links folder of ``size``: a tree of requirements, every fourth wheel also
    requiring one of conda's Python distributions."""
    from condauv.pypi.wheelfile import write_wheel

    conda_python = [n for n in conda_names(size) if n.startswith("cpy-")]
    names = wheel_names(size)
    for j, name in enumerate(names):
        requires = [f"{names[(j - 1) // 2]}>=1"] if j > 0 else []
        if j % 4 == 3 and conda_python:
            requires.append(f"{conda_python[j % len(conda_python)]}>=1")
        ident = name.replace("-", "_")
        files = {f"{ident}/__init__.py": f'__version__ = "1.0"  # {name}\n'.encode()}
        files |= {f"{ident}/m{k}.py": f"VALUE = {k}\n".encode() * (k + 1) for k in range(j % 4)}
        write_wheel(folder, name, "1.0", requires=requires, files=files)


def write_manifest(project: Path, size: int, channel: Path, wheels: Path) -> None:
    conda = "".join(f'{name} = "*"\n' for name in conda_names(size))
    pypi = "".join(f'{name} = "*"\n' for name in wheel_names(size))
    project.mkdir(parents=True)
    (project / "condauv.toml").write_text(
        f'[environment]\nname = "speed-{size}"\npython = "{PYTHON}.*"\nchannels = ["{channel.as_uri()}"]\n\n'
        f"[conda-dependencies]\n{conda}\n[pypi-dependencies]\n{pypi}\n"
        f'[pypi-options]\nfind-links = ["{wheels}"]\nno-index = true\n',
        encoding="utf-8",
    )


# --- the measurements --------------------------------------------------------------------------


class Bench:
    """One size's project, its isolated caches (warm after :meth:`prepare`) and its baselines."""

    def __init__(self, root: Path, size: int, pycache: Path) -> None:
        self.root = root
        self.size = size
        self.project = root / "project"
        self.prefix = self.project / ".condauv" / "env"
        self.cache = root / "cache"
        self.env = {
            **user_env(pycache),
            "CONDAUV_CACHE_DIR": str(self.cache),
            "UV_CACHE_DIR": str(root / "uv-cache"),
        }
        self.direct_env = root / "direct-env"
        self.copy = root / "copy"
        self.direct: DirectInputs | None = None
        self.solve_args = ""  # the direct solve's input, as JSON (set by prepare)
        self.compile_args: list[str] = []  # the direct `uv pip compile` (set by prepare)

    def condauv(self, *args: str, cwd: Path | None = None) -> Callable[[], None]:
        command = [CONDAUV, *args]

        def run() -> None:
            subprocess.run(
                command, cwd=cwd or self.project, env=self.env, check=True, stdout=subprocess.DEVNULL
            )

        return run

    def prepare(self) -> dict[str, object]:
        channel = build_channel(self.size)
        wheels = self.root / "wheels"
        write_wheels(self.size, wheels)
        write_manifest(self.project, self.size, channel, wheels)
        self.condauv("lock", "-q")()  # every cache warm from here on
        self.condauv("sync", "--frozen", "-q")()
        self.direct = direct_inputs(self.project / "condauv.lock", self.root / "direct")
        direct_install(self.direct, self.direct_env, self.cache / "pkgs", self.env)
        self._prepare_direct_lock(channel, wheels)
        self._direct_lock()
        for command in (("sync", "-q"), ("run", "-q", "--", "true"), ("check", "-q")):
            self.condauv(*command)()  # bytecode compiled, as a user's second run finds it
        files = sum(len(f) for _, _, f in os.walk(self.prefix))
        return {"channel": str(channel), "files_in_prefix": files}

    def _prepare_direct_lock(self, channel: Path, wheels: Path) -> None:
        """The inputs condauv gives the engines when it locks: the specs, and for uv the
        requirements plus a metadata-only stub wheel per conda-owned distribution."""
        from condauv.lock.model import load_lock
        from condauv.platforms import current_subdir, uv_python_platform
        from condauv.pypi.wheelfile import write_wheel

        lock = load_lock(self.project / "condauv.lock")
        assert lock is not None
        subdir = current_subdir()
        specs = [f"python {PYTHON}.*", *conda_names(self.size)]
        self.solve_args = json.dumps([[channel.as_uri()], specs, subdir, str(self.cache / "repodata")])
        lines = list(wheel_names(self.size))
        for package in lock.conda_for(subdir):
            for dist, version in package.provided_names().items():
                stub = write_wheel(self.root / "stubs", dist, version)
                lines.append(f"{dist} @ {stub.as_uri()}")
        self.requirements_in = self.root / "requirements.in"
        self.requirements_in.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.compile_args = [
            uv_binary(), "pip", "compile", "--no-config", str(self.requirements_in),
            "--format", "pylock.toml", "--generate-hashes", "--python-version", PYTHON,
            "--python-platform", uv_python_platform(subdir), "--output-file", str(self.root / "pylock.toml"),
            "--quiet", "--find-links", str(wheels), "--no-index",
        ]  # fmt: skip

    def _run(self, command: Sequence[str]) -> Callable[[], None]:
        def run() -> None:
            subprocess.run(list(command), env=self.env, check=True, stdout=subprocess.DEVNULL)

        return run

    def _direct_lock(self) -> None:
        subprocess.run(
            [sys.executable, "-c", DIRECT_SOLVE, self.solve_args, str(self.root / "solved.json")],
            env=self.env,
            check=True,
        )
        self._run(self.compile_args)()

    def _uv_noop(self) -> Callable[[], None]:
        assert self.direct is not None
        python = self.prefix / "bin" / "python"
        return self._run(
            [uv_binary(), "pip", "install", "--python", str(python), "--no-deps", "--require-hashes",
             "--no-index", "-q", "-r", str(self.direct.pypi)]
        )  # fmt: skip

    def measure(self, repeat: int) -> Result:
        assert self.direct is not None
        direct = self.direct

        def clear(path: Path) -> Callable[[], None]:
            return lambda: shutil.rmtree(path, ignore_errors=True)

        def forget_lock() -> None:
            (self.project / "condauv.lock").unlink()

        sync = side_by_side(
            {
                "sync": (self.condauv("sync", "--frozen", "-q"), clear(self.prefix)),
                "direct": (
                    lambda: direct_install(direct, self.direct_env, self.cache / "pkgs", self.env),
                    clear(self.direct_env),
                ),
                "cp": (self._run(["cp", "-al", str(self.prefix), str(self.copy)]), clear(self.copy)),
            },
            repeat,
        )
        # uv sees condauv's install (from a pylock.toml) as not the requirement file's direct URLs
        # and reinstalls every wheel once: only after that is its run a no-op
        self._uv_noop()()
        noop = side_by_side(
            {
                "sync": (self.condauv("sync", "-q"), None),
                "run": (self.condauv("run", "-q", "--", "true"), None),
                "uv": (self._uv_noop(), None),
                "python": (self._run([sys.executable, "-c", "pass"]), None),
            },
            repeat,
        )
        check = side_by_side(
            {
                "first": (self.condauv("check", "-q"), clear(self.cache / "check")),
                "again": (self.condauv("check", "-q"), None),
            },
            repeat,
        )
        lock = side_by_side(
            {"lock": (self.condauv("lock", "-q"), forget_lock), "direct": (self._direct_lock, None)}, repeat
        )
        conda, pypi = self.size // 2, self.size - self.size // 2
        result = Result(f"N={self.size}: python + {conda - 1} conda packages + {pypi} wheels")
        cp = result.add("cp -al of the finished prefix", sync, "cp")
        both = result.add("py-rattler install + uv pip install", sync, "direct")
        result.add("sync --frozen, empty prefix / cp -al", sync, "sync", cp, Goal("<= 4x", 4, ratio=True))
        result.add("sync --frozen, empty prefix / direct", sync, "sync", both, Goal("< 1x", 1, ratio=True))
        uv = result.add("uv pip install, all installed (no-op)", noop, "uv")
        result.add("python -c pass (start-up floor)", noop, "python")
        result.add("no-op sync / uv no-op", noop, "sync", uv, Goal("<= 2x", 2, ratio=True))
        result.add("run -- true / uv no-op", noop, "run", uv, Goal("<= 2x", 2, ratio=True))
        solve = result.add("py-rattler solve + uv pip compile", lock, "direct")
        result.add("lock (no lock yet) / direct", lock, "lock", solve, Goal("<= 1.5x", 1.5, ratio=True))
        result.add("first check (every file hashed)", check, "first")
        result.add("no-op check", check, "again", None, Goal("< 0.2 s", 0.2, ratio=False))
        return result


def measure_check300(root: Path, repeat: int, pycache: Path) -> Result:
    """``condauv check --prefix`` on check.py's 300-package prefix, outside any project."""
    from benchmarks.check import build_prefix

    prefix = root / "env"
    files = build_prefix(prefix)
    os.sync()  # the 0.8 GB just written, on disk: no write-back during the measurement
    time.sleep(2.1)  # files younger than 2 s are hashed again by every check: let them age
    cache = root / "cache"
    env = {**user_env(pycache), "CONDAUV_CACHE_DIR": str(cache)}

    def check() -> None:
        command = [CONDAUV, "check", "-q", "--prefix", str(prefix)]
        subprocess.run(command, cwd=root, env=env, check=True, stdout=subprocess.DEVNULL)

    check()  # bytecode and page cache warm, as after any recent use
    samples = side_by_side(
        {
            "first": (check, lambda: shutil.rmtree(cache / "check", ignore_errors=True)),
            "again": (check, None),
        },
        repeat,
    )
    result = Result(f"check.py's prefix: 300 conda packages + 40 PyPI distributions, {files} files")
    result.add("first check (every file hashed)", samples, "first", None, Goal("< 1 s", 1, ratio=False))
    result.add("no-op check", samples, "again", None, Goal("< 0.2 s", 0.2, ratio=False))
    return result


# --- output ------------------------------------------------------------------------------------


def render(results: Sequence[Result]) -> str:
    lines = []
    for result in results:
        lines += ["", result.title]
        lines.append(f"  {'measurement':<40} {'wall':>8} {'cpu':>8} {'ratio':>7} {'(cpu)':>7}  goal")
        for r in result.rows:
            ratio = f"{r.ratio:6.2f}x" if r.ratio is not None else ""
            cpu_ratio = f"{r.cpu_ratio:6.2f}x" if r.cpu_ratio is not None else ""
            verdict = "" if r.met is None else ("met" if r.met else "MISSED")
            goal = f"{r.goal.label:<8} {verdict}" if r.goal else ""
            lines.append(
                f"  {r.name:<40} {r.seconds:7.3f}s {r.cpu_seconds:7.3f}s {ratio:>7} {cpu_ratio:>7}  {goal}"
            )
    return "\n".join(lines)


def growth(results: Sequence[Result]) -> str:
    """How each command's wall time grows with N: one line per command, one column per size."""
    by_size = [r for r in results if r.title.startswith("N=")]
    if not by_size:
        return ""
    picks = {
        "sync --frozen, empty prefix": "sync --frozen, empty prefix / cp -al",
        "no-op sync": "no-op sync / uv no-op",
        "run -- true": "run -- true / uv no-op",
        "lock (no lock yet)": "lock (no lock yet) / direct",
        "first check": "first check (every file hashed)",
        "no-op check": "no-op check",
        "uv no-op (baseline)": "uv pip install, all installed (no-op)",
        "direct install (baseline)": "py-rattler install + uv pip install",
        "direct lock (baseline)": "py-rattler solve + uv pip compile",
    }
    head = "".join(f"{res.title.split(':')[0]:>10}" for res in by_size)
    lines = ["", f"  {'growth with N (median wall seconds)':<40}{head}"]
    for label, name in picks.items():
        cells = "".join(f"{next(r.seconds for r in res.rows if r.name == name):10.3f}" for res in by_size)
        lines.append(f"  {label:<40}{cells}")
    return "\n".join(lines)


def to_json(results: Sequence[Result]) -> str:
    def one(r: Row) -> dict[str, object]:
        return {
            "name": r.name,
            "median_s": round(r.seconds, 4),
            "median_cpu_s": round(r.cpu_seconds, 4),
            "runs_s": [round(x, 4) for x in r.wall],
            "against": r.against.name if r.against else None,
            "ratio": None if r.ratio is None else round(r.ratio, 3),
            "cpu_ratio": None if r.cpu_ratio is None else round(r.cpu_ratio, 3),
            "goal": r.goal.label if r.goal else None,
            "met": r.met,
        }

    return json.dumps(
        [{"title": res.title, **res.facts, "rows": [one(r) for r in res.rows]} for res in results], indent=2
    )


@contextlib.contextmanager
def _workdir(keep: Path | None, name: str) -> Iterator[Path]:
    """A fresh folder for one size: ``keep/name`` (emptied first, left behind), else a temporary one."""
    if keep is None:
        with tempfile.TemporaryDirectory(prefix=f"condauv-{name}-") as tmp:
            yield Path(tmp)
        return
    folder = keep.resolve() / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    yield folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10,100,500", help="comma-separated package counts")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="the figures as JSON on stdout")
    parser.add_argument("--save", type=Path, help="also write the figures as JSON to this file")
    parser.add_argument("--no-check300", action="store_true", help="skip check.py's 300-package prefix")
    parser.add_argument("--keep", type=Path, help="build each size's project in DIR/N and keep it")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    results: list[Result] = []
    pycache = bench_cache() / "pycache"
    started = time.perf_counter()
    for size in sizes:
        with _workdir(args.keep, f"speed-{size}") as tmp:
            bench = Bench(tmp, size, pycache)
            print(f"preparing N={size} ...", file=sys.stderr)
            facts = bench.prepare()
            print(f"measuring N={size} ({args.repeat} rounds) ...", file=sys.stderr)
            result = bench.measure(args.repeat)
            result.facts = facts
            results.append(result)
    if not args.no_check300:
        with _workdir(args.keep, "check300") as tmp:
            print("preparing check.py's 300-package prefix ...", file=sys.stderr)
            results.append(measure_check300(tmp, args.repeat, pycache))
    print(f"done in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if args.save:
        args.save.write_text(to_json(results) + "\n", encoding="utf-8")
    if args.json:
        print(to_json(results))
    else:
        print(render(results) + "\n" + growth(results))
    missed = [r for res in results for r in res.rows if r.met is False]
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
