"""rattler's solver explanations, condensed to one line that names the clashing specs."""

from __future__ import annotations

from condauv.conda.engine import _explain_solver_error

TREE = (
    "Cannot solve the request because of: The following packages are incompatible\n"
    "├─ tiny-d * can be installed with any of the following options:\n"
    "│  └─ tiny-d 1.0 would require\n"
    "│     └─ tiny-b >=2, which can be installed with any of the following options:\n"
    "│        └─ tiny-b 2.0\n"
    "└─ tiny-c * cannot be installed because there are no viable options:\n"
    "   └─ tiny-c 1.0 would require\n"
    "      └─ tiny-b <2, which cannot be installed because there are no viable options:\n"
    "         └─ tiny-b 1.0, which conflicts with the versions reported above.\n"
)


def test_clash_names_both_requirements() -> None:
    error = _explain_solver_error(TREE, ["python 3.11.*", "tiny-c", "tiny-d"], "linux-64")
    assert error.message == (
        "the conda specs cannot be satisfied together for linux-64: "
        "tiny-d 1.0 requires tiny-b >=2; tiny-c 1.0 requires tiny-b <2"
    )
    assert error.hint is not None and "tiny-c" in error.hint


def test_missing_package_and_missing_version() -> None:
    name = _explain_solver_error(
        "Cannot solve the request because of: No candidates were found for nosuch *.\n", [], "linux-64"
    )
    assert name.message == "no conda package 'nosuch' in the configured channels for linux-64"
    version = _explain_solver_error(
        "Cannot solve the request because of: No candidates were found for python >=3.12.\n", [], "linux-64"
    )
    assert (
        version.message == "no conda package matches 'python >=3.12' in the configured channels for linux-64"
    )
