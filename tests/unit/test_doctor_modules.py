"""What ``condauv doctor`` imports for a distribution: its own code, not a namespace it shares."""

from __future__ import annotations

from pathlib import Path

from condauv.health import probes


def _dist(site: Path, name: str, files: dict[str, str], top_level: str | None = None) -> Path:
    """A dist-info in ``site`` whose RECORD lists ``files`` (written with their text)."""
    for path, text in files.items():
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_text(text)
    dist_info = site / f"{name}-1.0.dist-info"
    dist_info.mkdir(parents=True)
    record = [f"{path},sha256=x,1" for path in files] + [f"{dist_info.name}/RECORD,,"]
    (dist_info / "RECORD").write_text("\n".join(record) + "\n")
    if top_level is not None:
        (dist_info / "top_level.txt").write_text(top_level)
    return dist_info


def test_a_native_namespace_is_replaced_by_the_distributions_packages(tmp_path: Path) -> None:
    """protobuf: ``google`` has no ``__init__.py``; importing it runs none of protobuf's code."""
    files = {
        "google/protobuf/__init__.py": "",
        "google/protobuf/message.py": "",
        "google/_upb/_message.abi3.so": "",
    }
    dist = _dist(tmp_path, "protobuf", files, top_level="google\n")
    assert probes.distribution_modules(dist, "protobuf") == ["google.protobuf"]


def test_namespaces_nest_and_modules_inside_them_count(tmp_path: Path) -> None:
    files = {
        "azure/mgmt/compute/__init__.py": "",
        "azure/mgmt/compute/models.py": "",
        "azure/mgmt/helper.py": "",
        "azure/mgmt/tests/test_x.py": "",
    }
    dist = _dist(tmp_path, "azure-mgmt-compute", files)
    assert probes.distribution_modules(dist, "azure-mgmt-compute") == [
        "azure.mgmt.compute",
        "azure.mgmt.helper",
    ]


def test_a_pkgutil_style_namespace_is_a_namespace_too(tmp_path: Path) -> None:
    """backports.tarfile ships ``backports/__init__.py`` that only extends ``__path__``."""
    files = {
        "backports/__init__.py": "__path__ = __import__('pkgutil').extend_path(__path__, __name__)\n",
        "backports/tarfile/__init__.py": "",
    }
    dist = _dist(tmp_path, "backports.tarfile", files, top_level="backports\n")
    assert probes.distribution_modules(dist, "backports-tarfile") == ["backports.tarfile"]


def test_a_regular_package_is_kept_and_a_namespace_without_record_stays(tmp_path: Path) -> None:
    dist = _dist(tmp_path, "pkg", {"pkg/__init__.py": "x = 1\n", "pkg/sub/mod.py": ""})
    assert probes.distribution_modules(dist, "pkg") == ["pkg"]
    (tmp_path / "lonely" / "inner").mkdir(parents=True)
    bare = tmp_path / "lonely-1.0.dist-info"
    bare.mkdir()
    (bare / "top_level.txt").write_text("lonely\n")
    assert probes.distribution_modules(bare, "lonely") == ["lonely"]  # nothing better to import
