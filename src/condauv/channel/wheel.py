"""Wheels as conda packages that behave like conda-forge's builds of the same projects.

A platform wheel (``cp311``) becomes a package of its subdir with files under
``lib/python3.11/site-packages`` and a ``python 3.11.*``-style dependency; a pure wheel becomes
a ``noarch: python`` package (``site-packages/``, ``python-scripts/``) that rattler relocates
at link time. The dist-info is kept with ``INSTALLER`` = ``conda`` and a RECORD that lists the
installed files, so uv and pip see a conda-owned distribution they can still uninstall.

Requirement markers of a pure wheel are evaluated for the running interpreter and this
machine's subdir (the target of everything condauv builds here); see
:mod:`condauv.channel.requirements`.
"""

from __future__ import annotations

import configparser
import email.parser
import posixpath
import re
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from condauv.channel.build import assemble
from condauv.channel.requirements import conda_depends, python_depends
from condauv.errors import UserError
from condauv.platforms import current_subdir, marker_environment, python_site_packages, subdir_for_wheel_tag
from condauv.pypi.wheelfile import record_line

__all__ = ["build_wheel_package", "entry_point_script"]

_BAD_WHEEL_HINT = "give a .whl file as built by pip wheel, uv build or python -m build"

#: a shell/Python polyglot: sh re-runs the file with the python next to it, so the script
#: works in any prefix without a shebang that must be rewritten at install time.
_RELOCATABLE_SHEBANG = "#!/bin/sh\n'''exec' \"$(dirname -- \"$0\")/python\" \"$0\" \"$@\"\n' '''\n"

_ENTRY_POINT = re.compile(r"^(?P<module>[\w.]+)\s*:\s*(?P<attr>[\w.]+)\s*(\[[^\]]*\])?\s*$")


@dataclass(frozen=True, slots=True)
class _Target:
    """Where a wheel's files go, for which Python, on which subdir."""

    subdir: str
    python: tuple[int, int]
    python_spec: str
    build_string: str
    noarch: bool

    @property
    def windows(self) -> bool:
        return self.subdir.startswith("win")

    @property
    def site(self) -> str:
        if self.windows:
            return "Lib/site-packages"
        return python_site_packages(f"{self.python[0]}.{self.python[1]}")

    @property
    def scripts(self) -> str:
        return "Scripts" if self.windows else "bin"

    def staged(self, installed: str) -> str:
        """The path inside the package of a file installed at ``installed`` (noarch: python layout)."""
        if self.noarch:
            if installed.startswith(f"{self.site}/"):
                return "site-packages/" + installed.removeprefix(f"{self.site}/")
            if installed.startswith(f"{self.scripts}/"):
                return "python-scripts/" + installed.removeprefix(f"{self.scripts}/")
        return installed


def _target(wheel: Path, tags: frozenset[Tag], requires_python: str | None) -> _Target:
    if all(tag.platform == "any" for tag in tags):
        return _Target(
            subdir=current_subdir(),
            python=(sys.version_info.major, sys.version_info.minor),
            python_spec=python_depends(requires_python),
            build_string="pyh_0",
            noarch=True,
        )
    subdirs = {subdir_for_wheel_tag(tag.platform) for tag in tags}
    pythons = {tag.interpreter for tag in tags}
    if len(subdirs) != 1 or None in subdirs:
        raise UserError(
            f"{wheel.name}: cannot tell one conda platform from its tags",
            hint="give a wheel for one platform (manylinux x86_64/aarch64, macOS x86_64/arm64, win_amd64)",
        )
    match = re.fullmatch(r"cp(\d)(\d+)", pythons.pop()) if len(pythons) == 1 else None
    if match is None:
        raise UserError(
            f"{wheel.name}: only CPython wheels for one Python version can be converted",
            hint="give a cpXY wheel, e.g. cp311",
        )
    python = (int(match.group(1)), int(match.group(2)))
    abi3 = any(tag.abi == "abi3" for tag in tags)
    upper = f"{python[0]}.{python[1] + 1}.0a0"
    return _Target(
        subdir=str(subdirs.pop()),
        python=python,
        python_spec=f"python >={python[0]}.{python[1]}" + ("" if abi3 else f",<{upper}"),
        build_string=f"py{python[0]}{python[1]}_0",
        noarch=False,
    )


def entry_point_script(value: str, *, what: str) -> str:
    """A console script for an entry point ``module:attr`` that runs with the env's python."""
    match = _ENTRY_POINT.match(value.strip())
    if match is None:
        raise UserError(f"{what}: invalid entry point {value!r}", hint="write it as module:function")
    first, _, rest = match.group("attr").partition(".")
    call = f"{first}.{rest}" if rest else first
    return (
        f"{_RELOCATABLE_SHEBANG}import sys\n\nfrom {match.group('module')} import {first}\n\n"
        f'if __name__ == "__main__":\n    sys.exit({call}())\n'
    )


def _installed_path(name: str, dist: str, target: _Target, wheel: Path) -> str | None:
    """Where a wheel member is installed, prefix-relative (``None``: regenerated by us)."""
    parts = PurePosixPath(name).parts
    if PurePosixPath(name).is_absolute() or ".." in parts or "\\" in name:
        raise UserError(f"{wheel.name}: member {name!r} leaves the install folder", hint=_BAD_WHEEL_HINT)
    if parts[0] == f"{dist}.data" and len(parts) > 2:
        rest = "/".join(parts[2:])
        roots = {
            "purelib": target.site,
            "platlib": target.site,
            "scripts": target.scripts,
            "headers": "include",
            "data": "",
        }
        if parts[1] not in roots:
            raise UserError(f"{wheel.name}: unknown data folder {parts[1]!r}", hint=_BAD_WHEEL_HINT)
        return posixpath.join(roots[parts[1]], rest) if roots[parts[1]] else rest
    if parts[0] == f"{dist}.dist-info" and parts[-1] in ("RECORD", "RECORD.jws", "RECORD.p7s", "INSTALLER"):
        return None
    return f"{target.site}/{name}"


def _read_metadata(archive: zipfile.ZipFile, wheel: Path) -> tuple[str, email.message.Message]:
    infos = [n for n in archive.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
    if len(infos) != 1:
        raise UserError(f"{wheel.name}: no single *.dist-info/METADATA inside", hint=_BAD_WHEEL_HINT)
    message = email.parser.BytesParser().parsebytes(archive.read(infos[0]))
    return infos[0].split("/", 1)[0], message


def _entry_points(archive: zipfile.ZipFile, dist_info: str, wheel: Path) -> dict[str, str]:
    try:
        text = archive.read(f"{dist_info}/entry_points.txt").decode()
    except KeyError:
        return {}
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # script names are case-sensitive
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        raise UserError(f"{wheel.name}: unreadable entry_points.txt: {exc}", hint=_BAD_WHEEL_HINT) from exc
    scripts: dict[str, str] = {}
    for section in ("console_scripts", "gui_scripts"):
        if parser.has_section(section):
            scripts.update(parser.items(section))
    return scripts


def _collect(
    archive: zipfile.ZipFile, wheel: Path, target: _Target, dist_info: str
) -> tuple[dict[str, bytes], set[str]]:
    """Installed path -> content of every file the package holds (INSTALLER and RECORD included),
    and the installed paths that are executable."""
    dist = dist_info.removesuffix(".dist-info")
    files: dict[str, bytes] = {}
    executable: set[str] = set()
    for info in archive.infolist():
        if info.is_dir():
            continue
        installed = _installed_path(info.filename, dist, target, wheel)
        if installed is None:
            continue
        data = archive.read(info)
        if installed.startswith(f"{target.scripts}/") and data.startswith(b"#!python") and not target.windows:
            data = _RELOCATABLE_SHEBANG.encode() + data.partition(b"\n")[2]
        files[installed] = data
        if (info.external_attr >> 16) & 0o111 or installed.startswith(f"{target.scripts}/"):
            executable.add(installed)
    if not target.windows:  # Windows needs launcher .exe files that we cannot make
        for script, value in _entry_points(archive, dist_info, wheel).items():
            what = f"{wheel.name} entry point {script}"
            files[f"{target.scripts}/{script}"] = entry_point_script(value, what=what).encode()
            executable.add(f"{target.scripts}/{script}")
    meta = f"{target.site}/{dist_info}"
    files[f"{meta}/INSTALLER"] = b"conda\n"
    record = [record_line(posixpath.relpath(path, target.site), data) for path, data in sorted(files.items())]
    record.append(f"{dist_info}/RECORD,,")
    files[f"{meta}/RECORD"] = ("\n".join(record) + "\n").encode()
    return files, executable


def _open(wheel: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(wheel)
    except FileNotFoundError:
        raise UserError(f"wheel {wheel} does not exist", hint="check the path") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise UserError(f"{wheel.name} is not a readable wheel: {exc}", hint=_BAD_WHEEL_HINT) from None


def build_wheel_package(wheel: Path, output_dir: Path) -> Path:
    """Convert ``wheel`` into a conda package under ``output_dir/<subdir>/``; returns the ``.conda``."""
    try:
        name, version, _, tags = parse_wheel_filename(wheel.name)
    except InvalidWheelFilename as exc:
        raise UserError(f"{wheel.name} is not a wheel file name: {exc}", hint=_BAD_WHEEL_HINT) from None
    with _open(wheel) as archive:
        dist_info, metadata = _read_metadata(archive, wheel)
        target = _target(wheel, tags, metadata.get("Requires-Python"))
        environment = marker_environment("{}.{}".format(*target.python), target.subdir)
        depends = [target.python_spec, *conda_depends(metadata.get_all("Requires-Dist") or [], environment)]
        files, executable = _collect(archive, wheel, target, dist_info)
    with tempfile.TemporaryDirectory(prefix="condauv-wheel-") as temp:
        staging = Path(temp)
        for installed, data in files.items():
            path = staging / target.staged(installed)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            if installed in executable:
                path.chmod(0o755)
        return assemble(
            staging,
            name=canonicalize_name(name),
            version=str(version),
            subdir=target.subdir,
            build_string=target.build_string,
            output_dir=output_dir,
            depends=depends,
            noarch="python" if target.noarch else None,
        )
