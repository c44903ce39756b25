"""condauv export: each format parsed back (ruamel, tomllib + packaging.pylock, a CEP 23 checker)
and compared with the lock; platform choice; file names; the CLI's refusals. Pure logic."""

from __future__ import annotations

import io
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import Marker
from packaging.pylock import Pylock

from condauv.errors import LockfileError, UserError
from condauv.export import FORMATS, destinations, export
from condauv.export._shared import dump_yaml, platform_marker, yaml_scalar
from condauv.export.explicit import dependency_order
from condauv.lock import Lock, parse_lock
from condauv.manifest import parse_manifest
from condauv.manifest.model import Manifest
from condauv.platforms import current_subdir, marker_environment
from tests.clirunner import CLI, RunResult

CF = "https://conda.anaconda.org/conda-forge"
FILES = "https://files.pythonhosted.org/packages/aa/bb"
HERE = current_subdir()
OTHER = "osx-arm64" if HERE != "osx-arm64" else "linux-64"


def _sha(n: int) -> str:
    return f"{n:064x}"


MANIFEST = """\
[environment]
name = "demo env"
python = "3.11.*"
channels = ["conda-forge", "https://user:secret@conda.example/private"]
platforms = [{platforms}]

[dependencies]
numpy = "*"
requests = "*"

[pypi-options]
index-url = "https://u:tok@pypi.example/simple"
find-links = ["./wheels"]
"""


def _conda(
    platform: str, name: str, version: str, build: str, depends: list[str], n: int, **extra: Any
) -> str:
    subdir = extra.pop("subdir", platform)
    rows = [
        "[[conda]]",
        f'platform = "{platform}"',
        f'name = "{name}"',
        f'version = "{version}"',
        f'build = "{build}"',
        f'subdir = "{subdir}"',
        f'channel = "{CF}/"',
        f'url = "{CF}/{subdir}/{name}-{version}-{build}.conda"',
        f'sha256 = "{_sha(n)}"',
        f"depends = {json.dumps(depends)}",
    ]
    rows += [f"{k} = {json.dumps(v)}" for k, v in extra.items()]
    return "\n".join(rows) + "\n"


def _pypi(platform: str, name: str, version: str, n: int, file: str | None = None) -> str:
    file = file or f"{name}-{version}-py3-none-any.whl"
    return (
        f'[[pypi]]\nplatform = "{platform}"\nname = "{name}"\nversion = "{version}"\n'
        f'url = "{FILES}/{file}"\nsha256 = "{_sha(n)}"\n'
    )


def _lock_text(platforms: tuple[str, ...], content_hash: str = "sha256:" + "0" * 64) -> str:
    body = [
        f'version = 1\ncontent-hash = "{content_hash}"\n[environment]\n'
        f'channels = ["{CF}"]\nplatforms = {json.dumps(sorted(platforms))}\n'
    ]
    for i, platform in enumerate(platforms):
        base = 100 * (i + 1)
        body += [
            # out of dependency order on purpose: numpy needs libblas and python
            _conda(
                platform,
                "numpy",
                "2.4.6",
                "py311_0",
                ["libblas >=3.9", "python >=3.11,<3.12.0a0", "__glibc >=2.17"],
                base + 1,
                md5="c" * 32,
                provides=["numpy==2.4.6"],
            ),
            _conda(platform, "libblas", "3.9.0", "h_0", [], base + 2, md5="d" * 32),
            _conda(platform, "python", "3.11.7", "h_cpython", ["libzlib >=1.3"], base + 3, md5="e" * 32),
            _conda(platform, "libzlib", "1.3.1", "h_1", [], base + 4, md5="f" * 32),
            _conda(
                platform,
                "pip",
                "24.2",
                "pyh_0",
                ["python >=3.8"],
                base + 5,
                subdir="noarch",
                noarch="python",
                md5="a" * 32,
            ),
            _pypi(platform, "requests", "2.32.3", 901),  # the same wheel on every platform
            _pypi(platform, "certifi", "2024.8.30", 902),
        ]
        if platform == "linux-64":
            body.append(
                _pypi(
                    platform, "linux-only", "1.0", 903, "linux_only-1.0-cp311-cp311-manylinux_2_28_x86_64.whl"
                )
            )
        else:
            body.append(
                _pypi(
                    platform,
                    "linux-only",
                    "1.0",
                    904 + i,
                    "linux_only-1.0-cp311-cp311-macosx_11_0_arm64.whl",
                )
            )
        if platform == OTHER:
            body.append(_pypi(platform, "other-only", "0.5", 905, "other_only-0.5.tar.gz"))
    return "".join(body)


def _manifest(folder: Path, platforms: tuple[str, ...]) -> Manifest:
    text = MANIFEST.format(platforms=", ".join(f'"{p}"' for p in platforms))
    return parse_manifest(text, folder / "condauv.toml")


BOTH = tuple(sorted({HERE, OTHER}))


@pytest.fixture
def lock() -> Lock:
    return parse_lock(_lock_text(BOTH))


@pytest.fixture
def manifest(tmp_path: Path) -> Manifest:
    return _manifest(tmp_path, BOTH)


def _yaml(text: str) -> Any:
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).load(io.StringIO(text))


# -- environment-yml -------------------------------------------------------------------------------


def test_environment_yml_pins_every_conda_build_and_every_pypi_version(
    lock: Lock, manifest: Manifest
) -> None:
    [doc] = export(lock, manifest, "environment-yml")
    assert (doc.platform, doc.file_name) == (HERE, "environment.yml")
    data = _yaml(doc.text)
    assert data["name"] == "demo env"
    # names stay names, URLs stay URLs, credentials never leave
    assert data["channels"] == ["conda-forge", "https://conda.example/private"]
    *conda, pip = data["dependencies"]
    assert conda == sorted(f"{p.name}={p.version}={p.build}" for p in lock.conda_for(HERE))
    wheels = str((manifest.root / "wheels").resolve())
    assert pip["pip"][:2] == ["--index-url https://pypi.example/simple", f"--find-links {wheels}"]
    assert pip["pip"][2:] == sorted(f"{p.name}=={p.version}" for p in lock.pypi_for(HERE))
    assert "secret" not in doc.text and "tok" not in doc.text
    assert any("no hashes" in note for note in doc.notes)
    assert not any("needs pip" in note for note in doc.notes)  # the lock has a conda pip


def test_environment_yml_says_when_conda_env_create_lacks_pip(manifest: Manifest) -> None:
    text = _lock_text(BOTH)
    text = re.sub(r'\[\[conda\]\]\nplatform = "[^"]+"\nname = "pip"\n(?:[^\[].*\n)*', "", text)
    [doc] = export(parse_lock(text), manifest, "environment-yml")
    assert any("conda env create` needs pip" in note for note in doc.notes)


@pytest.mark.parametrize(
    "value",
    [
        "yes",
        "No",
        "3.10",
        "1e3",
        "null",
        "~",
        "-x",
        "a: b",
        "x #c",
        "'q'",
        "*a",
        ">=1",
        "on",
        "@x",
        "%x",
        "!x",
        "",
        " pad",
    ],
)
def test_yaml_scalars_read_back_as_the_same_string(value: str) -> None:
    assert _yaml(dump_yaml({"k": value, "l": [value, {"m": [value]}]})) == {
        "k": value,
        "l": [value, {"m": [value]}],
    }
    assert _yaml(f"v: {yaml_scalar(value)}\n")["v"] == value


def test_yaml_refuses_a_line_break() -> None:
    with pytest.raises(LockfileError):
        yaml_scalar("numpy\n- evil")


# -- requirements ----------------------------------------------------------------------------------

_REQ = re.compile(r"(?P<name>[a-z0-9-]+)==(?P<version>\S+) \\\n    --hash=sha256:(?P<sha>[0-9a-f]{64})\n")


def test_requirements_pin_and_hash_every_pypi_artifact(lock: Lock, manifest: Manifest) -> None:
    [doc] = export(lock, manifest, "requirements", [OTHER])
    assert (doc.platform, doc.file_name) == (OTHER, "requirements-uv.txt")
    body = "".join(line + "\n" for line in doc.text.splitlines() if not line.startswith(("#", "--")))
    found = [m.groupdict() for m in _REQ.finditer(body)]
    assert "".join(m[0] for m in _REQ.finditer(body)) == body  # nothing else in the file
    assert found == [
        {"name": p.name, "version": p.version, "sha": p.sha256}
        for p in sorted(lock.pypi_for(OTHER), key=lambda p: p.name)
    ]
    options = [line for line in doc.text.splitlines() if line.startswith("--")]
    assert options == [
        "--index-url https://pypi.example/simple",
        f"--find-links {(manifest.root / 'wheels').resolve()}",
    ]


def test_requirements_note_an_empty_pypi_side(manifest: Manifest) -> None:
    text = _lock_text(BOTH).split("[[pypi]]")[0]
    [doc] = export(parse_lock(text), manifest, "requirements")
    assert any("no PyPI packages" in note for note in doc.notes)


# -- explicit (CEP 23) -----------------------------------------------------------------------------

#: CEP 23's line regex, exactly as the CEP gives it.
_CEP23 = re.compile(
    r"(?:(?P<url_p>.+)(?:[/\\]))?(?P<fn>[^/\\#]+(?:\.tar\.bz2|\.conda))"
    r"(?:#((?P<md5>[0-9a-f]{32})|((sha256:)?(?P<sha256>[0-9a-f]{64}))))?$"
)


def _cep23(text: str) -> tuple[str | None, list[tuple[str, str]]]:
    """(platform comment, [(url, sha256)]) of an explicit file, every line checked against CEP 23."""
    platform = None
    explicit = False
    entries: list[tuple[str, str]] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            if stripped.startswith("# platform: "):
                platform = stripped.removeprefix("# platform: ")
            continue
        if stripped == "@EXPLICIT":
            assert not explicit and not entries, "one @EXPLICIT, before the URLs"
            explicit = True
            continue
        assert explicit, f"a package line before @EXPLICIT: {line}"
        found = _CEP23.fullmatch(stripped)
        assert found is not None and found["sha256"], f"not a CEP 23 line with a sha256: {line}"
        entries.append((stripped.split("#", 1)[0], found["sha256"]))
    assert explicit
    return platform, entries


def test_explicit_is_cep23_in_dependency_order(lock: Lock, manifest: Manifest) -> None:
    [doc] = export(lock, manifest, "explicit")
    platform, entries = _cep23(doc.text)
    assert platform == HERE
    locked = {p.url: p for p in lock.conda_for(HERE)}
    assert dict(entries) == {url: p.sha256 for url, p in locked.items()}
    position = {locked[url].name: i for i, (url, _) in enumerate(entries)}
    for package in locked.values():  # each after what it depends on
        for dep in package.depends:
            name = dep.split()[0]
            if name in position:
                assert position[name] < position[package.name], (dep, package.name)
    assert [locked[u].name for u, _ in entries] == ["libblas", "libzlib", "python", "numpy", "pip"]
    assert any("certifi==2024.8.30" in note and "left out" in note for note in doc.notes)


def test_dependency_order_survives_a_cycle(lock: Lock) -> None:
    from dataclasses import replace

    a, b, *_ = lock.conda_for(HERE)
    cyclic = [replace(a, depends=(b.name,)), replace(b, depends=(a.name,))]
    assert sorted(p.name for p in dependency_order(cyclic)) == sorted([a.name, b.name])


# -- pylock (PEP 751) ------------------------------------------------------------------------------


def test_pylock_one_file_for_every_platform_with_markers(lock: Lock, manifest: Manifest) -> None:
    [doc] = export(lock, manifest, "pylock")
    assert (doc.platform, doc.file_name) == (None, "pylock.toml")
    raw = tomllib.loads(doc.text)
    model = Pylock.from_dict(raw)  # valid PEP 751
    assert str(model.requires_python) == "==3.11.*"
    by_name: dict[str, list[Any]] = {}
    for package in model.packages:
        by_name.setdefault(package.name, []).append(package)
    requests, certifi = by_name["requests"][0], by_name["certifi"][0]
    assert requests.marker is None and certifi.marker is None  # on every platform: no marker
    assert [w.url for w in requests.wheels or []] == [
        f"{FILES}/requests-2.32.3-py3-none-any.whl"
    ]  # deduplicated
    assert dict((requests.wheels or [])[0].hashes) == {"sha256": _sha(901)}
    # one release, two platform wheels: no marker, both wheels
    assert len(by_name["linux-only"]) == 1 and by_name["linux-only"][0].marker is None
    assert len(by_name["linux-only"][0].wheels or []) == 2
    [other] = by_name["other-only"]
    assert other.sdist is not None and other.sdist.url == f"{FILES}/other_only-0.5.tar.gz"
    assert other.marker is not None
    for platform in BOTH:
        env = marker_environment("3.11.7", platform)
        assert other.marker.evaluate(env) is (platform == OTHER)
        assert any(Marker(str(e)).evaluate(env) for e in model.environments or [])
    locked = {(p.name, p.version, p.url, p.sha256) for p in lock.pypi}
    written = {
        (p.name, str(p.version), w.url, w.hashes["sha256"]) for p in model.packages for w in p.wheels or ()
    }
    written |= {
        (p.name, str(p.version), p.sdist.url, p.sdist.hashes["sha256"]) for p in model.packages if p.sdist
    }
    assert written == locked
    assert doc.text == export(lock, manifest, "pylock")[0].text  # deterministic


@pytest.mark.parametrize(
    ("platform", "env"),
    [
        ("linux-64", ("linux", "x86_64")),
        ("linux-aarch64", ("linux", "aarch64")),
        ("osx-64", ("darwin", "x86_64")),
        ("osx-arm64", ("darwin", "arm64")),
        ("win-64", ("win32", "AMD64")),
    ],
)
def test_platform_markers(platform: str, env: tuple[str, str]) -> None:
    assert platform_marker([platform]) == f'sys_platform == "{env[0]}" and platform_machine == "{env[1]}"'


def test_pylock_one_platform_has_no_markers(lock: Lock, manifest: Manifest) -> None:
    [doc] = export(lock, manifest, "pylock", [HERE])
    model = Pylock.from_dict(tomllib.loads(doc.text))
    assert all(p.marker is None for p in model.packages)
    assert {p.name for p in model.packages} == {p.name for p in lock.pypi_for(HERE)}


def test_pylock_notes_a_name_uv_does_not_read_as_pylock(lock: Lock, manifest: Manifest) -> None:
    [doc] = export(lock, manifest, "pylock", output_name="locked.toml")
    assert any("pylock.NAME.toml" in note for note in doc.notes)


# -- conda-lock ------------------------------------------------------------------------------------


def test_conda_lock_v1_holds_both_managers_on_every_platform(lock: Lock, manifest: Manifest) -> None:
    [doc] = export(lock, manifest, "conda-lock")
    data = _yaml(doc.text)
    assert data["version"] == 1
    meta = data["metadata"]
    assert meta["platforms"] == list(BOTH)
    assert set(meta["content_hash"]) == set(BOTH)
    assert meta["channels"] == [
        {"url": "conda-forge", "used_env_vars": []},
        {"url": "https://conda.example/private", "used_env_vars": []},
    ]
    seen = set()
    for entry in data["package"]:
        assert entry["category"] == "main" and entry["optional"] is False
        seen.add(
            (
                entry["manager"],
                entry["platform"],
                entry["name"],
                entry["version"],
                entry["url"],
                entry["hash"]["sha256"],
            )
        )
        if entry["manager"] == "conda":
            assert entry["hash"]["md5"]
            if entry["name"] == "numpy":
                assert entry["dependencies"] == {"libblas": ">=3.9", "python": ">=3.11,<3.12.0a0"}
        else:
            assert entry["dependencies"] == {}
    expected = {("conda", p.platform, p.name, p.version, p.url, p.sha256) for p in lock.conda}
    expected |= {("pip", p.platform, p.name, p.version, p.url, p.sha256) for p in lock.pypi}
    assert seen == expected
    assert any("no PyPI dependency lists" in note for note in doc.notes)


@pytest.mark.parametrize(
    ("spec", "name", "rest"),
    [
        ("libblas >=3.9.0 *openblas", "libblas", ">=3.9.0 *openblas"),  # the build stays
        ("python_abi 3.11.* *_cp311", "python_abi", "3.11.* *_cp311"),
        ("conda-forge::numpy >=1.26", "numpy", ">=1.26"),  # a channel prefix is no part of the name
        ("libzlib", "libzlib", "*"),
        ("zstd>=1.5", "zstd", ">=1.5"),
    ],
)
def test_conda_lock_dependencies_keep_the_whole_spec(spec: str, name: str, rest: str) -> None:
    from condauv.export.condalock import _dependencies
    from condauv.lock.model import CondaPackage

    package = CondaPackage(
        platform=HERE,
        name="thing",
        version="1",
        build="0",
        build_number=0,
        subdir=HERE,
        channel="conda-forge",
        url="https://conda.example/thing-1-0.conda",
        sha256="0" * 64,
        depends=(spec, "__glibc >=2.17"),
    )
    assert _dependencies(package) == {name: rest}


# -- platforms and file names ----------------------------------------------------------------------


def test_several_platforms_one_file_each_named_by_platform(
    lock: Lock, manifest: Manifest, tmp_path: Path
) -> None:
    documents = export(lock, manifest, "environment-yml", list(BOTH))
    assert [d.platform for d in documents] == list(BOTH)
    assert [d.file_name for d in documents] == [f"environment-{p}.yml" for p in BOTH]
    paths = destinations(documents, tmp_path / "env.yml")
    assert paths == [tmp_path / f"env-{p}.yml" for p in BOTH]
    with pytest.raises(UserError) as info:
        destinations(documents, None)
    assert "-o" in (info.value.hint or "")


def test_default_platform_is_this_machine_then_the_only_one_then_all(manifest: Manifest) -> None:
    assert [d.platform for d in export(parse_lock(_lock_text(BOTH)), manifest, "explicit")] == [HERE]
    only_other = parse_lock(_lock_text((OTHER,)))
    assert [d.platform for d in export(only_other, manifest, "explicit")] == [OTHER]
    third = "win-64"
    two_others = parse_lock(
        _lock_text((OTHER, third)) if third != HERE else _lock_text((OTHER, "linux-aarch64"))
    )
    assert len(export(two_others, manifest, "requirements")) == 2


def test_a_platform_the_lock_lacks_names_the_locked_ones(lock: Lock, manifest: Manifest) -> None:
    with pytest.raises(UserError) as info:
        export(lock, manifest, "pylock", ["win-32"])
    assert "no platform 'win-32'" in info.value.message and ", ".join(BOTH) in info.value.message


def test_formats_are_the_documented_ones() -> None:
    assert FORMATS == ("environment-yml", "requirements", "explicit", "pylock", "conda-lock")


# -- the CLI ---------------------------------------------------------------------------------------


def _project(folder: Path, platforms: tuple[str, ...], *, with_lock: bool = True) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "wheels").mkdir(exist_ok=True)
    text = MANIFEST.format(platforms=", ".join(f'"{p}"' for p in platforms))
    text = text.replace('index-url = "https://u:tok@pypi.example/simple"\n', "")
    (folder / "condauv.toml").write_text(text)
    manifest = parse_manifest(text, folder / "condauv.toml")
    if with_lock:
        lock = _lock_text(platforms, manifest.content_hash()).replace(
            FILES, "https://files.pythonhosted.org/packages/aa/bb"
        )
        (folder / "condauv.lock").write_text(lock)
    return folder


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _assert_user_error(result: RunResult, fragment: str) -> None:
    assert result.exit_code == 2, result
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and fragment in lines[0], result.stderr
    assert len(lines) == 2 and lines[1].startswith("hint: "), result.stderr
    assert result.stdout == ""


def test_cli_writes_to_stdout_and_notes_to_stderr(cli: CLI, tmp_path: Path) -> None:
    folder = _project(tmp_path / "p", BOTH)
    result = cli("export", "--format", "explicit", cwd=folder)
    assert result.exit_code == 0, result.stderr
    assert _cep23(result.stdout)[0] == HERE
    assert "note: an explicit file holds conda packages only" in result.stderr


def test_cli_writes_one_file_per_platform_with_o_and_json_lists_them(cli: CLI, tmp_path: Path) -> None:
    folder = _project(tmp_path / "p", BOTH)
    result = cli(
        "export",
        "--format",
        "requirements",
        "--platform",
        BOTH[0],
        "--platform",
        BOTH[1],
        "-o",
        "out/req.txt",
        "--json",
        cwd=folder,
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [f["path"] for f in data["files"]] == [str(folder / "out" / f"req-{p}.txt") for p in BOTH]
    assert data["notes"] and all((folder / "out" / f"req-{p}.txt").is_file() for p in BOTH)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--format", "yaml"], "invalid choice: 'yaml'"),
        (["--format", "pylock", "--platform", "win-32"], "no platform 'win-32'"),
        (["--format", "explicit", "--platform", "linux-64", "--platform", "osx-arm64"], "holds one platform"),
    ],
)
def test_cli_refuses_bad_flags_and_writes_nothing(
    cli: CLI, tmp_path: Path, args: list[str], fragment: str
) -> None:
    folder = _project(tmp_path / "p", ("linux-64", "osx-arm64"))
    before = _files(folder)
    _assert_user_error(cli("export", *args, cwd=folder), fragment)
    _assert_user_error(cli("export", *args, "--frozen", cwd=folder), fragment)
    assert _files(folder) == before


def test_cli_refuses_a_folder_as_output(cli: CLI, tmp_path: Path) -> None:
    folder = _project(tmp_path / "p", BOTH)
    before = _files(folder)
    _assert_user_error(cli("export", "--format", "pylock", "-o", "wheels", cwd=folder), "is a folder")
    assert _files(folder) == before


def test_cli_frozen_without_a_lock_is_refused(cli: CLI, tmp_path: Path) -> None:
    folder = _project(tmp_path / "p", BOTH, with_lock=False)
    before = _files(folder)
    _assert_user_error(cli("export", "--format", "pylock", "--frozen", cwd=folder), "no condauv.lock")
    assert _files(folder) == before


def test_cli_several_platforms_without_o_is_refused_before_locking(cli: CLI, tmp_path: Path) -> None:
    others = (
        ("linux-aarch64", "win-64") if HERE not in ("linux-aarch64", "win-64") else ("osx-64", "osx-arm64")
    )
    folder = _project(tmp_path / "p", others, with_lock=False)
    before = _files(folder)
    _assert_user_error(cli("export", "--format", "environment-yml", cwd=folder), "holds one platform")
    assert _files(folder) == before  # nothing locked, nothing written


def test_cli_refuses_a_lock_from_foreign_sources(cli: CLI, tmp_path: Path) -> None:
    folder = _project(tmp_path / "p", BOTH)
    lock = folder / "condauv.lock"
    lock.write_text(
        lock.read_text().replace("https://files.pythonhosted.org/packages/aa/bb", "https://evil.example/x")
    )
    _assert_user_error(
        cli("export", "--format", "requirements", "--frozen", cwd=folder), "is not on an index"
    )
