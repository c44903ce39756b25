"""A new prefix's two installs side by side: python first, then uv beside rattler.

uv needs the prefix's interpreter, nothing else of the conda side (its installs are ``--no-deps``
from the lock, its conda-owned names known from the lock). So a new prefix gets python and what
python needs linked first; then uv installs the PyPI side in a thread while rattler links the
rest of the conda side here. On two cores the pair took less than the two installs one after the
other (``benchmarks/speed.py``).

Only for a prefix that is new (no dist-info of anyone's to read half-written, nothing to remove)
and wheels only (an sdist's build may need the whole conda side). The two sides write different
files (the lock gives uv no distribution conda provides); a PyPI wheel with a file at a conda
package's path would clobber it in either order, and uv's RECORD check after its install and
``condauv check`` see that as they do after one install and then the other.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence

from condauv.lock.model import CondaPackage, PypiPackage

__all__ = ["beside", "python_first"]

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")


def python_first(conda: Sequence[CondaPackage], pypi: Sequence[PypiPackage]) -> list[CondaPackage] | None:
    """python and the conda packages it depends on (through their ``depends``), to link before
    uv starts; ``None`` where overlapping gains nothing or is not safe: no python, no PyPI
    package, an sdist among them, or nothing of the conda side left to link beside uv."""
    from condauv.pypi.uv import is_sdist

    by_name = {p.name: p for p in conda}
    if "python" not in by_name or not pypi or any(is_sdist(p) for p in pypi):
        return None
    needed: dict[str, CondaPackage] = {}
    todo = ["python"]
    while todo:
        name = todo.pop()
        package = by_name.get(name)
        if package is None or name in needed:
            continue  # a virtual package (``__glibc``), or seen
        needed[name] = package
        for spec in package.depends:
            found = _NAME.match(spec.strip())
            if found is not None:
                todo.append(found.group(0))
    if len(needed) == len(by_name):
        return None
    return [p for p in conda if p.name in needed]


def beside(main: Callable[[], None], other: Callable[[], None]) -> None:
    """Run ``other`` in a thread while ``main`` runs here; return when both have ended. An
    error of ``main`` (Ctrl-C included) is raised after ``other`` ended, then a Ctrl-C that
    came while waiting for it, then ``other``'s error."""
    failure: list[BaseException] = []

    def run_other() -> None:
        try:
            other()
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=run_other, name="condauv-uv", daemon=True)
    thread.start()
    try:
        main()
    finally:
        _join(thread)
    if failure:
        raise failure[0]


def _join(thread: threading.Thread) -> None:
    """Wait for ``thread``. A Ctrl-C while waiting is raised once it has ended (a terminal's
    Ctrl-C reached uv too, which then stops); a second one ends the wait."""
    interrupted: KeyboardInterrupt | None = None
    while thread.is_alive():
        try:
            thread.join(0.1)
        except KeyboardInterrupt as exc:
            if interrupted is not None:
                raise
            interrupted = exc
    if interrupted is not None:
        raise interrupted
