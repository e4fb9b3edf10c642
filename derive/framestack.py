"""Run a call on a reserved frame-stack chunk (workaround for CPython gh-142183).

CPython keeps Python frames in a stack of 16 KiB chunks. On 3.11-3.13 (fixed in 3.14 and in
later 3.13 releases by caching one spare chunk) a hot call whose frame does not fit in the
rest of the current chunk allocates a fresh chunk with mmap and frees it with munmap on every
call: hw4 1.2.1 spent more time in the kernel than in Python, and its time depended on how
many frames sat above the worker.

Rules:
- `reserved_call(fn, *args)` runs `fn(*args)` under one trampoline frame whose value stack is
  `RESERVE_BYTES` long. Pushing it allocates one chunk of twice that size; every callee frame
  lives in the second half, so no chunk boundary is met until the callees use `RESERVE_BYTES`
  of frames (far beyond the recursion limit with ordinary frames).
- The reserved slots are virtual memory that is never written: they cost address space, not
  resident memory. The trampoline is an ordinary function (its code object differs only in
  `co_stacksize`), so results, exceptions and tracebacks pass through unchanged.
- Harmless on a Python without the bug, so it is applied on every version.
"""

from __future__ import annotations

import types
from typing import Any, Callable

RESERVE_BYTES = 1 << 20


def _trampoline(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    return fn(*args)


_CODE = _trampoline.__code__
_RESERVED = types.FunctionType(_CODE.replace(co_stacksize=_CODE.co_stacksize + RESERVE_BYTES // 8),
                               _trampoline.__globals__, "_reserved_trampoline")


def reserved_call(fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(*args)`, run with `RESERVE_BYTES` of frame stack free above it in one chunk."""
    return _RESERVED(fn, args)
