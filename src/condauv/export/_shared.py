"""What the export formats share: the exported document, platform choice, index options, YAML.

Every value written comes from a lock that was validated on load (names, versions, URLs and
hashes checked) or from the validated manifest; the writers still refuse a value that would
start a new line, so that nothing read back can become another entry or an option.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from condauv import validation
from condauv.errors import LockfileError, UserError

if TYPE_CHECKING:
    from condauv.lock.model import Lock
    from condauv.manifest.model import Manifest

__all__ = [
    "Exported",
    "conda_channels",
    "dump_yaml",
    "index_option_lines",
    "platform_marker",
    "select_platforms",
    "single_line",
]

_HINT = "fix that value in condauv.toml, or run `condauv lock` again: no export can carry it"


@dataclass(frozen=True, slots=True, kw_only=True)
class Exported:
    """One exported document: its text, the file name it would get, and what it leaves out."""

    format: str
    platform: str | None  # None: the document holds every exported platform
    file_name: str  # a suggestion; -o FILE names it (with the platform inserted when several)
    text: str
    notes: tuple[str, ...] = ()


def select_platforms(
    locked: Sequence[str], requested: Sequence[str], *, one_per_file: bool
) -> tuple[str, ...]:
    """The platforms to export: ``requested`` (each must be locked), else for a format that holds
    one platform this machine's when locked, else the lock's only one, else every locked one."""
    from condauv.platforms import current_subdir

    for platform in requested:
        if platform not in locked:
            raise UserError(
                f"condauv.lock has no platform {validation.shown(platform, 40)} "
                f"(it is locked for: {', '.join(sorted(locked))})",
                hint="give one of those with --platform, or add it to [environment] platforms and lock",
            )
    if requested:
        return tuple(dict.fromkeys(requested))
    if one_per_file and current_subdir() in locked:
        return (current_subdir(),)
    return tuple(sorted(locked))


def per_platform_name(name: str, platform: str) -> str:
    """``environment.yml`` -> ``environment-linux-64.yml``: the platform before the suffix."""
    path = Path(name)
    return f"{path.stem}-{platform}{path.suffix}" if path.suffix else f"{name}-{platform}"


def single_line(value: str, what: str) -> str:
    """``value`` when no reader can split it into two lines (else a LockfileError): pip reads
    requirement files with ``str.splitlines`` (U+2028, U+0085, ...), YAML folds U+0085 in quotes."""
    from condauv.validation import check_text

    return check_text(value, what=what, error=LockfileError, hint=_HINT)


def _public_link(link: str) -> str:
    """A find-links entry as pip and uv both read it on an option line: URLs without credentials;
    a folder whose name pip would split (pip splits the line like a shell, `` #`` starts a
    comment) or misread as a URL becomes its ``file:`` URL, percent-encoded."""
    import shlex

    from condauv._process import strip_credentials

    if "://" in link:
        return strip_credentials(link)
    return link if shlex.quote(link) == link and "#" not in link else Path(link).as_uri()


def index_option_lines(manifest: Manifest) -> list[str]:
    """The manifest's ``[pypi-options]`` as requirement-file option lines, without credentials or
    index names (find-links folders are absolute already): what pip, uv and conda's pip: read."""
    options = manifest.pypi_options
    urls = options.public_index_urls()
    lines: list[str] = []
    for position, url in enumerate(urls):
        flag = "--index-url" if position == 0 and options.index_url else "--extra-index-url"
        lines.append(f"{flag} {url}")
    lines += [f"--find-links {_public_link(link)}" for link in options.find_links]
    if options.no_index:
        lines.append("--no-index")
    return [single_line(line, "[pypi-options]") for line in lines]


def conda_channels(manifest: Manifest) -> list[str]:
    """The manifest's channels as conda reads them: names stay names, URLs stay URLs (without
    credentials), folders become ``file://`` URLs (absolute: the file may be read elsewhere)."""
    from condauv._process import strip_credentials
    from condauv.conda.channels import channel_url

    out: list[str] = []
    for channel in manifest.environment.channels:
        spec = channel.strip().rstrip("/")
        if ("://" not in spec and spec.startswith((".", "/", "~"))) or spec.startswith("file://"):
            spec = channel_url(spec, manifest.root, must_exist=False)
        out.append(single_line(strip_credentials(spec), "[environment] channels"))
    return out


def platform_marker(platforms: Iterable[str]) -> str:
    """A PEP 508 marker true on exactly the given conda platforms (the table of
    :func:`condauv.platforms.marker_environment`: ``linux-64`` is linux on x86_64)."""
    from condauv.platforms import marker_environment

    parts = []
    for platform in sorted(set(platforms)):
        env = marker_environment("3", platform)
        parts.append(
            f'sys_platform == "{env["sys_platform"]}" and platform_machine == "{env["platform_machine"]}"'
        )
    return parts[0] if len(parts) == 1 else " or ".join(f"({part})" for part in parts)


# -- a small YAML emitter: block style, every scalar a string as every YAML reader reads it ----------

_PLAIN = re.compile(r"(?:--)?[A-Za-z_/][A-Za-z0-9_./=+@:<>!*,~ -]*")
_SPECIAL_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf"}

YamlValue = str | int | bool | None | Sequence["YamlValue"] | Mapping[str, "YamlValue"]


def yaml_scalar(value: str | int | bool | None) -> str:
    """One scalar: plain where YAML 1.1 and 1.2 readers both read the same string, else quoted."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    single_line(value, "a YAML value")
    plain = (
        _PLAIN.fullmatch(value) is not None
        and value == value.strip()
        and ": " not in value
        and " #" not in value
        and not value.endswith(":")
        and value.lower() not in _SPECIAL_WORDS
    )
    return value if plain else "'" + value.replace("'", "''") + "'"


def dump_yaml(document: Mapping[str, YamlValue]) -> str:
    """``document`` as block-style YAML: keys in the given order, lists indented under their key
    (conda's own layout: ``dependencies:`` then ``  - numpy``)."""
    return "\n".join(_mapping(document, 0)) + "\n"


def _is_scalar(value: YamlValue) -> bool:
    return value is None or isinstance(value, (str, int, bool))


def _inline(value: YamlValue) -> str:
    if isinstance(value, Mapping):
        return "{}"
    if not isinstance(value, (str, int, bool)) and value is not None:
        return "[]"
    return yaml_scalar(value)


def _mapping(document: Mapping[str, YamlValue], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for key, value in document.items():
        if _is_scalar(value) or not value:
            lines.append(f"{pad}{yaml_scalar(key)}: {_inline(value)}")
        else:
            lines.append(f"{pad}{yaml_scalar(key)}:")
            lines += _block(value, indent + 2)
    return lines


def _block(value: YamlValue, indent: int) -> list[str]:
    if isinstance(value, Mapping):
        return _mapping(value, indent)
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise TypeError("a block is a mapping or a list")
    pad = " " * indent
    lines: list[str] = []
    for item in value:
        if _is_scalar(item) or not item:
            lines.append(f"{pad}- {_inline(item)}")
        elif isinstance(item, Mapping):
            inner = _mapping(item, indent + 2)
            lines += [f"{pad}- {inner[0].lstrip()}", *inner[1:]]
        else:
            raise TypeError("a list directly inside a list is not written")
    return lines


def locked_python_spec(lock: Lock, platforms: Sequence[str]) -> str | None:
    """``==3.11.*`` for the lock's Python on ``platforms`` (``>=X.Y`` when their minors differ)."""
    minors = sorted(
        {tuple(int(p) for p in v.split(".")[:2]) for v in (lock.python_version(x) for x in platforms) if v}
    )
    if not minors:
        return None
    low = ".".join(str(p) for p in minors[0])
    return f"=={low}.*" if len(minors) == 1 else f">={low}"
