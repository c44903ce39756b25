"""``conda-lock``: ``conda-lock.yml`` version 1, for teams that install with conda-lock.

conda-lock's v1 model (``conda_lock/lockfile/v1/models.py``): ``version: 1``, ``metadata``
(``content_hash`` per platform, ``channels`` as ``{url, used_env_vars}``, ``platforms``,
``sources``) and one ``package`` entry per artifact and platform: ``name``, ``version``,
``manager`` (``conda`` or ``pip``), ``platform``, ``dependencies`` (name -> spec), ``url``,
``hash`` (``md5``, ``sha256``), ``category: main``, ``optional: false``. Read by
``conda-lock install`` and ``conda-lock render``, and by conda's ``conda-lockfiles`` plugin.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from condauv._process import strip_credentials
from condauv.conda.records import spec_name
from condauv.export._shared import Exported, YamlValue, conda_channels, dump_yaml, single_line
from condauv.export.explicit import TOKENS_LEFT_OUT, dependency_order

if TYPE_CHECKING:
    from condauv.lock.model import CondaPackage, Lock, PypiPackage
    from condauv.manifest.model import Manifest

__all__ = ["FILE_NAME", "conda_lock_yml"]

FILE_NAME = "conda-lock.yml"


def _dependencies(package: CondaPackage) -> dict[str, YamlValue]:
    """``depends`` as conda-lock keeps them: name -> the rest of the match spec, version and build
    (``*`` for any); virtual packages (``__glibc``) left out, as conda-lock's solver output has them."""
    out: dict[str, YamlValue] = {}
    for spec in package.depends:
        name = spec_name(spec)
        if not name or name.startswith("__"):
            continue
        text = spec.strip().split("::", 1)[-1].strip()
        rest = text[len(name) :].strip() if text.lower().startswith(name) else ""
        out[name] = single_line(rest or "*", f"a dependency of {package.name}")
    return out


def _conda_entry(package: CondaPackage) -> dict[str, YamlValue]:
    hashes: dict[str, YamlValue] = {"md5": package.md5} if package.md5 else {}
    hashes["sha256"] = package.sha256
    return {
        "name": package.name,
        "version": package.version,
        "manager": "conda",
        "platform": package.platform,
        "dependencies": _dependencies(package),
        "url": single_line(strip_credentials(package.url), f"the URL of {package.name}"),
        "hash": hashes,
        "build": package.build,
        "category": "main",
        "optional": False,
    }


def _pip_entry(package: PypiPackage) -> dict[str, YamlValue]:
    return {
        "name": package.name,
        "version": package.version,
        "manager": "pip",
        "platform": package.platform,
        "dependencies": {},
        "url": single_line(package.url, f"the URL of {package.name}"),
        "hash": {"sha256": package.sha256},
        "category": "main",
        "optional": False,
    }


def conda_lock_yml(lock: Lock, manifest: Manifest, platforms: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """The file for ``platforms`` and its notes."""
    packages: list[YamlValue] = []
    for platform in platforms:
        packages += [_conda_entry(p) for p in dependency_order(lock.conda_for(platform))]
        packages += [_pip_entry(p) for p in sorted(lock.pypi_for(platform), key=lambda p: p.name)]
    digest = lock.content_hash.removeprefix("sha256:")
    document: dict[str, YamlValue] = {
        "version": 1,
        "metadata": {
            "content_hash": dict.fromkeys(platforms, digest),
            "channels": [{"url": url, "used_env_vars": []} for url in conda_channels(manifest)],
            "platforms": list(platforms),
            "sources": ["condauv.toml"],
        },
        "package": packages,
    }
    tokens = sum(strip_credentials(p.url) != p.url for x in platforms for p in lock.conda_for(x))
    notes = [TOKENS_LEFT_OUT.format(count=tokens)] if tokens else []
    if any(lock.pypi_for(p) for p in platforms):
        notes.append(
            "condauv.lock holds no PyPI dependency lists: the pip entries list none "
            "(conda-lock installs them with --no-deps, as condauv does)"
        )
    no_md5 = sorted({p.name for x in platforms for p in lock.conda_for(x) if not p.md5})
    if no_md5:
        notes.append(
            f"condauv.lock has no md5 for {', '.join(no_md5)}: conda-lock's reader requires an md5 for "
            "conda packages, and refuses those entries"
        )
    notes.append(
        "metadata.content_hash is condauv.toml's hash, not conda-lock's: `conda-lock lock` will "
        "relock from its own sources; `conda-lock install` uses the file as it is"
    )
    header = "# written by condauv export from condauv.lock (conda-lock format version 1)\n"
    return header + dump_yaml(document), tuple(notes)


def export(lock: Lock, manifest: Manifest, platforms: Sequence[str]) -> Exported:
    text, notes = conda_lock_yml(lock, manifest, platforms)
    return Exported(format="conda-lock", platform=None, file_name=FILE_NAME, text=text, notes=notes)
