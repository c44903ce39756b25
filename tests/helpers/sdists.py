"""Source distributions for tests, and the tiny PEP 517 build backend that builds them.

``tinybackend`` is a real build backend (stdlib only: it runs in uv's isolated build
environment, where nothing else is installed) shipped as a wheel, so an sdist naming it in
``[build-system]`` can be built with nothing from PyPI. Every wheel it builds says so: each
package gets ``BUILT_BY = "tinybackend <version>"``.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from packaging.utils import canonicalize_name

from tests.helpers.wheels import write_wheel

__all__ = ["BACKEND_VERSION", "write_backend_wheel", "write_sdist"]

#: pinned: the sdists' ``build-system.requires`` names exactly this version.
BACKEND_VERSION = "1.0"

_FIXED_MTIME = 1_700_000_000  # 2023-11-14: sdists are byte-for-byte reproducible

_BACKEND = '''"""A PEP 517 build backend for tests: a pure-Python wheel of the sdist's packages."""

import base64
import hashlib
import io
import os
import re
import tarfile
import tomllib
import zipfile

VERSION = {version!r}


def _project():
    with open("pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["project"]


def _dist(name):
    return re.sub(r"[-_.]+", "_", name).lower()


def _metadata(project):
    lines = ["Metadata-Version: 2.1", "Name: " + project["name"], "Version: " + project["version"]]
    lines += ["Requires-Dist: " + r for r in project.get("dependencies", [])]
    return ("\\n".join(lines) + "\\n").encode()


def _sources(dist):
    files = {{}}
    for root, _, names in sorted(os.walk(dist)):
        for name in sorted(names):
            if name.endswith(".py"):
                path = os.path.join(root, name)
                with open(path, "rb") as handle:
                    data = handle.read()
                if name == "__init__.py":
                    data += ("BUILT_BY = " + repr("tinybackend " + VERSION) + "\\n").encode()
                files[path.replace(os.sep, "/")] = data
    return files


def _record(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (path, digest, len(data))


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    project = _project()
    dist, version = _dist(project["name"]), project["version"]
    info = "%s-%s.dist-info" % (dist, version)
    files = _sources(dist)
    files[info + "/METADATA"] = _metadata(project)
    files[info + "/WHEEL"] = (
        "Wheel-Version: 1.0\\nGenerator: tinybackend\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
    ).encode()
    record = [_record(path, data) for path, data in sorted(files.items())]
    files[info + "/RECORD"] = ("\\n".join(record + [info + "/RECORD,,"]) + "\\n").encode()
    filename = "%s-%s-py3-none-any.whl" % (dist, version)
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as archive:
        for path, data in sorted(files.items()):
            archive.writestr(path, data)
    return filename


def build_sdist(sdist_directory, config_settings=None):
    project = _project()
    base = "%s-%s" % (_dist(project["name"]), project["version"])
    with open("pyproject.toml", "rb") as handle:
        members = {{"pyproject.toml": handle.read(), "PKG-INFO": _metadata(project)}}
    for root, _, names in sorted(os.walk(_dist(project["name"]))):
        for name in sorted(names):
            with open(os.path.join(root, name), "rb") as handle:
                members[os.path.join(root, name).replace(os.sep, "/")] = handle.read()
    with tarfile.open(os.path.join(sdist_directory, base + ".tar.gz"), "w:gz") as archive:
        for path, data in sorted(members.items()):
            member = tarfile.TarInfo(base + "/" + path)
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return base + ".tar.gz"
'''


def write_backend_wheel(dest_dir: Path, version: str = BACKEND_VERSION) -> Path:
    """The ``tinybackend`` ``version`` wheel (module ``tinybackend``) in ``dest_dir``."""
    return write_wheel(
        dest_dir, "tinybackend", version, modules={"tinybackend": _BACKEND.format(version=version)}
    )


def write_sdist(
    dest_dir: Path,
    name: str,
    version: str,
    *,
    requires: Sequence[str] = (),
    modules: Mapping[str, str] | None = None,
    build_requires: Sequence[str] = (f"tinybackend=={BACKEND_VERSION}",),
    backend: str = "tinybackend",
) -> Path:
    """Write the sdist ``{name}-{version}.tar.gz`` (PEP 625 name) into ``dest_dir``.

    Its ``pyproject.toml`` has a static ``[project]`` table and a ``[build-system]`` of
    ``build_requires`` / ``backend``; ``modules`` maps import names to source (one package
    named after the project holding ``__version__`` by default).
    """
    dist = canonicalize_name(name).replace("-", "_")
    if modules is None:
        modules = {dist: f'__version__ = "{version}"\n'}
    pyproject = (
        f"[build-system]\nrequires = {_toml_list(build_requires)}\nbuild-backend = {json.dumps(backend)}\n\n"
        f"[project]\nname = {json.dumps(name)}\nversion = {json.dumps(version)}\n"
        f"dependencies = {_toml_list(requires)}\n"
    )
    pkg_info = "".join(
        [
            "Metadata-Version: 2.2\n",
            f"Name: {name}\n",
            f"Version: {version}\n",
            *(f"Requires-Dist: {item}\n" for item in requires),
        ]
    )
    members = {"pyproject.toml": pyproject.encode(), "PKG-INFO": pkg_info.encode()}
    for module, source in modules.items():
        members[f"{module.replace('.', '/')}/__init__.py"] = source.encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path, data in sorted(members.items()):
            member = tarfile.TarInfo(f"{dist}-{version}/{path}")
            member.size, member.mtime, member.mode = len(data), _FIXED_MTIME, 0o644
            archive.addfile(member, io.BytesIO(data))
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / f"{dist}-{version}.tar.gz"
    target.write_bytes(gzip.compress(buffer.getvalue(), mtime=0))
    return target


def _toml_list(items: Sequence[str]) -> str:
    return "[" + ", ".join(json.dumps(item) for item in items) + "]"  # JSON strings are TOML strings
