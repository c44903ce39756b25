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
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

if not __package__:  # run as a file: import the benchmarks as the package they are
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._shared import bench_cache, direct_inputs, direct_install, median, side_by_side, user_env


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
        env = user_env(bench_cache() / "pycache")  # bytecode cached, as after a pip install
        inputs = direct_inputs(lock, Path(tmp) / "direct")
        from condauv import paths

        pkgs = paths.conda_pkgs_dir()

        def condauv_sync() -> None:
            subprocess.run([*condauv, "sync", "--frozen", "-q"], cwd=project, check=True, env=env)

        def direct() -> None:
            direct_install(inputs, other, pkgs, env)

        def clear(path: Path) -> Callable[[], None]:
            return lambda: shutil.rmtree(path, ignore_errors=True)

        for warm_up, reset in ((condauv_sync, clear(prefix)), (direct, clear(other))):
            reset()
            warm_up()  # bytecode compiled, as a user's second run finds it
        # interleaved, so that machine noise hits both alike
        times = side_by_side(
            {"condauv": (condauv_sync, clear(prefix)), "direct": (direct, clear(other))}, args.repeat
        )
        t_noop = side_by_side({"noop": (condauv_sync, None)}, args.repeat).wall["noop"]

    lock_stats = lock.name
    med_c, med_d, med_n = (median(t) for t in (times.wall["condauv"], times.wall["direct"], t_noop))
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
