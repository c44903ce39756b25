"""The progress display: the library's tasks are drawn on a terminal only (stdout and stderr
both), never with --json or -q; without a display a task costs nothing and draws nothing."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator

import pytest

from condauv import progress
from condauv.cli.output import Output
from condauv.conda.reporting import LinkReporter, fetching
from condauv.lock.model import CondaPackage
from tests.helpers.records import conda_package
from tests.helpers.terminal import ESCAPE, run_on_terminal

#: a command's life as app.py runs it: Output's display installed, a library task moved
_SCRIPT = """
import sys
from condauv import progress
from condauv.cli.output import Output
out = Output(json_mode="--json" in sys.argv, quiet="-q" in sys.argv)
with progress.showing(out.display()):
    with progress.task("fetching 3 things", 3000, unit="bytes") as update:
        for done in (1, 2, 3):
            update(done * 1000, 3000, f"fetching 3 things ({done}/3)")
    with progress.task("waiting on a tool"):
        pass
print("the data")
"""


def _run(*flags: str, stdout_terminal: bool = True, stderr_terminal: bool = True) -> str:
    done = run_on_terminal(
        [sys.executable, "-c", _SCRIPT, *flags],
        stdout_terminal=stdout_terminal,
        stderr_terminal=stderr_terminal,
        timeout=60,
    )
    assert done.returncode == 0, done.terminal + done.stderr
    return done.terminal + done.stdout + done.stderr


def test_a_terminal_gets_the_bars_then_the_data() -> None:
    shown = _run()
    assert ESCAPE in shown  # rich draws, then clears, a live display
    assert "fetching 3 things (3/3)" in shown  # the last frame of the first task
    assert "3.0 kB/3.0 kB" in shown  # a bytes task counts bytes
    assert "waiting on a tool" in shown  # a spinner is drawn at once, even for a short step
    assert "the data" in shown


@pytest.mark.parametrize(
    ("flags", "stdout_terminal", "stderr_terminal"),
    [
        ((), False, True),  # condauv sync > log
        ((), True, False),  # condauv sync 2> log
        (("--json",), True, True),
        (("-q",), True, True),
    ],
    ids=["stdout-piped", "stderr-piped", "json", "quiet"],
)
def test_nothing_drawn_off_a_terminal_or_with_json_or_quiet(
    flags: tuple[str, ...], stdout_terminal: bool, stderr_terminal: bool
) -> None:
    shown = _run(*flags, stdout_terminal=stdout_terminal, stderr_terminal=stderr_terminal)
    assert "fetching" not in shown and "waiting" not in shown
    assert ESCAPE not in shown
    assert shown.replace("\r", "") == "the data\n"


def test_output_has_no_display_in_process_or_with_json_or_quiet() -> None:
    # under pytest stdout and stderr are captured: no terminal
    assert Output().display() is None
    assert Output(json_mode=True).display() is None
    assert Output(quiet=True).display() is None


def test_without_a_display_a_task_is_a_no_op() -> None:
    assert not progress.active()
    with progress.task("nothing to see", 3) as update:
        update(1, 3, None)  # accepted, ignored


def test_showing_installs_a_display_for_the_block_only() -> None:
    seen: list[tuple[str, int | None, int, int | None, str | None]] = []

    @contextlib.contextmanager
    def recorder(description: str, total: int | None, unit: progress.Unit) -> Iterator[progress.Update]:
        def update(done: int, of: int | None, label: str | None) -> None:
            seen.append((description, total, done, of, label))

        yield update

    with progress.showing(recorder):
        assert progress.active()
        with progress.task("step", 2) as update:
            update(2, 2, "done")
    assert not progress.active()
    assert seen == [("step", 2, 2, 2, "done")]


def test_counter_never_moves_back_across_threads() -> None:
    calls: list[int] = []
    advance = progress.counter(lambda done, total, label: calls.append(done), 800)
    workers = [threading.Thread(target=lambda: [advance(1) for _ in range(100)]) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert calls == list(range(1, 801))


Seen = list[tuple[str, int | None, progress.Unit, int, int | None, str | None]]


@contextlib.contextmanager
def _recording(seen: Seen) -> Iterator[None]:
    @contextlib.contextmanager
    def display(description: str, total: int | None, unit: progress.Unit) -> Iterator[progress.Update]:
        seen.append((description, total, unit, 0, total, None))
        yield lambda done, of, label: seen.append((description, total, unit, done, of, label))

    with progress.showing(display):
        yield


def _package(name: str, size: int | None) -> CondaPackage:
    return conda_package(name, size=size)


def test_conda_fetching_counts_bytes_and_packages() -> None:
    seen: Seen = []
    with _recording(seen), fetching([_package("a", 1000), _package("b", 3000)], "fetching") as fetched:
        fetched(_package("b", 3000))
        fetched(_package("a", 1000))
    label = "fetching 2 conda packages"
    assert seen == [
        (label, 4000, "bytes", 0, 4000, None),
        (label, 4000, "bytes", 3000, 4000, f"{label} (1/2)"),
        (label, 4000, "bytes", 4000, 4000, f"{label} (2/2)"),
    ]


def test_conda_fetching_counts_packages_when_a_size_is_unknown() -> None:
    seen: Seen = []
    with _recording(seen), fetching([_package("a", None)], "fetching") as fetched:
        fetched(_package("a", None))
    assert seen == [
        ("fetching 1 conda package", 1, "", 0, 1, None),
        ("fetching 1 conda package", 1, "", 1, 1, None),
    ]


def test_rattlers_transaction_moves_the_link_task() -> None:
    moves: list[tuple[int, int | None, str | None]] = []
    reporter = LinkReporter(lambda done, of, label: moves.append((done, of, label)))
    reporter.on_transaction_start(2)
    assert reporter.on_link_start(0, "python") == 0
    reporter.on_transaction_operation_complete(0)
    assert reporter.on_unlink_start(1, "six") == 1
    reporter.on_transaction_operation_complete(1)
    assert moves == [
        (0, 2, None),
        (0, 2, "linking python"),
        (1, 2, None),
        (1, 2, "unlinking six"),
        (2, 2, None),
    ]
