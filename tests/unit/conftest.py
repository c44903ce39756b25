from __future__ import annotations

import pytest

from tests.clirunner import CLI


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> CLI:
    return CLI(capsys)
