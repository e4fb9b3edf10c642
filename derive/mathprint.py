"""Expressions as LaTeX math, printed the way a careful author writes them.

Rules (each with a golden test in tests/test_mathprint.py):
- the author's term order is kept (`order='none'`); a product in SymPy's canonical order
  (an evaluated one, e.g. after unfolding a definition) prints numbers, symbols, unknown
  functions, elementary functions, brackets and integrals in that order: `p(z) log p(z)`;
- a leading factor -1 prints as a unary minus, a number after the first factor as `\\cdot n`
  (`p \\cdot 1 \\cdot x`, never `p1x` or `(-1) 2`);
- `exp(1)` prints as `e`;
- a quotient with an integral or sum in its numerator prints as its coefficient times the
  integral, `\\frac{1}{2} \\int ...`, never an integral stacked over a fraction bar;
- a derivative prints with `\\partial` when the differentiated expression depends on several
  variables, or on the variable only through a definition (`\\partial h_n / \\partial x`).
"""

from __future__ import annotations

import dataclasses
import re

from sympy import Abs, Derivative, Indexed, Integer, Integral, Mul, S, Sum, Symbol, evaluate
from sympy.core.function import AppliedUndef
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE

from derive import model, ops
from derive.texguard import check_math

OPERATOR_NAMES: dict[type, str] = {ops.cost: "cost", ops.softmax_rows: "softmax", ops.sg: "sg", ops.diag: "diag",
                                  ops.tr: "tr"}
RELATION_LATEX: dict[str, str] = {"=": "=", "<=": r"\le", "<": "<", ">=": r"\ge", ">": ">"}

LINE_BUDGET = 56  # estimated glyphs of display math that fit on one line beside a short note
INLINE_START = 12  # a chain's start up to this many glyphs shares the line of its first step

def width(tex: str) -> int:
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
    return width(tex[:i]) + max(width(num), width(den)) + width(tex[den_end:])


def _group_end(tex: str, start: int) -> int:
    """The index after the brace group opening at `start` (or the end of `tex`)."""
    depth = 0
    for j in range(start, len(tex)):
        depth += {"{": 1, "}": -1}.get(tex[j], 0)
        if depth == 0:
            return j + 1
    return len(tex)



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
            case ops.cost() | ops.softmax_rows() | ops.sg() | ops.diag() | ops.tr():
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
            case ops.inv():
                base = self._print(a[0]) if a[0].is_Atom else f"\\left({self._print(a[0])}\\right)"
                tex, closed = f"{base}^{{-1}}", False
            case ops.scale():
                tex, closed = f"{self._operand(a[1])}\\, {self._operand(a[0])}", False
            case ops.inv():
                base = self._print(a[0]) if a[0].is_Atom else f"\\left({self._print(a[0])}\\right)"
                tex, closed = f"{base}^{{-1}}", False
            case ops.det():
                tex = f"\\det\\left({self._print(a[0])}\\right)"
            case ops.sigma_max():
                tex = f"\\sigma_{{\\max}}\\left({self._print(a[0])}\\right)"
            case ops.jacobian():
                tex = f"\\frac{{\\partial {self._operand(a[0])}}}{{\\partial {self._print(a[1])}}}"
            case ops.grad():
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
        if not expr.is_Add or width(tex) <= budget:
            return [tex]
        out: list[str] = []
        for i, term in enumerate(self._as_ordered_terms(expr)):
            sign = "" if i == 0 else "+ "
            if i > 0 and term.could_extract_minus_sign():
                sign, term = "- ", -term
            piece = self._print(term)
            if self._needs_add_brackets(term):
                piece = f"\\left({piece}\\right)"
            if out and width(out[-1] + piece) <= budget:
                out[-1] += f" {sign}{piece}"
            else:
                out.append(f"{sign}{piece}")
        return out

    def _print_ExpBase(self, expr, exp: str | None = None) -> str:
        """exp(1) is e (SymPy prints an unevaluated exp(1) as e^{1})."""
        if expr.args[0] == 1:
            return self._do_exponent("e", exp)
        return super()._print_ExpBase(expr, exp)

    def _print_Heaviside(self, expr, exp: str | None = None) -> str:
        """The Heaviside step as H(u) (SymPy's theta would read as a parameter theta)."""
        return self._do_exponent(f"\\operatorname{{H}}\\left({self._print(expr.args[0])}\\right)", exp)

    def _print_Derivative(self, expr) -> str:
        """d/dx for a function of x alone; the partial symbol when the expression depends on
        several variables, or on x only through a definition (h_n, a function of x and b_k)."""
        free = expr.expr.free_symbols
        if len(free) <= 1 and set(expr.variables) <= free:
            return super()._print_Derivative(expr)
        below = " ".join(f"\\partial {self._print(v)}" if n == 1 else
                         f"\\partial {self.parenthesize_super(self._print(v))}^{{{n}}}"
                         for v, n in reversed(expr.variable_count))
        order = sum(n for _, n in expr.variable_count)
        head = "\\partial" if order == 1 else f"\\partial^{{{order}}}"
        body = self.parenthesize(expr.expr, PRECEDENCE["Mul"], is_neg=expr.expr.could_extract_minus_sign(),
                                 strict=True)
        return f"\\frac{{{head}}}{{{below}}} {body}"

    def _print_Mul(self, expr) -> str:
        """A product as a careful author writes it (see the module rules)."""
        if not isinstance(expr, Mul):  # SymPy prints 1/x through here
            return super()._print_Mul(expr)
        args = list(expr.args)
        first = args[0]
        if len(args) > 1 and first.is_Number and first.is_negative:  # a unary minus, order kept
            rest = args[1:] if first == -1 else [-first, *args[1:]]
            body = rest[0] if len(rest) == 1 else Mul(*rest, evaluate=False)
            tex = self._print(body)
            return f"- \\left({tex}\\right)" if body.is_Add else f"- {tex}"
        if first is S.One or any(a.is_Number for a in args[1:]):
            return self._shown_numbers(args)
        split = self._coefficient_times_operators(args)
        if split is not None:
            return split
        ordered = _author_order(args)
        return super()._print_Mul(Mul(*ordered, evaluate=False) if ordered != args else expr)

    def _shown_numbers(self, args: list) -> str:
        """An unevaluated product with numbers after its first factor: each such number, and each
        factor printed with a leading digit (`11^{2}`), stands after a centred dot,
        `p \\cdot 1 \\cdot x`, `96 \\cdot 11^{2}` (never `p 1 x`, `96 11^{2}`)."""
        out = []
        for i, a in enumerate(args):
            tex = self._print(a)
            if self._needs_mul_brackets(a, first=i == 0, last=i == len(args) - 1) or (i and a.is_negative):
                tex = f"\\left({tex}\\right)"
            dot = i > 0 and (a.is_Number or args[i - 1] is S.One or tex[:1].isdigit())
            out.append(f"\\cdot {tex}" if dot else tex)
        return " ".join(out)

    def _coefficient_times_operators(self, args: list) -> str | None:
        """A quotient with integrals or sums among its factors as `\\frac{1}{2} \\int ...`: the
        coefficient first, then the operators (None when there is no such quotient)."""
        big = [a for a in args if isinstance(a, BIG_OPERATORS)]
        if not big or not any((a.is_Pow and a.exp.is_negative) or (a.is_Rational and a.q != 1) for a in args):
            return None
        coeff = Mul(*[a for a in args if not isinstance(a, BIG_OPERATORS)])
        sign = ""
        if coeff.could_extract_minus_sign():
            sign, coeff = "- ", -coeff
        parts = [] if coeff == 1 else [self._operand(coeff)]
        for i, b in enumerate(big):
            tex = self._print(b)
            parts.append(tex if i == len(big) - 1 else f"\\left({tex}\\right)")
        return sign + " ".join(parts)

    def _needs_mul_brackets(self, expr, first: bool = False, last: bool = False) -> bool:
        """SymPy's rule, plus: an integral, max (not a sup norm), arg max or scaling not last in a
        product is bracketed."""
        if not last and isinstance(expr, (ops.Int, ops.MaxOver, ops.ArgMaxOver, ops.scale)):
            return not (isinstance(expr, ops.MaxOver) and self._sup_norm(expr))  # a norm is closed
        return super()._needs_mul_brackets(expr, first=first, last=last)


# operators that extend to the right: they stand last in a product
BIG_OPERATORS = (Integral, Sum, ops.Int)
_EXTENDING = (Integral, Sum, ops.Int, ops.MaxOver, ops.ArgMaxOver, Derivative)


def _factor_rank(factor) -> int:
    """Where a factor stands in an author's product: numbers, symbols, unknown functions,
    elementary functions and closed operators, brackets, operators extending to the right."""
    base = factor.base if factor.is_Pow else factor
    if base.is_Number:
        return 0
    if base.is_Symbol or isinstance(base, Indexed):
        return 1
    if isinstance(base, AppliedUndef):
        return 2
    if isinstance(base, _EXTENDING):
        return 5
    return 4 if base.is_Add else 3


def _author_order(args: list) -> list:
    """The factors of a product in SymPy's canonical order (an evaluated product: the author's
    order is lost) sorted by `_factor_rank`, stably; any other order is the author's, kept."""
    if list(Mul(*args).args) != args:
        return args
    return sorted(args, key=_factor_rank)


def latex(expr, notation: model.Notation) -> str:
    """One SymPy expression as LaTeX math (no `$`), in the spec's notation and term order."""
    return Printer(notation).doprint(expr)


