"""Lock entries for unit tests of logic over them: valid, minimal, named as asked."""

from __future__ import annotations

from condauv.lock.model import CondaPackage


def conda_package(
    name: str, *depends: str, size: int | None = None, channel: str = "file:///c"
) -> CondaPackage:
    """``name`` 1.0 for linux-64 from ``channel``, with ``depends`` and ``size``."""
    return CondaPackage(
        platform="linux-64",
        name=name,
        version="1.0",
        build="0",
        build_number=0,
        subdir="linux-64",
        channel=channel,
        url=f"{channel}/linux-64/{name}-1.0-0.conda",
        sha256="0" * 64,
        size=size,
        depends=depends,
    )
