"""Build one problem set: derive its problems in parallel, write the booklet, compile it.

Rules:
- The set is loaded first; a SpecError propagates before any output is touched.
- Every problem is derived in its own worker process (derive/pool.py) under a wall-clock limit
  and a memory cap. An error, a crash, a time-out or the memory limit fails that problem
  alone; workers die with the parent.
- The output folder is checked and locked before any problem is derived (derive/outdir.py).
- Outputs are written atomically. A complete build writes `<set>.tex`, `verification.json`
  and `<set>.pdf` (and, when asked, the question sheet `<set>-questions.tex/.pdf`); a build
  with failed problems leaves those untouched and writes `<set>-partial.tex`,
  `verification-partial.json`, `<set>-partial.pdf` (and `<set>-questions-partial.*`) instead.
- SymPy and the renderers are imported only when some problem is to be derived (then once, in
  the parent, so that every forked worker inherits them), never at import time of this module.
- The content-hash cache (derive/cache.py, in `<out>/.cache/`) serves every problem, the
  rendered documents and the PDF whose inputs are unchanged; `force` ignores what it holds.
  A build in which nothing changed imports no SymPy and runs no LaTeX.
- Workers are run by derive/pool.py (limits, time-outs, crashes), the problems expected to
  take longest first (`longest_first`).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from derive.cache import BuildCache
from derive.errors import CompileError, DeriveError, SpecError, cut
from derive.limits import DEFAULT_MEMORY_MB, memory_message
from derive.outdir import open_out_dir, write_all
from derive.pool import TaskResult, internal_error, run_pool
from derive.spec import ProblemRef

METHODS = ("symbolic", "instance", "numeric")


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
    # the problem's errata: "tex" and "html" (booklet.errata_tex, html.errata_html), "json" (spec text)
    errata: dict[str, list[dict]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The fields as JSON data (figures base64-encoded), for the cache."""
        fields = dataclasses.asdict(self)
        fields["figures"] = {name: base64.b64encode(data).decode("ascii") for name, data in self.figures.items()}
        return fields

    @classmethod
    def from_json(cls, fields: dict[str, Any]) -> ProblemOutput:
        """The inverse of `as_json`."""
        figures = {name: base64.b64decode(text) for name, text in fields.get("figures", {}).items()}
        return cls(**{**fields, "figures": figures})


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
    cached: list[str] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    cache_notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every problem was derived and the PDF (if asked for) compiled."""
        return not self.failed and self.compile_error is None


def derive_one(task: tuple[str, ProblemRef]) -> ProblemOutput:
    """Derive and render one problem (runs in a worker); errors become `ProblemOutput.error`."""
    set_name, ref = task
    try:
        from derive.engine import derive_problem
        from derive.booklet import ERRATUM_FIELDS, errata_tex, question, render_problem

        derivation = derive_problem(set_name, ref.path)
        fragment, records = render_problem(derivation)
        asked = question(derivation)
        from derive.draw import draw_figures
        from derive.html import errata_html, render_problem_html

        web, figures = render_problem_html(derivation), draw_figures(derivation)
        errata = {"tex": errata_tex(derivation), "html": errata_html(derivation),
                  "json": [{"problem": derivation.id, "chain": e.chain, **{k: getattr(e, k) for k in ERRATUM_FIELDS}}
                           for e in derivation.errata]}
    except MemoryError:
        return ProblemOutput(ref.stem, ref.id, ref.title, "", [], memory_message())
    except DeriveError as exc:
        return ProblemOutput(ref.stem, ref.id, ref.title, "", [], cut(str(exc)), isinstance(exc, SpecError))
    except Exception as exc:  # an engine bug fails this problem, not the build
        return ProblemOutput(ref.stem, ref.id, ref.title, "", [], cut(internal_error(exc)))
    return ProblemOutput(ref.stem, ref.id, ref.title, fragment, records, None, question=asked, html=web,
                         figures=figures, errata=errata)


def longest_first(todo: Sequence[ProblemRef], seconds: dict[str, float]) -> list[ProblemRef]:
    """The problems to derive, those expected to take longest first, so that the workers finish
    together: problems with no recorded time first (largest file first), then the others by
    their time in the last build (`seconds`), longest first. The order never changes a result:
    every worker is forked from the same parent."""
    def size(ref: ProblemRef) -> int:
        try:
            return ref.path.stat().st_size
        except OSError:
            return 0

    return sorted(todo, key=lambda r: (r.stem in seconds, -seconds.get(r.stem, 0.0), -size(r)))


def summarize(records: Sequence[dict]) -> dict[str, int]:
    """Step counts: {"steps": N, "symbolic": a, "instance": b, "numeric": c}."""
    counts = {"steps": len(records)} | {m: 0 for m in METHODS}
    for record in records:
        method = record.get("method")
        if method in METHODS:
            counts[method] += 1
    return counts


def verification_json(set_name: str, outputs: Sequence[ProblemOutput], root: Path | None = None) -> str:
    """The verification report: sorted keys, indent 2, trailing newline; deterministic (files
    relative to `root`, so the same input gives the same bytes in any folder)."""
    steps = [r for o in outputs for r in o.records]
    if root is not None:
        steps = [_portable(r, Path(os.path.abspath(root))) for r in steps]
    doc = {"set": set_name, "problems": [o.id for o in outputs], "steps": steps, "summary": summarize(steps),
           "errata": [e for o in outputs for e in o.errata.get("json", [])]}
    return json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _portable(record: dict, base: Path) -> dict:
    """The record with its `file` relative to `base` (POSIX) when it lies below `base`."""
    path = Path(os.path.abspath(record.get("file", "")))
    if "file" in record and path.is_relative_to(base):
        return record | {"file": path.relative_to(base).as_posix()}
    return record


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
              memory: int = DEFAULT_MEMORY_MB, force: bool = False, html: bool = False,
              progress: Callable[[str, ProblemRef, TaskResult | None], None] | None = None) -> BuildReport:
    """Build set `name` under `root` into `out` (default root/build/<name>); see the module rules.
    With `questions`, the question sheet `<set>-questions` (same problems, statements only) is
    written and compiled beside the booklet; with `html`, the web booklet `<set>.html` (and
    `<set>-questions.html`) with its assets folder (derive.html.write_set). With `force`, the
    cache is not read. `progress` hears each problem to derive queued, started and ended
    (cached problems are not derived).

    Raises SpecError for a bad set and OutputError for an unwritable output folder (both before
    deriving anything); per-problem failures and a failed compile are recorded in the report.
    `memory` is each worker's limit in MiB.
    """
    started = time.monotonic()
    out_dir = out or root / "build" / name
    cache = BuildCache(root, name, out_dir, force=force)
    spec = cache.load_set()
    lock = open_out_dir(out_dir)
    try:
        return _build(spec, out_dir, cache, jobs=jobs, pdf=pdf, timeout=timeout, questions=questions, memory=memory,
                      html=html, progress=progress, started=started)
    finally:
        lock.close()


def _build(spec: Any, out_dir: Path, cache: BuildCache, *, jobs: int | None, pdf: bool, timeout: float,
           questions: bool, memory: int, html: bool, progress: Callable[[str, ProblemRef, TaskResult | None], None] | None,
           started: float) -> BuildReport:
    """The body of `build_set`, run while `out_dir` is locked."""
    name, root = spec.name, cache.root
    cache.store_set()
    hits = {ref.stem: cache.problem(ref) for ref in spec.problems}
    todo = [ref for ref in spec.problems if hits[ref.stem] is None]
    results: dict[str, TaskResult] = {}
    if todo:
        # what derive_one imports, imported once here and inherited by the forked workers (decision 146)
        import derive.booklet  # noqa: F401
        import derive.draw  # noqa: F401
        import derive.engine  # noqa: F401
        import derive.html  # noqa: F401

        order = longest_first(todo, cache.durations())
        hook = None
        if progress:
            for ref in todo:
                progress("queued", ref, None)
            hook = lambda kind, i, result: progress(kind, order[i], result)  # noqa: E731
        results = dict(zip([r.stem for r in order], run_pool([(name, ref) for ref in order], jobs or os.cpu_count() or 1,
                                                             timeout, derive_one, memory, hook)))
        cache.store_durations({stem: r.seconds for stem, r in results.items()})

    report = BuildReport(name, [])
    for ref in spec.problems:
        result = results.get(ref.stem) or TaskResult(ProblemOutput.from_json(hits[ref.stem]), None, 0.0)
        output = result.value
        if result.error is not None:
            output = ProblemOutput(ref.stem, ref.id, ref.title, "", [], result.error)
        report.outputs.append(output)
        report.seconds[ref.stem] = result.seconds
        if ref.stem not in results:
            report.cached.append(ref.stem)
        elif output.error is None:
            cache.store_problem(ref, output.as_json())
        if output.error is not None:
            report.failed.append((ref.stem, ref.id, output.error))
    cache.prune([ref.stem for ref in spec.problems])

    good = [o for o in report.outputs if o.error is None]
    failed_ids = [pid for _, pid, _ in report.failed]
    suffix = "-partial" if report.failed else ""
    rendered = None if todo else cache.documents(questions)
    if rendered is not None:
        documents, verification = rendered
    else:
        from derive.booklet import render_booklet, render_questions

        chapter = {ref.stem: ref.chapter for ref in spec.problems}
        chapters = [chapter[o.stem] for o in good]
        documents = [(f"{name}{suffix}", render_booklet(spec.title, spec.course, name, [o.fragment for o in good],
                                                        [r for o in good for r in o.records], failed_ids,
                                                        [e for o in good for e in o.errata.get("tex", [])], chapters))]
        if questions:
            documents.append((f"{name}-questions{suffix}",
                              render_questions(spec.title, spec.course, name, [o.question for o in good], failed_ids,
                                               chapters)))
        verification = verification_json(name, good, root)
        if not report.failed:
            cache.store_documents(questions, documents, verification)
    texts = [(out_dir / f"{stem}.tex", tex) for stem, tex in documents]
    figures = {f: b for o in good for f, b in o.figures.items()}
    if figures:
        (out_dir / "figures").mkdir(exist_ok=True)
        write_all([(out_dir / "figures" / file, data) for file, data in sorted(figures.items())])
    files = [*texts, (out_dir / f"verification{suffix}.json", verification)]
    write_all(files)
    report.written.extend(path for path, _ in files)
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
            if cache.pdf_current(stem, tex, out_dir / f"{stem}.pdf"):
                report.kept.append(out_dir / f"{stem}.pdf")
                continue
            try:
                report.written.append(_compile_into(out_dir, stem, tex))
                cache.store_pdf(stem, tex, out_dir / f"{stem}.pdf")
            except CompileError as exc:
                report.compile_error = "\n".join(filter(None, (report.compile_error, str(exc))))
    report.cache_notes = cache.notes
    report.total_seconds = time.monotonic() - started
    return report
