"""condauv's only door to py-rattler's async API: every ``await`` on rattler happens here.

Importing rattler costs ~80 ms, so this module is imported lazily, only by commands that
solve, install, index or activate.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
from collections.abc import Collection, Coroutine, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

import rattler
import rattler.index
from rattler import (
    BuildString,
    Channel,
    Gateway,
    GenericVirtualPackage,
    PackageName,
    PackageRecord,
    RepoDataRecord,
    Subdir,
    Version,
    VirtualPackage,
    VirtualPackageOverrides,
)
from rattler.exceptions import SolverError

from condauv import _fs, paths, progress
from condauv.conda import verify
from condauv.conda.reporting import LinkReporter, fetching
from condauv.errors import ArchiveError, CondauvError, SolveError, UserError
from condauv.lock.model import CondaPackage
from condauv.platforms import (
    SYSTEM_REQUIREMENTS,
    applicable_requirements,
    current_subdir,
    python_site_packages,
    requirement_applies,
    target_glibc,
)

__all__ = [
    "fetch_archives",
    "index_channel",
    "install",
    "names_in_channels",
    "read_provided_distributions",
    "record_to_package",
    "refuse_linking_out",
    "solve",
    "verified_cache",
]

T = TypeVar("T")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def index_channel(channel_dir: Path) -> None:
    """Write ``repodata.json`` for every subdir of a local channel folder."""
    _run(rattler.index.index_fs(channel_dir, write_zst=False, write_shards=False))


def _gateway() -> Gateway:
    return Gateway(cache_dir=paths.repodata_cache_dir(), show_progress=False)


def _channels(urls: Sequence[str]) -> list[Channel]:
    return [Channel(url) for url in urls]


def virtual_packages(
    subdir: str, requirements: Mapping[str, str] | None = None
) -> list[GenericVirtualPackage]:
    """The virtual packages a solve for ``subdir`` assumes.

    ``requirements`` (the manifest's ``[system-requirements]``) set the target's ``__cuda``,
    ``__glibc``, ``__linux`` and ``__osx`` whatever machine solves (those that apply to
    ``subdir``). The rest: this machine's own for its subdir (``CONDA_OVERRIDE_*`` honoured);
    for another subdir, the baseline a lock for it promises (glibc 2.28, macOS 11, ...). Never
    ``__cuda`` on osx. A ``CONDA_OVERRIDE_*`` that is no version is a :class:`UserError`.
    """
    _check_overrides()
    found = _machine_or_baseline(subdir)
    if not requirement_applies("cuda", subdir):  # macOS has no CUDA, whatever CONDA_OVERRIDE_CUDA says
        found = [vp for vp in found if vp.name.normalized != "__cuda"]
    target = {
        SYSTEM_REQUIREMENTS[k]: v for k, v in applicable_requirements(requirements or {}, subdir).items()
    }
    if not target:
        return found
    kept = [vp for vp in found if vp.name.normalized not in target]
    return kept + [
        GenericVirtualPackage(PackageName(name), Version(version), BuildString("0"))
        for name, version in sorted(target.items())
    ]


#: the ``CONDA_OVERRIDE_*`` variables that hold a version (rattler reads each; ARCHSPEC names a CPU).
_VERSION_OVERRIDES = {"CUDA": "12.4", "GLIBC": "2.28", "LINUX": "5.10", "OSX": "13.0", "WIN": "10.0"}
_OVERRIDE_VERSION = re.compile(r"^[0-9]+(?:\.[0-9]+)*$")


def _check_overrides() -> None:
    """Refuse a ``CONDA_OVERRIDE_*`` that is no version (``" 12.4"``, ``"garbage"``) before any
    detection or baseline reads it; empty stays conda's "none" (no CUDA)."""
    for key, example in _VERSION_OVERRIDES.items():
        variable = f"CONDA_OVERRIDE_{key}"
        value = os.environ.get(variable, "")
        if value and not _OVERRIDE_VERSION.match(value):
            raise UserError(
                f"{variable}={value!r} is not a version",
                hint=f'set it to digits and dots ({variable}={example}), to "" for none, or unset it',
            )


def _machine_or_baseline(subdir: str) -> list[GenericVirtualPackage]:
    if subdir == current_subdir():
        # detect() alone ignores CONDA_OVERRIDE_* in py-rattler 0.28; from_env() reads them
        try:
            detected = VirtualPackage.detect(VirtualPackageOverrides.from_env())
        except Exception as exc:  # rattler's DetectVirtualPackageError: an override it cannot use
            raise UserError(
                f"cannot detect this machine's virtual packages: {exc}",
                hint="check the CONDA_OVERRIDE_* variables (CONDA_OVERRIDE_ARCHSPEC names a CPU, "
                "such as x86_64_v3), or unset them",
            ) from None
        return [vp.into_generic() for vp in detected]
    arch = {"64": "x86_64", "aarch64": "aarch64", "arm64": "arm64", "ppc64le": "ppc64le"}
    base: list[tuple[str, str]] = [("__archspec", "1")]
    if subdir.startswith("linux"):
        major, minor = target_glibc()
        base += [("__unix", "0"), ("__linux", "5.10"), ("__glibc", f"{major}.{minor}")]
    elif subdir.startswith("osx"):
        base += [("__unix", "0"), ("__osx", "13.0" if subdir == "osx-arm64" else "11.0")]
    else:
        base += [("__win", "0")]
    if os.environ.get("CONDA_OVERRIDE_CUDA"):
        base.append(("__cuda", os.environ["CONDA_OVERRIDE_CUDA"]))
    build = arch.get(subdir.split("-", 1)[1], "0")
    return [
        GenericVirtualPackage(
            PackageName(name), Version(version), BuildString(build if name == "__archspec" else "0")
        )
        for name, version in base
    ]


def _fail_on_channel(exc: Exception, urls: Sequence[str]) -> CondauvError:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return UserError(
        f"cannot read the conda channels ({', '.join(urls)}): {text}",
        hint="check the channel names and your network; a local channel must be indexed",
    )


def names_in_channels(urls: Sequence[str], subdirs: Sequence[str], names: Iterable[str]) -> set[str]:
    """Which of ``names`` the channels have (for any of ``subdirs`` or noarch)."""
    wanted = sorted(set(names))
    if not wanted:
        return set()

    async def query() -> set[str]:
        result = await _gateway().query(
            _channels(urls),
            [Subdir(s) for s in (*subdirs, "noarch")],
            [rattler.MatchSpec(n) for n in wanted],
            recursive=False,
        )
        return {rec.name.normalized for records in result for rec in records}

    try:
        with progress.task("reading the conda channels"):  # their repodata, fetched when stale
            return _run(query())
    except Exception as exc:  # rattler raises many exception types for I/O
        raise _fail_on_channel(exc, urls) from exc


def solve(
    urls: Sequence[str],
    specs: Sequence[str],
    subdir: str,
    *,
    locked: Sequence[CondaPackage] = (),
    requirements: Mapping[str, str] | None = None,
) -> list[RepoDataRecord]:
    """Solve ``specs`` for ``subdir``; ``locked`` packages are preferred to keep a lock stable;
    ``requirements`` are the target's ``[system-requirements]`` (see :func:`virtual_packages`)."""
    try:
        match_specs = [rattler.MatchSpec(spec) for spec in specs]
    except Exception as exc:
        raise SolveError(f"invalid conda spec: {exc}", hint='write it like "numpy >=1.26"') from None
    virtual = virtual_packages(subdir, requirements)  # a bad CONDA_OVERRIDE_* is no channel error

    async def go() -> list[RepoDataRecord]:
        return await rattler.solve(
            _channels(urls),
            match_specs,
            gateway=_gateway(),
            platforms=[Subdir(subdir), Subdir("noarch")],
            virtual_packages=virtual,
            locked_packages=[package_to_record(p) for p in locked],
        )

    try:
        with progress.task(f"solving the conda packages for {subdir}"):
            return _run(go())
    except SolverError as exc:
        raise _explain_solver_error(str(exc), specs, subdir) from None
    except Exception as exc:
        raise _fail_on_channel(exc, urls) from exc


def _explain_solver_error(text: str, specs: Sequence[str], subdir: str) -> SolveError:
    """rattler's explanation tree, condensed to the requirements that clash."""
    missing = re.search(
        r"[Nn]o candidates were found for ([^\s.]+)(?: ([^\n]*?))?\.?\s*$", text, re.MULTILINE
    )
    if missing:
        name, spec = missing.group(1), (missing.group(2) or "*").strip()
        if spec in ("", "*"):
            return SolveError(
                f"no conda package {name!r} in the configured channels for {subdir}",
                hint="check the name and the channels, or move it to [pypi-dependencies]",
            )
        return SolveError(
            f"no conda package matches '{name} {spec}' in the configured channels for {subdir}",
            hint=f"relax the version of {name}, or add a channel that has it",
        )
    lines = [line.strip(" │├└─") for line in text.splitlines()]
    clashes = [
        f"{parent.removesuffix(' would require')} requires {child.split(', which', 1)[0]}"
        for parent, child in itertools.pairwise(lines)
        if parent.endswith(" would require")
    ]
    summary = "; ".join(clashes) or " ".join(line for line in lines if line)
    hint = f"relax one of the clashing specs (asked for: {', '.join(specs)})"
    needed = [key for key, name in SYSTEM_REQUIREMENTS.items() if re.search(rf"{name}\b", summary)]
    absent = [key for key in needed if not requirement_applies(key, subdir)]
    if absent:  # one that no machine of this platform has (__cuda on macOS): nothing sets it
        key = absent[0]
        hint = (
            f"{SYSTEM_REQUIREMENTS[key]} never exists on {subdir} ({key} does not apply to it): drop "
            f"{subdir} from [environment] platforms, or the package that needs it; else {hint}"
        )
    elif needed:  # a virtual package: the target machine's, which [system-requirements] can set
        key = needed[0]
        hint = (
            f"{SYSTEM_REQUIREMENTS[key]} is the target machine's {key}: to lock for machines that "
            f'have it, set {key} = "<version>" in [system-requirements] (or CONDA_OVERRIDE_'
            f"{'OSX' if key == 'macos' else key.upper()}); else {hint}"
        )
    return SolveError(f"the conda specs cannot be satisfied together for {subdir}: {summary}", hint=hint)


def record_to_package(record: RepoDataRecord, platform: str, **extra: Any) -> CondaPackage:
    """The lock's view of a solved record."""
    noarch = record.noarch
    noarch_name = None if noarch.none else ("python" if noarch.python else "generic")
    return CondaPackage(
        platform=platform,
        name=record.name.normalized,
        version=str(record.version),
        build=str(record.build),
        build_number=record.build_number,
        subdir=str(record.subdir),
        channel=str(record.channel),
        url=record.url,
        sha256=record.sha256.hex() if record.sha256 else "",
        md5=record.md5.hex() if record.md5 else None,
        size=record.size,
        noarch=noarch_name,
        depends=tuple(record.depends),
        constrains=tuple(record.constrains),
        python_site_packages_path=record.python_site_packages_path,
        **extra,
    )


def package_to_record(package: CondaPackage) -> RepoDataRecord:
    """A locked package as a record rattler installs without solving."""
    record = PackageRecord(
        name=package.name,
        version=package.version,
        build=BuildString.new_unchecked(package.build),
        build_number=package.build_number,
        subdir=package.subdir,
        noarch=package.noarch,  # type: ignore[arg-type]
        depends=list(package.depends),
        constrains=list(package.constrains),
        sha256=bytes.fromhex(package.sha256),
        md5=bytes.fromhex(package.md5) if package.md5 else None,
        size=package.size,
        python_site_packages_path=package.python_site_packages_path,
    )
    return RepoDataRecord(record, package.file_name, package.url, package.channel)


def install(
    packages: Sequence[CondaPackage],
    prefix: Path,
    *,
    requested: Sequence[str] = (),
    reinstall: Collection[str] = (),
) -> None:
    """Make the prefix's conda side exactly ``packages`` (rattler diffs against conda-meta).

    Every package's cache entry is verified first (:mod:`condauv.conda.verify`): made from an
    archive whose sha256 is the lock's, its paths and links inside the prefix; a bad archive
    raises :class:`~condauv.errors.ArchiveError` before anything is linked. ``reinstall`` names
    packages to link again although conda-meta says they are there (their files were altered):
    conda links files as hard links, so an edit made in the prefix also altered the extracted
    package in the cache; their entries are extracted again from the verified archive.
    """
    client = rattler.Client.default_client()
    # only what rattler will link needs a cache entry: an unchanged package is not fetched again
    to_link = {p.name for p in linking(packages, prefix, reinstall=reinstall)}
    verified_cache(packages, client=client, fresh=reinstall, only=to_link)
    refuse_linking_out(packages, prefix, reinstall=reinstall)
    records = [package_to_record(p) for p in packages]
    # py-rattler 0.28 forwards requested_specs to Rust unwrapped; hand it the inner objects
    specs = [rattler.MatchSpec(s)._match_spec for s in requested]
    extra: dict[str, Any] = {}
    if reinstall:
        extra["reinstall_packages"] = set(reinstall)

    async def go() -> None:
        await rattler.install(
            records,
            target_prefix=prefix,
            cache_dir=paths.conda_pkgs_dir(),
            show_progress=False,
            execute_link_scripts=False,
            requested_specs=specs or None,
            client=client,
            **extra,
        )

    try:
        with progress.task("linking conda packages") as update:
            if progress.active():  # rattler calls back for each package only when it is shown
                extra["reporter"] = LinkReporter(update)
            _run(go())
    except Exception as exc:
        raise CondauvError(
            f"installing the conda packages into {prefix} failed: {exc}",
            hint="check the channel and the disk; `condauv sync` can be run again",
        ) from exc


def linking(
    packages: Sequence[CondaPackage], prefix: Path, *, reinstall: Collection[str] = ()
) -> list[CondaPackage]:
    """The packages rattler links to make ``prefix`` hold ``packages``: those not installed at
    the same version and build, and those to ``reinstall``."""
    from condauv.conda.prefix import installed_conda

    have = installed_conda(prefix)
    return [
        p
        for p in packages
        if p.name in reinstall
        or p.name not in have
        or (have[p.name].version, have[p.name].build) != (p.version, p.build)
    ]


def refuse_linking_out(
    packages: Sequence[CondaPackage], prefix: Path, *, reinstall: Collection[str] = ()
) -> None:
    """Refuse before rattler links when a folder it would link into is a link out of ``prefix``
    (a prefix tampered with, or another tool's): the paths of the packages to add or relink,
    whose cache entries are verified. A prefix without conda-meta yet holds no link to follow."""
    from condauv.conda.prefix import refuse_links_out

    if not (prefix / "conda-meta").is_dir():
        return
    to_link = linking(packages, prefix, reinstall=reinstall)
    if not to_link:
        return
    cache = paths.conda_pkgs_dir()
    site_packages = _site_packages(packages)
    names = ", ".join(p.name for p in to_link[:3]) + (", ..." if len(to_link) > 3 else "")
    refuse_links_out(
        prefix,
        site_packages=site_packages,
        paths=[path for p in to_link for path in verify.linked_paths(cache, p, site_packages=site_packages)],
        doing=f"linking {names}",
    )


def verified_cache(
    packages: Sequence[CondaPackage],
    *,
    client: rattler.Client | None = None,
    fresh: Collection[str] = (),
    only: Collection[str] | None = None,
) -> None:
    """Make every package's cache entry one condauv verified (see :mod:`condauv.conda.verify`).

    A cache hit reads one stamp per package. A miss, an unstamped entry (made by rattler, or
    before condauv verified) or one stamped with another sha256, and every package named in
    ``fresh``, is fetched into a private folder while hashed, compared with the lock, extracted,
    checked and moved in: in parallel, all before anything is linked. ``only`` limits that to the
    packages of those names (those to be linked); ``packages`` is still the whole set, which says
    where ``noarch: python`` packages go.
    """
    cache = paths.conda_pkgs_dir()
    wanted = [p for p in packages if only is None or p.name in only]
    todo = [p for p in wanted if p.name in fresh] + [
        p for p in verify.unverified(cache, wanted) if p.name not in fresh
    ]
    if not todo:
        return
    cache.mkdir(parents=True, exist_ok=True)
    site_packages = _site_packages(packages)
    web = client or rattler.Client.default_client()

    with fetching(todo, "fetching and extracting") as fetched:

        async def one(package: CondaPackage, gate: asyncio.Semaphore) -> None:
            async with gate:
                await _fetch_verified(cache, package, web, site_packages, replace=package.name in fresh)
            fetched(package)

        async def go() -> list[BaseException | None]:
            gate = asyncio.Semaphore(8)
            # every fetch runs to its end (and cleans its private folder) before the first error is raised
            return await asyncio.gather(*(one(p, gate) for p in todo), return_exceptions=True)

        errors = [e for e in _run(go()) if e is not None]
    if errors:
        raise errors[0]


def fetch_archives(packages: Sequence[CondaPackage], folder: Path) -> list[Path]:
    """Each package's archive as ``folder/<subdir>/<file>`` (a channel's layout), fetched as
    :func:`verified_cache` fetches (``file://`` copied while hashed, HTTP through rattler) and
    its sha256 held to the lock's; an archive of another sha256 is an :class:`ArchiveError`."""
    client = rattler.Client.default_client()
    targets = [folder / p.subdir / unquote(p.file_name) for p in packages]
    for target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)

    with fetching(packages, "fetching") as fetched:

        async def one(package: CondaPackage, target: Path, gate: asyncio.Semaphore) -> None:
            async with gate:
                actual = await _fetch_archive(package, target, client)
                if actual != package.sha256:
                    target.unlink(missing_ok=True)
                    raise _mismatch(package, actual)
            fetched(package)

        async def go() -> list[BaseException | None]:
            gate = asyncio.Semaphore(8)
            return await asyncio.gather(
                *(one(p, t, gate) for p, t in zip(packages, targets, strict=True)), return_exceptions=True
            )

        errors = [e for e in _run(go()) if e is not None]
    if errors:
        raise errors[0]
    return targets


async def _fetch_archive(package: CondaPackage, archive: Path, client: rattler.Client) -> str:
    """Fetch ``package``'s archive to the new file ``archive``; the sha256 of what was fetched."""
    from rattler.package_streaming import download_to_path

    local = verify.archive_path(package.url)
    try:
        if local is not None:
            actual = await asyncio.to_thread(verify.copy_hashing, local, archive, limit=package.size)
        else:
            await download_to_path(client, package.url, archive)
            actual = await asyncio.to_thread(verify.file_sha256, archive)
    except verify.TooLarge as exc:
        raise ArchiveError(
            f"conda package {verify.label(package)} at {package.url} does not match condauv.lock: {exc}",
            hint="the archive changed after locking: restore it in the channel",
        ) from None
    except Exception as exc:  # OSError, rattler's transport errors
        raise CondauvError(
            f"cannot fetch conda package {verify.label(package)} from {package.url}: {exc}",
            hint="check the channel and your network; `condauv sync` can be run again",
        ) from exc
    return actual


def _mismatch(package: CondaPackage, actual: str) -> ArchiveError:
    return ArchiveError.mismatch(
        f"conda package {verify.label(package)}",
        package.url,
        actual,
        package.sha256,
        hint="the archive changed after locking: restore it, or, if the new one is trusted, "
        "index the channel again and run `condauv lock`",
    )


async def _fetch_verified(
    cache: Path, package: CondaPackage, client: rattler.Client, site_packages: str | None, *, replace: bool
) -> None:
    from rattler.package_streaming import extract

    entry = verify.cache_entry(cache, package)
    # in the package cache (one rename moves the entry in), in a folder of this process: a
    # killed sync's is removed by the next command
    with _fs.scratch_dir("fetch-", package_cache=True) as temp:
        archive = Path(temp) / package.file_name
        actual = await _fetch_archive(package, archive, client)
        if actual != package.sha256:
            verify.remove_entry(cache, entry)
            raise _mismatch(package, actual)
        extracted = Path(temp) / "entry"
        try:
            await asyncio.to_thread(extract, archive, extracted)
        except Exception as exc:
            raise ArchiveError(
                f"conda package {verify.label(package)} ({package.url}) cannot be extracted: {exc}",
                hint="the archive is damaged: restore it in the channel",
            ) from exc
        verify.check_entry(extracted, package, site_packages=site_packages)
        verify.place_entry(cache, extracted, entry, package.sha256, replace=replace)


def _site_packages(packages: Sequence[CondaPackage]) -> str | None:
    """The prefix's site-packages, where ``noarch: python`` packages are linked."""
    python = next((p for p in packages if p.name == "python"), None)
    if python is None:
        return None
    return python.python_site_packages_path or python_site_packages(python.version)


def distributions_in_paths(paths_in_package: Iterable[str]) -> dict[str, str]:
    """PyPI name -> version of the dist-info/egg-info folders found among a package's paths."""
    from condauv.conda.records import dist_folders

    return dict(dist_folders(paths_in_package).values())


def read_provided_distributions(
    records: Sequence[RepoDataRecord],
) -> dict[str, dict[str, str] | None]:
    """For each record URL: the PyPI distributions inside its artifact (``None`` if unreadable).

    Reads only ``info/paths.json`` (a range request for a remote ``.conda``), in parallel, of
    the archives not read before (:mod:`condauv.conda.provided` keeps them by sha256).
    """
    from rattler.package_streaming import PackageArchive

    from condauv.conda import provided

    async def one(
        record: RepoDataRecord, client: rattler.Client, gate: asyncio.Semaphore
    ) -> dict[str, str] | None:
        sha256 = record.sha256.hex() if record.sha256 else None
        found = provided.kept(sha256, record.url)
        if found is not None:
            return found
        async with gate:
            try:
                local = provided.local_archive(record.url)
                read = local.stat() if local is not None else None
                if local is not None:
                    archive = await PackageArchive.from_path(str(local))
                else:
                    archive = await PackageArchive.from_url(client, record.url)
                paths_json = await archive.paths_json()
            except Exception:  # unreadable artifacts fall back to the name table
                return None
            found = distributions_in_paths(str(entry.relative_path) for entry in paths_json.paths)
            await asyncio.to_thread(provided.keep, sha256, record.url, found, read=read)
            return found

    async def go() -> list[dict[str, str] | None]:
        client = rattler.Client()
        gate = asyncio.Semaphore(8)
        return await asyncio.gather(*(one(r, client, gate) for r in records))

    return dict(zip((r.url for r in records), _run(go()), strict=True))
