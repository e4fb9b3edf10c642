"""derive.watch: a real file change triggers a rebuild that prints only what changed."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from derive.build import build_set
from derive.scaffold import new_problem
from derive.watch import Watcher, watch_set

LIMIT = 60.0  # seconds this test may wait for any one event; it never runs longer than 3 LIMITs


def _wait_for(lines: list[str], text: str, since: int = 0) -> int:
    """Index of the first line at or after `since` that contains `text` (fails past LIMIT)."""
    deadline = time.monotonic() + LIMIT
    while time.monotonic() < deadline:
        for i in range(since, len(lines)):
            if text in lines[i]:
                return i
        time.sleep(0.05)
    raise AssertionError(f"no line with {text!r} within {LIMIT} s: {lines}")


def test_saving_a_file_rebuilds_and_prints_the_change(tmp_path: Path) -> None:
    new_problem(tmp_path, "w", "first")
    new_problem(tmp_path, "w", "second")
    problem = tmp_path / "problems" / "w" / "first.yaml"
    lines: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(target=watch_set, args=(
        tmp_path, "w", lambda: build_set(tmp_path, "w", jobs=1, pdf=False), lines.append, stop))
    thread.start()
    try:
        start = _wait_for(lines, "watching ")
        assert [line.split("  (")[0] for line in lines[:2]] == ["ok   1 First", "ok   2 Second"]
        assert lines[2].startswith("w: 2 ok, 0 failed  ")
        problem.write_text(problem.read_text().replace('to: "(x - 1)**2 + 1"', 'to: "(x - 1)**2 + 2"'))
        done = _wait_for(lines, "w: 1 ok, 1 failed", start)
        rebuilt = lines[start + 1:done + 1]
        assert rebuilt[0] == f"changed {problem}"
        assert rebuilt[1].startswith(f"FAIL 1 First: {problem}:22: solution[1].chain.steps[1]: step bound.2: "
                                     "rule 'complete_square' gives `(x - 1)**2 + 1`, not the claimed `(x - 1)**2 + 2`")
        assert rebuilt[2].startswith(f"    {problem}:22: ")  # the first error, once; problem 2 is unchanged
        assert not any("Second" in line for line in rebuilt)
    finally:
        stop.set()
        thread.join(LIMIT)
    assert not thread.is_alive()


def test_a_broken_set_is_reported_and_watching_goes_on() -> None:
    lines: list[str] = []

    def broken() -> None:
        from derive.spec import load_set
        load_set(Path("/nonexistent"), "w")

    assert Watcher("w", broken, lines.append).rebuild([]) is None
    assert lines == ["FAIL w: /nonexistent/problems/w/set.yaml:0: set: no problem set named 'w' (known: none)"]
