"""The dependency tree from a lock (pure logic) and the lock's ``requires`` field it reads."""

from __future__ import annotations

import pytest

from condauv.cli.render.tree import node_label
from condauv.errors import LockfileError, UserError
from condauv.lock import CondaPackage, Lock, PypiPackage, parse_lock
from condauv.lock.tree import TreeNode, dependency_tree
from condauv.pypi.resolve import requires_from_parents

SHA = "a" * 64
P = "linux-64"


def _conda(
    name: str, version: str, *depends: str, provides: tuple[str, ...] = (), requested: str | None = None
) -> CondaPackage:
    return CondaPackage(
        platform=P,
        name=name,
        version=version,
        build="h_0",
        build_number=0,
        subdir=P,
        channel="file:///chan/",
        url=f"file:///chan/{P}/{name}-{version}-h_0.conda",
        sha256=SHA,
        depends=depends,
        provides=provides,
        requested=requested,
    )


def _pypi(name: str, version: str, *requires: str, requested: str | None = None) -> PypiPackage:
    return PypiPackage(
        platform=P,
        name=name,
        version=version,
        url=f"https://files.example/{name.replace('-', '_')}-{version}-py3-none-any.whl",
        sha256=SHA,
        requires=requires,
        requested=requested,
    )


def _lock() -> Lock:
    return Lock(
        content_hash="sha256:x",
        channels=("file:///chan",),
        platforms=(P,),
        conda=(
            _conda("python", "3.11.7", "libzlib >=1", "__glibc >=2.17", requested="3.11.*"),
            _conda("libzlib", "1.3"),
            _conda("pytorch", "2.5.1", "python >=3.11", "libzlib", provides=("torch==2.5.1",), requested="*"),
            _conda("cyc-a", "1", "cyc-b"),
            _conda("cyc-b", "1", "cyc-a", "gone >=1"),
        ),
        pypi=(
            _pypi("transformers", "4.40.0", "requests", "torch", requested="*"),
            _pypi("requests", "2.32.3", "idna"),
            _pypi("idna", "3.10"),
        ),
    )


def _render(nodes: list[TreeNode], indent: str = "", *, inverted: bool = False) -> list[str]:
    lines = []
    for node in nodes:
        lines.append(f"{indent}{node_label(node, inverted=inverted)}")
        lines += _render(list(node.children), indent + "  ", inverted=inverted)
    return lines


def test_requires_round_trip_and_old_locks_read_without_it() -> None:
    lock = _lock()
    text = lock.to_toml()
    assert 'requires = ["requests", "torch"]' in text
    again = parse_lock(text)
    assert again.to_toml() == text
    assert {p.name: p.requires for p in again.pypi} == {p.name: p.requires for p in lock.pypi}
    old = text.replace('requires = ["requests", "torch"]\n', "").replace('requires = ["idna"]\n', "")
    assert all(p.requires == () for p in parse_lock(old).pypi)


def test_a_requires_item_that_is_no_pypi_name_is_refused() -> None:
    text = _lock().to_toml().replace('requires = ["idna"]', 'requires = ["../x"]')
    with pytest.raises(LockfileError, match=r"requires\[0\]"):
        parse_lock(text)


def test_requires_are_the_parents_inverted() -> None:
    parents = {"idna": ("requests",), "numpy": ("needs-new-numpy", "requests"), "requests": ()}
    assert requires_from_parents(parents) == {"needs-new-numpy": ("numpy",), "requests": ("idna", "numpy")}


def test_roots_are_what_the_manifest_asks_for_with_repeats_marked() -> None:
    tree = dependency_tree(_lock(), P)
    assert _render(list(tree.roots)) == [
        "python v3.11.7 (conda)",
        "  __glibc >=2.17 (virtual)",
        "  libzlib v1.3 (conda)",
        "pytorch v2.5.1 (conda)",
        "  libzlib v1.3 (conda)",
        "  python v3.11.7 (conda) (*)",
        "transformers v4.40.0 (pypi)",
        "  pytorch v2.5.1 (conda, provides torch) (*)",
        "  requests v2.32.3 (pypi)",
        "    idna v3.10 (pypi)",
    ]
    assert tree.notes == ()


def test_names_depth_cycles_and_missing_dependencies() -> None:
    lock = _lock()
    assert _render(list(dependency_tree(lock, P, names=["cyc-a"]).roots)) == [
        "cyc-a v1 (conda)",
        "  cyc-b v1 (conda)",
        "    cyc-a v1 (conda) (*)",
        "    gone (not in the lock)",
    ]
    shallow = dependency_tree(lock, P, names=["transformers"], depth=1)
    assert _render(list(shallow.roots)) == [
        "transformers v4.40.0 (pypi)",
        "  pytorch v2.5.1 (conda, provides torch)",
        "  requests v2.32.3 (pypi)",
    ]
    # a PyPI name that a conda package provides finds that package
    assert dependency_tree(lock, P, names=["Torch"]).roots[0].name == "pytorch"


def test_invert_shows_who_needs_it_across_both_sides() -> None:
    tree = dependency_tree(_lock(), P, names=["libzlib"], invert=True)
    assert _render(list(tree.roots), inverted=True) == [
        "libzlib v1.3 (conda)",
        "  python v3.11.7 (conda)",
        "    pytorch v2.5.1 (conda)",
        "      transformers v4.40.0 (pypi, requires torch)",
        "  pytorch v2.5.1 (conda) (*)",
    ]
    leaves = dependency_tree(_lock(), P, invert=True, depth=0)
    assert [node.name for node in leaves.roots] == ["idna", "libzlib"]


def test_json_and_refusals() -> None:
    tree = dependency_tree(_lock(), P, names=["requests"])
    assert tree.to_dict() == {
        "platform": P,
        "inverted": False,
        "notes": [],
        "roots": [
            {
                "name": "requests",
                "version": "2.32.3",
                "manager": "pypi",
                "requested": False,
                "dependencies": [
                    {
                        "name": "idna",
                        "version": "3.10",
                        "manager": "pypi",
                        "requested": False,
                        "dependencies": [],
                    }
                ],
            }
        ],
    }
    with pytest.raises(UserError, match=r"no package 'nosuch' in condauv\.lock for linux-64"):
        dependency_tree(_lock(), P, names=["nosuch"])
    with pytest.raises(UserError, match="no platform 'osx-64'"):
        dependency_tree(_lock(), "osx-64")


def test_an_old_lock_says_its_pypi_edges_are_missing() -> None:
    lock = _lock()
    old = Lock(
        content_hash=lock.content_hash,
        channels=lock.channels,
        platforms=lock.platforms,
        conda=lock.conda,
        pypi=tuple(_pypi(p.name, p.version, requested=p.requested) for p in lock.pypi),
    )
    (note,) = dependency_tree(old, P).notes
    assert "condauv lock" in note
