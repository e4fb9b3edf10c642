"""Build one problem set: derive its problems in parallel, write the booklet, compile it.

Rules:
- The set is loaded first; a SpecError propagates before any output is touched.
- Every problem is derived in its own worker process under a wall-clock limit; a worker past
  its deadline is killed (SymPy's C-level arithmetic ignores `signal.alarm`). An error, a
  crash or a time-out fails that problem alone.
- Outputs are written atomically. A complete build writes `<set>.tex`, `verification.json`
  and `<set>.pdf` (and, when asked, the question sheet `<set>-questions.tex/.pdf`); a build
  with failed problems leaves those untouched and writes `<set>-partial.tex`,
  `verification-partial.json`, `<set>-partial.pdf` (and `<set>-questions-partial.*`) instead.
- SymPy is imported only where problems are derived, never at import time of this module.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, Callable, Sequence

from derive.errors import CompileError, DeriveError, SpecError
from derive.spec import ProblemRef, load_set

METHODS = ("symbolic", "instance", "numeric")


@dataclass(frozen=True)
class TaskResult:
    """What one task of `run_pool` produced: a value, or an error text; and its wall time."""

    value: Any
    error: str | None
    seconds: float


@dataclass(frozen=True)
class ProblemOutput:
    """One derived problem as plain picklable data; `error` is set when it failed."""

    stem: str
    id: str
    title: str
    fragment: str
    records: list[dict]
    error: str | None
    spec_error: bool = False
    question: dict[str, str] = field(default_factory=dict)
    html: dict[str, str] = field(default_factory=dict)  # derive.html.render_problem_html
    figures: dict[str, bytes] = field(default_factory=dict)  # derive.draw.draw_figures: file name -> bytes


@dataclass
class BuildReport:
    """The outcome of `build_set`: per-problem outputs, failures, files written, timings."""

    set_name: str
    outputs: list[ProblemOutput]
    failed: list[tuple[str, str, str]] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    total_seconds: float = 0.0
    compile_error: str | None = None

    @property
    def ok(self) -> bool:
        """True when every problem was derived and the PDF (if asked for) compiled."""
        return not self.failed and self.compile_error is None


@dataclass
class _Job:
    index: int
    process: multiprocessing.process.BaseProcess
    started: float
    deadline: float


def _context() -> multiprocessing.context.BaseContext:
    """Fork on Linux (workers inherit imported modules); the platform default elsewhere."""
    return multiprocessing.get_context("fork" if sys.platform == "linux" else None)


def _internal_error(exc: BaseException) -> str:
    """`internal error: Type: message` followed by the innermost frames of the traceback."""
    head = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    frames = "".join(traceback.format_tb(exc.__traceback__, limit=-5)).rstrip()
    return f"internal error: {head}\n{frames}" if frames else f"internal error: {head}"


def _child(conn: Connection, target: Callable[[Any], Any], task: Any) -> None:
    """Worker body: send ("ok", value) or ("error", text) through the pipe, then exit."""
    try:
        message: tuple[str, Any] = ("ok", target(task))
    except BaseException as exc:  # the worker must report, not die, on any exception
        message = ("error", _internal_error(exc))
    try:
        conn.send(message)
    except Exception as exc:  # e.g. an unpicklable value
        conn.send(("error", _internal_error(exc)))
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


def run_pool(tasks: Sequence[Any], jobs: int, timeout: float, target: Callable[[Any], Any]) -> list[TaskResult]:
    """Run `target(task)` for each task in its own process, at most `jobs` at once.

    Each task gets `timeout` seconds of wall-clock time from its start; past that its worker
    is killed and the result is the error "timed out after T s". A worker that dies without
    a result gives "worker crashed (exit code N)" or "worker crashed (killed by SIGNAME)"
    (e.g. SIGKILL from the out-of-memory killer); an exception in `target` gives
    "internal error: ...". Results come back in task order.
    """
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
                process = ctx.Process(target=_child, args=(send_end, target, task), daemon=True)
                started = time.monotonic()
                process.start()
                send_end.close()  # so the parent sees EOF if the worker dies
                running[recv_end] = _Job(index, process, started, started + timeout)
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
            now = time.monotonic()
            for conn, job in list(running.items()):
                if job.deadline <= now:
                    del running[conn]
                    _stop(job.process)
                    conn.close()
                    results[job.index] = TaskResult(None, f"timed out after {timeout:g} s", now - job.started)
    finally:
        for conn, job in running.items():
            _stop(job.process)
            conn.close()
    return [r for r in results if r is not None]


def derive_one(task: tuple[str, ProblemRef]) -> ProblemOutput:
    """Derive and render one problem (runs in a worker); errors become `ProblemOutput.error`."""
    set_name, ref = task
    try:
        from derive.engine import derive_problem
        from derive.booklet import question, render_problem

        derivation = derive_problem(set_name, ref.path)
        fragment, records = render_problem(derivation)
        asked = question(derivation)
        from derive.draw import draw_figures
        from derive.html import render_problem_html

        web, figures = render_problem_html(derivation), draw_figures(derivation)
    except DeriveError as exc:
        return ProblemOutput(ref.stem, ref.id, ref.title, "", [], str(exc), isinstance(exc, SpecError))
    except Exception as exc:  # an engine bug fails this problem, not the build
        return ProblemOutput(ref.stem, ref.id, ref.title, "", [], _internal_error(exc))
    return ProblemOutput(ref.stem, ref.id, ref.title, fragment, records, None, question=asked, html=web,
                         figures=figures)


def summarize(records: Sequence[dict]) -> dict[str, int]:
    """Step counts: {"steps": N, "symbolic": a, "instance": b, "numeric": c}."""
    counts = {"steps": len(records)} | {m: 0 for m in METHODS}
    for record in records:
        method = record.get("method")
        if method in METHODS:
            counts[method] += 1
    return counts


def verification_json(set_name: str, outputs: Sequence[ProblemOutput]) -> str:
    """The verification report: sorted keys, indent 2, trailing newline; deterministic."""
    steps = [r for o in outputs for r in o.records]
    doc = {"set": set_name, "problems": [o.id for o in outputs], "steps": steps, "summary": summarize(steps)}
    return json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write_atomic(path: Path, text: str) -> None:
    """Write `text` (UTF-8, LF) to a temp file beside `path`, then rename it over `path`."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _compile_into(out_dir: Path, stem: str, tex: str) -> Path:
    """Compile `tex` in a fresh sub-directory, then move `<stem>.pdf` into `out_dir`.

    A failed compile leaves any earlier `<stem>.pdf` in place and moves the LaTeX log to
    `<stem>.log` beside it (the error text names that path); a successful one removes it.
    """
    from derive.compile import compile_pdf

    work = Path(tempfile.mkdtemp(dir=out_dir, prefix=".compile-"))
    try:
        tex_path = work / f"{stem}.tex"
        tex_path.write_text(tex, encoding="utf-8")
        if (out_dir / "figures").is_dir():  # read by \includegraphics
            shutil.copytree(out_dir / "figures", work / "figures")
        try:
            pdf = compile_pdf(tex_path)
        except CompileError as exc:
            log = (work / f"{stem}.log").resolve()
            if not log.is_file():
                raise
            kept = out_dir / f"{stem}.log"
            os.replace(log, kept)
            raise CompileError(str(exc).replace(str(log), str(kept))) from exc
        target = out_dir / f"{stem}.pdf"
        os.replace(pdf, target)
        (out_dir / f"{stem}.log").unlink(missing_ok=True)
        return target
    finally:
        shutil.rmtree(work, ignore_errors=True)


def build_set(root: Path, name: str, *, jobs: int | None = None, pdf: bool = True,
              timeout: float = 300.0, out: Path | None = None, questions: bool = False,
              html: bool = False) -> BuildReport:
    """Build set `name` under `root` into `out` (default root/build/<name>); see the module rules.
    With `questions`, the question sheet `<set>-questions` (same problems, statements only) is
    written and compiled beside the booklet; with `html`, the web booklet `<set>.html` (and
    `<set>-questions.html`) with its assets folder (derive.html.write_set).

    Raises SpecError for a bad set (before writing anything); per-problem failures and a
    failed compile are recorded in the report, not raised.
    """
    started = time.monotonic()
    spec = load_set(root, name)
    import derive.engine  # noqa: F401 - imported once here and inherited by forked workers
    from derive.booklet import render_booklet, render_questions

    tasks = [(name, ref) for ref in spec.problems]
    results = run_pool(tasks, jobs or os.cpu_count() or 1, timeout, derive_one)

    report = BuildReport(name, [])
    for ref, result in zip(spec.problems, results):
        output = result.value
        if result.error is not None:
            output = ProblemOutput(ref.stem, ref.id, ref.title, "", [], result.error)
        report.outputs.append(output)
        report.seconds[ref.stem] = result.seconds
        if output.error is not None:
            report.failed.append((ref.stem, ref.id, output.error))

    out_dir = out or root / "build" / name
    out_dir.mkdir(parents=True, exist_ok=True)
    good = [o for o in report.outputs if o.error is None]
    failed_ids = [pid for _, pid, _ in report.failed]
    suffix = "-partial" if report.failed else ""
    stem = f"{name}{suffix}"
    documents = [(f"{name}{suffix}", render_booklet(spec.title, spec.course, name, [o.fragment for o in good],
                                                    [r for o in good for r in o.records], failed_ids))]
    if questions:
        documents.append((f"{name}-questions{suffix}",
                          render_questions(spec.title, spec.course, name, [o.question for o in good], failed_ids)))
    texts = [(out_dir / f"{stem}.tex", tex) for stem, tex in documents]
    figures = {f: b for o in good for f, b in o.figures.items()}
    for file, data in figures.items():
        (out_dir / "figures").mkdir(exist_ok=True)
        (out_dir / "figures" / file).write_bytes(data)
    for path, text in (*texts, (out_dir / f"verification{suffix}.json", verification_json(name, good))):
        write_atomic(path, text)
        report.written.append(path)
    if not report.failed:
        for stale in ("tex", "pdf", "log"):
            for stem in (f"{name}-partial", f"{name}-questions-partial"):
                (out_dir / f"{stem}.{stale}").unlink(missing_ok=True)
        (out_dir / "verification-partial.json").unlink(missing_ok=True)
    if html:
        from derive.html import write_set

        report.written += write_set(out_dir, name, suffix, spec, good, failed_ids, questions)
    if pdf:
        for stem, tex in documents:
            try:
                report.written.append(_compile_into(out_dir, stem, tex))
            except CompileError as exc:
                report.compile_error = "\n".join(filter(None, (report.compile_error, str(exc))))
    report.total_seconds = time.monotonic() - started
    return report
