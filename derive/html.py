"""The web booklet and question sheet: the same content as the PDF, as one HTML page each.

Rules:
- Every string that reaches HTML is escaped by Jinja2's autoescape; the only markup not
  escaped is built here: `<span class="math">` around LaTeX math (itself HTML-escaped, and
  already checked by `render.check_math` or built by derive.mathprint).
- Spec prose goes through `render.prose` first (the same errors and allow-list as the PDF),
  then its text is escaped and its math wrapped.
- Math is typeset in the browser by KaTeX, copied from the package vendored at install time
  (scripts/setup.sh) into the assets folder `<stem>_files/` beside the page: the page loads
  nothing from the network. A math span KaTeX cannot typeset shows as `.katex-error`.
"""

from __future__ import annotations

import html
import os
import re
import shutil
from pathlib import Path

import jinja2
from markupsafe import Markup

from derive import model
from derive.booklet import (ERRATUM_FIELDS, TEMPLATES, assumptions_tex, boxed_tex, chain_anchor, chapter_starts,
                            errata_context, step_note)
from derive.draw import figure_file
from derive.mathprint import RELATION_LATEX, Printer
from derive.mdp_tex import cite_tex, evaluation_context, mdp_context, policy_table_context
from derive.render import METHOD_LEGEND, METHOD_NAMES, METHOD_TAGS, prose

KATEX = Path(os.environ.get("DERIVE_KATEX", Path(__file__).resolve().parent.parent / "vendor/node_modules/katex/dist"))
KATEX_FILES = ("katex.min.js", "katex.min.css")
# typesets every math span once KaTeX has loaded; marks the page so a test can wait for it
TYPESET_JS = """document.addEventListener("DOMContentLoaded", function () {
  var spans = document.querySelectorAll(".math");
  for (var i = 0; i < spans.length; i++) {
    katex.render(spans[i].textContent, spans[i], {displayMode: spans[i].classList.contains("display"),
      throwOnError: false, trust: false, strict: "ignore", macros: {"\\\\MoveEqLeft": ""}});
  }
  document.body.setAttribute("data-typeset", String(spans.length));
});
"""

HTML_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    undefined=jinja2.StrictUndefined,
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
_TAG = re.compile(r"\\tag\*\{(.*)\}\s*$")


def math_html(tex: str, display: bool = False) -> Markup:
    """LaTeX math as a span the page's script typesets; the TeX itself is HTML-escaped."""
    kind = "math display" if display else "math"
    return Markup(f'<span class="{kind}">{html.escape(tex, quote=False)}</span>')


def tag_html(method: str) -> Markup:
    """The check tag of a step, e.g. [sym], with the method's name as its title."""
    return Markup(f'<span class="tag" title="{METHOD_NAMES[method]}">[{METHOD_TAGS[method]}]</span>')


def prose_html(text: str) -> Markup:
    """Spec prose as HTML: validated by `render.prose`, text escaped, `$...$`/`$$...$$` math wrapped."""
    prose(text)  # raises ValueError for unsafe or unbalanced math, as for the PDF
    out = []
    for i, piece in enumerate(text.split("$$")):
        if i % 2:
            out.append(math_html(piece.strip(), display=True))
            continue
        for j, part in enumerate(piece.split("$")):
            out.append(math_html(part) if j % 2 else html.escape(part, quote=False))
    return Markup("".join(out))


def _ours_html(tex: str) -> Markup:
    """A table cell built by derive.mdp_tex: `$math$` and LaTeX-escaped identifiers."""
    parts = tex.split("$")
    return Markup("".join(math_html(p) if i % 2 else html.escape(p.replace("\\_", "_"), quote=False)
                          for i, p in enumerate(parts)))


def _problem_text(d: model.Derivation, s: str, where: str) -> Markup:
    """Spec prose of problem `d`; an error names the problem and part."""
    try:
        return prose_html(s.strip())
    except ValueError as e:
        raise ValueError(f"{d.id}: {where}: {e}") from None


def errata_html(d: model.Derivation) -> list[dict]:
    """The errata of `d` as HTML template data (booklet.errata_context with HTML prose)."""
    return [{k: str(v) for k, v in e.items()}
            for e in errata_context(d, lambda s, where: _problem_text(d, s, where))]


def _marked(entries: list[dict]) -> list[dict]:
    """Errata entries (from `errata_html`, stored as plain strings) with their prose back as Markup."""
    return [{k: Markup(v) if k in ERRATUM_FIELDS else v for k, v in e.items()} for e in entries]


def _chain_html(chain: model.Chain, printer: Printer) -> dict:
    """A chain: its assumptions, its start and one row per step (relation, lines, note, tag)."""
    steps = []
    for i, step in enumerate(chain.steps, start=1):
        why = step_note(chain, i, step, prose_html)
        lines = printer.lines(step.expr)
        steps.append({"first": math_html(f"{RELATION_LATEX[step.rel]} {lines[0]}", True),
                      "more": [math_html(line, True) for line in lines[1:]], "why": why,
                      "tag": tag_html(step.verdict.method)})
    assume = assumptions_tex(chain.assume, printer)
    return {"kind": "chain", "label": chain.label, "assume": [math_html(a) for a in assume],
            "start": [math_html(line, True) for line in printer.lines(chain.start)], "steps": steps}


def _mdp_html(d: model.Derivation, block) -> dict:
    """An MDP block through derive.mdp_tex's table data, cells as HTML."""
    if isinstance(block, model.MDP):
        c = mdp_context(block)
        return {"kind": "mdp", "actions": [_ours_html(a) for a in c["actions"]],
                "rows": [[_ours_html(cell) for cell in row] for row in c["rows"]]}
    if isinstance(block, model.PolicyTable):
        c, _ = policy_table_context(d, block)
        answer = " \\\\ ".join(" & ".join(row) for row in c["answer"])
        return {"kind": "policies", "gamma": math_html(c["gamma"]), "count": c["count"],
                "states": [_ours_html(s) for s in c["states"]],
                "rows": [{"mark": "\u2605" if r["mark"] else "", "cells": [_ours_html(x) for x in r["cells"]],
                          "tag": tag_html(r["method"])} for r in c["rows"]],
                "answer": math_html(f"\\boxed{{\\begin{{array}}{{cccrl}} s & \\pi_*(s) & v_*(s) & \\approx & "
                                    f"\\\\ \\hline {answer} \\end{{array}}}}", True)}
    c, _ = evaluation_context(d, block)
    head = "s & \\pi(s) & v_\\pi(s) & \\approx" + (
        " & v_*(s) & \\approx & v_*(s) - v_\\pi(s) & \\approx" if c["compare"] else "") + " & "
    cols = "cc" + ("rrrrrr" if c["compare"] else "rr") + "l"
    body = " \\\\ ".join(" & ".join(row) for row in c["rows"])
    improvement = [_TAG.sub(r"\\qquad \1", line) for line in c["improvement"]]
    return {"kind": "evaluate", "gamma": math_html(c["gamma"]), "source": _ours_html(c["source"]),
            "compare": _ours_html(c["compare"]),
            "table": math_html(f"\\begin{{array}}{{{cols}}} {head} \\\\ \\hline {body} \\end{{array}}", True),
            "improvement": math_html("\\begin{aligned}" + " \\\\ ".join(improvement) + "\\end{aligned}", True)
            if improvement else ""}


def render_problem_html(d: model.Derivation) -> dict[str, str]:
    """One problem as HTML fragments: `problem` (statement and solution) and `question`."""
    printer = Printer(d.notation)
    blocks: list[dict] = []
    for block in d.blocks:
        if isinstance(block, model.Say):
            cited = block.text
            for token, value, digits in block.refs:
                cited = cited.replace(token, cite_tex(value, digits))
            blocks.append({"kind": "say", "text": _problem_text(d, cited, "say")})
        elif isinstance(block, model.Figure):
            blocks.append({"kind": "figure", "src": f"figures/{figure_file(d, block)}.svg",
                           "alt": block.text["caption"], "caption": _problem_text(d, block.text["caption"], "figure")})
        elif isinstance(block, (model.MDP, model.PolicyTable, model.PolicyEvaluation)):
            blocks.append(_mdp_html(d, block))
        elif isinstance(block, model.Chain):
            blocks.append({**_chain_html(block, printer), "anchor": chain_anchor(d, block.label)})
        else:
            boxed = boxed_tex(Printer(d.notation.long()) if block.long else printer, block.chain, block.below)
            blocks.append({"kind": "answer", "boxed": math_html(boxed, True),
                           "text": _problem_text(d, block.text, "answer")})
    q = question_html(d)
    return {"problem": HTML_ENV.get_template("problem.html.j2").render(blocks=blocks, q=q,
                                                                       errata=_marked(errata_html(d))),
            "question": HTML_ENV.get_template("question.html.j2").render(q=q)}


def question_html(d: model.Derivation) -> dict:
    """The problem as its question: `id`, `anchor`, `title`, `points`, `statement`."""
    return {"id": d.id, "anchor": "p-" + re.sub(r"[^A-Za-z0-9]+", "-", d.id).strip("-"),
            "title": _problem_text(d, d.title, "title"),
            "points": "" if d.points is None else f"{d.points:g} pt",
            "statement": _problem_text(d, d.statement, "statement")}


def render_booklet_html(title: str, course: str, set_name: str, fragments: list[str], records: list[dict],
                        failed: list[str], assets: str, questions: bool = False,
                        errata: list[dict] | None = None, chapters: list[str] | None = None) -> str:
    """The whole web booklet (booklet.html.j2), or with `questions` the question sheet; the
    fragments come from `render_problem_html`, each under its `chapters` heading (one per
    fragment, "" for none); `records` fill the verification tables; `errata` (from
    `errata_html`) the list of errata, each linked to its note."""
    counts: dict[str, dict[str, int]] = {}
    for r in records:
        row = counts.setdefault(r["problem"], {m: 0 for m in METHOD_NAMES})
        row[r["method"]] += 1
    totals = {m: sum(c[m] for c in counts.values()) for m in METHOD_NAMES}
    return HTML_ENV.get_template("booklet.html.j2").render(
        title=prose_html(title), course=prose_html(course), set_name=set_name, assets=assets,
        fragments=[Markup(f) for f in fragments],
        headings=[prose_html(h) if h else "" for h in chapter_starts(chapters or [""] * len(fragments))],
        failed=", ".join(failed), questions=questions,
        summary=counts, totals=totals, total=len(records), methods=METHOD_NAMES, records=records,
        tags=METHOD_TAGS, legend=METHOD_LEGEND,
        errata=_marked(errata or []))


def write_html(out_dir: Path, stem: str, pages: dict[str, str]) -> list[Path]:
    """Write each page `{file stem: html}` into `out_dir` and the KaTeX assets into
    `<stem>_files/` (the pages name that folder); returns the paths written."""
    from derive.outdir import write_all

    if not (KATEX / "katex.min.js").is_file():
        raise FileNotFoundError(f"KaTeX not found in {KATEX}: run scripts/setup.sh (or set DERIVE_KATEX)")
    assets = out_dir / f"{stem}_files"
    (assets / "fonts").mkdir(parents=True, exist_ok=True)
    for name in KATEX_FILES:
        shutil.copyfile(KATEX / name, assets / name)
    write_all([(assets / "typeset.js", TYPESET_JS)])
    for font in sorted((KATEX / "fonts").glob("*.woff2")):
        shutil.copyfile(font, assets / "fonts" / font.name)
    written = [assets]
    files = [(out_dir / f"{page}.html", text) for page, text in pages.items()]
    write_all(files)
    written += [path for path, _ in files]
    return written


def write_set(out_dir: Path, name: str, suffix: str, spec, good: list, failed: list[str],
              questions: bool) -> list[Path]:
    """The web booklet `<name><suffix>.html` of the problems in `good` (build.ProblemOutput),
    and with `questions` the sheet `<name>-questions<suffix>.html`, sharing one assets folder."""
    stem = f"{name}{suffix}"
    assets = f"{stem}_files"
    records = [r for o in good for r in o.records]
    chapter = {ref.stem: ref.chapter for ref in spec.problems}
    chapters = [chapter[o.stem] for o in good]
    pages = {stem: render_booklet_html(spec.title, spec.course, name, [o.html["problem"] for o in good],
                                       records, failed, assets, errata=[e for o in good for e in o.errata.get("html", [])],
                                       chapters=chapters)}
    if questions:
        pages[f"{name}-questions{suffix}"] = render_booklet_html(
            spec.title, spec.course, name, [o.html["question"] for o in good], [], failed, assets, questions=True,
            chapters=chapters)
    return write_html(out_dir, stem, pages)
