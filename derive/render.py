"""The only place LaTeX strings are built: expressions, prose, problem fragments, booklets.

Rules:
- Expressions print through `Printer`, which keeps the author's term order (`order='none'`).
- Spec text reaches LaTeX only through `prose`: plain text is escaped, `$...$` math passes
  through `check_math`, which rejects control sequences that read, write or redefine.
- Templates (top-level `templates/`) receive only strings built here, never raw spec text.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import jinja2
from sympy import Integer
from sympy.core.function import AppliedUndef
from sympy.printing.latex import LatexPrinter

from derive import model, ops

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

# Control sequences that read or write files, run code, change catcodes or define macros.
# The brief's list plus the LaTeX/pdfTeX equivalents that reach the same places.
FORBIDDEN_CONTROL_SEQUENCES: frozenset[str] = frozenset(
    {
        "input", "include", "openin", "openout", "read", "write", "immediate", "catcode",
        "def", "edef", "gdef", "xdef", "let", "csname", "newcommand", "renewcommand",
        "usepackage", "special", "directlua", "lowercase", "uppercase", "jobname",
        "endinput", "loop", "expandafter", "includegraphics", "verbatiminput", "href", "url",
        # same effect under another name
        "futurelet", "providecommand", "DeclareRobustCommand", "NewDocumentCommand",
        "RenewDocumentCommand", "ProvideDocumentCommand", "DeclareDocumentCommand",
        "UseName", "ExpandArgs", "makeatletter", "ExplSyntaxOn", "scantokens",
        "InputIfFileExists", "IfFileExists", "lstinputlisting", "includepdf",
        "filecontents", "endfilecontents", "pdffiledump", "pdfmdfivesum", "pdfobj",
        "pdfximage", "pdfliteral", "pdfprimitive", "pdfextension",
    }
)

METHOD_NAMES: dict[str, str] = {"symbolic": "symbolic", "instance": "exact instance", "numeric": "numeric"}
METHOD_TAGS: dict[str, str] = {"symbolic": "sym", "instance": "inst", "numeric": "num"}
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
    }
)
LINE_BUDGET = 56  # estimated glyphs of display math that fit on one line beside a short note
_MATH_TOKEN = re.compile(r"\\([A-Za-z]+|.)|(.)", re.S)
_BEGIN_FILECONTENTS = re.compile(r"\\begin\s*\{\s*filecontents")

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


def check_math(tex: str) -> str:
    """Return `tex` unchanged if it is safe math; else raise ValueError saying why.

    Rejected: a control sequence in FORBIDDEN_CONTROL_SEQUENCES, a filecontents
    environment, `^^` (TeX's hex notation for characters), `$`, an unescaped `%` or `#`,
    and unbalanced braces.
    """
    if "^^" in tex:
        raise ValueError(f"'^^' is not allowed in math: {tex!r}")
    if _BEGIN_FILECONTENTS.search(tex):
        raise ValueError(f"the filecontents environment is not allowed in math: {tex!r}")
    depth = 0
    for m in _MATH_TOKEN.finditer(tex):
        name, char = m.groups()
        if name in FORBIDDEN_CONTROL_SEQUENCES:
            raise ValueError(f"control sequence \\{name} is not allowed in math: {tex!r}")
        if char in ("$", "%", "#"):
            raise ValueError(f"unescaped {char!r} is not allowed in math (write \\{char}): {tex!r}")
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced braces in math: {tex!r}")
    if depth:
        raise ValueError(f"unbalanced braces in math: {tex!r}")
    return tex


def prose(text: str) -> str:
    """Text with `$...$` inline math as LaTeX: text escaped, math checked by `check_math`.

    Every `$` opens or closes math (there is no literal dollar sign); an odd number of `$`
    or an empty `$$` raises ValueError.
    """
    parts = text.split("$")
    if len(parts) % 2 == 0:
        raise ValueError(f"unbalanced '$' in text: {text!r}")
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            out.append(escape_text(part))
        elif not part.strip():
            raise ValueError(f"empty math '$$' in text: {text!r}")
        else:
            out.append(f"${check_math(part)}$")
    return "".join(out)


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
        for kind, table in (("symbol", notation.symbol_latex), ("function", notation.function_latex)):
            for name, tex in table.items():
                try:
                    check_math(tex)
                except ValueError as e:
                    raise ValueError(f"LaTeX for {kind} {name!r}: {e}") from None
        self.notation = notation

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
            case ops.Int():
                tex, closed = f"\\int {self._operand(a[0])} \\, \\mathrm{{d}}{self._print(a[1])}", False
            case ops.E():
                tex = f"\\mathbb{{E}}\\left[{self._print(a[0])}\\right]"
            case ops.Var():
                tex = f"\\operatorname{{Var}}\\left[{self._print(a[0])}\\right]"
            case ops.MaxOver():
                tex, closed = f"\\max_{{{self._print(a[1])}}} {self._operand(a[0])}", False
            case ops.ArgMaxOver():
                tex, closed = f"\\operatorname*{{arg\\,max}}_{{{self._print(a[1])}}} {self._operand(a[0])}", False
            case ops.Theta():
                tex = f"\\Theta\\left({self._print(a[0])}\\right)"
            case ops.cost():
                tex = f"\\operatorname{{cost}}\\left({self._print(a[0])}\\right)"
            case ops.matmul():
                tex, closed = f"{self._operand(a[0])} {self._operand(a[1])}", False
            case ops.T():
                base = self._print(a[0]) if a[0].is_Atom else f"\\left({self._print(a[0])}\\right)"
                tex, closed = f"{base}^{{\\top}}", False
            case ops.scale():
                tex, closed = f"{self._operand(a[1])}\\, {self._operand(a[0])}", False
            case ops.softmax_rows():
                tex = f"\\operatorname{{softmax}}\\left({self._print(a[0])}\\right)"
            case ops.sigma_max():
                tex = f"\\sigma_{{\\max}}\\left({self._print(a[0])}\\right)"
            case ops.diag():
                tex = f"\\operatorname{{diag}}\\left({self._print(a[0])}\\right)"
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
        """SymPy's rule, plus: an integral, max, arg max or scaling not last in a product is bracketed."""
        if not last and isinstance(expr, (ops.Int, ops.MaxOver, ops.ArgMaxOver, ops.scale)):
            return True
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
    assume = ", ".join(f"${printer.doprint(a)}$" for a in chain.assume)
    block = {
        "kind": "chain",
        "assume": f"Assume: {assume}." if assume else "",
        "start": printer.lines(chain.start),
        "steps": steps,
    }
    return block, records


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


def render_problem(d: model.Derivation) -> tuple[str, list[dict]]:
    """One problem as a LaTeX fragment (problem.tex.j2) and one verification record per step.

    Records come from each chain once (a chain shown and then boxed as the answer counts once).
    A step without a verdict, or unsafe text, raises ValueError.
    """
    printer = Printer(d.notation)
    blocks: list[dict] = []
    records: list[dict] = []
    recorded: set[str] = set()

    def text(s: str, where: str) -> str:
        """Spec text as prose without surrounding blank lines; an error names the problem and part."""
        try:
            return prose(s.strip())
        except ValueError as e:
            raise ValueError(f"{d.id}: {where}: {e}") from None

    for block in d.blocks:
        if isinstance(block, model.Say):
            blocks.append({"kind": "say", "text": text(block.text, "say")})
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
    fragment = ENV.get_template("problem.tex.j2").render(
        heading=escape_text(d.id),
        title=text(d.title, "title"),
        points="" if d.points is None else f"{d.points:g} pt",
        statement=text(d.statement, "statement"),
        blocks=blocks,
    )
    return fragment, records


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
        {"problem": escape_text(r["problem"]), "step": escape_text(f"{r['chain']}.{r['step']}"),
         "rule": escape_text(r["rule"]), "method": METHOD_NAMES[r["method"]],
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
