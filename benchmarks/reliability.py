"""Kill condauv with SIGKILL at random points, then check that plain ``condauv sync`` recovers.

A small project is built offline: a local conda channel (this interpreter as ``python``, tiny
``noarch`` packages) and a find-links folder of synthetic wheels, one of them with a few
thousand files so that a kill can land while uv installs it. Then ``condauv sync``,
``condauv add`` and ``condauv lock`` are each started and killed (SIGKILL to the process
group: condauv and the uv or rattler work it runs) at random moments (seeded), spread over
the time the command takes when it is not killed, until ``--kills`` kills landed. After every kill, plain
``condauv sync`` must exit 0, and then ``condauv check`` must be clean, the manifest and the
lock must parse (the old content or the new), the lock must be the manifest's, and no temp
folder or temp file of condauv may be left (in ``$TMPDIR``, condauv's cache, the project, conda-meta).

Run: ``python benchmarks/reliability.py [--kills 20] [--seed 7]``. Exit 1 on any failure.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

#: files in the big wheel: uv takes long enough over them for kills to land mid-install
BIG_FILES = 3000
SMALL = 80  # small wheels: every add and every hand edit before a lock takes a new one


@dataclass
class Tally:
    kills: int = 0
    recovered: int = 0
    journal_left: int = 0  # kills that left a sync's journal: the next sync verified every file
    stale_left: int = 0  # runs after which the lock was older than the manifest (lock: by design,
    # the hand edit comes first; add: a kill between the manifest's write and the lock's)
    temp_left: int = 0  # kills that left temp folders/files (then removed by the next command)
    half_installed: int = 0  # kills that left bigpkg's dist-info with some of its files missing
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


def build_inputs(root: Path) -> tuple[Path, Path]:
    """The conda channel (cached between runs) and the wheelhouse."""
    from condauv.channel import atomic_channel, build_package, build_python_package, channel_key
    from condauv.pypi.wheelfile import write_wheel

    def populate(folder: Path) -> None:
        build_python_package(folder)
        for name in ("tiny-a", "tiny-b"):
            build_package(
                name=name,
                version="1.0",
                output_dir=folder,
                files={f"share/{name}/file{i}": f"{name} {i}\n".encode() for i in range(50)},
                noarch="generic",
            )

    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "condauv-bench"
    key = channel_key(Path(__file__).read_text(encoding="utf-8"), sys.version, sys.base_prefix)
    channel = atomic_channel(cache / f"reliability-channel-{key}", populate)
    wheels = root / "wheels"
    write_wheel(
        wheels,
        "bigpkg",
        "1.0",
        files={f"bigpkg/m{i:04d}.py": f"VALUE = {i}\n".encode() for i in range(BIG_FILES)},
    )
    for i in range(SMALL):
        write_wheel(wheels, f"small{i:02d}", "1.0", files={f"small{i:02d}/__init__.py": b"X = 1\n"})
    return channel, wheels


class Bench:
    def __init__(self, root: Path, channel: Path, wheels: Path, rng: random.Random) -> None:
        self.root = root
        self.project = root / "project"
        self.prefix = self.project / ".condauv" / "env"
        self.rng = rng
        self.next_small = 0
        self.tmp = root / "tmp"
        self.tmp.mkdir()
        self.env = {
            **os.environ,
            "TMPDIR": str(self.tmp),
            "CONDAUV_CACHE_DIR": str(root / "cache"),
            "UV_CACHE_DIR": str(root / "uv-cache"),
        }
        self.project.mkdir()
        (self.project / "condauv.toml").write_text(
            f"""[environment]
name = "reliability"
python = "{sys.version_info.major}.{sys.version_info.minor}.*"
channels = ["{channel.as_uri()}"]

[conda-dependencies]
tiny-a = "*"

[pypi-dependencies]
bigpkg = "*"
small00 = "*"

[pypi-options]
find-links = ["{wheels}"]
no-index = true
""",
            encoding="utf-8",
        )
        self.next_small = 1

    def condauv(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "condauv", *args],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"condauv {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
        return done

    def killed(self, args: list[str], after: float) -> bool:
        """Run ``condauv ARGS`` and SIGKILL its process group ``after`` seconds in; whether it was
        still running then."""
        process = subprocess.Popen(
            [sys.executable, "-m", "condauv", *args],
            cwd=self.project,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            process.wait(timeout=after)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return True
        return False

    # what each command's run needs first, so that it has work to do
    def fresh_prefix(self) -> None:
        shutil.rmtree(self.prefix, ignore_errors=True)

    def new_small(self) -> str:
        name = f"small{self.next_small:02d}"
        self.next_small = self.next_small % (SMALL - 1) + 1
        return name

    def edit_manifest(self) -> None:
        """A hand edit, as a person makes before `condauv lock`."""
        from condauv.manifest.edit import ManifestDocument
        from condauv.manifest.specs import parse_user_spec

        path = self.project / "condauv.toml"
        document = ManifestDocument.open(path)
        document.add(parse_user_spec(self.new_small(), "pypi-dependencies"))
        path.write_text(document.text(), encoding="utf-8")

    def half_installed(self) -> bool:
        site = next(self.prefix.glob("lib/python3.*/site-packages"), None)
        if site is None or not (site / "bigpkg-1.0.dist-info").is_dir():
            return False
        return sum(1 for _ in (site / "bigpkg").glob("m*.py")) < BIG_FILES

    def leftovers(self) -> list[str]:
        # uv keeps its own interpreter lock files (uv-*.lock) in $TMPDIR on purpose: not temp files
        found = [str(p) for p in self.tmp.iterdir() if not (p.name.startswith("uv-") and p.suffix == ".lock")]
        for cache_tmp in (self.root / "cache" / "tmp", self.root / "cache" / "pkgs" / ".condauv-tmp"):
            if cache_tmp.is_dir():
                found += [str(p) for p in cache_tmp.iterdir()]
        for folder in (self.project, self.prefix / "conda-meta"):
            if folder.is_dir():
                found += [str(p) for p in folder.glob(".*.condauv-*.tmp")]
        return found

    def verify(self, tally: Tally, label: str) -> None:
        from condauv.lock.model import load_lock
        from condauv.manifest.model import load_manifest
        from condauv.sync.freshness import Freshness, freshness
        from condauv.sync.journal import pending

        try:
            manifest = load_manifest(self.project / "condauv.toml")  # the old content or the new
            lock = load_lock(self.project / "condauv.lock")
            if self.prefix.is_dir() and pending(self.prefix) is not None:
                tally.journal_left += 1
            if lock is not None and freshness(manifest, lock) is Freshness.STALE:
                tally.stale_left += 1
            if self.leftovers():
                tally.temp_left += 1
            if self.half_installed():
                tally.half_installed += 1
            synced = self.condauv("sync", "--offline", check=False)
            _require(synced.returncode == 0, f"sync exited {synced.returncode}: {synced.stderr[-300:]}")
            checked = self.condauv("check", check=False)
            _require(checked.returncode == 0, f"check exited {checked.returncode}: {checked.stdout[-600:]}")
            manifest = load_manifest(self.project / "condauv.toml")
            lock = load_lock(self.project / "condauv.lock")
            _require(
                freshness(manifest, lock) is Freshness.FRESH, "the lock is not the manifest's after sync"
            )
            left = self.leftovers()
            _require(not left, f"temp left: {left[:3]}")
            tally.recovered += 1
        except Exception as exc:  # every failure is a finding of this benchmark
            tally.failures.append(f"{label}: {exc}")


def _require(condition: bool, failure: str) -> None:
    if not condition:
        raise RuntimeError(failure)


def run(bench: Bench, name: str, prepare: Callable[[], list[str]], kills: int, rng: random.Random) -> Tally:
    """Kill ``condauv NAME`` until ``kills`` kills landed while it ran (a run that ended first
    is still verified), each at a uniform random moment of its calibrated duration."""
    tally = Tally()
    start = time.perf_counter()
    durations = []
    for _ in range(2):  # calibrate: how long the command takes when nobody kills it
        args = prepare()
        began = time.perf_counter()
        bench.condauv(*args)
        durations.append(time.perf_counter() - began)
        bench.verify(Tally(), "calibration")
    duration = min(durations)
    runs = 0
    while tally.kills < kills and runs < 3 * kills:
        args = prepare()
        after = rng.uniform(0.02, duration)
        runs += 1
        if bench.killed(args, after):
            tally.kills += 1
        bench.verify(tally, f"{name} #{runs} killed at {after:.2f}s of {duration:.2f}s")
    tally.seconds = time.perf_counter() - start
    print(
        f"{name:5}  {duration:5.2f}s/run  runs {runs:3}  kills {tally.kills:3}  "
        f"recovered {tally.recovered:3}  journal left {tally.journal_left:3}  "
        f"stale lock {tally.stale_left:3}  half installed {tally.half_installed:3}  "
        f"temp left {tally.temp_left:3}  failures {len(tally.failures):3}  {tally.seconds:6.1f}s",
        flush=True,
    )
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kills", type=int, default=20, help="kills per command (default 20)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)  # noqa: S311 - kill points, not secrets
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="condauv-reliability-") as tmp:
        root = Path(tmp)
        channel, wheels = build_inputs(root)
        bench = Bench(root, channel, wheels, rng)
        bench.condauv("sync", "--offline")  # warm caches: every later run works from them

        def sync_args() -> list[str]:
            bench.fresh_prefix()  # the whole prefix to build: rattler links, uv installs bigpkg
            return ["sync", "--offline"]

        def add_args() -> list[str]:
            if rng.random() < 0.5:
                bench.fresh_prefix()  # add's sync builds everything
            return ["add", "--offline", "--pypi", bench.new_small()]

        def lock_args() -> list[str]:
            bench.edit_manifest()
            return ["lock", "--offline"]

        print(f"SIGKILL at {args.kills} random points per command (seed {args.seed}); {BIG_FILES}-file wheel")
        tallies = {
            "sync": run(bench, "sync", sync_args, args.kills, rng),
            "add": run(bench, "add", add_args, args.kills, rng),
            "lock": run(bench, "lock", lock_args, args.kills, rng),
        }
    failures = [f for t in tallies.values() for f in t.failures]
    total = sum(t.kills for t in tallies.values())
    recovered = sum(t.recovered for t in tallies.values())
    print(
        f"total: {total} kills, {recovered} recoveries (every run, killed or not, is verified), "
        f"{len(failures)} failures, {time.perf_counter() - started:.0f}s"
    )
    for failure in failures:
        print(f"  FAILED {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
