"""Run tasks in worker processes: at most `jobs` at once, each under a wall-clock limit and a
memory cap, each dying with the parent (the process side of `derive build`).

Rules:
- A worker past its deadline is killed (SymPy's C-level arithmetic ignores `signal.alarm`).
- An exception, a crash, a time-out or the memory limit gives that task an error text; the
  other tasks go on. Results come back in task order.
- Workers run their task under `framestack.reserved_call` (CPython gh-142183).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
import traceback
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Callable, Sequence

from derive.framestack import reserved_call
from derive.limits import die_with_parent, limit_memory, memory_message, reached_limit


@dataclass(frozen=True)
class TaskResult:
    """What one task of `run_pool` produced: a value, or an error text; and its wall time."""

    value: Any
    error: str | None
    seconds: float


@dataclass
class _Job:
    index: int
    process: multiprocessing.process.BaseProcess
    started: float
    deadline: float


def _context() -> multiprocessing.context.BaseContext:
    """Fork on Linux (workers inherit imported modules); the platform default elsewhere."""
    return multiprocessing.get_context("fork" if sys.platform == "linux" else None)


def internal_error(exc: BaseException) -> str:
    """`internal error: Type: message` followed by the innermost frames of the traceback."""
    head = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    frames = "".join(traceback.format_tb(exc.__traceback__, limit=-5)).rstrip()
    return f"internal error: {head}\n{frames}" if frames else f"internal error: {head}"


def _child(conn: Connection, target: Callable[[Any], Any], task: Any, parent: int, memory_mb: int | None) -> None:
    """Worker body: die with `parent`, cap memory, send ("ok", value) or ("error", text)."""
    die_with_parent(parent)
    try:
        if memory_mb:
            limit_memory(memory_mb)
        message: tuple[str, Any] = ("ok", reserved_call(target, task))
    except MemoryError:
        message = ("error", memory_message())
    except BaseException as exc:  # the worker must report, not die, on any exception
        message = ("error", memory_message() if reached_limit() else internal_error(exc))
    try:
        conn.send(message)
    except Exception as exc:  # e.g. an unpicklable value
        conn.send(("error", internal_error(exc)))
    conn.close()


def _crash_message(exitcode: int | None) -> str:
    """`worker crashed (exit code N)`, or `(killed by SIGNAME)` for a worker a signal ended."""
    if exitcode is not None and exitcode < 0:
        return f"worker crashed (killed by {signal.Signals(-exitcode).name})"
    return f"worker crashed (exit code {exitcode})"


def _stop(process: multiprocessing.process.BaseProcess) -> None:
    """Terminate a worker, then kill it if it is still alive a second later."""
    process.terminate()
    process.join(1.0)
    if process.is_alive():
        process.kill()
        process.join()


# a progress hook: ("start", task index, None) when a task starts, ("done", index, result) when it ends
OnEvent = Callable[[str, int, "TaskResult | None"], None]


def run_pool(tasks: Sequence[Any], jobs: int, timeout: float, target: Callable[[Any], Any],
             memory_mb: int | None = None, on_event: OnEvent | None = None) -> list[TaskResult]:
    """Run `target(task)` for each task in its own process, at most `jobs` at once, each under
    `memory_mb` MiB of address space and killed when this process dies (derive/limits.py).

    Each task gets `timeout` seconds of wall-clock time from its start; past that its worker
    is killed and the result is the error "timed out after T s". A worker that dies without
    a result gives "worker crashed (exit code N)" or "worker crashed (killed by SIGNAME)"
    (e.g. SIGKILL from the out-of-memory killer); an exception in `target` gives
    "internal error: ...". Results come back in task order. `on_event`, if given, hears each
    task start and end (derive/progress.py shows them).
    """
    notify = on_event or (lambda kind, index, result: None)
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    ctx = _context()
    pending = deque(enumerate(tasks))
    running: dict[Connection, _Job] = {}
    results: list[TaskResult | None] = [None] * len(tasks)
    try:
        while pending or running:
            while pending and len(running) < jobs:
                index, task = pending.popleft()
                recv_end, send_end = ctx.Pipe(duplex=False)
                process = ctx.Process(target=_child, args=(send_end, target, task, os.getpid(), memory_mb),
                                      daemon=True)
                started = time.monotonic()
                process.start()
                send_end.close()  # so the parent sees EOF if the worker dies
                running[recv_end] = _Job(index, process, started, started + timeout)
                notify("start", index, None)
            next_deadline = min(job.deadline for job in running.values())
            ready = wait(list(running), timeout=max(0.0, next_deadline - time.monotonic()))
            for conn in [c for c in running if c in ready]:
                job = running.pop(conn)
                try:
                    status, payload = conn.recv()
                except EOFError:
                    job.process.join()
                    status, payload = "error", _crash_message(job.process.exitcode)
                conn.close()
                job.process.join(1.0)
                if job.process.is_alive():
                    _stop(job.process)
                seconds = time.monotonic() - job.started
                results[job.index] = (TaskResult(payload, None, seconds) if status == "ok"
                                      else TaskResult(None, payload, seconds))
                notify("done", job.index, results[job.index])
            now = time.monotonic()
            for conn, job in list(running.items()):
                if job.deadline <= now:
                    del running[conn]
                    _stop(job.process)
                    conn.close()
                    results[job.index] = TaskResult(None, f"timed out after {timeout:g} s", now - job.started)
                    notify("done", job.index, results[job.index])
    finally:
        for conn, job in running.items():
            _stop(job.process)
            conn.close()
    return [r for r in results if r is not None]
