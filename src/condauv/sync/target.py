"""Is this machine one the lock targets? Its ``[system-requirements]`` against the machine's own
virtual packages (``CONDA_OVERRIDE_*`` honoured), checked before ``sync`` changes anything."""

from __future__ import annotations

import os
from collections.abc import Mapping

from condauv.errors import UserError
from condauv.platforms import SYSTEM_REQUIREMENTS, applicable_requirements, current_subdir, version_tuple

__all__ = ["check_machine", "machine_shortfall"]

#: how each requirement names what the machine has, and the variable that overrides it.
_WHAT = {
    "cuda": ("no CUDA driver", "a CUDA driver for cuda {have}", "CONDA_OVERRIDE_CUDA"),
    "glibc": ("no glibc", "glibc {have}", "CONDA_OVERRIDE_GLIBC"),
    "linux": ("no linux kernel version", "linux {have}", "CONDA_OVERRIDE_LINUX"),
    "macos": ("no macOS version", "macOS {have}", "CONDA_OVERRIDE_OSX"),
}


def machine_shortfall(
    requirements: Mapping[str, str],
    machine: Mapping[str, str],
    subdir: str,
    *,
    overrides: Mapping[str, str] | None = None,
) -> UserError | None:
    """The first requirement (that applies to ``subdir``) that ``machine`` (virtual package
    name -> version) lacks or has at a lower version, as the error to raise; ``None``: all met.
    ``overrides``: the ``CONDA_OVERRIDE_*`` variables set (an empty one is conda's "none")."""
    for key, wanted in sorted(applicable_requirements(requirements, subdir).items()):
        have = machine.get(SYSTEM_REQUIREMENTS[key])
        if have is not None and version_tuple(have) >= version_tuple(wanted):
            continue
        missing, lower, variable = _WHAT[key]
        said = (overrides or {}).get(variable)
        if said:  # the machine's version is the override's: the way out is not to set it
            return UserError(
                f"{variable}={said} says this machine has {key} {have or 'none'}; "
                f"the lock targets {key} {wanted}",
                hint=f"unset {variable} and sync on a machine with {key} {wanted} or newer, or set "
                f"{variable}={wanted} if this one has that; to target this machine, change {key} in "
                "[system-requirements] and run `condauv lock`",
            )
        has = missing if have is None else lower.format(have=have)
        return UserError(
            f"this machine has {has}; the lock targets {key} {wanted}; set {variable} to install anyway",
            hint=f"sync on a machine with {key} {wanted} or newer, or set {variable}={wanted} if it "
            f"has one that condauv does not see; to target this machine, change {key} in "
            "[system-requirements] and run `condauv lock`",
        )
    return None


def check_machine(requirements: Mapping[str, str]) -> None:
    """Raise when this machine does not meet ``requirements`` (nothing is changed)."""
    subdir = current_subdir()
    if not applicable_requirements(requirements, subdir):
        return  # nothing to compare: rattler is not even imported
    from condauv.conda.engine import virtual_packages

    machine = {vp.name.normalized: str(vp.version) for vp in virtual_packages(subdir)}
    overrides = {variable: os.environ.get(variable, "") for _, _, variable in _WHAT.values()}
    problem = machine_shortfall(requirements, machine, subdir, overrides=overrides)
    if problem is not None:
        raise problem
