"""Process limits: a memory ceiling per worker, and children that die with their parent.

Rules:
- `limit_memory(mb)` caps the address space of the calling process (RLIMIT_AS); past it an
  allocation fails with MemoryError, which the worker reports as `memory_message()`.
- An allocation that fails inside the interpreter itself (a frame-stack chunk on 3.11) can
  surface as another exception, e.g. SystemError "error return without exception set". So a
  worker also counts as out of memory when `reached_limit()`: its peak address space (VmPeak)
  came within `_MARGIN_MB` of the cap.
- `die_with_parent()` asks Linux to SIGKILL the calling process when its parent dies
  (PR_SET_PDEATHSIG) and exits at once if the parent is already gone. Elsewhere it does nothing.
- Every worker and every LaTeX run calls both (LaTeX through `child_setup`).
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys
from pathlib import Path

DEFAULT_MEMORY_MB = 2048
LATEX_MEMORY_MB = 2048
_PR_SET_PDEATHSIG = 1
_MARGIN_MB = 32
_limit_mb: int | None = None


def limit_memory(mb: int) -> None:
    """Cap this process's address space at `mb` MiB (never above an existing hard cap)."""
    global _limit_mb
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    want = mb * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    resource.setrlimit(resource.RLIMIT_AS, (want, hard))
    _limit_mb = mb


def memory_message() -> str:
    """The error of a worker that ran out of its memory limit."""
    return f"memory limit of {_limit_mb} MB exceeded (raise it with --memory MB)"


def reached_limit() -> bool:
    """True when a cap is set and this process's peak address space came within `_MARGIN_MB` of it."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    if _limit_mb is None or soft == resource.RLIM_INFINITY:
        return False
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return False
    peak_kib = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmPeak:")), 0)
    return peak_kib * 1024 >= soft - _MARGIN_MB * 1024 * 1024


def die_with_parent(parent: int | None = None) -> None:
    """SIGKILL this process when its parent dies; exit now if `parent` is already gone."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if parent is not None and os.getppid() != parent:
        os._exit(1)


def child_setup(parent: int, memory_mb: int = LATEX_MEMORY_MB):
    """A `preexec_fn` for subprocesses: die with `parent`, under a memory cap."""

    def setup() -> None:
        die_with_parent(parent)
        limit_memory(memory_mb)

    return setup
