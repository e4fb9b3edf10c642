"""Algebra rules: definitions, hypotheses, normal forms, completing the square, solving."""

from __future__ import annotations

from typing import Any

import sympy as sp

from derive.rules import Param, RuleError, rule
from derive.scope import rewrite_with
from derive.sizes import MAX_EXPAND_TERMS, expanded_terms


@rule("unfold", "by definition", Param("name", "definition", required=False))
def unfold(expr: Any, args: dict, ctx: Any) -> Any:
    """Replace one level of applications of definition `name` (or of every definition)."""
    names = {args["name"]} if "name" in args else None
    out = ctx.scope.unfold(expr, names, once=True)
    if out == expr:
        raise RuleError(f"nothing to unfold: {args.get('name', 'no definition')} does not occur")
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
        raise RuleError(f"the left side of hypothesis {args['name']} does not occur")
    return out


def bounded_expand(expr: Any) -> Any:
    """`sp.expand(expr)`, refused when it would give more than MAX_EXPAND_TERMS terms (derive/sizes.py)."""
    terms = expanded_terms(expr)
    if terms > MAX_EXPAND_TERMS:
        raise RuleError(f"expanding would give about {terms:.3g} terms, more than the limit of {MAX_EXPAND_TERMS}")
    return sp.expand(expr)


def _normal_form(name: str, statement: str, fn: Any) -> None:
    """Register a rule that rewrites the whole expression with one SymPy function."""
    rule(name, statement)(lambda expr, args, ctx: fn(expr))


# the normal forms: expand multiplies out; factor factors over the rationals; together puts a
# sum of fractions over a common denominator; cancel cancels common factors; simplify is SymPy's
for _name, _statement, _fn in (
    ("expand", "expanding", bounded_expand),
    ("simplify", "simplifying", sp.simplify),
    ("factor", "factoring", sp.factor),
    ("together", "common denominator", sp.together),
    ("cancel", "cancelling common factors", sp.cancel),
):
    _normal_form(_name, _statement, _fn)


@rule("collect", "collecting powers", Param("var", "expr"))
def collect(expr: Any, args: dict, ctx: Any) -> Any:
    """Group terms by powers of `var`."""
    return sp.collect(bounded_expand(expr), args["var"])


@rule("expand_log", "log of a product/quotient is a sum/difference of logs")
def expand_log(expr: Any, args: dict, ctx: Any) -> Any:
    """log(a b) = log a + log b and log(a/b) = log a - log b (arguments taken positive)."""
    return sp.expand_log(expr, force=True)


@rule("complete_square", "completing the square", Param("var", "symbol"))
def complete_square(expr: Any, args: dict, ctx: Any) -> Any:
    """a v^2 + b v + c = a (v + b/(2a))^2 + c - b^2/(4a) for a quadratic in v."""
    v = args["var"]
    poly = sp.Poly(sp.expand(expr), v)
    if poly.degree() != 2:
        raise RuleError(f"not a quadratic in {v}")
    a, b, c = poly.all_coeffs()
    h = sp.simplify(b / (2 * a))
    k = sp.simplify(c - b**2 / (4 * a))
    square = sp.Mul(a, sp.Pow(sp.Add(v, h, evaluate=False), 2, evaluate=False), evaluate=False)
    return sp.Add(k, square, evaluate=False) if k != 0 else square


@rule("substitute", "substituting", Param("old", "expr"), Param("new", "expr"))
def substitute(expr: Any, args: dict, ctx: Any) -> Any:
    """Put `new` for every occurrence of `old`."""
    out = expr.subs(args["old"], args["new"])
    if out == expr:
        raise RuleError(f"{args['old']} does not occur")
    return out


def root_claim(prev: Any, rel: str, nxt: Any, args: dict, ctx: Any) -> tuple[Any, str, Any]:
    """A solve step claims that the equation vanishes at the new value."""
    return ctx.scope.unfold(args["equation"]).subs(args["for"], nxt), "=", sp.S.Zero


@rule("solve", "root of the equation", Param("equation", "expr"), Param("for", "symbol"), claim=root_claim)
def solve(expr: Any, args: dict, ctx: Any) -> Any:
    """The unique root in `for` of `equation = 0`; the chain's current expression names that root."""
    eq = ctx.scope.unfold(args["equation"])
    roots = sp.solve(sp.Eq(eq, 0), args["for"], dict=False)
    if len(roots) != 1:
        raise RuleError(f"expected exactly one root in {args['for']}, found {len(roots)}")
    return roots[0]
