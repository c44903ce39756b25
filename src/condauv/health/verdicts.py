"""``check``'s verdicts on dependencies, remembered, so that a check of an unchanged prefix
imports no py-rattler (its import alone costs more than checking 300 records) and parses no
``Requires-Dist`` (300 METADATA files and their requirements: tens of milliseconds).

A verdict is kept under a digest of everything it follows from, and used only while that
digest is the same:

- conda ``depends``: the records (name, version, build, build number, subdir, depends); the
  virtual packages the solver sees, from ``os.uname()`` (host, kernel), the C library's version
  and every ``CONDA_OVERRIDE_*``; the target's system requirements; and the files of condauv's
  check and of rattler. A prefix with a record that depends on a virtual package these cannot
  show (``__cuda``: the driver; ``__archspec``: the CPU) is never remembered.
- PyPI ``Requires-Dist``: every dist-info's name, version, folder and METADATA's stat (inode,
  size, mtime, ctime: a METADATA changed in the last seconds is never remembered); the versions
  installed, conda's included; the marker environment; and condauv's and packaging's code.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from condauv.conda.records import CondaRecord, spec_name
from condauv.pypi.site import InstalledDistribution

if TYPE_CHECKING:
    from condauv.health.check import Finding

__all__ = ["Verdict", "depends_key", "load", "remembered", "requires_key", "save"]

_FORMAT = "condauv-verdict 1"
#: the virtual packages whose every input is in the key
_SEEN = frozenset({"__unix", "__linux", "__glibc", "__osx"})
#: METADATA changed this recently (ns) is never trusted by its stat (see condauv.health.hashing)
_SETTLE_NS = 2_000_000_000
_HERE = Path(__file__).resolve().parent
#: (packages, message, fix) of one ``broken-dependency`` finding
Verdict = tuple[tuple[str, ...], str, str]


def depends_key(records: Sequence[CondaRecord], subdir: str, target: Mapping[str, str] | None) -> str | None:
    """What the ``depends`` verdict on ``records`` follows from; ``None``: not to be remembered."""
    fields = []
    for record in records:
        for dep in record.depends:
            if "__" in dep and spec_name(dep) not in _SEEN:
                return None
        fields.append(
            (record.name, record.version, record.build, record.build_number, record.subdir, record.depends)
        )
    try:
        libc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):  # no glibc (musl, macOS)
        libc = ""
    machine = [*os.uname(), libc, platform.mac_ver()[0] if sys.platform == "darwin" else ""]
    overrides = sorted((k, v) for k, v in os.environ.items() if k.startswith("CONDA_OVERRIDE_"))
    code = [_fingerprint(_HERE / "check.py"), _fingerprint(_HERE.parent / "conda" / "engine.py"), _rattler()]
    return _digest(["depends", subdir, sorted((target or {}).items()), machine, overrides, code, fields])


def requires_key(
    dists: Sequence[InstalledDistribution],
    versions: Mapping[str, Sequence[str]],
    environment: Mapping[str, str],
) -> str | None:
    """What the ``Requires-Dist`` verdict on ``dists`` follows from; ``None``: not to be remembered."""
    import packaging

    horizon = time.time_ns() - _SETTLE_NS
    found: list[tuple[str, str, str, list[int] | None]] = []
    for dist in dists:
        metadata = dist.path / ("METADATA" if dist.path.suffix == ".dist-info" else "PKG-INFO")
        try:
            stat = metadata.stat()
        except OSError:
            found.append((dist.name, dist.version, str(dist.path), None))  # no requirements: until it appears
            continue
        if max(stat.st_mtime_ns, stat.st_ctime_ns) >= horizon:
            return None
        found.append(
            (
                dist.name,
                dist.version,
                str(dist.path),
                [stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns],
            )
        )
    code = [_fingerprint(_HERE / "check.py"), _fingerprint(_HERE / "dists.py"), packaging.__version__]
    installed = sorted((name, list(have)) for name, have in versions.items())
    return _digest(["requires", sorted(environment.items()), installed, code, found])


def remembered(
    prefix: Path | None, kind: str, key: str | None, work: Callable[[], list[Finding]]
) -> list[Finding]:
    """``work()``'s ``broken-dependency`` findings, or those remembered for ``key`` in ``prefix``'s cache."""
    from condauv.health.check import Finding

    if prefix is None or key is None:
        return work()
    found = load(prefix, kind, key)
    if found is not None:
        return [
            Finding(kind="broken-dependency", packages=p, files=(), message=m, fix=f) for p, m, f in found
        ]
    result = work()
    save(prefix, kind, key, [(f.packages, f.message, f.fix) for f in result])
    return result


def load(prefix: Path, kind: str, digest: str) -> list[Verdict] | None:
    """The findings remembered for ``digest``, or ``None``: never worked out, or the file is damaged."""
    try:
        raw = json.loads(_path(prefix, kind).read_bytes())
        if raw["format"] != _FORMAT or raw["key"] != digest or not isinstance(raw["findings"], list):
            return None
        found: list[Verdict] = []
        for packages, message, fix in raw["findings"]:
            if not (isinstance(packages, list) and all(isinstance(p, str) for p in packages)):
                return None
            if not (isinstance(message, str) and isinstance(fix, str)):
                return None
            found.append((tuple(packages), message, fix))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return found


def save(prefix: Path, kind: str, digest: str, findings: Sequence[Verdict]) -> None:
    from condauv import _fs

    text = json.dumps(
        {"format": _FORMAT, "key": digest, "findings": [[list(p), m, f] for p, m, f in findings]}
    )
    with contextlib.suppress(OSError):  # a read-only cache only makes the next check slower
        _fs.atomic_write_text(_path(prefix, kind), text, durable=False)


def _path(prefix: Path, kind: str) -> Path:
    from condauv import paths

    return paths.cache_dir() / "check" / f"{hashlib.sha256(str(prefix).encode()).hexdigest()[:24]}.{kind}"


def _digest(parts: object) -> str:
    text = json.dumps([_FORMAT, parts], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _fingerprint(path: Path) -> list[int]:
    try:
        stat = path.stat()
    except OSError:
        return []
    return [stat.st_ino, stat.st_size, stat.st_mtime_ns]


def _rattler() -> list[int]:
    """rattler's installed files, found without importing it."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("rattler")
    except (ImportError, ValueError):
        return []
    if spec is None or not spec.origin:
        return []
    folder = Path(spec.origin).parent
    found = _fingerprint(folder / "__init__.py")
    with contextlib.suppress(OSError):
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if entry.name.endswith((".so", ".pyd")):  # the compiled core: what matches specs
                found += _fingerprint(Path(entry.path))
    return found
