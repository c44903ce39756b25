"""condauv's PEP 751 writer (condauv.pypi.pylock) against packaging's model dumped by tomli-w:
the same text, byte for byte, and the same refusals. Pure logic, pinned inputs."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from typing import Any

import pytest
import tomli_w
from packaging.markers import Marker
from packaging.pylock import Package, PackageSdist, PackageWheel, Pylock, PylockValidationError
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from condauv.errors import LockfileError
from condauv.lock.model import PypiPackage
from condauv.pypi.pylock import build_pylock, pylock_text

FILES = "https://files.example/packages"
SHA = "a" * 64


def _artifact(name: str, version: str, file: str, sha: str = SHA, url: str = FILES) -> PypiPackage:
    return PypiPackage(platform="linux-64", name=name, version=version, url=f"{url}/{file}", sha256=sha)


def _reference(
    releases: Sequence[tuple[Sequence[PypiPackage], str | None]],
    requires_python: str | None = None,
    environments: Sequence[str] = (),
) -> str:
    """The text the writer gave before it wrote text itself: packaging's model, validated,
    dumped by tomli-w."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict) or hasattr(value, "items"):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value

    packages = []
    for artifacts, marker in releases:
        wheels: dict[str, PackageWheel] = {}
        sdist = None
        for a in artifacts:
            if a.url.endswith(".whl"):
                wheels.setdefault(a.url, PackageWheel(url=a.url, hashes={"sha256": a.sha256}))
            else:
                sdist = PackageSdist(url=a.url, hashes={"sha256": a.sha256})
        packages.append(
            Package(
                name=canonicalize_name(artifacts[0].name),
                version=Version(artifacts[0].version),
                marker=Marker(marker) if marker else None,
                sdist=sdist,
                wheels=list(wheels.values()) or None,
            )
        )
    document = Pylock(
        lock_version=Version("1.0"),
        environments=[Marker(e) for e in environments] or None,
        requires_python=SpecifierSet(requires_python) if requires_python else None,
        created_by="condauv",
        packages=packages,
    )
    document.validate()
    return tomli_w.dumps(plain(document.to_dict()))


SIX = _artifact("six", "1.17.0", "six-1.17.0-py2.py3-none-any.whl")
SIX_SDIST = _artifact("six", "1.17.0", "six-1.17.0.tar.gz", "b" * 64)
CASES: list[tuple[list[tuple[list[PypiPackage], str | None]], str | None, list[str]]] = [
    ([], None, []),
    ([([SIX], None)], None, []),
    ([([SIX, SIX, SIX_SDIST], "sys_platform == 'linux'")], "<3.12,>=3.11", ['sys_platform == "linux"']),
    (
        [
            (
                [
                    _artifact(
                        "Zope.Interface", "7.0.0-rc1", "zope.interface-7.0.0rc1-cp311-cp311-linux_x86_64.whl"
                    )
                ],
                None,
            ),
            (
                [_artifact("my_pkg", "1.0", "my_pkg-1.0-py3-none-any.whl", url="file:///tmp/a%20b/c%22d")],
                None,
            ),
            (
                [_artifact("tqdm", "4.66.5", "tqdm-4.66.5.tar.gz")],
                'platform_machine == "x86_64" and os_name == "posix"',
            ),
        ],
        "==3.11.*",
        ["sys_platform == 'linux'", "sys_platform == 'darwin' and platform_machine == 'arm64'"],
    ),
]


@pytest.mark.parametrize(("releases", "requires_python", "environments"), CASES)
def test_the_text_is_packagings_model_dumped_by_tomli_w(
    releases: list[tuple[list[PypiPackage], str | None]], requires_python: str | None, environments: list[str]
) -> None:
    text = pylock_text(build_pylock(releases, requires_python=requires_python, environments=environments))
    assert text == _reference(releases, requires_python, environments)
    Pylock.from_dict(tomllib.loads(text)).validate()


@pytest.mark.parametrize(
    ("artifact", "fragment"),
    [
        (
            _artifact("six", "1.17.0", "other-1.17.0-py3-none-any.whl"),
            "Name in 'other-1.17.0-py3-none-any.whl'",
        ),
        (
            _artifact("six", "1.17.0", "six-1.16.0-py3-none-any.whl"),
            "Version in 'six-1.16.0-py3-none-any.whl'",
        ),
        (_artifact("six", "1.17.0", "six.whl"), "Invalid wheel filename 'six.whl'"),
        (_artifact("six", "1.17.0", "main.tar.gz"), "Invalid sdist filename 'main.tar.gz'"),
        (_artifact("six", "1.17.0", "six-1.16.tar.gz"), "Version in 'six-1.16.tar.gz'"),
    ],
)
def test_what_packagings_model_refuses_is_refused(artifact: PypiPackage, fragment: str) -> None:
    with pytest.raises(PylockValidationError):
        _reference([([artifact], None)])
    with pytest.raises(LockfileError, match="not valid PEP 751") as caught:
        build_pylock([([artifact], None)])
    assert fragment in caught.value.message


def test_a_control_character_is_escaped_as_tomli_w_escapes_it() -> None:
    from condauv.pypi.pylock import _string

    value = 'a"b\\c\x00\x08\t\n\x0c\r\x1f\x7f\u00e9'
    assert _string(value) == tomli_w.dumps({"k": value})[len("k = ") : -1]
    assert tomllib.loads(f"k = {_string(value)}")["k"] == value
