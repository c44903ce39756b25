"""Local conda channels built here: synthetic packages, converted wheels, this interpreter.

They let condauv (and its tests and demo) work where no conda channel can be reached.
"""

from __future__ import annotations

from condauv.channel.build import build_package
from condauv.channel.interpreter import build_python_package
from condauv.channel.local import (
    atomic_channel,
    channel_from_wheels,
    channel_key,
    demo_channel,
    index_local_channel,
)
from condauv.channel.wheel import build_wheel_package

__all__ = [
    "atomic_channel",
    "build_package",
    "build_python_package",
    "build_wheel_package",
    "channel_from_wheels",
    "channel_key",
    "demo_channel",
    "index_local_channel",
]
