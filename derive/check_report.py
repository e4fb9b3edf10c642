"""`derive check` reports: text lines for a terminal or an editor, JSON for tools, HTML for a
student.

Rules:
- text: one line per step, `FILE:LINE: PART: verdict: detail`, a wrong step followed by its
  counterexample and, for a result, the verified answer; then per part the counts, the first
  wrong step and the verified answers; then the headings naming no part and the parts of the
  set not found.
- json: the same content as data (`file`, `set`, `parts[].steps[]`, `missing`, `unknown`);
  expressions as plain text.
- html: one page (templates/check_report.html.j2): per part the student's formulas in order,
  each with a mark (agrees, wrong, could not read or decide) and its line, the verdict under
  it, and under a wrong step the counterexample and the booklet's step from the same left
  side; the verified answers at the end of the part. The student's LaTeX is HTML-escaped and
  typeset by KaTeX in the browser (trust off), from assets copied beside the page: nothing is
  loaded from the network.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from markupsafe import Markup

from derive.check import AGREES, ASSUMED, VERDICTS, WRONG, CheckReport, PartReport, StepReport
from derive.html import HTML_ENV, math_html, write_html
from derive.mathprint import RELATION_LATEX, Printer
from derive.plaintext import plain

MARKS = {AGREES: "\u2713", WRONG: "\u2717", ASSUMED: "\u2022"}  # others: "?"


def text_report(report: CheckReport) -> list[str]:
    """The report as lines of text (see the rules)."""
    lines = []
    for part in report.parts:
        for s in part.steps:
            method = f" [{s.method}]" if s.method else ""
            lines.append(f"{report.file}:{s.line}: {part.id}: {s.verdict}{method}: {s.tex}: {s.detail}")
            if s.verdict == WRONG and s.counterexample:
                lines.append(f"    counterexample: {s.counterexample}")
            if s.verdict == WRONG and s.verified:
                lines.append(f"    verified: {s.verified}")
            if s.booklet is not None:
                lines.append(f"    the booklet: {_plain_step(s.booklet)}")
        lines.append(f"{report.file}:{part.line}: {part.id}: {_counts(part)}; {_summary(part)}")
        for answer in part.answers:
            lines.append(f"    verified answer: {_plain_step(answer)}")
    for line, heading in report.unknown:
        lines.append(f"{report.file}:{line}: heading names no part of {report.set_name}: {heading}")
    if report.missing:
        lines.append(f"{report.file}: parts of {report.set_name} not found: {', '.join(report.missing)}")
    return lines


def json_report(report: CheckReport) -> str:
    """The report as JSON (see the rules)."""
    data = {
        "file": report.file, "set": report.set_name, "missing": report.missing,
        "unknown": [{"line": line, "text": text} for line, text in report.unknown],
        "parts": [{"id": p.id, "line": p.line, "answers": [_plain_step(a) for a in p.answers],
                   "first_wrong": p.first_wrong.line if p.first_wrong else None,
                   "steps": [_step_data(s) for s in p.steps]} for p in report.parts],
    }
    return json.dumps(data, indent=1, sort_keys=True)


def write_html_report(report: CheckReport, out: Path) -> list[Path]:
    """The report as a web page at `out` with its KaTeX assets beside it (see the rules)."""
    assets = f"{out.stem}_files"
    page = HTML_ENV.get_template("check_report.html.j2").render(
        file=report.file, set_name=report.set_name, assets=assets, parts=[_part_html(p) for p in report.parts],
        missing=", ".join(report.missing), unknown=report.unknown)
    return write_html(out.parent, out.stem, {out.stem: page})


def _step_data(s: StepReport) -> dict[str, Any]:
    return {"line": s.line, "verdict": s.verdict, "detail": s.detail, "tex": s.tex, "method": s.method,
            "counterexample": s.counterexample, "verified": s.verified,
            "booklet": _plain_step(s.booklet) if s.booklet is not None else ""}


def _plain_step(step: tuple[Any, str, Any]) -> str:
    a, rel, b = step
    return f"{plain(a)} {rel} {plain(b)}"


def _counts(part: PartReport) -> str:
    counts = [f"{sum(s.verdict == v for s in part.steps)} {v}" for v in VERDICTS if any(s.verdict == v for s in part.steps)]
    return ", ".join(counts) or "nothing to check"


def _summary(part: PartReport) -> str:
    first = part.first_wrong
    return f"first wrong step at line {first.line}" if first else "no wrong step found"


def _part_html(part: PartReport) -> dict[str, Any]:
    printer = Printer(part.notation) if part.notation is not None else None
    return {"id": part.id, "line": part.line, "counts": _counts(part), "summary": _summary(part),
            "steps": [_step_html(s, printer) for s in part.steps],
            "answers": [_tex_step(a, printer) for a in part.answers] if printer else []}


def _step_html(s: StepReport, printer: Printer | None) -> dict[str, Any]:
    return {"line": s.line, "verdict": s.verdict, "mark": MARKS.get(s.verdict, "?"),
            "kind": s.verdict.replace(" ", "-"), "math": math_html(_tex_relations(s.tex), display=True),
            "detail": s.detail, "method": s.method, "counterexample": s.counterexample, "verified": s.verified,
            "booklet": _tex_step(s.booklet, printer) if s.booklet is not None and printer else ""}


def _tex_step(step: tuple[Any, str, Any], printer: Printer) -> Markup:
    a, rel, b = step
    return math_html(f"{printer.doprint(a)} {RELATION_LATEX[rel]} {printer.doprint(b)}", display=True)


def _tex_relations(tex: str) -> str:
    """A step's text with its relation as LaTeX (`a <= b` -> `a \\le b`, `~` -> `\\approx`)."""
    for rel, latex in ((" <= ", r" \le "), (" >= ", r" \ge "), (" != ", r" \ne "), (" ~ ", r" \approx ")):
        tex = tex.replace(rel, latex)
    return tex
