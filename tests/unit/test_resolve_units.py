"""Pure pieces of the PyPI side: artifact choice, uv's failures in words, stub wheels."""

from __future__ import annotations

import zipfile
from pathlib import Path

from condauv.errors import ConflictError, UserError
from condauv.pypi.resolve import Owner, _choose_artifact, _explain_failure, _supported_tags
from condauv.pypi.site import installed_distributions
from condauv.pypi.wheelfile import write_wheel

SHA = "b" * 64


def _wheel(name: str) -> dict[str, object]:
    return {"url": f"https://files.example/{name}", "hashes": {"sha256": SHA}}


def test_best_wheel_for_the_target() -> None:
    package = {
        "name": "Charset_Normalizer",
        "version": "3.5.2",
        "sdist": _wheel("charset_normalizer-3.5.2.tar.gz"),
        "wheels": [
            _wheel("charset_normalizer-3.5.2-py3-none-any.whl"),
            _wheel("charset_normalizer-3.5.2-cp311-cp311-manylinux_2_17_x86_64.whl"),
            _wheel("charset_normalizer-3.5.2-cp312-cp312-manylinux_2_17_x86_64.whl"),
        ],
    }
    chosen = _choose_artifact(package, _supported_tags("3.11.7", "linux-64"), "linux-64")
    assert chosen.name == "charset-normalizer"
    assert chosen.url.endswith("cp311-cp311-manylinux_2_17_x86_64.whl")
    mac = _choose_artifact(package, _supported_tags("3.11.7", "osx-arm64"), "osx-arm64")
    assert mac.url.endswith("py3-none-any.whl")


def test_sdist_when_no_wheel_fits() -> None:
    package = {
        "name": "x",
        "version": "1",
        "sdist": _wheel("x-1.tar.gz"),
        "wheels": [_wheel("x-1-cp312-cp312-win_amd64.whl")],
    }
    assert _choose_artifact(package, _supported_tags("3.11.7", "linux-64"), "linux-64").url.endswith(
        ".tar.gz"
    )


def test_conflict_names_both_sides() -> None:
    stderr = (
        "  \u00d7 No solution found when resolving dependencies:\n"
        "  ╰─▶ Because only numpy>=2 is available and all versions of needs-old-numpy depend on numpy<2,\n"
        "      we can conclude that all versions of needs-old-numpy cannot be used.\n"
        "      And because you require needs-old-numpy, we can conclude that your requirements are"
        " unsatisfiable.\n"
    )
    owned = {"numpy": Owner(distribution="numpy", version="2.3.4", package="numpy 2.3.4 (py311_0)")}
    error = _explain_failure(stderr, owned, "linux-64")
    assert isinstance(error, ConflictError)
    assert "needs-old-numpy requires numpy<2" in error.message
    assert "numpy 2.3.4 comes from conda package numpy 2.3.4 (py311_0)" in error.message
    assert error.hint and "numpy" in error.hint


def test_unknown_pypi_package_in_find_links() -> None:
    stderr = (
        "Because requests was not found in the provided package locations and you require requests, "
        "we can conclude that your requirements are unsatisfiable."
    )
    error = _explain_failure(stderr, {}, "linux-64")
    assert isinstance(error, UserError) and "no PyPI package 'requests'" in error.message


def test_unknown_pypi_package() -> None:
    stderr = (
        "  \u00d7 No solution found when resolving dependencies:\n"
        "  ╰─▶ Because nosuchpkg was not found in the package registry and you require nosuchpkg, "
        "we can conclude that your requirements are unsatisfiable.\n"
    )
    error = _explain_failure(stderr, {}, "linux-64")
    assert isinstance(error, UserError) and "no PyPI package 'nosuchpkg'" in error.message


def test_stub_wheel_is_reproducible_and_metadata_only(tmp_path: Path) -> None:
    a = write_wheel(tmp_path / "a", "NumPy", "2.3.4")
    b = write_wheel(tmp_path / "b", "NumPy", "2.3.4")
    assert a.name == "numpy-2.3.4-py3-none-any.whl"
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as archive:
        metadata = archive.read("numpy-2.3.4.dist-info/METADATA").decode()
    assert "Name: NumPy" in metadata and "Requires-Dist" not in metadata


def test_installed_distributions(tmp_path: Path) -> None:
    for name, installer in (
        ("numpy-2.3.4", "conda"),
        ("Requests-2.32.3", "uv"),
        ("old_pkg-1.0-py3.11", None),
    ):
        kind = "egg-info" if name.startswith("old") else "dist-info"
        folder = tmp_path / f"{name}.{kind}"
        folder.mkdir()
        if installer:
            (folder / "INSTALLER").write_text(installer + "\n")
    found = [(d.name, d.version, d.installer) for d in installed_distributions(tmp_path)]
    assert found == [("numpy", "2.3.4", "conda"), ("old-pkg", "1.0", ""), ("requests", "2.32.3", "uv")]


def test_required_by_reads_uv_annotations() -> None:
    from condauv.pypi.resolve import _required_by

    text = (
        "certifi==2024.8.30        # via requests\n"
        "idna==3.10                # via requests, httpx\n"
        "numpy @ file:///tmp/stubs/numpy-2.3.4-py3-none-any.whl  # via -r requirements.in, pandas\n"
        "requests==2.32.3          # via -r requirements.in\n"
    )
    assert _required_by(text) == {
        "certifi": ("requests",),
        "idna": ("requests", "httpx"),
        "numpy": ("pandas",),
        "requests": (),
    }
