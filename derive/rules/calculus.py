"""Calculus rules: derivatives, integrals, limits, Gaussian moments, asymptotic class."""

from __future__ import annotations

from typing import Any

import sympy as sp

from derive.instances import gaussian_moment
from derive.ops import Theta
from derive.rules import Param, RuleError, rule
from derive.rules.algebra import bounded_expand
from derive.verify import Context, decide_cases


def _evaluate_nodes(expr: Any, kind: type, what: str) -> Any:
    nodes = expr.atoms(kind)
    if not nodes:
        raise RuleError(f"no {what} to evaluate")
    return expr.xreplace({n: n.doit() for n in nodes})


@rule("differentiate", "differentiating")
def differentiate(expr: Any, args: dict, ctx: Any) -> Any:
    """Carry out every derivative d/dx (...) in the expression."""
    return _evaluate_nodes(expr, sp.Derivative, "derivative")


@rule("integrate", "integrating")
def integrate(expr: Any, args: dict, ctx: Any) -> Any:
    """Carry out every integral in the expression."""
    return _evaluate_nodes(expr, sp.Integral, "integral")


@rule("limit", "taking the limit")
def limit(expr: Any, args: dict, ctx: Any) -> Any:
    """Evaluate every limit in the expression."""
    return _evaluate_nodes(expr, sp.Limit, "limit")


@rule("evaluate_sums", "summing (convergence and ranges decided by the assumptions)")
def evaluate_sums(expr: Any, args: dict, ctx: Any) -> Any:
    """Carry out every sum, innermost first (SymPy's summation); a case split on convergence
    or on the range of an index is resolved by the chain's assumptions, else refused."""
    if not expr.atoms(sp.Sum):
        raise RuleError("no sum to evaluate")
    done = expr.replace(lambda e: isinstance(e, sp.Sum), lambda e: e.doit())
    done = decide_cases(done, Context(ctx.scope, ctx.assume))
    for node in done.atoms(sp.Piecewise):
        conds = ", ".join(sp.sstr(c) for _, c in node.args if c is not sp.true)
        raise RuleError(f"the assumptions do not decide: {conds} (add it under assume)")
    if done.has(sp.Sum):
        raise RuleError("SymPy finds no closed form for a sum here")
    return done


@rule("gaussian_moments", "Gaussian moments", Param("density", "definition"),
      Param("mean", "expr"), Param("variance", "expr"))
def gaussian_moments(expr: Any, args: dict, ctx: Any) -> Any:
    """Integral over R of poly(z) * density(z), density = N(mean, variance): sum of central moments."""
    name, m, v = args["density"], args["mean"], args["variance"]

    def moment(integral: sp.Integral) -> Any:
        (z, lo, hi), = integral.limits
        if (lo, hi) != (-sp.oo, sp.oo):
            return integral
        dens = [f for f in sp.Mul.make_args(integral.function) if getattr(f.func, "__name__", "") == name]
        if len(dens) != 1 or dens[0].args != (z,):
            return integral
        poly = sp.Poly(sp.expand((integral.function / dens[0]).subs(z, sp.Symbol("_u") + m)), sp.Symbol("_u"))
        return sp.Add(*[c * gaussian_moment(k, v) for (k,), c in poly.terms()])

    out = expr.replace(lambda e: isinstance(e, sp.Integral), moment)
    if out == expr:
        raise RuleError(f"no integral over the real line of a polynomial times {name}(z)")
    return out


@rule("asymptotic_class", "highest power of the growing variable")
def asymptotic_class(expr: Any, args: dict, ctx: Any) -> Any:
    """Theta(f, n) = Theta(n^k, n) where n^k is the highest power of n in the polynomial f."""
    thetas = expr.atoms(Theta)
    if not thetas:
        raise RuleError("no Theta(...) to evaluate")
    out = {}
    for th in thetas:
        f, v = ctx.scope.unfold(th.args[0]), th.args[1]
        try:
            deg = sp.Poly(bounded_expand(f), v).degree()
        except sp.PolynomialError as exc:
            raise RuleError(f"{sp.sstr(f)[:80]} is not a polynomial in {v}: {exc}"[:300]) from None
        out[th] = Theta(v**deg, v)
    return expr.xreplace(out)
