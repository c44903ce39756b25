"""Platforms in both spellings: conda subdirs (``linux-64``) and what uv and wheels call them.

No rattler import here: these are plain tables, used on start-up paths.
"""

from __future__ import annotations

import os
import platform
import re
import sys
from collections.abc import Mapping

from condauv.errors import UserError

__all__ = [
    "DEFAULT_GLIBC",
    "KNOWN_SUBDIRS",
    "MIN_GLIBC",
    "SYSTEM_REQUIREMENTS",
    "UV_TORCH_BACKENDS",
    "applicable_requirements",
    "current_subdir",
    "is_requirement_version",
    "marker_environment",
    "python_site_packages",
    "requirement_applies",
    "requirement_problem",
    "subdir_for_wheel_tag",
    "torch_backend_for_cuda",
    "uv_python_platform",
    "version_tuple",
    "wheel_platform_tags",
]

#: glibc that a linux lock targets unless CONDA_OVERRIDE_GLIBC says otherwise (manylinux_2_28).
DEFAULT_GLIBC = (2, 28)

KNOWN_SUBDIRS = (
    "linux-64",
    "linux-aarch64",
    "linux-ppc64le",
    "osx-64",
    "osx-arm64",
    "win-64",
)

_ARCH = {
    "linux-64": "x86_64",
    "linux-aarch64": "aarch64",
    "linux-ppc64le": "ppc64le",
    "osx-64": "x86_64",
    "osx-arm64": "aarch64",
    "win-64": "x86_64",
}

_MACOS_MIN = {"osx-64": (10, 13), "osx-arm64": (11, 0)}

#: ``[system-requirements]`` keys (pixi's names) -> the virtual package each one sets.
SYSTEM_REQUIREMENTS = {"cuda": "__cuda", "glibc": "__glibc", "linux": "__linux", "macos": "__osx"}
#: the platform families each key applies to (``cuda``: not on macOS, which has no CUDA).
_APPLIES = {"cuda": ("linux", "win"), "glibc": ("linux",), "linux": ("linux",), "macos": ("osx",)}
_REQUIREMENT_VERSION = re.compile(r"^[0-9]{1,4}(?:\.[0-9]{1,4}){0,3}$")
#: uv 0.13.9's ``--python-platform`` manylinux values (``x86_64-manylinux_2_<minor>``).
_UV_MANYLINUX = (17, 28, *range(31, 41))
#: the oldest glibc a lock can target: manylinux2014, the oldest wheel platform uv resolves for.
MIN_GLIBC = (2, 17)
#: uv 0.13.9's ``--torch-backend`` values, as ``uv pip compile --help`` lists them (newest first).
UV_TORCH_BACKENDS = (
    "auto", "cpu",
    "cu132", "cu130", "cu129", "cu128", "cu126", "cu125", "cu124", "cu123", "cu122", "cu121", "cu120",
    "cu118", "cu117", "cu116", "cu115", "cu114", "cu113", "cu112", "cu111", "cu110",
    "cu102", "cu101", "cu100", "cu92", "cu91", "cu90", "cu80",
    "rocm7.2", "rocm7.1", "rocm7.0", "rocm6.4", "rocm6.3", "rocm6.2.4", "rocm6.2", "rocm6.1", "rocm6.0",
    "rocm5.7", "rocm5.6", "rocm5.5", "rocm5.4.2", "rocm5.4", "rocm5.3", "rocm5.2", "rocm5.1.1",
    "rocm4.2", "rocm4.1", "rocm4.0.1",
    "xpu",
)  # fmt: skip


def is_requirement_version(value: object) -> bool:
    """A ``[system-requirements]`` version: ``12.4``, ``2.28``, ``5.10``, ``13`` (digits and dots)."""
    return isinstance(value, str) and bool(_REQUIREMENT_VERSION.match(value))


def version_tuple(value: str) -> tuple[int, ...]:
    """``"12.4"`` -> ``(12, 4)``; trailing text after the digits is ignored (``"5.15.0-91"``)."""
    parts: list[int] = []
    for part in value.split("."):
        digits = re.match(r"[0-9]+", part)
        if digits is None:
            break
        parts.append(int(digits.group()))
        if digits.group() != part:
            break
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def requirement_problem(key: str, value: str) -> str | None:
    """Why ``key = value`` cannot be a system requirement (``None``: it can)."""
    if not is_requirement_version(value):
        return "is not a version"
    if key == "glibc" and version_tuple(value)[0] != 2:
        return "is not a glibc 2.x version: a lock targets glibc 2.17 or newer"
    if key == "glibc" and version_tuple(value) < MIN_GLIBC:
        return "is older than glibc 2.17, the oldest a lock can target (manylinux2014)"
    if key == "cuda" and version_tuple(value)[0] < 1:
        return "is not a CUDA version (they start at 1)"
    return None


def torch_backend_for_cuda(cuda: str) -> str | None:
    """uv's torch backend of a CUDA line: the newest ``cuXY`` of that major version not newer
    than ``cuda`` (``12.4`` -> ``cu124``, ``12.7`` -> ``cu126``); ``None`` when uv has none."""
    wanted = (*version_tuple(cuda), 0)[:2]
    lines = [
        ((int(b[2:-1]), int(b[-1])), b) for b in UV_TORCH_BACKENDS if b.startswith("cu") and b[2:].isdigit()
    ]
    fitting = [(line, b) for line, b in lines if line[0] == wanted[0] and line <= wanted]
    return max(fitting)[1] if fitting else None


def applicable_requirements(requirements: Mapping[str, str], subdir: str) -> dict[str, str]:
    """The system requirements that apply to ``subdir`` (``cuda`` does not on osx)."""
    return {key: value for key, value in requirements.items() if requirement_applies(key, subdir)}


def requirement_applies(key: str, subdir: str) -> bool:
    """Whether ``subdir``'s machines have ``key`` at all (``cuda``: linux and win; ``macos``: osx)."""
    return subdir.split("-", 1)[0] in _APPLIES.get(key, ())


def current_subdir() -> str:
    """The conda subdir of this machine."""
    machine = platform.machine().lower()
    if sys.platform.startswith("linux"):
        return {
            "x86_64": "linux-64",
            "aarch64": "linux-aarch64",
            "arm64": "linux-aarch64",
            "ppc64le": "linux-ppc64le",
        }.get(machine, f"linux-{machine}")
    if sys.platform == "darwin":
        return "osx-arm64" if machine in ("arm64", "aarch64") else "osx-64"
    if sys.platform == "win32":
        return "win-64"
    return f"{sys.platform}-{machine}"


def marker_environment(python_version: str, subdir: str) -> dict[str, str]:
    """PEP 508 marker variables for CPython ``python_version`` (``3.11`` or ``3.11.7``) on ``subdir``,
    without running that interpreter."""
    parts = [*python_version.split("."), "0", "0"][:3]
    system = subdir.split("-", 1)[0]
    machine = {"osx-arm64": "arm64", "win-64": "AMD64"}.get(subdir, _ARCH.get(subdir, ""))
    return {
        "implementation_name": "cpython",
        "implementation_version": ".".join(parts),
        "os_name": "nt" if system == "win" else "posix",
        "platform_machine": machine,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": {"linux": "Linux", "osx": "Darwin", "win": "Windows"}.get(system, ""),
        "platform_version": "",
        "python_full_version": ".".join(parts),
        "python_version": ".".join(parts[:2]),
        "sys_platform": {"linux": "linux", "osx": "darwin", "win": "win32"}.get(system, system),
    }


def check_subdir(subdir: str) -> str:
    """Return ``subdir`` when condauv can target it, else a :class:`UserError` with the list."""
    if subdir not in KNOWN_SUBDIRS:
        raise UserError(
            f"unknown platform {subdir!r}",
            hint=f"use one of: {', '.join(KNOWN_SUBDIRS)}",
        )
    return subdir


def target_glibc(glibc: str | None = None) -> tuple[int, int]:
    """The glibc a linux lock promises to run on: ``glibc`` (``[system-requirements]``) when
    given, else ``CONDA_OVERRIDE_GLIBC``, else :data:`DEFAULT_GLIBC`."""
    override = glibc or os.environ.get("CONDA_OVERRIDE_GLIBC", "")
    parts = override.split(".")
    if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
        return int(parts[0]), int(parts[1])
    return DEFAULT_GLIBC


def uv_python_platform(subdir: str, *, glibc: str | None = None) -> str:
    """uv's ``--python-platform`` for a conda subdir (``linux-64`` -> ``x86_64-manylinux_2_28``);
    on linux the newest manylinux uv knows that the target's glibc runs (2.30 -> 2_28)."""
    check_subdir(subdir)
    arch = _ARCH[subdir]
    if subdir.startswith("linux"):
        major, minor = target_glibc(glibc)
        if major == 2 and arch in ("x86_64", "aarch64"):
            minor = max([m for m in _UV_MANYLINUX if m <= minor] or [_UV_MANYLINUX[0]])
        return f"{arch}-manylinux_{major}_{minor}"
    if subdir.startswith("osx"):
        return f"{arch}-apple-darwin"
    return f"{arch}-pc-windows-msvc"


def wheel_platform_tags(subdir: str, *, glibc: str | None = None) -> list[str]:
    """Wheel platform tags a machine of ``subdir`` accepts, most specific first (on linux, for
    ``glibc`` when given: ``[system-requirements]``)."""
    check_subdir(subdir)
    arch = _ARCH[subdir]
    if subdir.startswith("linux"):
        major, minor = target_glibc(glibc)
        tags = [f"manylinux_{major}_{m}_{arch}" for m in range(minor, 4, -1)]
        legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
        tags += [f"{name}_{arch}" for m, name in legacy.items() if m <= minor]
        return [*tags, f"linux_{arch}"]
    if subdir.startswith("osx"):
        wheel_arch = "arm64" if arch == "aarch64" else "x86_64"
        low_major, low_minor = _MACOS_MIN[subdir]
        tags = []
        for major in range(15, low_major - 1, -1):
            minors = range(1) if major >= 11 else range(16, low_minor - 1, -1)
            for minor in minors:
                tags += [
                    f"macosx_{major}_{minor}_{wheel_arch}",
                    f"macosx_{major}_{minor}_universal2",
                ]
        return tags
    return ["win_amd64"]


def python_site_packages(python_version: str) -> str:
    """Prefix-relative site-packages of a conda Python (``lib/python3.11/site-packages``)."""
    major_minor = ".".join(python_version.split(".")[:2])
    return f"lib/python{major_minor}/site-packages"


_WHEEL_ARCH_SUBDIR = {
    ("linux", "x86_64"): "linux-64",
    ("linux", "aarch64"): "linux-aarch64",
    ("linux", "ppc64le"): "linux-ppc64le",
    ("macosx", "x86_64"): "osx-64",
    ("macosx", "arm64"): "osx-arm64",
}


def subdir_for_wheel_tag(platform_tag: str) -> str | None:
    """The conda subdir of a wheel platform tag (``manylinux_2_17_x86_64`` -> ``linux-64``).

    ``any`` is ``noarch``; ``None`` when no single subdir fits (``universal2``, unknown tags).
    """
    if platform_tag == "any":
        return "noarch"
    if platform_tag == "win_amd64":
        return "win-64"
    family = platform_tag.split("_", 1)[0]
    # conda's linux subdirs are glibc: musllinux wheels do not fit them
    family = "linux" if family.startswith("manylinux") else family
    for (os_name, arch), subdir in _WHEEL_ARCH_SUBDIR.items():
        if family == os_name and platform_tag.endswith(f"_{arch}"):
            return subdir
    return None
