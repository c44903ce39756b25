"""What a prefix holds, package by package, with its manager and the reason it went there."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from condauv.conda.prefix import installed_conda
from condauv.errors import UserError
from condauv.lock.model import Lock
from condauv.platforms import current_subdir
from condauv.pypi.site import installed_distributions, site_packages

__all__ = ["InstalledPackage", "inventory"]


@dataclass(frozen=True, slots=True, kw_only=True)
class InstalledPackage:
    name: str
    version: str
    manager: str  # "conda" or "pypi"
    reason: str
    build: str | None = None
    provides: tuple[str, ...] = ()  # PyPI distributions inside a conda package
    installer: str | None = None  # INSTALLER of a PyPI distribution

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["provides"] = list(self.provides)
        return {k: v for k, v in data.items() if v not in (None, [])}


def inventory(prefix: Path, lock: Lock | None) -> list[InstalledPackage]:
    """Every conda package and every PyPI distribution uv installed in ``prefix``."""
    conda = installed_conda(prefix)
    if not conda and not (prefix / "conda-meta").is_dir():
        raise UserError(f"no environment at {prefix}", hint="run `condauv sync` to create it")
    platform = current_subdir()
    locked_conda = {p.name: p for p in lock.conda_for(platform)} if lock else {}
    locked_pypi = {p.name: p for p in lock.pypi_for(platform)} if lock else {}
    rows: list[InstalledPackage] = []
    owned: set[str] = set()
    for name, pkg in sorted(conda.items()):
        locked = locked_conda.get(name)
        in_lock = locked is not None and (locked.version, locked.build) == (pkg.version, pkg.build)
        provides = locked.provides if locked else ()
        owned.update(p.split("==", 1)[0] for p in provides)
        rows.append(
            InstalledPackage(
                name=name,
                version=pkg.version,
                build=pkg.build,
                manager="conda",
                reason=locked.reason if locked and in_lock else "not in condauv.lock",
                provides=provides,
            )
        )
    python = conda.get("python")
    dists = installed_distributions(site_packages(prefix, python.version if python else None))
    folders = _conda_folders(prefix) if any(not d.installer and d.name not in owned for d in dists) else set()
    for dist in dists:
        if dist.installer == "conda" or dist.name in owned or dist.path.name in folders:
            continue
        pypi = locked_pypi.get(dist.name)
        rows.append(
            InstalledPackage(
                name=dist.name,
                version=dist.version,
                manager="pypi",
                reason=pypi.reason if pypi and pypi.version == dist.version else "not in condauv.lock",
                installer=dist.installer or None,
            )
        )
    return rows


def _conda_folders(prefix: Path) -> set[str]:
    """The metadata folders conda records list: a conda package's ``*.egg-info`` (a bare file,
    often) carries no INSTALLER, yet it is conda's. Read only when such a folder is there."""
    from condauv.conda.records import dist_folders, read_records

    return {
        folder
        for record in read_records(prefix, on_error=_unreadable)
        for folder in dist_folders(record.paths)
    }


def _unreadable(path: Path, exc: Exception) -> None:
    """``list`` shows what it can: an unreadable record only owns nothing."""
