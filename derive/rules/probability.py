"""Probability rules: variance, linearity of expectations and integrals."""

from __future__ import annotations

from typing import Any

import sympy as sp

from derive.ops import E, Int, Var
from derive.rules import RuleError, rule, shown


@rule("variance", "Var[X] = E[X^2] - E[X]^2")
def variance(expr: Any, args: dict, ctx: Any) -> Any:
    """Replace every Var(X) by E(X^2) - E(X)^2."""
    nodes = expr.atoms(Var)
    if not nodes:
        raise RuleError(f"no Var(...) to rewrite in {shown(expr)}")
    return expr.xreplace({v: E(v.args[0] ** 2) - E(v.args[0]) ** 2 for v in nodes})


def _split(body: Any, constant: Any) -> tuple[Any, Any]:
    """body = c * rest where c collects the factors for which `constant(f)` holds."""
    c, rest = sp.S.One, sp.S.One
    for f in sp.Mul.make_args(body):
        if constant(f):
            c *= f
        else:
            rest *= f
    return c, rest


def _linear(expr: Any, op: type, constant_for: Any) -> Any:
    """Expand the argument of op, split over sums and pull out constant factors."""

    def expand(node: Any) -> Any:
        inner, extra = node.args[0], node.args[1:]
        constant = constant_for(node)
        total = sp.S.Zero
        for term in sp.Add.make_args(sp.expand(inner)):
            c, rest = _split(term, constant)
            total += c * (op(rest, *extra) if rest != 1 or not extra else op(rest, *extra))
        return total

    out = expr.replace(lambda e: isinstance(e, op), expand)
    if out == expr:
        raise RuleError(f"linearity changes nothing in {shown(expr)} (no sum or constant factor inside "
                        f"{op.__name__}(...))")
    return out


@rule("linearity", "linearity (sums split, constants pulled out)")
def linearity(expr: Any, args: dict, ctx: Any) -> Any:
    """E and Int are linear: E(a X + b Y) = a E(X) + b E(Y) for non-random a, b; likewise Int."""
    random = ctx.scope.random
    if expr.atoms(E):
        return _linear(expr, E, lambda node: lambda f: not (f.free_symbols & random))
    if expr.atoms(Int):
        return _linear(expr, Int, lambda node: lambda f: node.args[1] not in f.free_symbols)
    raise RuleError(f"no E(...) or Int(...) in {shown(expr)}")
