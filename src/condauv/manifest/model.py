"""The manifest's model: parsing and validation, with errors that name the failing field.

Parsing uses :mod:`tomllib` (fast, strict); edits that keep comments live in
:mod:`condauv.manifest.edit`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from packaging.utils import canonicalize_name

from condauv.errors import ManifestError
from condauv.platforms import (
    KNOWN_SUBDIRS,
    SYSTEM_REQUIREMENTS,
    UV_TORCH_BACKENDS,
    current_subdir,
    requirement_problem,
)
from condauv.validation import check_strings, check_text, load_toml, read_text, url

if TYPE_CHECKING:
    from condauv.pypi.auth import Index

__all__ = [
    "DEFAULT_PYTHON",
    "MANIFEST_NAME",
    "EnvironmentSettings",
    "Manifest",
    "PypiOptions",
    "Requested",
    "load_manifest",
    "parse_manifest",
    "python_minor",
]

MANIFEST_NAME = "condauv.toml"

#: The interpreter a new project asks for (``condauv init``), and the target outside a project.
DEFAULT_PYTHON = "3.11.*"

Table = Literal["dependencies", "conda-dependencies", "pypi-dependencies"]
TABLES: tuple[Table, ...] = ("dependencies", "conda-dependencies", "pypi-dependencies")

_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
_CONDA_VERSION = re.compile(r"^[A-Za-z0-9_.*+!<>=,|~ -]+$")
_TOP_KEYS = {"environment", "pypi-options", "classify", "names", "system-requirements", *TABLES}
_ENV_KEYS = {"name", "python", "channels", "platforms", "prefix"}
_PYPI_OPTION_KEYS = {"index-url", "extra-index-urls", "find-links", "no-index", "torch-backend"}
_READ_HINT = "condauv.toml is UTF-8 text: save it as UTF-8, or run `condauv init` for a new one"
_TOML_HINT = "fix the TOML at that line and column (the tables are described in the README)"
_LINKS_HINT = 'give a folder ("wheels") or a URL ("https://host/wheels/" or "file:///path/wheels")'


@dataclass(frozen=True, slots=True, kw_only=True)
class Requested:
    """One entry of a dependency table, before the conda/PyPI decision."""

    name: str
    spec: str  # the version part as written; "" means any version
    table: Table
    extras: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The name as compared across tables and ecosystems (PEP 503 normalised)."""
        return canonicalize_name(self.name)

    def as_conda(self) -> str:
        """A conda match spec (``numpy >=1.26``)."""
        return f"{self.name} {self.spec}".strip() if self.spec else self.name

    def as_pep508(self) -> str:
        """A PEP 508 requirement (``numpy>=1.26``); bare conda-style versions become ``==``."""
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        return f"{self.name}{extras}{pep440_specifier(self.spec)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class PypiOptions:
    """Where uv looks for distributions."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    torch_backend: str | None = None  # uv's --torch-backend: "auto", "cpu", "cu126", ...

    def indexes(self) -> tuple[Index, ...]:
        """The index URLs (default first), each split into name, URL and credentials."""
        from condauv.pypi.auth import parse_index

        urls = ((self.index_url,) if self.index_url else ()) + self.extra_index_urls
        return tuple(parse_index(u) for u in urls)

    def public_index_urls(self) -> tuple[str, ...]:
        """The index URLs without names or credentials: what may be shown, hashed or locked."""
        return tuple(i.url for i in self.indexes())

    def uv_args(self) -> list[str]:
        """The matching uv command-line flags (index URLs with their credentials, which
        :class:`~condauv.pypi.uv.Uv` moves into uv's environment, off the command line)."""
        args: list[str] = []
        for position, index in enumerate(self.indexes()):
            default = position == 0 and bool(self.index_url)
            if index.name:  # uv's own syntax for a named index (UV_INDEX_<NAME>_USERNAME applies)
                args += ["--default-index" if default else "--index", index.for_uv()]
            else:
                args += ["--index-url" if default else "--extra-index-url", index.for_uv()]
        for link in self.find_links:  # a folder's "#" would start a URL fragment for uv: its file: URL
            args += ["--find-links", Path(link).as_uri() if "#" in link and "://" not in link else link]
        if self.no_index:
            args.append("--no-index")
        if self.torch_backend:  # checked against uv's grammar on load: never an option of its own
            args += ["--torch-backend", self.torch_backend]
        return args


@dataclass(frozen=True, slots=True, kw_only=True)
class EnvironmentSettings:
    """The ``[environment]`` table."""

    name: str
    python: str
    channels: tuple[str, ...]
    platforms: tuple[str, ...]
    prefix: Path | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Manifest:
    """A parsed ``condauv.toml``; ``path`` is the file it came from."""

    path: Path
    environment: EnvironmentSettings
    requested: tuple[Requested, ...]
    pypi_options: PypiOptions = field(default_factory=PypiOptions)
    classify: dict[str, Literal["conda", "pypi"]] = field(default_factory=dict)  # glob -> manager
    names: dict[str, tuple[str, ...]] = field(default_factory=dict)  # conda name -> PyPI names it provides
    #: ``[system-requirements]``: the target machines' cuda / glibc / linux / macos versions
    system_requirements: dict[str, str] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.path.parent

    def table(self, table: Table) -> tuple[Requested, ...]:
        return tuple(r for r in self.requested if r.table == table)

    def content_hash(self) -> str:
        """Hash of everything that changes what a lock holds: used to tell a stale lock."""
        env = self.environment
        payload = {
            "python": env.python,
            "channels": list(env.channels),
            "platforms": sorted(env.platforms),
            "requested": sorted([r.table, r.key, r.spec, sorted(r.extras)] for r in self.requested),
            "classify": sorted(self.classify.items()),
            **({"names": sorted([k, list(v)] for k, v in self.names.items())} if self.names else {}),
            # only when set: a manifest without the table keeps the hash its lock was made with
            **({"system-requirements": dict(self.system_requirements)} if self.system_requirements else {}),
            "pypi-options": {
                "index-url": _public_index(self.pypi_options.index_url),
                "extra-index-urls": [_public_index(u) for u in self.pypi_options.extra_index_urls],
                "find-links": [_public_link(link) for link in self.pypi_options.find_links],
                "no-index": self.pypi_options.no_index,
                # only when set: a manifest without it keeps the hash its lock was made with
                **(
                    {"torch-backend": self.pypi_options.torch_backend}
                    if self.pypi_options.torch_backend
                    else {}
                ),
            },
        }
        blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        return "sha256:" + hashlib.sha256(blob).hexdigest()


def _public_link(value: str) -> str:
    """A find-links entry as the content hash sees it: without credentials."""
    from condauv._process import strip_credentials

    return strip_credentials(value)


def _public_index(value: str | None) -> str | None:
    """An index as the content hash sees it: credentials left out (a new token is no new lock)."""
    if value is None:
        return None
    from condauv.pypi.auth import parse_index

    index = parse_index(value)
    return f"{index.name}={index.url}" if index.name else index.url


def python_minor(spec: str) -> tuple[int, int] | None:
    """The ``X.Y`` a conda Python spec names (``3.11.*``, ``>=3.10``, ``python=3.12``), if any."""
    match = re.search(r"(\d+)\.(\d+)", spec)
    return (int(match[1]), int(match[2])) if match else None


def pep440_specifier(spec: str) -> str:
    """Turn a manifest version (``>=1.26``, ``1.26.*``, ``2.0``, ``*``) into a PEP 440 specifier."""
    spec = spec.strip()
    if spec in ("", "*"):
        return ""
    if spec[0].isdigit():
        return f"=={spec}"
    return spec.replace(" ", "")


def load_manifest(path: Path) -> Manifest:
    """Read and validate ``path``; every problem is a :class:`ManifestError` with a hint."""
    check_text(str(path), what="the manifest path", error=ManifestError, hint="pass --manifest PATH")
    if not path.exists():
        raise ManifestError(
            f"no manifest at {path}",
            hint="run `condauv init` to create one, or pass --manifest PATH",
        )
    text = read_text(path, what="the manifest", error=ManifestError, hint=_READ_HINT)
    return parse_manifest(text, path)


def parse_manifest(text: str, path: Path) -> Manifest:
    """Parse manifest text; ``path`` is used for messages and to resolve relative paths."""
    data = load_toml(text, what=path.name, error=ManifestError, hint=_TOML_HINT)
    check_strings(data, what=path.name, error=ManifestError, hint=_TOML_HINT)
    _reject_unknown(data, _TOP_KEYS, path.name, "")
    env = _environment(data.get("environment", {}), path)
    requested: list[Requested] = []
    seen: dict[str, Table] = {}
    for table in TABLES:
        for entry in _dependency_table(data.get(table, {}), table, path.name):
            if entry.key in seen:
                raise ManifestError(
                    f"{path.name}: {entry.name!r:.80} is listed in both [{seen[entry.key]}] and [{table}]",
                    hint="keep it in one table",
                )
            seen[entry.key] = table
            requested.append(entry)
    return Manifest(
        path=path,
        environment=env,
        requested=tuple(requested),
        pypi_options=_pypi_options(data.get("pypi-options", {}), path),
        classify=_classify_rules(data.get("classify", {}), path.name),
        names=_name_map(data.get("names", {}), path.name),
        system_requirements=_system_requirements(data.get("system-requirements", {}), path.name),
    )


def _reject_unknown(data: dict[str, Any], allowed: set[str], file: str, where: str) -> None:
    for key in data:
        if key not in allowed:
            place = f"[{where}] " if where else ""
            raise ManifestError(
                f"{file}: unknown key {place}{key!r:.80}",
                hint=f"allowed here: {', '.join(sorted(allowed))}",
            )


def _expect(value: Any, kind: type | tuple[type, ...], file: str, field_path: str, want: str) -> Any:
    if not isinstance(value, kind):
        raise ManifestError(
            f"{file}: {field_path} must be {want}, not {type(value).__name__}",
            hint=f"write {field_path} as {want}",
        )
    return value


def _string_list(value: Any, file: str, field_path: str) -> tuple[str, ...]:
    items = _expect(value, list, file, field_path, "a list of strings")
    for item in items:
        _expect(item, str, file, field_path, "a list of strings")
    return tuple(items)


def _environment(raw: Any, path: Path) -> EnvironmentSettings:
    file = path.name
    raw = _expect(raw, dict, file, "[environment]", "a table")
    _reject_unknown(raw, _ENV_KEYS, file, "environment")
    name = _expect(raw.get("name", path.resolve().parent.name), str, file, "environment.name", "a string")
    python = _expect(raw.get("python", DEFAULT_PYTHON), str, file, "environment.python", "a string")
    if not _CONDA_VERSION.match(python):
        raise ManifestError(
            f"{file}: environment.python {python!r:.80} is not a conda version spec",
            hint='write it like "3.11.*" or ">=3.10,<3.13"',
        )
    channels = _string_list(raw.get("channels", ["conda-forge"]), file, "environment.channels")
    if not channels:
        raise ManifestError(f"{file}: environment.channels is empty", hint='add one, e.g. "conda-forge"')
    platforms = _string_list(raw.get("platforms", [current_subdir()]), file, "environment.platforms")
    for subdir in platforms:
        if subdir not in KNOWN_SUBDIRS:
            raise ManifestError(
                f"{file}: unknown platform {subdir!r:.80} in environment.platforms",
                hint=f"use one of: {', '.join(KNOWN_SUBDIRS)}",
            )
    if not platforms:
        raise ManifestError(f"{file}: environment.platforms is empty", hint=f'add "{current_subdir()}"')
    prefix_raw = raw.get("prefix")
    prefix = None
    if prefix_raw is not None:
        prefix_str = _expect(prefix_raw, str, file, "environment.prefix", "a path string")
        check_text(
            prefix_str,
            what=f"{file}: environment.prefix",
            error=ManifestError,
            hint='give the environment\'s folder, e.g. prefix = ".condauv/env"',
        )
        prefix = (path.parent / Path(prefix_str).expanduser()).resolve()
    return EnvironmentSettings(
        name=name,
        python=python,
        channels=channels,
        platforms=tuple(dict.fromkeys(platforms)),
        prefix=prefix,
    )


def _dependency_table(raw: Any, table: Table, file: str) -> list[Requested]:
    raw = _expect(raw, dict, file, f"[{table}]", "a table")
    entries = []
    for name, value in raw.items():
        where = f"{table}.{name}"
        if not _NAME.match(name):
            raise ManifestError(
                f"{file}: {name!r:.80} in [{table}] is not a valid package name",
                hint="package names use letters, digits, '.', '_' and '-'",
            )
        extras: tuple[str, ...] = ()
        if isinstance(value, dict):
            allowed = {"version", "extras"} if table != "conda-dependencies" else {"version"}
            _reject_unknown(value, allowed, file, where)
            spec = _expect(value.get("version", "*"), str, file, f"{where}.version", "a string")
            if "extras" in value:
                extras = _string_list(value["extras"], file, f"{where}.extras")
                for position, extra in enumerate(extras):  # each becomes part of a requirement
                    if not _NAME.match(extra):
                        raise ManifestError(
                            f"{file}: {where}.extras[{position}] = {extra!r:.80} is not an extra's name",
                            hint='extras are names, e.g. extras = ["socks"]',
                        )
        else:
            spec = _expect(value, str, file, where, 'a version string such as ">=1.0" or "*"')
        entry = Requested(name=name, spec=spec.strip(), table=table, extras=extras)
        _check_spec(entry, file)
        entries.append(entry)
    return entries


def _check_spec(entry: Requested, file: str) -> None:
    where = f"{entry.table}.{entry.name}"
    if entry.table == "conda-dependencies":
        if entry.spec and not _CONDA_VERSION.match(entry.spec):
            raise ManifestError(
                f"{file}: {where} = {entry.spec!r:.80} is not a conda version spec",
                hint='write it like ">=1.26", "12.1.*" or "*"',
            )
        return
    # here, not at import: a command with no manifest to parse (``check --prefix``) skips them
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        SpecifierSet(pep440_specifier(entry.spec))
        Requirement(entry.as_pep508())
    except (InvalidSpecifier, InvalidRequirement):
        hint = 'write it like ">=1.26", "==2.1.*" or "*"'
        if entry.table == "dependencies":
            hint += "; conda-only syntax belongs in [conda-dependencies]"
        raise ManifestError(
            f"{file}: {where} = {entry.spec!r:.80} is not a valid version specifier", hint=hint
        ) from None


def _pypi_options(raw: Any, path: Path) -> PypiOptions:
    file = path.name
    raw = _expect(raw, dict, file, "[pypi-options]", "a table")
    _reject_unknown(raw, _PYPI_OPTION_KEYS, file, "pypi-options")
    index_url = raw.get("index-url")
    if index_url is not None:
        _expect(index_url, str, file, "pypi-options.index-url", "a URL string")
    extra = _string_list(raw.get("extra-index-urls", []), file, "pypi-options.extra-index-urls")
    if index_url is not None:
        _index(index_url, f"{file}: pypi-options.index-url")
    for position, value in enumerate(extra):
        _index(value, f"{file}: pypi-options.extra-index-urls[{position}]")
    links = []
    for position, link in enumerate(_string_list(raw.get("find-links", []), file, "pypi-options.find-links")):
        what = f"{file}: pypi-options.find-links[{position}]"
        if "://" in link:  # a URL, checked as one: ``--index-url=http://…`` was read by uv as its option
            from condauv._process import strip_credentials

            # credentials allowed (uv gets them through its environment), checked without them
            clean = strip_credentials(link)
            url(clean, schemes=("https", "http", "file"), what=what, error=ManifestError, hint=_LINKS_HINT)
            links.append(link)
        else:  # a relative folder is relative to the manifest, not to where condauv runs
            links.append(str((path.parent / link).resolve()))
    no_index = _expect(raw.get("no-index", False), bool, file, "pypi-options.no-index", "true or false")
    torch = raw.get("torch-backend")
    if torch is not None:
        _expect(torch, str, file, "pypi-options.torch-backend", 'a string such as "cu126"')
        if torch not in UV_TORCH_BACKENDS:  # uv's exact list: its error would print it after a lock began
            raise ManifestError(
                f"{file}: pypi-options.torch-backend = {torch!r:.80} is not one of uv's PyTorch backends",
                hint=f"write one of: {', '.join(UV_TORCH_BACKENDS)}",
            )
    return PypiOptions(
        index_url=index_url,
        extra_index_urls=extra,
        find_links=tuple(links),
        no_index=no_index,
        torch_backend=torch,
    )


def _index(value: str, what: str) -> None:
    """``[name=]URL`` (credentials allowed, uv's syntax); the message shows the URL without them."""
    from condauv.pypi.auth import parse_index

    hint = 'write it like "https://host/simple" or "name=https://user:token@host/simple"'
    clean = parse_index(value).url
    if "@" in clean:  # user info that did not end the authority: a raw "/", "?" or "#" in a password
        scheme = clean.partition("://")[0] if "://" in clean else "https"
        raise ManifestError(
            f"{what}: its user name or password holds a character that ends the host "
            f"({scheme}://****@{clean.rpartition('@')[2]:.80})",
            hint="percent-encode the user name and password (/ as %2F, ? as %3F, # as %23, @ as %40), "
            "or keep them out of condauv.toml: ~/.netrc, or UV_INDEX_<NAME>_USERNAME/PASSWORD",
        )
    url(clean, schemes=("https", "http", "file"), what=what, error=ManifestError, hint=hint)


def _name_map(raw: Any, file: str) -> dict[str, tuple[str, ...]]:
    """``[names]``: ``pytables = "tables"``: the PyPI distribution(s) a conda package provides,
    where condauv's built-in table does not know (``[]``: not a Python distribution)."""
    raw = _expect(raw, dict, file, "[names]", "a table")
    names: dict[str, tuple[str, ...]] = {}
    for conda_name, value in raw.items():
        provided = [value] if isinstance(value, str) else value
        if (
            not _NAME.match(conda_name)
            or not isinstance(provided, list)
            or not all(isinstance(n, str) and _NAME.match(n) for n in provided)
        ):
            raise ManifestError(
                f"{file}: names.{conda_name:.80} = {value!r:.80} is not a conda name mapped to PyPI names",
                hint='write conda-name = "pypi-name" or conda-name = ["pypi-a", "pypi-b"]',
            )
        names[conda_name.lower()] = tuple(canonicalize_name(n) for n in provided)
    return names


def _system_requirements(raw: Any, file: str) -> dict[str, str]:
    """``[system-requirements]``: ``cuda = "12.4"``, ``glibc = "2.28"``, ``linux = "5.10"``,
    ``macos = "13.0"`` (pixi's names): the machines the lock is for, whatever machine locks."""
    raw = _expect(raw, dict, file, "[system-requirements]", "a table")
    _reject_unknown(raw, set(SYSTEM_REQUIREMENTS), file, "system-requirements")
    for key, value in raw.items():
        where = f"system-requirements.{key}"
        _expect(value, str, file, where, 'a version string such as "12.4"')
        problem = requirement_problem(key, value)
        if problem:
            raise ManifestError(
                f"{file}: {where} = {value!r:.80} {problem}",
                hint=f'write it like {key} = "{_EXAMPLES[key]}" (digits and dots)',
            )
    return {key: raw[key] for key in sorted(raw)}


_EXAMPLES = {"cuda": "12.4", "glibc": "2.28", "linux": "5.10", "macos": "13.0"}


def _classify_rules(raw: Any, file: str) -> dict[str, Literal["conda", "pypi"]]:
    """``[classify]``: ``"nvidia-*" = "pypi"``; globs match either ecosystem's spelling."""
    raw = _expect(raw, dict, file, "[classify]", "a table")
    rules: dict[str, Literal["conda", "pypi"]] = {}
    for pattern, manager in raw.items():
        if manager not in ("conda", "pypi"):
            raise ManifestError(
                f"{file}: classify.{pattern:.80} = {manager!r:.80} is not a manager",
                hint='write "conda" or "pypi"',
            )
        rules[pattern.lower()] = manager
    return rules
