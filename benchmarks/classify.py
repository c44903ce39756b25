"""Classification speed: 100 popular packages, online with a cold cache, online warm, and offline.

1. online, cold: a fresh cache folder; the channels are asked first (one query for every
   undecided name), then the package index (in parallel) about the names they lack;
2. online, warm: the same again; index pages younger than ``FRESH_S`` come from the cache;
3. offline: built-in knowledge and the index cache alone.

Goals: (1) < 3 s, (3) < 50 ms, both measured in-process (what ``condauv classify`` spends after
its start-up; the CLI's wall time, start-up included, is printed beside them).

Run: ``python benchmarks/classify.py [--channel URL] [--repeat N]``. The default channel is
conda-forge; where it is unreachable the run says so, and the index is asked only about names
already on the PyPI side (an undecided name may be a channel's: it is never sent to an index).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: Popular packages of both worlds: the PyPI download charts' top entries, the strategy's two
#: lists, and the scientific/ML stack around them, in either ecosystem's spelling.
_POPULAR = """
boto3 botocore urllib3 requests setuptools certifi charset-normalizer idna typing-extensions
python-dateutil packaging s3transfer six aiobotocore pyyaml numpy fsspec s3fs pip cryptography
grpcio-status cffi pycparser google-api-core pydantic attrs protobuf importlib-metadata zipp
pandas rsa pyasn1 jmespath click platformdirs wheel pytz markupsafe jinja2 filelock tomli
cachetools colorama pluggy pytest virtualenv aiohttp multidict yarl frozenlist aiosignal
wrapt scipy pyjwt sqlalchemy greenlet pyarrow psutil tqdm pygments rich docutils decorator
matplotlib pillow scikit-learn joblib threadpoolctl torch torchvision transformers tokenizers
huggingface-hub safetensors fastapi starlette uvicorn httpx anyio sniffio h11 black isort
flake8 mypy jupyter ipykernel opencv-python cudatoolkit cudnn xgboost lightgbm seaborn h5py
gdal psycopg2 lxml polars duckdb openai
"""
POPULAR = _POPULAR.split()

GOAL_ONLINE_S = 3.0
GOAL_OFFLINE_S = 0.050


def _classify(offline: bool, channel: str | None) -> tuple[float, list[str]]:
    from condauv.classification.classify import classify
    from condauv.manifest.model import parse_manifest

    manifest = None
    if channel:
        text = f'[environment]\nchannels = ["{channel}"]\n'
        manifest = parse_manifest(text, Path(tempfile.gettempdir()) / "bench" / "condauv.toml")
    start = time.perf_counter()
    results = classify(POPULAR, manifest=manifest, offline=offline)
    elapsed = time.perf_counter() - start
    return elapsed, sorted({r.note for r in results if r.note})


def _cli(offline: bool) -> float:
    command = [sys.executable, "-m", "condauv", "classify", "--json", *POPULAR]
    if offline:
        command.append("--offline")
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channel", help="a conda channel to consult (default: conda-forge)")
    parser.add_argument("--repeat", type=int, default=5, help="offline runs to take the median of")
    args = parser.parse_args()
    assert len(POPULAR) == 100, len(POPULAR)
    with tempfile.TemporaryDirectory(prefix="condauv-bench-") as cache:
        os.environ["CONDAUV_CACHE_DIR"] = cache  # cold: nothing cached yet
        cold, notes = _classify(False, args.channel)
        warm, _ = _classify(False, args.channel)
        offline = statistics.median(_classify(True, args.channel)[0] for _ in range(args.repeat))
        cli_offline = _cli(True)
        pages = sum(1 for p in Path(cache, "pypi-simple").glob("*/*.json") if ".verdicts" not in p.name)
        size = sum(p.stat().st_size for p in Path(cache).rglob("*") if p.is_file())
    print(f"classify {len(POPULAR)} packages (in-process; CLI wall time includes Python start-up)")
    print(
        f"  online, cold cache : {cold:7.3f} s   goal < {GOAL_ONLINE_S:.0f} s"
        f"   ({cold / GOAL_ONLINE_S:.2f} of it)"
    )
    print(f"  online, warm cache : {warm:7.3f} s   ({warm / cold:.2f} x cold)")
    print(
        f"  offline            : {offline * 1000:7.1f} ms  goal < {GOAL_OFFLINE_S * 1000:.0f} ms"
        f"  ({offline / GOAL_OFFLINE_S:.2f} of it); CLI wall {cli_offline:.3f} s"
    )
    print(f"  index pages cached : {pages}, {size / 1024:.0f} KiB on disk")
    for note in notes:
        print(f"  note: {note}")


if __name__ == "__main__":
    main()
