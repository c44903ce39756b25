"""Which installed distribution is "from the lock" condauv last synced (adopt's evidence)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from condauv.adoption.evidence import DistInfo
from condauv.adoption.synced import SyncedCopy
from condauv.lock.model import Lock, PypiPackage
from condauv.manifest.model import parse_manifest

URL = "https://files.example.org/requests-2.32.3-py3-none-any.whl"
ENTRY = PypiPackage(platform="linux-64", name="requests", version="2.32.3", url=URL, sha256="a" * 64)


def _copy() -> SyncedCopy:
    manifest = parse_manifest('[pypi-dependencies]\nrequests = "*"\n', Path("condauv-manifest.toml"))
    lock = Lock(
        content_hash=manifest.content_hash(), channels=(), platforms=("linux-64",), conda=(), pypi=(ENTRY,)
    )
    return SyncedCopy(lock=lock, manifest=manifest, platform="linux-64")


@pytest.mark.parametrize(
    ("version", "installer", "direct_url", "from_lock"),
    [
        ("2.32.3", "uv", {"url": URL, "archive_info": {}}, True),
        ("2.32.3", "uv", None, True),  # condauv's installs from a pylock.toml leave no direct_url.json
        ("2.32.3", "pip", None, False),  # another tool, from who knows where
        ("2.32.3", "uv", {"url": "https://elsewhere.example/requests.whl", "archive_info": {}}, False),
        ("2.32.2", "uv", None, False),
    ],
)
def test_from_the_lock(
    version: str, installer: str, direct_url: dict[str, Any] | None, from_lock: bool
) -> None:
    dist = DistInfo(
        name="requests",
        version=version,
        path=Path("requests.dist-info"),
        installer=installer,
        requested=True,
        requires=(),
        direct_url=direct_url,
    )
    assert (_copy().pypi_entry(dist) == ENTRY) is from_lock
