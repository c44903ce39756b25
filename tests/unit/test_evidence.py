"""PyPI evidence: sorting an index's files into kinds, the decisions it drives, the transitive view."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from condauv.classification import decide
from condauv.classification.policy import CHANNEL_HELD
from condauv.classification.transitive import dependency_view
from condauv.manifest.model import PypiOptions, Requested
from condauv.platforms import marker_environment
from condauv.pypi import evidence
from condauv.pypi.evidence import PlatformEvidence, PypiEvidence, PypiSources, gather_evidence
from condauv.pypi.index import ProjectFile, _from_html
from tests.helpers.index import IndexFactory, index_entry, serve_index


def _files(*names: str, requires_python: str = "") -> list[ProjectFile]:
    return [ProjectFile(n, f"https://example.invalid/{n}", requires_python=requires_python) for n in names]


def _kind(files: list[ProjectFile], subdir: str = "linux-64", spec: str = "") -> PlatformEvidence:
    return evidence._evaluate(files, SpecifierSet(spec), (3, 11), subdir)


def test_pure_platform_and_missing_wheels() -> None:
    assert _kind(_files("demo-1.0-py3-none-any.whl", "demo-1.0.tar.gz")).kind == "pure"
    binary = _files(
        "demo-2.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "demo-2.0-cp311-cp311-win_amd64.whl",
        "demo-2.0.tar.gz",
    )
    assert _kind(binary).kind == "platform"
    assert _kind(binary).wheel.startswith("demo-2.0-cp311-cp311-manylinux")
    missing = _kind(binary, "osx-arm64")
    assert (missing.kind, missing.version) == ("no-wheel", "2.0")
    assert _kind(_files("demo-3.0.tar.gz")).kind == "sdist-only"
    assert _kind([]).kind == "not-on-pypi"


def test_newest_release_the_target_python_admits() -> None:
    files = [
        *_files("demo-1.0-py3-none-any.whl"),
        *_files("demo-2.0-cp312-cp312-manylinux_2_17_x86_64.whl", requires_python=">=3.12"),
        *_files("demo-3.0rc1-py3-none-any.whl"),
        ProjectFile("demo-2.5-py3-none-any.whl", "https://example.invalid/x", yanked=True),
    ]
    chosen = _kind(files)
    assert (chosen.kind, chosen.version) == ("pure", "1.0")  # 2.0 needs 3.12, 2.5 yanked, 3.0rc1 pre
    assert _kind(files, spec="<1").version == "1.0"  # nothing matches: the project's newest is judged


def test_the_worst_platform_decides() -> None:
    both = PypiEvidence(
        "demo",
        (PlatformEvidence("linux-64", "platform", "1", "w"), PlatformEvidence("osx-arm64", "no-wheel", "1")),
        "test",
    )
    assert both.kind == "no-wheel"


def _entry(name: str) -> Requested:
    return Requested(name=name, spec="", table="dependencies")


def _evidence(kind: str) -> PypiEvidence:
    return PypiEvidence("demo", (PlatformEvidence("linux-64", kind, "1.0", "demo.whl"),), "test")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "in_channels", "manager", "words"),
    [
        ("pure", set(), "pypi", "pure-Python wheel"),
        ("pure", None, "pypi", "pure-Python wheel"),  # offline: the index cache decides
        ("platform", set(), "pypi", "self-contained wheels for linux-64"),
        ("sdist-only", set(), "pypi", "uv will build it from source"),
        ("no-wheel", set(), "pypi", "the conda channels do not have it; uv will build it from source"),
        ("not-on-pypi", set(), "conda", "never sent to PyPI"),
        ("not-on-pypi", None, "conda", "never sent to PyPI"),
    ],
)
def test_evidence_decides_what_knowledge_leaves_open(
    kind: str, in_channels: set[str] | None, manager: str, words: str
) -> None:
    decision = decide(_entry("demo"), in_channels=in_channels, pypi=_evidence(kind))
    assert decision.manager == manager
    assert words in decision.reason
    assert any(line.startswith("package index, linux-64:") for line in decision.trace)


@pytest.mark.parametrize("kind", ["pure", "platform", "sdist-only", "no-wheel", "not-on-pypi", None])
def test_a_name_the_channels_hold_is_conda_whatever_an_index_says(kind: str | None) -> None:
    # dependency confusion: the index is not asked about it, and its word would not count
    decision = decide(_entry("demo"), in_channels={"demo"}, pypi=_evidence(kind) if kind else None)
    assert (decision.manager, decision.reason) == ("conda", f"[dependencies]: {CHANNEL_HELD}")
    assert decision.trace[-3:] == (
        "conda channels: they have 'demo'",
        "package index: not asked (a name the channels hold is never looked up on an index)",
        f"=> conda: [dependencies]: {CHANNEL_HELD}",
    )


def test_knowledge_beats_evidence() -> None:
    assert decide(_entry("numpy"), in_channels=set(), pypi=_evidence("pure")).manager == "conda"


def test_dependency_view_evaluates_markers_and_extras() -> None:
    requires = [
        "numpy>=1.26",
        "pyyaml",
        "pywin32; sys_platform == 'win32'",
        "tomli; python_version < '3.11'",
        "rich; extra == 'cli'",
        "scipy",
    ]
    provides = {"numpy": "numpy 2.1.0 (condauv.lock)"}
    view = dependency_view(requires, extras=(), python="3.11", subdir="linux-64", conda_provides=provides)
    assert [v.name for v in view] == ["numpy", "pyyaml", "scipy"]
    assert view[0].conda_package == "numpy 2.1.0 (condauv.lock)"
    assert view[1].note == "uv installs it from PyPI"
    assert "built-in knowledge prefers conda" in view[2].note
    with_cli = dependency_view(requires, extras=("cli",), python="3.10", subdir="win-64", conda_provides={})
    assert {"pywin32", "tomli", "rich"} <= {v.name for v in with_cli}


def test_marker_environment_for_a_target() -> None:
    env = marker_environment("3.11.7", "osx-arm64")
    assert (env["python_version"], env["sys_platform"], env["platform_machine"]) == (
        "3.11",
        "darwin",
        "arm64",
    )
    assert marker_environment("3.12", "win-64")["os_name"] == "nt"


def test_html_project_pages_are_read() -> None:
    page = """<html><body>
    <a href="../../files/demo-1.0-py3-none-any.whl#sha256=abc" data-requires-python="&gt;=3.8">x</a>
    <a href="https://cdn.example/demo-0.9.tar.gz" data-yanked="">y</a>
    </body></html>"""
    files = _from_html("https://index.example/simple/demo/", page)
    assert files[0].filename == "demo-1.0-py3-none-any.whl"
    assert (files[0].sha256, files[0].requires_python) == ("abc", ">=3.8")
    assert files[0].url == "https://index.example/files/demo-1.0-py3-none-any.whl"
    assert files[1].yanked


@pytest.fixture
def index() -> Iterator[IndexFactory]:
    with serve_index() as factory:
        yield factory


def test_pages_are_cached_and_offline_reads_the_cache(
    index: IndexFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONDAUV_CACHE_DIR", str(tmp_path / "cache"))
    server = index(
        {
            "demo": [index_entry(f"demo-{v}-py3-none-any.whl", b"x") for v in range(1, 30)],
            "other": [index_entry("other-1.0.tar.gz", b"y")],
        },
        {},
    )
    sources = PypiSources(index_urls=(server.url,))
    ask = {"demo": "", "other": "", "missing": ""}
    first = gather_evidence(ask, sources=sources, python=(3, 11), subdirs=("linux-64",), offline=False)
    assert {k: v.kind for k, v in first.items()} == {
        "demo": "pure",
        "other": "sdist-only",
        "missing": "not-on-pypi",
    }
    assert first["demo"].version == "29"
    cached = next((tmp_path / "cache" / "pypi-simple").glob("*/demo.json"))
    assert len(json.loads(cached.read_text())["files"]) == evidence.KEEP_VERSIONS  # compact
    requests = server.page_requests
    again = gather_evidence(ask, sources=sources, python=(3, 11), subdirs=("linux-64",), offline=True)
    assert server.page_requests == requests  # offline: the cache alone
    assert {k: v.kind for k, v in again.items()} == {k: v.kind for k, v in first.items()}
    assert "cached" in again["demo"].source
    monkeypatch.setattr(evidence, "FRESH_S", 0.0)  # stale: a conditional request, answered 304
    gather_evidence({"demo": ""}, sources=sources, python=(3, 11), subdirs=("linux-64",), offline=False)
    assert server.page_requests == requests + 1
    nothing = gather_evidence(
        {"new": ""}, sources=sources, python=(3, 11), subdirs=("linux-64",), offline=True
    )
    assert nothing == {}  # not cached: not consulted, which is not "not on PyPI"


def test_find_links_folders_are_evidence(tmp_path: Path) -> None:
    (tmp_path / "demo_pkg-1.0-py3-none-any.whl").write_bytes(b"")
    sources = PypiSources.from_options(PypiOptions(find_links=(str(tmp_path),), no_index=True), tmp_path)
    found = gather_evidence(
        {"demo-pkg": "", "absent": ""}, sources=sources, python=(3, 11), subdirs=("linux-64",), offline=True
    )
    assert found["demo-pkg"].kind == "pure"
    assert found["absent"].kind == "not-on-pypi"


def test_the_target_glibc_decides_which_linux_wheels_fit() -> None:
    new = _files("fast-1.0-cp311-cp311-manylinux_2_34_x86_64.whl")
    assert _kind(new).kind == "no-wheel"  # the default target, glibc 2.28, cannot run it
    newer = evidence._evaluate(new, SpecifierSet(), (3, 11), "linux-64", glibc="2.35")
    assert (newer.kind, newer.wheel) == ("platform", new[0].filename)
    old = _files("slow-1.0-cp311-cp311-manylinux_2_28_x86_64.whl")
    assert evidence._evaluate(old, SpecifierSet(), (3, 11), "linux-64", glibc="2.17").kind == "no-wheel"


def test_evidence_is_gathered_and_cached_per_target_glibc(
    index: IndexFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONDAUV_CACHE_DIR", str(tmp_path / "cache"))
    server = index({"fast": [index_entry("fast-1.0-cp311-cp311-manylinux_2_34_x86_64.whl", b"x")]}, {})
    sources = PypiSources(index_urls=(server.url,))
    ask = {"fast": ""}
    default = gather_evidence(ask, sources=sources, python=(3, 11), subdirs=("linux-64",), offline=False)
    assert default["fast"].kind == "no-wheel"
    # the verdict cached for glibc 2.28 does not answer for glibc 2.35
    newer = gather_evidence(
        ask, sources=sources, python=(3, 11), subdirs=("linux-64",), offline=False, glibc="2.35"
    )
    assert newer["fast"].kind == "platform"


def test_the_manifest_glibc_reaches_the_evidence_scope(tmp_path: Path) -> None:
    from condauv.classification.classify import scope_of
    from condauv.manifest.model import load_manifest

    (tmp_path / "condauv.toml").write_text(
        '[environment]\nname = "x"\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n'
        '[system-requirements]\nglibc = "2.17"\n',
        encoding="utf-8",
    )
    assert scope_of(load_manifest(tmp_path / "condauv.toml")).glibc == "2.17"
    assert scope_of(None).glibc is None
