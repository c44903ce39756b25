"""What is installed in a prefix's site-packages, read from the dist-info folders alone (fast)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

__all__ = ["InstalledDistribution", "installed_distributions", "site_packages", "split_metadata_folder"]


@dataclass(frozen=True, slots=True, kw_only=True)
class InstalledDistribution:
    name: str  # normalised
    version: str
    installer: str  # "conda", "uv", "pip", ... ("" when unknown)
    path: Path


def site_packages(prefix: Path, python_version: str | None = None) -> Path | None:
    """The prefix's site-packages folder for ``python_version`` (``3.11.7``), or the one there is."""
    if python_version:
        major_minor = ".".join(python_version.split(".")[:2])
        return prefix / "lib" / f"python{major_minor}" / "site-packages"
    found = sorted((prefix / "lib").glob("python3.*/site-packages"))
    return found[-1] if found else None


def split_metadata_folder(folder: str) -> tuple[str, str] | None:
    """``numpy-2.0.dist-info`` -> ``("numpy", "2.0")``; ``old_thing-1.0-py3.11.egg-info`` ->
    ``("old-thing", "1.0")``; ``None`` for anything else. A dist-info name is split at its last
    dash (versions have none), an egg-info name at its first (its name has none, tags follow)."""
    stem, dot, kind = folder.rpartition(".")
    if not dot or kind not in ("dist-info", "egg-info") or "-" not in stem:
        return None
    if kind == "dist-info":
        name, _, version = stem.rpartition("-")
    else:
        name, _, rest = stem.partition("-")
        version = rest.split("-", 1)[0]
    return (canonicalize_name(name), version) if name and version else None


def installed_distributions(site: Path | None) -> list[InstalledDistribution]:
    """Every ``*.dist-info`` and ``*.egg-info`` in ``site``, sorted by name."""
    if site is None or not site.is_dir():
        return []
    found = []
    for entry in site.iterdir():
        parsed = split_metadata_folder(entry.name)
        if parsed is None:
            continue
        name, version = parsed
        installer = ""
        installer_file = entry / "INSTALLER"
        if installer_file.is_file():
            installer = installer_file.read_text(encoding="utf-8", errors="replace").strip()
        found.append(
            InstalledDistribution(
                name=name,
                version=version,
                installer=installer,
                path=entry,
            )
        )
    return sorted(found, key=lambda d: (d.name, d.version))
