"""Calculus rules: derivatives, integrals, limits, Gaussian moments, asymptotic class."""

from __future__ import annotations

from typing import Any

import sympy as sp

from derive.instances import gaussian_moment
from derive.ops import Theta
from derive.rules import Param, RuleError, rule, shown
from derive.rules.algebra import bounded_expand
from derive.verify import Context, decide_cases
from derive.verify.assumed_limits import assumed_limits


def _evaluate_nodes(expr: Any, kind: type, what: str) -> Any:
    """Carry out every node of `kind`; fails naming the node SymPy could not carry out (an
    error inside SymPy, a value that is only bounds, or no node evaluated at all)."""
    nodes = expr.atoms(kind)
    if not nodes:
        raise RuleError(f"no {what} to evaluate in {shown(expr)}")
    done = {}
    for node in sorted(nodes, key=sp.default_sort_key):
        try:
            done[node] = node.doit()
        except Exception as exc:  # SymPy raises many kinds; the author needs the node, not a trace
            raise RuleError(f"SymPy could not evaluate the {what} {shown(node)} "
                            f"({type(exc).__name__}: {exc})") from None
        bounds = done[node].atoms(sp.AccumBounds)
        if bounds:
            raise RuleError(f"the {what} {shown(node)} does not exist: SymPy only bounds it, "
                            f"{shown(min(bounds, key=sp.default_sort_key))}")
    stuck = [n for n in sorted(nodes, key=sp.default_sort_key) if done[n] == n]
    if len(stuck) == len(nodes):
        raise RuleError(f"SymPy finds no closed form for the {what} {' nor '.join(shown(n) for n in stuck)}")
    return expr.xreplace(done)


@rule("differentiate", "differentiating")
def differentiate(expr: Any, args: dict, ctx: Any) -> Any:
    """Carry out every derivative d/dx (...) in the expression (SymPy's doit); fails, naming
    them, when SymPy can carry out none."""
    return _evaluate_nodes(expr, sp.Derivative, "derivative")


@rule("integrate", "integrating")
def integrate(expr: Any, args: dict, ctx: Any) -> Any:
    """Carry out every integral in the expression (SymPy's integrate); fails, naming them,
    when SymPy finds no closed form for any."""
    return _evaluate_nodes(expr, sp.Integral, "integral")


@rule("limit", "taking the limit")
def limit(expr: Any, args: dict, ctx: Any) -> Any:
    """Evaluate every limit in the expression (SymPy's limit; one whose value depends on the
    sign of a parameter is taken under the chain's assumptions); fails, naming them, when SymPy
    can evaluate none, or naming one that does not exist (SymPy gives only bounds)."""
    done = assumed_limits(expr, Context(ctx.scope, ctx.assume))
    return done if done != expr and not done.has(sp.Limit) else _evaluate_nodes(done, sp.Limit, "limit")


@rule("evaluate_sums", "summing (convergence and ranges decided by the assumptions)")
def evaluate_sums(expr: Any, args: dict, ctx: Any) -> Any:
    """Carry out every sum, innermost first (SymPy's summation); a case split on convergence
    or on the range of an index is resolved by the chain's assumptions, else refused naming the
    condition; a sum without a closed form is named in the error."""
    if not expr.atoms(sp.Sum):
        raise RuleError(f"no sum to evaluate in {shown(expr)}")
    try:
        done = expr.replace(lambda e: isinstance(e, sp.Sum), lambda e: e.doit())
    except Exception as exc:  # SymPy's summation raises many kinds; name the sums instead
        raise RuleError(f"SymPy could not evaluate the sums in {shown(expr)} ({type(exc).__name__}: {exc})") from None
    done = decide_cases(done, Context(ctx.scope, ctx.assume))
    for node in done.atoms(sp.Piecewise):
        conds = ", ".join(sp.sstr(c) for _, c in node.args if c is not sp.true)
        raise RuleError(f"the assumptions do not decide {conds}, a case of {shown(node)} (add it under assume)")
    left = sorted(done.atoms(sp.Sum), key=sp.default_sort_key)
    if left:
        raise RuleError(f"SymPy finds no closed form for {' nor for '.join(shown(x) for x in left)}")
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
        rest = sp.expand((integral.function / dens[0]).subs(z, sp.Symbol("_u") + m))
        try:
            poly = sp.Poly(rest, sp.Symbol("_u"))
        except sp.PolynomialError:
            raise RuleError(f"{shown(integral.function / dens[0])} is not a polynomial in {z}") from None
        return sp.Add(*[c * gaussian_moment(k, v) for (k,), c in poly.terms()])

    out = expr.replace(lambda e: isinstance(e, sp.Integral), moment)
    if out == expr:
        raise RuleError(f"no integral over the real line of a polynomial times {name}(z) in {shown(expr)}")
    return out


@rule("asymptotic_class", "highest power of the growing variable")
def asymptotic_class(expr: Any, args: dict, ctx: Any) -> Any:
    """Theta(f, n) = Theta(n^k, n) where n^k is the highest power of n in the polynomial f."""
    thetas = expr.atoms(Theta)
    if not thetas:
        raise RuleError(f"no Theta(...) to evaluate in {shown(expr)}")
    out = {}
    for th in thetas:
        f, v = ctx.scope.unfold(th.args[0]), th.args[1]
        try:
            deg = sp.Poly(bounded_expand(f), v).degree()
        except sp.PolynomialError:
            raise RuleError(f"{shown(f)} in {shown(th)} is not a polynomial in {v}") from None
        out[th] = Theta(v**deg, v)
    return expr.xreplace(out)
