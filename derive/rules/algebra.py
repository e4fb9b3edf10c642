"""Algebra rules: definitions, hypotheses, normal forms, completing the square, solving."""

from __future__ import annotations

from typing import Any

import sympy as sp

from derive.rules import Param, RuleError, rule, shown
from derive.scope import rewrite_with
from derive.sizes import MAX_EXPAND_TERMS, expanded_terms


@rule("unfold", "by definition", Param("name", "definition", required=False))
def unfold(expr: Any, args: dict, ctx: Any) -> Any:
    """With `name`: replace the applications of that definition by its body, one level (a
    definition used inside its own body or inside the arguments stays). Bare: replace every
    definition until none is left; a recursive definition at a symbolic argument, h(n), is
    opened one level (h(n - 1) stays), at a whole number down to its base case."""
    if "name" in args:
        out = ctx.scope.unfold(expr, {args["name"]}, once=True)
        if out == expr:
            raise RuleError(f"definition {args['name']} does not occur in {shown(expr)}")
        return out
    out = ctx.scope.unfold(expr)
    opened = ctx.scope.unfold(out, once=True)
    if opened != out:
        out = ctx.scope.unfold(opened)
    if out == expr:
        raise RuleError(f"no definition occurs in {shown(expr)}")
    return out


@rule("use", "by hypothesis", Param("name", "hypothesis"))
def use(expr: Any, args: dict, ctx: Any) -> Any:
    """Rewrite every occurrence of the hypothesis' left side by its right side, once
    (an equation only: an inequality hypothesis is a bound, used by the sign certificate)."""
    hyp = ctx.scope.hypotheses[args["name"]]
    if hyp.rel != "=":
        raise RuleError(f"hypothesis {args['name']} is an inequality ({hyp.rel}), not an equation to rewrite with")
    out = rewrite_with(expr, [hyp], once=True)
    if out == expr:
        raise RuleError(f"the left side {shown(hyp.lhs)} of hypothesis {args['name']} does not occur in {shown(expr)}")
    return out


def bounded_expand(expr: Any) -> Any:
    """`sp.expand(expr)`, refused when it would give more than MAX_EXPAND_TERMS terms (derive/sizes.py)."""
    terms = expanded_terms(expr)
    if terms > MAX_EXPAND_TERMS:
        raise RuleError(f"expanding {shown(expr)} would give about {terms:.3g} terms, more than the limit of "
                        f"{MAX_EXPAND_TERMS}")
    return sp.expand(expr)


def _normal_form(name: str, statement: str, fn: Any, doc: str) -> None:
    """Register a rule that rewrites the whole expression with one SymPy function."""

    def apply(expr: Any, args: dict, ctx: Any) -> Any:
        return fn(expr)

    apply.__doc__ = doc
    rule(name, statement)(apply)


for _name, _statement, _fn, _doc in (
    ("expand", "expanding", bounded_expand,
     "Multiply out products and integer powers (SymPy's expand), refused past the size limit."),
    ("simplify", "simplifying", sp.simplify, "SymPy's simplify: its heuristics pick the simplest form they find."),
    ("factor", "factoring", sp.factor, "Factor the expression over the rationals (SymPy's factor)."),
    ("together", "common denominator", sp.together, "Put a sum of fractions over one common denominator."),
    ("cancel", "cancelling common factors", sp.cancel,
     "Cancel the common factors of numerator and denominator (SymPy's cancel)."),
):
    _normal_form(_name, _statement, _fn, _doc)


@rule("collect", "collecting powers", Param("var", "expr"))
def collect(expr: Any, args: dict, ctx: Any) -> Any:
    """Expand, then group the terms by powers of `var` (SymPy's collect)."""
    return sp.collect(bounded_expand(expr), args["var"])


@rule("expand_log", "log of a product/quotient is a sum/difference of logs")
def expand_log(expr: Any, args: dict, ctx: Any) -> Any:
    """log(a b) = log a + log b and log(a/b) = log a - log b (arguments taken positive)."""
    return sp.expand_log(expr, force=True)


@rule("complete_square", "completing the square", Param("var", "symbol"))
def complete_square(expr: Any, args: dict, ctx: Any) -> Any:
    """a v^2 + b v + c = a (v + b/(2a))^2 + c - b^2/(4a) for a quadratic in v."""
    v = args["var"]
    try:
        poly = sp.Poly(sp.expand(expr), v)
    except sp.PolynomialError:
        raise RuleError(f"{shown(expr)} is not a polynomial in {v}") from None
    if poly.degree() != 2:
        raise RuleError(f"{shown(expr)} is not a quadratic in {v} (degree {poly.degree()})")
    a, b, c = poly.all_coeffs()
    h = sp.simplify(b / (2 * a))
    k = sp.simplify(c - b**2 / (4 * a))
    square = sp.Pow(sp.Add(v, h, evaluate=False), 2, evaluate=False)
    square = square if a == 1 else sp.Mul(a, square, evaluate=False)
    return sp.Add(k, square, evaluate=False) if k != 0 else square


@rule("substitute", "substituting", Param("old", "expr"), Param("new", "expr"))
def substitute(expr: Any, args: dict, ctx: Any) -> Any:
    """Put `new` for every occurrence of `old`; fails when `old` does not occur. The step is
    checked like a claim, so the substitution must keep the expression's value."""
    out = expr.subs(args["old"], args["new"])
    if out == expr:
        raise RuleError(f"{shown(args['old'])} does not occur in {shown(expr)}")
    return out


def root_claim(prev: Any, rel: str, nxt: Any, args: dict, ctx: Any) -> tuple[Any, str, Any]:
    """A solve step claims that the equation vanishes at the new value."""
    return ctx.scope.unfold(args["equation"]).subs(args["for"], nxt), "=", sp.S.Zero


@rule("solve", "root of the equation", Param("equation", "expr"), Param("for", "symbol"), claim=root_claim)
def solve(expr: Any, args: dict, ctx: Any) -> Any:
    """The unique root in `for` of `equation = 0`; the chain's current expression names that root."""
    eq = ctx.scope.unfold(args["equation"])
    try:
        roots = sp.solve(sp.Eq(eq, 0), args["for"], dict=False)
    except NotImplementedError as exc:
        raise RuleError(f"SymPy cannot solve {shown(eq)} = 0 for {args['for']} ({exc})") from None
    if len(roots) != 1:
        found = ": " + ", ".join(shown(r) for r in roots) if roots else ""
        raise RuleError(f"expected exactly one root of {shown(eq)} = 0 in {args['for']}, found {len(roots)}{found}")
    return roots[0]
