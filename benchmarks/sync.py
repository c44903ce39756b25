"""Sync speed, measured side by side in one run.

1. ``condauv sync --frozen`` into an empty prefix, caches warm (the CLI, as a user runs it);
2. the same locked sets installed by calling py-rattler's ``install`` and ``uv pip install``
   directly (what condauv would cost if it added nothing);
3. a no-op ``condauv sync`` on an environment that already matches.

Goals: (1)/(2) <= 1.2; (3) < 0.3 s. Run: ``python benchmarks/sync.py [--repeat N]``.
Needs PyPI for the first run (the demo's PyPI packages); later runs use the caches.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

DIRECT = r"""
import asyncio, subprocess, sys, tempfile
from pathlib import Path
import rattler
from condauv import paths
from condauv.conda.engine import package_to_record
from condauv.lock import load_lock
from condauv.platforms import current_subdir
from condauv.pypi.uv import find_uv

lock = load_lock(Path(sys.argv[1]))
prefix = Path(sys.argv[2])
platform = current_subdir()
records = [package_to_record(p) for p in lock.conda_for(platform)]
asyncio.run(rattler.install(records, target_prefix=prefix, cache_dir=paths.conda_pkgs_dir(),
                            show_progress=False, execute_link_scripts=False))
with tempfile.TemporaryDirectory() as tmp:
    reqs = Path(tmp) / "r.txt"
    lines = [f"{p.name} @ {p.url} --hash=sha256:{p.sha256}" for p in lock.pypi_for(platform)]
    reqs.write_text("\n".join(lines) + "\n")
    subprocess.run([find_uv(), "pip", "install", "--python", str(prefix / "bin" / "python"), "--no-deps",
                    "--require-hashes", "--no-index", "-r", str(reqs), "-q"], check=True)
"""


def _time(action: Callable[[], None], repeat: int, reset: Callable[[], None] | None = None) -> list[float]:
    times = []
    for _ in range(repeat):
        if reset:
            reset()
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from condauv.demo import run_demo

    condauv = [sys.executable, "-m", "condauv"]
    with tempfile.TemporaryDirectory(prefix="condauv-bench-") as tmp:
        project = Path(tmp) / "project"
        print("preparing: demo project (local channel: python + numpy; PyPI: requests, tqdm, click)")
        result = run_demo(project)  # locks, syncs once: every cache is warm from here on
        prefix = result.project.prefix
        lock = result.project.lock_path
        other = Path(tmp) / "direct-env"
        env = {**os.environ}

        def condauv_sync() -> None:
            subprocess.run([*condauv, "sync", "--frozen", "-q"], cwd=project, check=True, env=env)

        def direct() -> None:
            subprocess.run([sys.executable, "-c", DIRECT, str(lock), str(other)], check=True, env=env)

        def clear(path: Path) -> Callable[[], None]:
            return lambda: shutil.rmtree(path, ignore_errors=True)

        # interleave the two so that machine noise hits both alike
        t_condauv: list[float] = []
        t_direct: list[float] = []
        for _ in range(args.repeat):
            t_condauv += _time(condauv_sync, 1, clear(prefix))
            t_direct += _time(direct, 1, clear(other))
        t_noop = _time(condauv_sync, args.repeat)

    lock_stats = lock.name
    med_c, med_d, med_n = (statistics.median(t) for t in (t_condauv, t_direct, t_noop))
    print(f"\nsync into an empty prefix, warm caches (median of {args.repeat}; {lock_stats}):")
    print(f"  condauv sync --frozen          {med_c:7.3f} s")
    print(f"  rattler.install + uv (direct)  {med_d:7.3f} s")
    print(f"  ratio condauv / direct         {med_c / med_d:7.2f}   (goal <= 1.2)")
    print(f"no-op condauv sync               {med_n:7.3f} s   (goal < 0.3 s)")
    ok = med_c / med_d <= 1.2 and med_n < 0.3
    print("goals met" if ok else "GOALS NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
