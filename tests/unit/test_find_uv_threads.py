"""uv's binary found from several threads at once (``lock`` runs its two ``uv pip compile``
side by side): every thread gets the path, though sysconfig's first read is not thread-safe."""

from __future__ import annotations

import sysconfig
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from condauv.pypi import uv


def test_every_thread_finds_uv_on_a_first_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONDAUV_UV", raising=False)
    for _ in range(20):
        uv._find_uv.cache_clear()
        monkeypatch.setattr(sysconfig, "_CONFIG_VARS", None)  # as in a process that never read it
        with ThreadPoolExecutor(max_workers=8) as pool:
            found = list(pool.map(lambda _: uv.find_uv(), range(8)))
        assert len(set(found)) == 1 and Path(found[0]).name.startswith("uv")
    uv._find_uv.cache_clear()
