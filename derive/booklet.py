"""Problems, question sheets and booklets as LaTeX (Jinja2 templates in `templates/`).

Templates receive only strings built by derive.render (prose), derive.mathprint (math) and
derive.mdp_tex (MDP tables), never raw spec text.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import jinja2
from sympy import LessThan, StrictLessThan

from derive import model
from derive.draw import figure_file
from derive.mathprint import INLINE_START, LINE_BUDGET, RELATION_LATEX, Printer, width
from derive.mdp_tex import evaluation_context, mdp_context, policy_table_context, cite_tex
from derive.render import METHOD_LEGEND, METHOD_NAMES, check_tag, escape_text, prose

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    undefined=jinja2.StrictUndefined,
    autoescape=False,
    block_start_string="((*",
    block_end_string="*))",
    variable_start_string="(((",
    variable_end_string=")))",
    comment_start_string="((=",
    comment_end_string="=))",
    trim_blocks=True,
    lstrip_blocks=True,
)



def step_note(chain: model.Chain, i: int, step: model.Step, as_prose: Callable[[str], Any] = prose) -> Any:
    """The justification of step `i` of `chain` through `as_prose`; a step without a verdict or
    unsafe text raises ValueError naming the step's file and line."""
    if step.verdict is None:
        raise ValueError(f"{step.loc}: step {i} of chain {chain.label!r} was never verified")
    try:
        return as_prose(step.why.strip())
    except ValueError as e:
        raise ValueError(f"{step.loc}: {e}") from None


def _chain_context(d: model.Derivation, chain: model.Chain, printer: Printer) -> tuple[dict, list[dict]]:
    """A chain as template data (start, steps with justification and tag) and its records."""
    steps, records = [], []
    for i, step in enumerate(chain.steps, start=1):
        why = step_note(chain, i, step)
        steps.append(
            {
                "rel": RELATION_LATEX[step.rel],
                "lines": printer.lines(step.expr),
                "why": why,
                "check": check_tag(step.verdict.method),
            }
        )
        records.append(
            {
                "problem": d.id,
                "title": d.title,
                "chain": chain.label,
                "step": i,
                "relation": step.rel,
                "rule": step.rule,
                "why": step.why,
                "method": step.verdict.method,
                "detail": step.verdict.detail,
                "file": step.loc.file,
                "line": step.loc.line,
            }
        )
    assume = ", ".join(f"${a}$" for a in assumptions_tex(chain.assume, printer))
    start = printer.lines(chain.start)
    first = steps[0]["lines"][0] if steps else ""
    block = {
        "kind": "chain",
        "assume": f"Assume: {assume}." if assume else "",
        "start": start,
        "inline": len(start) == 1 and width(start[0]) <= INLINE_START and width(start[0] + first) <= LINE_BUDGET,
        "steps": steps,
    }
    return block, records


def assumptions_tex(relations: tuple, printer: Printer) -> list[str]:
    """The chain's assumptions as LaTeX; `a < b` followed by `b < c` prints as `a < b < c`."""
    out: list[str] = []
    previous = None
    for rel in relations:
        ordered = isinstance(rel, (StrictLessThan, LessThan))
        if ordered and previous is not None and previous.rhs == rel.lhs:
            out[-1] += f" {RELATION_LATEX['<' if isinstance(rel, StrictLessThan) else '<=']} {printer.doprint(rel.rhs)}"
            previous = None
            continue
        out.append(printer.doprint(rel))
        previous = rel if ordered else None
    return out


def boxed_tex(printer: Printer, chain: model.Chain, below: model.Chain | None = None) -> str:
    """`\\boxed{start rel final}` (with a lower chain: `low rel start rel final`); when too
    wide, laid out like a chain: start, then `rel final`."""
    rel = RELATION_LATEX[chain.relation]
    start, final = printer.lines(chain.start), printer.lines(chain.steps[-1].expr)
    if below is not None:
        low = printer.doprint(below.steps[-1].expr)
        start = [f"{low} {RELATION_LATEX[{'>=': '<=', '>': '<'}[below.relation]]} {start[0]}", *start[1:]]
    if len(start) == 1 and len(final) == 1 and width(start[0] + final[0]) <= LINE_BUDGET:
        return f"\\boxed{{{start[0]} {rel} {final[0]}}}"
    rows = [f"\\MoveEqLeft {start[0]}", *(f"&\\qquad {line}" for line in start[1:])]
    rows += [f"&{rel} {final[0]}", *(f"&\\qquad {line}" for line in final[1:])]
    body = " \\\\\n".join(rows)
    return f"\\boxed{{\\begin{{aligned}}\n{body}\n\\end{{aligned}}}}"



def render_problem(d: model.Derivation) -> tuple[str, list[dict]]:
    """One problem as a LaTeX fragment (problem.tex.j2) and one verification record per step.

    Records come from each chain once (a chain shown and then boxed as the answer counts once).
    A step without a verdict, or unsafe text, raises ValueError.
    """
    printer = Printer(d.notation)
    blocks: list[dict] = []
    records: list[dict] = []
    recorded: set[str] = set()

    text = _problem_prose(d)
    for block in d.blocks:
        if isinstance(block, model.Say):
            cited = block.text
            for token, value, digits in block.refs:
                cited = cited.replace(token, cite_tex(value, digits))
            blocks.append({"kind": "say", "text": text(cited, "say")})
            continue
        if isinstance(block, model.MDP):
            blocks.append(mdp_context(block))
            continue
        if isinstance(block, model.Figure):
            blocks.append({"kind": "figure", "file": f"figures/{figure_file(d, block)}.pdf",
                           "caption": text(block.text["caption"], "figure")})
            continue
        if isinstance(block, (model.PolicyTable, model.PolicyEvaluation)):
            context, block_records = (policy_table_context if isinstance(block, model.PolicyTable)
                                      else evaluation_context)(d, block)
            blocks.append(context)
            records.extend(block_records)
            continue
        chain = block if isinstance(block, model.Chain) else block.chain
        chain_block, chain_records = _chain_context(d, chain, printer)
        if chain.label not in recorded:
            recorded.add(chain.label)
            records.extend(chain_records)
        if isinstance(block, model.Chain):
            blocks.append({**chain_block, "anchor": chain_anchor(d, chain.label)})
        else:
            boxed = boxed_tex(Printer(d.notation.long()) if block.long else printer, chain, block.below)
            blocks.append({"kind": "answer", "boxed": boxed, "text": text(block.text, "answer")})
    fragment = ENV.get_template("problem.tex.j2").render(blocks=blocks, errata=errata_tex(d), **question(d))
    return fragment, records


ERRATUM_FIELDS = ("source", "place", "says", "correction")  # the prose fields of an erratum


def chain_anchor(d: model.Derivation, label: str) -> str:
    """The link target of chain `label` of problem `d` (stems and labels are identifiers)."""
    return f"chain-{d.stem}-{label}"


def errata_context(d: model.Derivation, as_prose: Callable[[str, str], Any] | None = None) -> list[dict]:
    """The errata of `d` as template data: `anchor`, `name` (problem id and number), the four
    texts through `as_prose` (LaTeX prose by default; `correction` should end with a full stop), and `chain`/`chain_anchor` when a chain
    of the problem carries the correction."""
    text = as_prose or _problem_prose(d)
    entries = []
    for i, e in enumerate(d.errata, start=1):
        entries.append({
            "anchor": f"erratum-{d.stem}-{i}",
            "name": f"{d.id}, no. {i}",
            "problem": d.id,
            **{key: text(getattr(e, key), f"errata[{i - 1}].{key}") for key in ERRATUM_FIELDS},
            "chain": e.chain or "",
            "chain_anchor": chain_anchor(d, e.chain) if e.chain else "",
        })
    return entries


def _escaped(entries: list[dict]) -> list[dict]:
    """Errata entries with the plain-text fields (`name`, `problem`, `chain`) escaped for LaTeX."""
    return [{**e, **{k: escape_text(e[k]) for k in ("name", "problem", "chain")}} for e in entries]


def errata_tex(d: model.Derivation) -> list[dict]:
    """The errata of `d` as LaTeX template data (for the problem and the booklet's list)."""
    return _escaped(errata_context(d))


def _problem_prose(d: model.Derivation):
    """Spec text as prose without surrounding blank lines; an error names the problem and part."""

    def text(s: str, where: str) -> str:
        try:
            return prose(s.strip())
        except ValueError as e:
            raise ValueError(f"{d.id}: {where}: {e}") from None

    return text


def question(d: model.Derivation) -> dict[str, str]:
    """The problem as its question: `heading` (id), `title`, `points`, `statement`, as LaTeX."""
    text = _problem_prose(d)
    return {
        "heading": escape_text(d.id),
        "title": text(d.title, "title"),
        "points": "" if d.points is None else f"{d.points:g} pt",
        "statement": text(d.statement, "statement"),
    }


def render_questions(title: str, course: str, set_name: str, questions: list[dict[str, str]],
                     failed: list[str], chapters: list[str] | None = None) -> str:
    """The question sheet (questions.tex.j2): the statements of `questions` (from `question`),
    in order, with no solutions, under their `chapters` headings (one per question, "" for
    none); `failed` (problem ids) puts a partial-sheet note on top."""
    return ENV.get_template("questions.tex.j2").render(
        title=prose(title),
        course=prose(course),
        set_name=escape_text(set_name),
        questions=questions,
        headings=_headings(chapters, len(questions)),
        failed=", ".join(escape_text(f) for f in failed),
    )


def chapter_starts(chapters: list[str]) -> list[str]:
    """The heading to set before each problem: its chapter's title where a new chapter begins,
    else "" (every problem of a set without chapters has chapter "")."""
    return [c if c and c != prev else "" for c, prev in zip(chapters, ["", *chapters])]


def _headings(chapters: list[str] | None, n: int) -> list[str]:
    """The LaTeX chapter headings before each of `n` problems (see `chapter_starts`)."""
    return [prose(h) if h else "" for h in chapter_starts(chapters or [""] * n)]


def _breakable(name: str) -> str:
    """A label or rule name as text that may break after `_`, `.` and `,` in a narrow column."""
    return re.sub(r"(\\_|\.|,)", r"\1\\allowbreak{}", escape_text(name))


def _plural(n: int, word: str) -> str:
    """`1 step`, `2 steps`."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def render_booklet(
    title: str,
    course: str,
    set_name: str,
    fragments: list[str],
    records: list[dict],
    failed: list[str],
    errata: list[dict] | None = None,
    chapters: list[str] | None = None,
) -> str:
    """The whole booklet (booklet.tex.j2): title page, legend, problems, the list of `errata`
    (from `errata_tex`, each linked to its note in the problem), verification tables; each
    fragment under its `chapters` heading (one per fragment, "" for none).

    The summary has one row per problem in order of its first record, then one row per step
    says how that step was checked; `failed` (problem ids)
    puts a visible partial-booklet note on the title page.
    """
    steps_per_problem: dict[str, Counter[str]] = {}
    for r in records:
        steps_per_problem.setdefault(r["problem"], Counter())[r["method"]] += 1
    totals = Counter(r["method"] for r in records)
    rows = [
        {
            "problem": escape_text(pid),
            "steps": str(sum(counts.values())),
            **{m: str(counts[m]) for m in METHOD_NAMES},
            "status": "all pass",
        }
        for pid, counts in steps_per_problem.items()
    ]
    by_method = ", ".join(f"{totals[m]} {METHOD_NAMES[m]}" for m in METHOD_NAMES)
    summary = (
        f"Every step was checked by the derive engine: "
        f"{_plural(len(records), 'step')} in {_plural(len(rows), 'problem')} ({by_method})."
    )
    checks = [
        {"problem": escape_text(r["problem"]), "step": _breakable(f"{r['chain']}.{r['step']}"),
         "rule": _breakable(r["rule"]), "method": METHOD_NAMES[r["method"]],
         "detail": escape_text(r["detail"]).replace(", ", ",\\allowbreak{} ")}
        for r in records
    ]
    return ENV.get_template("booklet.tex.j2").render(
        checks=checks,
        title=prose(title),
        course=prose(course),
        set_name=escape_text(set_name),
        summary=summary,
        failed=", ".join(escape_text(f) for f in failed),
        fragments=fragments,
        headings=_headings(chapters, len(fragments)),
        rows=rows,
        total_steps=str(len(records)),
        totals={m: str(totals[m]) for m in METHOD_NAMES},
        tags={m: check_tag(m) for m in METHOD_NAMES},
        names={m: escape_text(name) for m, name in METHOD_NAMES.items()},
        legend={m: escape_text(text) for m, text in METHOD_LEGEND.items()},
        errata=errata or [],
    )

