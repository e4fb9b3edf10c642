"""`derive check` reports: text lines for a terminal or an editor, JSON for tools.

Rules:
- text: one line per step, `FILE:LINE: PART: verdict: detail`, a wrong step followed by its
  counterexample and, for a result, the verified answer; then per part the first wrong
  step, and the parts of the set not found.
- json: the same content as data (`file`, `set`, `parts[].steps[]`, `missing`, `unknown`).
"""

from __future__ import annotations

import dataclasses
import json

from derive.check import VERDICTS, WRONG, CheckReport


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
        first = part.first_wrong
        counts = ", ".join(f"{sum(s.verdict == v for s in part.steps)} {v}" for v in VERDICTS
                           if any(s.verdict == v for s in part.steps))
        summary = f"first wrong step at line {first.line}" if first else "no wrong step found"
        lines.append(f"{report.file}:{part.line}: {part.id}: {counts or 'nothing to check'}; {summary}")
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
        "parts": [{"id": p.id, "line": p.line, "answers": p.answers,
                   "first_wrong": p.first_wrong.line if p.first_wrong else None,
                   "steps": [dataclasses.asdict(s) for s in p.steps]} for p in report.parts],
    }
    return json.dumps(data, indent=1, sort_keys=True)
