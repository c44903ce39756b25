"""Classification rules, offline: the strategy's lists, [classify] rules, placeholders, traces."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from condauv.classification import decide
from condauv.classification.kept import KEPT, entry_label, moves, settled_by_lock
from condauv.classification.knowledge import knowledge
from condauv.errors import UserError
from condauv.lock.model import CondaPackage, Lock, PypiPackage
from condauv.manifest.model import Requested

SEED = tomllib.loads((Path(__file__).parents[1] / "data" / "seed_lists.toml").read_text())


def _entry(name: str, table: str = "dependencies") -> Requested:
    return Requested(name=name, spec="*", table=table)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "manager"), [(n, "conda") for n in SEED["conda"]] + [(n, "pypi") for n in SEED["uv"]]
)
def test_every_seed_package_goes_where_the_strategy_says(name: str, manager: str) -> None:
    decision = decide(_entry(name), in_channels=None)  # offline: no channel, no PyPI
    assert decision.manager == manager, decision.trace


def test_classify_rules_beat_built_in_knowledge() -> None:
    rules = {"nvidia-*": "pypi", "numpy": "pypi", "my-*": "conda"}
    assert decide(_entry("nvidia-cublas-cu12"), in_channels=set(), rules=rules).manager == "pypi"  # type: ignore[arg-type]
    numpy = decide(_entry("numpy"), in_channels=set(), rules=rules)  # type: ignore[arg-type]
    assert numpy.manager == "pypi" and "[classify] rule 'numpy'" in numpy.reason
    assert decide(_entry("my-tool"), in_channels=set(), rules=rules).manager == "conda"  # type: ignore[arg-type]
    # the explicit tables beat the rules
    assert decide(_entry("numpy", "conda-dependencies"), in_channels=set(), rules=rules).manager == "conda"  # type: ignore[arg-type]


def test_names_in_either_spelling() -> None:
    torch = decide(_entry("torch"), in_channels=None)
    assert (torch.manager, torch.name, torch.conda_name, torch.pypi_names) == (
        "conda",
        "pytorch",
        "pytorch",
        ("torch",),
    )
    cv = decide(_entry("opencv-python"), in_channels=None)
    assert (cv.manager, cv.name) == ("conda", "opencv")


def test_placeholders_are_never_sent_to_pypi() -> None:
    with pytest.raises(UserError, match="did you mean torch"):
        decide(_entry("pytorch", "pypi-dependencies"), in_channels=None)
    with pytest.raises(UserError, match="did you mean scikit-learn"):
        decide(_entry("sklearn", "pypi-dependencies"), in_channels=None)


def test_trace_lists_every_rule_consulted() -> None:
    decision = decide(_entry("tiny-a"), in_channels=set())
    assert decision.manager == "pypi"
    assert [line.split(":")[0] for line in decision.trace] == [
        "[dependencies]",
        "[classify]",
        "built-in conda list",
        "built-in PyPI list",
        "conda channels",  # first: a name they hold is never asked of the index
        "package index",
        "=> pypi",
    ]


def test_knowledge_is_versioned_and_consistent() -> None:
    known = knowledge()
    assert known.version == 1
    for conda in known.pypi_to_conda.values():
        assert conda in known.conda_to_pypi, conda  # every routed name has a known conda package


def test_cuda_from_both_managers_is_a_conflict() -> None:
    from condauv.classification.guards import check_cuda_family
    from condauv.errors import ConflictError

    check_cuda_family({"cudatoolkit", "pytorch"}, {"requests"}, "linux-64")
    check_cuda_family({"python"}, {"nvidia-cublas-cu12", "torch"}, "linux-64")
    with pytest.raises(ConflictError, match="conda cudatoolkit, cudnn and PyPI nvidia-cudnn-cu12") as info:
        check_cuda_family({"cudatoolkit", "cudnn"}, {"nvidia-cudnn-cu12", "torch"}, "linux-64")
    assert info.value.hint and "nvidia-*" in info.value.hint


def test_manifest_names_override_the_built_in_mapping() -> None:
    names = {"pytables": ("tables",), "pytorch": ("torch", "torch-extra")}
    tables = decide(_entry("tables"), in_channels={"pytables"}, names=names)
    assert (tables.manager, tables.name, tables.conda_name, tables.pypi_names) == (
        "conda",
        "pytables",
        "pytables",
        ("tables",),
    )
    assert decide(_entry("torch"), in_channels=None, names=names).pypi_names == ("torch", "torch-extra")
    assert decide(_entry("tables"), in_channels=None).conda_name == "tables"  # without the override


def test_pypi_names_are_what_the_conda_package_provides() -> None:
    assert decide(_entry("pytorch"), in_channels=None).pypi_names == ("torch",)
    assert decide(_entry("pytorch-cuda"), in_channels=None).pypi_names == ()
    assert decide(_entry("matplotlib-base"), in_channels=None).pypi_names == ("matplotlib",)
    assert decide(_entry("requests"), in_channels=None).pypi_names == ("requests",)


def test_the_channels_spelling_wins_over_the_name_table() -> None:
    # `channel from-wheels torch-*.whl` makes a conda package named torch, not pytorch
    torch = decide(_entry("torch"), in_channels={"torch"})
    assert (torch.manager, torch.name, torch.conda_name, torch.pypi_names) == (
        "conda",
        "torch",
        "torch",
        ("torch",),
    )
    assert (torch.looked_up, torch.found_as) == (("pytorch", "torch"), "torch")
    assert "they have 'torch', not the name table's 'pytorch'" in torch.trace[0]
    both = decide(_entry("torch"), in_channels={"torch", "pytorch"})
    assert (both.name, both.found_as) == ("pytorch", "pytorch")  # the conda spelling first
    neither = decide(_entry("torch"), in_channels=set())
    assert (neither.name, neither.found_as) == ("pytorch", None)
    offline = decide(_entry("torch"), in_channels=None)
    assert (offline.name, offline.looked_up) == ("pytorch", ())


def test_a_conda_package_without_a_pypi_distribution_is_never_asked_of_an_index() -> None:
    from condauv.classification.evidence import query_name

    names: dict[str, tuple[str, ...]] = {"lab-data": ()}
    entry = _entry("lab-data")
    assert query_name(entry, names) is None
    decision = decide(entry, in_channels=set(), names=names)
    assert decision.manager == "conda" and "provides no PyPI distribution" in decision.reason


def _lock(**packages: str) -> Lock:
    """A lock holding, per ``name=manager:entry-label`` (label "" for none), one requested package."""
    conda, pypi = [], []
    for key, text in packages.items():
        name = key.replace("_", "-")
        manager, _, label = text.partition(":")
        if manager == "conda":
            conda.append(
                CondaPackage(
                    platform="linux-64",
                    name=name,
                    version="1.0",
                    build="0",
                    build_number=0,
                    subdir="noarch",
                    channel="file:///c",
                    url=f"file:///c/noarch/{name}-1.0-0.conda",
                    sha256="0" * 64,
                    depends=("tiny-b >=1",) if name == "tiny-a" else (),
                    requested="*",
                    reason=f"why {name}",
                    entry=label or None,
                )
            )
        else:
            pypi.append(
                PypiPackage(
                    platform="linux-64",
                    name=name,
                    version="1.0",
                    url=f"file:///w/{name}-1.0-py3-none-any.whl",
                    sha256="0" * 64,
                    requested="*",
                    reason=f"why {name}",
                    entry=label or None,
                )
            )
    return Lock(
        content_hash="x",
        channels=("file:///c",),
        platforms=("linux-64",),
        conda=tuple(conda),
        pypi=tuple(pypi),
    )


def test_entry_labels_identify_an_entry() -> None:
    plain = Requested(name="Foo_Bar", spec="*", table="dependencies")
    assert entry_label(plain) == "foo-bar"
    pinned = Requested(name="foo", spec=">=1 ", table="dependencies", extras=("B", "a"))
    assert entry_label(pinned) == "foo[a,b] >=1"


def test_a_lock_keeps_its_decisions_for_unchanged_entries() -> None:
    lock = _lock(foo="conda:foo", bar="pypi:bar", tiny_a="conda:tiny-a", ruled="conda:")
    settle = {"channels": ["file:///c"], "platforms": ["linux-64"], "rules": {}}
    entries = [_entry("foo"), _entry("bar"), Requested(name="baz", spec=">=2", table="dependencies")]
    settled = settled_by_lock(entries, lock, **settle)  # type: ignore[arg-type]
    assert set(settled) == {"foo", "bar"}  # baz is new: evidence decides it
    assert (settled["foo"].manager, settled["foo"].reason) == ("conda", f"why foo ({KEPT})")
    assert settled["bar"].manager == "pypi" and settled["bar"].kept
    # a changed spec, table or extras is a new entry; so is one a rule now decides
    changed = [
        Requested(name="foo", spec=">=1", table="dependencies"),
        _entry("bar", "pypi-dependencies"),
    ]
    assert settled_by_lock(changed, lock, **settle) == {}  # type: ignore[arg-type]
    assert settled_by_lock([_entry("foo")], lock, **{**settle, "rules": {"foo": "pypi"}}) == {}  # type: ignore[arg-type]
    # other channels or platforms: the evidence was about something else
    assert settled_by_lock([_entry("foo")], lock, **{**settle, "channels": ["file:///d"]}) == {}  # type: ignore[arg-type]
    # --reclassify: nothing kept; names the conda side holds stay conda, unasked
    again = settled_by_lock([_entry("foo"), _entry("tiny-b")], lock, **settle, keep=False)  # type: ignore[arg-type]
    assert list(again) == ["tiny-b"]
    assert (
        again["tiny-b"].reason
        == "[dependencies]: the conda side already has it (a dependency of tiny-a 1.0 in condauv.lock)"
    )


def test_moves_between_two_locks() -> None:
    before = _lock(foo="conda:foo", bar="pypi:bar")
    after = _lock(foo="pypi:foo", bar="pypi:bar")
    (move,) = moves([_entry("foo"), _entry("bar")], before, after, None)
    assert (move.name, move.before, move.after, move.reason, move.was) == (
        "foo",
        "conda",
        "pypi",
        "why foo",
        "why foo",
    )
    assert moves([_entry("foo")], None, after, None) == []
