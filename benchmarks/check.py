"""How long ``check_prefix`` takes on a clean environment of 300 packages (goal: < 2 s).

The prefix is written on disk with real contents: every file holds distinct bytes, every
conda-meta record is the JSON rattler writes (``paths_data`` with sha256 and sizes, some
``sha256_in_prefix``, ``depends``), conda packages of Python distributions carry their
dist-info, and PyPI distributions carry a RECORD with the files' hashes. ``check_prefix``
then hashes all of it, as it does on a user's environment.

Shape (like a conda-forge data-science environment): 300 conda packages, 250 of them Python
packages of 150 small files each, 50 libraries with a 10 MB shared object among 50 files;
plus 40 PyPI distributions of 20 files. About 40,000 files and 0.9 GB.

Run: ``python benchmarks/check.py [--repeat N] [--keep DIR]``. Writing the prefix takes a few
seconds. The first check hashes every file; later ones re-read only files whose inode, size,
mtime or ctime changed since they last hashed right. The figure is the median of N later runs
(page cache warm, as after any recent use); the first one is printed too.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from condauv.health.check import check_prefix
from condauv.health.dists import record_digest

GOAL_S = 2.0
PYTHON = "3.11"
SITE = f"lib/python{PYTHON}/site-packages"
_BLOCK = hashlib.sha256(b"condauv").digest() * (1 << 15)  # 1 MiB of filler, made distinct per file


def _content(seed: str, size: int) -> bytes:
    head = f"# {seed}\n".encode()
    body = (_BLOCK * (size // len(_BLOCK) + 1))[: max(0, size - len(head))]
    return head + body


def _write_conda(
    prefix: Path, name: str, files: dict[str, bytes], depends: list[str], version: str = "1.0"
) -> None:
    paths = []
    for relative, data in files.items():
        target = prefix / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        entry: dict[str, object] = {
            "_path": relative,
            "path_type": "hardlink",
            "sha256": digest,
            "size_in_bytes": len(data),
        }
        if relative.endswith(".pc"):  # a text file whose build prefix was replaced at link time
            entry["sha256"] = hashlib.sha256(data + b"placeholder").hexdigest()
            entry["sha256_in_prefix"] = digest
            entry["file_mode"] = "text"
            entry["prefix_placeholder"] = "/opt/conda-bld/placeholder"
        paths.append(entry)
    record = {
        "build": "h_0",
        "build_number": 0,
        "depends": depends,
        "name": name,
        "version": version,
        "subdir": "linux-64",
        "sha256": hashlib.sha256(name.encode()).hexdigest(),
        "md5": hashlib.md5(name.encode(), usedforsecurity=False).hexdigest(),
        "size": sum(len(d) for d in files.values()),
        "url": f"https://conda.anaconda.org/conda-forge/linux-64/{name}-{version}-h_0.conda",
        "channel": "https://conda.anaconda.org/conda-forge/",
        "fn": f"{name}-{version}-h_0.conda",
        "files": list(files),
        "paths_data": {"paths_version": 1, "paths": paths},
        "requested_specs": [],
        "link": {"source": f"/cache/pkgs/{name}-{version}-h_0", "type": 1},
    }
    (prefix / "conda-meta" / f"{name}-{version}-h_0.json").write_text(json.dumps(record), encoding="utf-8")


def build_prefix(prefix: Path) -> int:
    """Write the benchmark environment into ``prefix``; returns its number of files."""
    (prefix / "conda-meta").mkdir(parents=True)
    count = 0
    _write_conda(prefix, "python", {f"bin/python{PYTHON}": _content("python", 4 << 20)}, [], f"{PYTHON}.7")
    count += 1
    for i in range(1, 300):
        name = f"pkg{i:03d}"
        depends = ["python >=3.11,<3.12.0a0"] if i < 250 else []
        if i > 1:
            depends.append(f"pkg{i - 1:03d} >=1.0")
        if i < 250:  # a Python package, with its dist-info
            files = {f"{SITE}/{name}/mod{j:03d}.py": _content(f"{name}{j}", 500 + 97 * j) for j in range(146)}
            dist = f"{SITE}/{name}-1.0.dist-info"
            files[f"{dist}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode()
            files[f"{dist}/INSTALLER"] = b"conda\n"
            files[f"{dist}/top_level.txt"] = f"{name}\n".encode()
            files[f"{dist}/WHEEL"] = b"Wheel-Version: 1.0\n"
        else:  # a library
            files = {f"include/{name}/h{j:02d}.h": _content(f"{name}{j}", 2000 + 300 * j) for j in range(47)}
            files[f"lib/lib{name}.so.1"] = _content(name, 10 << 20)
            files[f"lib/pkgconfig/{name}.pc"] = _content(f"{name}.pc", 300)
            files[f"share/licenses/{name}/LICENSE"] = _content("license", 1500)
        _write_conda(prefix, name, files, depends)
        count += len(files)
    for i in range(40):
        count += _write_pypi(prefix / SITE, f"pypi{i:02d}")
    return count


def _write_pypi(site: Path, name: str) -> int:
    lines = []
    for j in range(19):
        relative = f"{name}/m{j:02d}.py"
        data = _content(f"{name}{j}", 800 + 211 * j)
        (site / name).mkdir(parents=True, exist_ok=True)
        (site / relative).write_bytes(data)
        lines.append(f"{relative},sha256={record_digest(hashlib.sha256(data).digest())},{len(data)}")
    dist = site / f"{name}-2.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: 2.0\nRequires-Dist: pkg001\n"
    )
    (dist / "INSTALLER").write_text("uv\n")
    lines += [f"{dist.name}/METADATA,,", f"{dist.name}/INSTALLER,,", f"{dist.name}/RECORD,,"]
    (dist / "RECORD").write_text("\n".join(lines) + "\n")
    return 20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="write the prefix here and keep it")
    args = parser.parse_args(argv)
    root = args.keep or Path(tempfile.mkdtemp(prefix="condauv-bench-check-"))
    prefix = root / "env"
    cache = Path(tempfile.mkdtemp(prefix="condauv-bench-cache-"))
    try:
        start = time.perf_counter()
        if not (prefix / "conda-meta").is_dir():
            files = build_prefix(prefix)
            print(f"wrote {files} files in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        size = sum(p.stat().st_size for p in prefix.rglob("*") if p.is_file())
        os.environ["CONDAUV_CACHE_DIR"] = str(cache)  # no verified-file cache yet
        start = time.perf_counter()
        first = check_prefix(prefix)  # hashes every file
        first_s = time.perf_counter() - start
        assert first.clean, [f.message for f in first.findings[:3]]
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            report = check_prefix(prefix)
            times.append(time.perf_counter() - start)
            assert report.clean
        median = statistics.median(times)
        print(f"first check_prefix (every file hashed): {first_s:.3f} s")
        print(
            f"check_prefix, clean prefix of {report.conda_packages} conda packages and "
            f"{report.pypi_distributions} PyPI distributions ({size / 1e9:.2f} GB): "
            f"median {median:.3f} s of {args.repeat} (min {min(times):.3f}, max {max(times):.3f}); "
            f"goal < {GOAL_S:.1f} s: {'met' if median < GOAL_S else 'MISSED'}"
        )
        return 0 if median < GOAL_S else 1
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
