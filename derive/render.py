"""The only place LaTeX strings are built: expressions, prose, problem fragments, booklets.

Rules:
- Expressions print through `Printer`, which keeps the author's term order (`order='none'`).
- Spec text reaches LaTeX only through `prose`: plain text is escaped, `$...$` math passes
  through `texguard.check_math`, an allow-list of the commands and environments math needs;
  Unicode math symbols print as their commands.
- Templates (top-level `templates/`) receive only strings built here, never raw spec text.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import dataclasses

import jinja2
from sympy import Abs, Integer, LessThan, Rational, StrictLessThan, Symbol, evaluate, floor
from sympy.core.function import AppliedUndef
from sympy.printing.latex import LatexPrinter

from derive import model, ops
from derive.texguard import UNICODE_MATH, check_math, prose_parts, text_char_tex

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

METHOD_NAMES: dict[str, str] = {"symbolic": "symbolic", "instance": "exact instance", "numeric": "numeric"}
METHOD_TAGS: dict[str, str] = {"symbolic": "sym", "instance": "inst", "numeric": "num"}
# operators printed as an upright name applied to their argument
OPERATOR_NAMES: dict[type, str] = {ops.cost: "cost", ops.softmax_rows: "softmax", ops.sg: "sg", ops.diag: "diag"}
RELATION_LATEX: dict[str, str] = {"=": "=", "<=": r"\le", "<": "<", ">=": r"\ge", ">": ">"}

_TEXT_ESCAPES = str.maketrans(
    {
        "\\": r"\textbackslash{}",
        "{": r"\{",
        "}": r"\}",
        "$": r"\$",
        "&": r"\&",
        "#": r"\#",
        "^": r"\textasciicircum{}",
        "_": r"\_",
        "%": r"\%",
        "~": r"\textasciitilde{}",
        "<": r"\textless{}",
        ">": r"\textgreater{}",
        "|": r"\textbar{}",
        **{ch: text_char_tex(ch) for ch in UNICODE_MATH},
    }
)
LINE_BUDGET = 56  # estimated glyphs of display math that fit on one line beside a short note
INLINE_START = 12  # a chain's start up to this many glyphs shares the line of its first step

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


def escape_text(text: str) -> str:
    """Plain text as LaTeX: every character special to TeX prints as itself."""
    return text.translate(_TEXT_ESCAPES)


def _width(tex: str) -> int:
    """A rough glyph count of math: a command counts one, a fraction its wider part,
    braces, script marks and spaces nothing."""
    i = tex.find("\\frac{")
    if i < 0:
        tex = re.sub(r"\\(?:left|right|mathrm|mathbb|operatorname\*?)(?![A-Za-z])|\\[,;:!]", "", tex)
        tex = re.sub(r"\\[A-Za-z]+", "x", tex)
        return len(re.sub(r"[{}^_\s]", "", tex))
    num_end = _group_end(tex, i + 5)
    den_end = _group_end(tex, num_end)
    num, den = tex[i + 6 : num_end - 1], tex[num_end + 1 : den_end - 1]
    return _width(tex[:i]) + max(_width(num), _width(den)) + _width(tex[den_end:])


def _group_end(tex: str, start: int) -> int:
    """The index after the brace group opening at `start` (or the end of `tex`)."""
    depth = 0
    for j in range(start, len(tex)):
        depth += {"{": 1, "}": -1}.get(tex[j], 0)
        if depth == 0:
            return j + 1
    return len(tex)


def prose(text: str) -> str:
    """Text with `$...$` inline and `$$...$$` display math as LaTeX: text escaped, math
    checked by the allow-list (`texguard.prose_parts`, which raises ValueError)."""
    wrap = {"text": escape_text, "inline": lambda m: f"${m}$", "display": lambda m: f"\\[{m}\\]"}
    return "".join(wrap[kind](piece) for kind, piece in prose_parts(text))


class Printer(LatexPrinter):
    """SymPy's LaTeX printer with the spec's notation and operators, keeping term order.

    - a Symbol named in notation.symbol_latex prints as that LaTeX;
    - an applied undefined function prints as notation.function_latex[name] (else SymPy's
      name), its arguments in `\\left(...\\right)`, the last notation.given[name] of them
      after `\\mid`;
    - the operators of derive.ops print as integrals, expectations, max, transposes, ...
    Notation overrides are checked with `check_math` when the printer is built, and so is
    every printed expression (names come from the spec too).
    """

    def __init__(self, notation: model.Notation):
        super().__init__({"order": "none"})
        checked: dict[str, dict[str, str]] = {"symbol_latex": {}, "function_latex": {}}
        for kind, attr in (("symbol", "symbol_latex"), ("function", "function_latex")):
            for name, tex in getattr(notation, attr).items():
                try:
                    checked[attr][name] = check_math(tex)
                except ValueError as e:
                    raise ValueError(f"LaTeX for {kind} {name!r}: {e}") from None
        self.notation = dataclasses.replace(notation, **checked)

    def doprint(self, expr) -> str:
        """`expr` as LaTeX math, checked by `check_math`."""
        return check_math(super().doprint(expr))

    def _print_Symbol(self, expr, style: str = "plain") -> str:
        """Symbol: the notation's LaTeX if given, else SymPy's (mu_q -> \\mu_{q})."""
        tex = self.notation.symbol_latex.get(expr.name)
        return tex if tex is not None else super()._print_Symbol(expr, style=style)

    def _print_AppliedUndef(self, expr: AppliedUndef, exp: str | None = None) -> str:
        """f(x, y) as `f\\left(x, y\\right)`; with given[f] = g the last g arguments follow `\\mid`."""
        name = expr.func.__name__
        head = self.notation.function_latex.get(name) or self._hprint_Function(name)
        args = [self._print(a) for a in expr.args]
        given = self.notation.given.get(name, 0)
        if given > 0:
            if given >= len(args):
                raise ValueError(f"{name} has {len(args)} argument(s) but given[{name!r}] = {given}")
            inner = f"{', '.join(args[:-given])} \\mid {', '.join(args[-given:])}"
        elif name in self.notation.subscript:
            tex = f"{head}_{{{', '.join(args)}}}"
            return tex if exp is None else f"{tex}^{{{exp}}}"
        else:
            inner = ", ".join(args)
        tex = f"{head}\\left({inner}\\right)"
        return tex if exp is None else f"{tex}^{{{exp}}}"

    def _print_Function(self, expr, exp: str | None = None) -> str:
        """SymPy dispatches the operators of derive.ops here (it skips base classes such as Op)."""
        if isinstance(expr, ops.Op):
            return self._print_op(expr, exp)
        return super()._print_Function(expr, exp=exp)

    def _print_op(self, expr: ops.Op, exp: str | None) -> str:
        """A derive.ops operator; its power is parenthesised unless it ends in a bracket."""
        a = expr.args
        closed = True
        match expr:
            case ops.cost() | ops.softmax_rows() | ops.sg() | ops.diag():
                tex = f"\\operatorname{{{OPERATOR_NAMES[type(expr)]}}}\\left({self._print(a[0])}\\right)"
            case ops.Int():
                tex, closed = f"\\int {self._operand(a[0])} \\, \\mathrm{{d}}{self._print(a[1])}", False
            case ops.E():
                tex = f"\\mathbb{{E}}\\left[{self._print(a[0])}\\right]"
            case ops.Var():
                tex = f"\\operatorname{{Var}}\\left[{self._print(a[0])}\\right]"
            case ops.MaxOver():
                norm = self._sup_norm(expr)
                bound = ", ".join(self._print(v) for v in a[1:])
                tex, closed = (norm, True) if norm else (f"\\max_{{{bound}}} {self._operand(a[0])}", False)
            case ops.ArgMaxOver():
                tex, closed = f"\\operatorname*{{arg\\,max}}_{{{self._print(a[1])}}} {self._operand(a[0])}", False
            case ops.Theta():
                tex = f"\\Theta\\left({self._print(a[0])}\\right)"
            case ops.min_cost():
                tex = f"\\min_{{\\text{{order}}}} \\operatorname{{cost}}\\left({self._print(a[0])}\\right)"
            case ops.matmul():  # products associate to the left: A (B C) keeps its brackets
                right = self._operand(a[1])
                if isinstance(a[1], ops.matmul):
                    right = f"\\left({right}\\right)"
                tex, closed = f"{self._operand(a[0])} {right}", False
            case ops.T():
                base = self._print(a[0]) if a[0].is_Atom else f"\\left({self._print(a[0])}\\right)"
                tex, closed = f"{base}^{{\\top}}", False
            case ops.scale():
                tex, closed = f"{self._operand(a[1])}\\, {self._operand(a[0])}", False
            case ops.sigma_max():
                tex = f"\\sigma_{{\\max}}\\left({self._print(a[0])}\\right)"
            case ops.jacobian():
                tex = f"\\frac{{\\partial {self._operand(a[0])}}}{{\\partial {self._print(a[1])}}}"
            case ops.MatProduct():
                t, lo, hi = a[1]
                tex, closed = (f"\\prod_{{{self._print(t)}={self._print(hi)}}}^{{{self._print(lo)}}} "
                               f"{self._operand(a[0])}"), False
            case _:
                raise TypeError(f"no LaTeX form for operator {type(expr).__name__}")
        if exp is None:
            return tex
        return f"{tex}^{{{exp}}}" if closed else f"\\left({tex}\\right)^{{{exp}}}"

    def _sup_norm(self, expr: ops.MaxOver) -> str | None:
        """MaxOver(Abs(g), s, a) as `\\left\\| g \\right\\|_\\infty` when the bound variables occur in g
        only as the full argument list (s, a) of functions, which then print by name alone."""
        body, *bound = expr.args
        if not isinstance(body, Abs):
            return None
        apps = [e for e in body.args[0].atoms(AppliedUndef) if e.args == tuple(bound)]
        with evaluate(False):
            g = body.args[0].xreplace({e: Symbol(e.func.__name__) for e in apps})
        if g.free_symbols & set(bound):
            return None
        names = {e.func.__name__: self.notation.function_latex.get(e.func.__name__)
                 or self._hprint_Function(e.func.__name__) for e in apps}
        notation = dataclasses.replace(self.notation, symbol_latex={**self.notation.symbol_latex, **names})
        return f"\\left\\| {Printer(notation)._print(g)} \\right\\|_\\infty"

    def _operand(self, expr) -> str:
        """An operand of an operator: parenthesised when it is a sum."""
        tex = self._print(expr)
        return f"\\left({tex}\\right)" if expr.is_Add else tex

    def lines(self, expr, budget: int = LINE_BUDGET) -> list[str]:
        """`expr` as display lines: a sum wider than `budget` breaks before a + or - between terms.

        Lines after the first start with their sign; each holds as many terms as fit.
        """
        expr = Integer(expr) if isinstance(expr, int) else expr
        tex = self.doprint(expr)
        if not expr.is_Add or _width(tex) <= budget:
            return [tex]
        out: list[str] = []
        for i, term in enumerate(self._as_ordered_terms(expr)):
            sign = "" if i == 0 else "+ "
            if i > 0 and term.could_extract_minus_sign():
                sign, term = "- ", -term
            piece = self._print(term)
            if self._needs_add_brackets(term):
                piece = f"\\left({piece}\\right)"
            if out and _width(out[-1] + piece) <= budget:
                out[-1] += f" {sign}{piece}"
            else:
                out.append(f"{sign}{piece}")
        return out

    def _needs_mul_brackets(self, expr, first: bool = False, last: bool = False) -> bool:
        """SymPy's rule, plus: an integral, max (not a sup norm), arg max or scaling not last in a
        product is bracketed."""
        if not last and isinstance(expr, (ops.Int, ops.MaxOver, ops.ArgMaxOver, ops.scale)):
            return not (isinstance(expr, ops.MaxOver) and self._sup_norm(expr))  # a norm is closed
        return super()._needs_mul_brackets(expr, first=first, last=last)


def latex(expr, notation: model.Notation) -> str:
    """One SymPy expression as LaTeX math (no `$`), in the spec's notation and term order."""
    return Printer(notation).doprint(expr)


def _check_tag(method: str) -> str:
    """The short tag naming how a step was checked, e.g. [sym]."""
    return f"\\textsf{{\\scriptsize[{METHOD_TAGS[method]}]}}"


def _chain_context(d: model.Derivation, chain: model.Chain, printer: Printer) -> tuple[dict, list[dict]]:
    """A chain as template data (start, steps with justification and tag) and its records."""
    steps, records = [], []
    for i, step in enumerate(chain.steps, start=1):
        if step.verdict is None:
            raise ValueError(f"{step.loc}: step {i} of chain {chain.label!r} was never verified")
        try:
            why = prose(step.why.strip())
        except ValueError as e:
            raise ValueError(f"{step.loc}: {e}") from None
        steps.append(
            {
                "rel": RELATION_LATEX[step.rel],
                "lines": printer.lines(step.expr),
                "why": why,
                "check": _check_tag(step.verdict.method),
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
    assume = ", ".join(f"${a}$" for a in _assumptions(chain.assume, printer))
    start = printer.lines(chain.start)
    first = steps[0]["lines"][0] if steps else ""
    block = {
        "kind": "chain",
        "assume": f"Assume: {assume}." if assume else "",
        "start": start,
        "inline": len(start) == 1 and _width(start[0]) <= INLINE_START and _width(start[0] + first) <= LINE_BUDGET,
        "steps": steps,
    }
    return block, records


def _assumptions(relations: tuple, printer: Printer) -> list[str]:
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


def _boxed(printer: Printer, chain: model.Chain, below: model.Chain | None = None) -> str:
    """`\\boxed{start rel final}` (with a lower chain: `low rel start rel final`); when too
    wide, laid out like a chain: start, then `rel final`."""
    rel = RELATION_LATEX[chain.relation]
    start, final = printer.lines(chain.start), printer.lines(chain.steps[-1].expr)
    if below is not None:
        low = printer.doprint(below.steps[-1].expr)
        start = [f"{low} {RELATION_LATEX[{'>=': '<=', '>': '<'}[below.relation]]} {start[0]}", *start[1:]]
    if len(start) == 1 and len(final) == 1 and _width(start[0] + final[0]) <= LINE_BUDGET:
        return f"\\boxed{{{start[0]} {rel} {final[0]}}}"
    rows = [f"\\MoveEqLeft {start[0]}", *(f"&\\qquad {line}" for line in start[1:])]
    rows += [f"&{rel} {final[0]}", *(f"&\\qquad {line}" for line in final[1:])]
    body = " \\\\\n".join(rows)
    return f"\\boxed{{\\begin{{aligned}}\n{body}\n\\end{{aligned}}}}"


# ---- finite MDPs ---------------------------------------------------------------------------
def name_tex(name: str) -> str:
    """A state or action name (letters, digits, + and -; checked by spec.py) as math."""
    return f"\\mathrm{{{name}}}"


def exact_tex(value) -> str:
    """An exact rational as LaTeX: an integer or a (signed) fraction."""
    value = Rational(value)
    if value.q == 1:
        return str(value.p)
    sign = "-" if value < 0 else ""
    return f"{sign}\\frac{{{abs(value.p)}}}{{{value.q}}}"


def decimal_tex(value, digits: int = 4) -> str:
    """An exact rational rounded half away from zero to `digits` decimals (exact arithmetic)."""
    value = Rational(value)
    scaled = floor(abs(value) * 10**digits + Rational(1, 2))
    whole, frac = divmod(int(scaled), 10**digits)
    sign = "-" if value < 0 and scaled else ""
    return f"{sign}{whole}.{frac:0{digits}d}" if digits else f"{sign}{whole}"


def cite_tex(value, digits: int | None) -> str:
    """A number cited in prose: exact, or rounded to `digits` decimals."""
    return exact_tex(value) if digits is None else decimal_tex(value, digits)


def _record(d: model.Derivation, label: str, c: model.Checked, rule: str, why: str) -> dict:
    """The verification record of one checked MDP value or policy row."""
    return {"problem": d.id, "title": d.title, "chain": label, "step": c.name, "relation": "=", "rule": rule,
            "why": why, "method": c.verdict.method, "detail": c.verdict.detail, "file": c.loc.file,
            "line": c.loc.line}


def _mdp_context(m: model.MDP) -> dict:
    """The dynamics as a table: one row per state, per action the next state(s) and reward."""
    def move(s: str, a: str) -> str:
        nxt = m.transitions[s, a]
        to = name_tex(nxt[0][0]) if len(nxt) == 1 else \
            ",\\ ".join(f"{name_tex(s2)}\\,({exact_tex(p)})" for s2, p in nxt)
        return f"${to},\\ {exact_tex(m.reward(s, a))}$"

    return {"kind": "mdp", "name": escape_text(m.name), "actions": [f"${name_tex(a)}$" for a in m.actions],
            "rows": [[f"${name_tex(s)}$", *(move(s, a) for a in m.actions)] for s in m.states]}


def _policy_table_context(d: model.Derivation, t: model.PolicyTable) -> tuple[dict, list[dict]]:
    """All policies with 4-decimal values (optimal rows marked) and the boxed optimum."""
    records = []
    rows = []
    for row in t.rows:
        name = f"policy({','.join(row.policy)})"
        records.append(_record(d, t.label, model.Checked(name, row.values, row.verdict, t.loc), "evaluate_policy",
                               "exact solution of (I - gamma P_pi) v = r_pi"))
        cells = [f"${name_tex(a)}$" for a in row.policy]
        bold = "\\mathbf{{{}}}" if row.optimal else "{}"
        values = [f"${bold.format(decimal_tex(v))}$" for v in row.values]
        rows.append({"mark": "$\\star$" if row.optimal else "", "cells": cells + values,
                     "check": _check_tag(row.verdict.method)})
    answer = []
    for s, a, c in zip(t.mdp.states, t.policy, t.optimal):
        records.append(_record(d, t.label, c, "bellman_optimal",
                               "v*(s) = max_a [r(s, a) + gamma sum P v*], checked exactly"))
        answer.append([name_tex(s), name_tex(a), exact_tex(c.value), decimal_tex(c.value),
                       f"\\text{{{_check_tag(c.verdict.method)}}}"])
    n = len(t.rows)
    return {"kind": "policies", "gamma": exact_tex(t.gamma), "count": str(n),
            "states": [f"${name_tex(s)}$" for s in t.mdp.states], "rows": rows, "answer": answer,
            "optimal_count": str(sum(r.optimal for r in t.rows))}, records


def _evaluation_context(d: model.Derivation, e: model.PolicyEvaluation) -> tuple[dict, list[dict]]:
    """The policy's exact values, the optimal values compared with and the losses."""
    records = [_record(d, e.label, c, "evaluate_policy", "exact solution of (I - gamma P_pi) v = r_pi, substituted back")
               for c in e.values]
    records += [_record(d, e.label, c, "loss", "v*(s) - v(s), exact") for c in e.losses]
    rows = []
    for i, (s, a, c) in enumerate(zip(e.mdp.states, e.policy, e.values)):
        cells = [name_tex(s), name_tex(a), exact_tex(c.value), decimal_tex(c.value)]
        if e.compare is not None:
            best, loss = e.compare.optimal[i].value, e.losses[i].value
            cells += [exact_tex(best), decimal_tex(best), exact_tex(loss), decimal_tex(loss)]
        rows.append(cells + [f"\\text{{{_check_tag(c.verdict.method)}}}"])
    improvement: list[str] = []
    if e.improvement is not None:
        s, a, c = e.improvement
        records.append(_record(d, e.label, c, "greedy_step", "one greedy step under the policy's own values"))
        v = e.values[e.mdp.states.index(s)].value
        sa = f"{name_tex(s)}, {name_tex(a)}"
        improvement = [f"q_\\pi({sa}) &= r({sa}) + \\gamma \\sum_{{s'}} P(s' \\mid {sa})\\, v_\\pi(s')",
                       f"&= {exact_tex(c.value)} \\approx {decimal_tex(c.value)} > v_\\pi({name_tex(s)}) = "
                       f"{exact_tex(v)} \\approx {decimal_tex(v)} \\tag*{{{_check_tag(c.verdict.method)}}}"]
    return {"kind": "evaluate", "gamma": exact_tex(e.gamma), "source": f"({escape_text(e.source)})" if e.source else "",
            "compare": f"({escape_text(e.compare.label)})" if e.compare else "", "rows": rows,
            "improvement": improvement}, records


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
            blocks.append(_mdp_context(block))
            continue
        if isinstance(block, (model.PolicyTable, model.PolicyEvaluation)):
            context, block_records = (_policy_table_context if isinstance(block, model.PolicyTable)
                                      else _evaluation_context)(d, block)
            blocks.append(context)
            records.extend(block_records)
            continue
        chain = block if isinstance(block, model.Chain) else block.chain
        chain_block, chain_records = _chain_context(d, chain, printer)
        if chain.label not in recorded:
            recorded.add(chain.label)
            records.extend(chain_records)
        if isinstance(block, model.Chain):
            blocks.append(chain_block)
        else:
            boxed = _boxed(Printer(d.notation.long()) if block.long else printer, chain, block.below)
            blocks.append({"kind": "answer", "boxed": boxed, "text": text(block.text, "answer")})
    fragment = ENV.get_template("problem.tex.j2").render(blocks=blocks, **question(d))
    return fragment, records


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
                     failed: list[str]) -> str:
    """The question sheet (questions.tex.j2): the statements of `questions` (from `question`),
    in order, with no solutions; `failed` (problem ids) puts a partial-sheet note on top."""
    return ENV.get_template("questions.tex.j2").render(
        title=prose(title),
        course=prose(course),
        set_name=escape_text(set_name),
        questions=questions,
        failed=", ".join(escape_text(f) for f in failed),
    )


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
) -> str:
    """The whole booklet (booklet.tex.j2): title page, legend, problems, verification tables.

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
        rows=rows,
        total_steps=str(len(records)),
        totals={m: str(totals[m]) for m in METHOD_NAMES},
        tags={m: _check_tag(m) for m in METHOD_NAMES},
    )
