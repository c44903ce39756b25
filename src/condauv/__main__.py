"""``python -m condauv`` and the ``condauv`` console script."""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["entrypoint", "main"]


def main(cli_args: Sequence[str] | None = None) -> int:
    from condauv.cli.app import main as run

    return run(cli_args)


def entrypoint() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entrypoint()
