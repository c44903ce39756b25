"""Classification rules, offline: the strategy's lists, [classify] rules, placeholders, traces."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from condauv.classification import decide
from condauv.classification.knowledge import knowledge
from condauv.errors import UserError
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
        "package index",
        "conda channels",
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
