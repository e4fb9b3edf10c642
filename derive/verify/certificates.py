"""Sign certificates: why a difference is non-negative (positive), from symbol assumptions,
the chain's bounds, the problem's inequality hypotheses and the structure of the expression
(squares, positive factors, integrals and sums of non-negative terms, products compared
factor by factor). A certificate is a proof, never evidence."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterator

import sympy as sp
from sympy.core.function import AppliedUndef

from derive.ops import Int
from derive.scope import inequality_hypotheses
from derive.verify.base import Context, bounds

def order_certificate(lo: Any, hi: Any, strict: bool, ctx: Context) -> str | None:
    """A reason why lo <= hi (lo < hi if strict) holds, or None."""
    if isinstance(lo, sp.Product) and _same_product_range(lo, hi, strict):
        f = lo.function
        g = hi.function if isinstance(hi, sp.Product) else hi.base if isinstance(hi, sp.Pow) else hi
        if sign_certificate(f, False, ctx) and sign_certificate(g - f, strict, ctx):
            return "factor by factor: 0 <= each factor <= its bound"
    if sign_certificate(hi - lo, strict, ctx):
        used = _bounds_used(hi - lo, ctx)
        using = f" using {', '.join(used)}" if used else ""
        return "the difference is " + ("positive" if strict else "non-negative") + f" (sign certificate{using})"
    return None


def _same_product_range(lo: sp.Product, hi: Any, strict: bool) -> bool:
    """hi is a product over the same range, a power with one factor per term of lo, or 1
    (a product of ones; for a strict bound the range must not be empty)."""
    (k, a, n), = lo.limits
    if strict and not (n - a).is_nonnegative:
        return False
    if hi == 1:
        return True
    if isinstance(hi, sp.Product):
        return hi.limits == lo.limits
    return isinstance(hi, sp.Pow) and hi.exp == n - a + 1 and not hi.base.has(k)


def sign_certificate(d: Any, strict: bool, ctx: Context) -> bool:
    """Is d >= 0 (> 0 if strict), by symbol assumptions and the chain's bounds? Failing that,
    with every positive whole number x written 1 + t, t >= 0."""
    return all(_sign(e, strict) or _sign(_whole_number_shift(e), strict) or _rounding_certified(e, strict)
               for e in (_hypothesis_substitution(part, ctx) for part in _bounded_substitution(d, ctx)))


def _rounding_certified(d: Any, strict: bool) -> bool:
    """Is d's sign certified with each floor(u) written u - s and each ceiling(u) u + s,
    0 <= s < 1 (`rounding_slack`, derive/rules/combinatorics.py)?"""
    if not d.has(sp.floor, sp.ceiling):
        return False
    from derive.rules.combinatorics import rounding_slack  # here: derive.rules imports derive.verify
    return _sign(rounding_slack(d), strict)


def _whole_number_shift(d: Any) -> Any:
    """d with each positive integer symbol x put as 1 + t (t >= 0): x >= 1 covers every value."""
    return d.xreplace({x: 1 + sp.Dummy("t", nonnegative=True) for x in d.free_symbols
                       if x.is_integer and x.is_positive})


def _hypothesis_substitution(d: Any, ctx: Context) -> Any:
    """Write each function bounded by an inequality hypothesis F(x) <= rhs(x) as
    rhs(x) - t(x) (rhs(x) + t(x) for >=), with t a fresh non-negative function (positive for a
    strict bound): every F allowed by the hypothesis is of this form, at every argument."""
    for h in inequality_hypotheses(ctx.scope):
        strict = {"positive": True} if h.rel in ("<", ">") else {}  # never positive=False: that is t = 0
        t = sp.Function(f"slack_{h.name}", real=True, nonnegative=True, **strict)
        sign = -1 if h.rel in ("<", "<=") else 1
        d = d.replace(lambda e, h=h: h.matches(e), lambda e, h=h, t=t: h.apply(e) + sign * t(*e.args))
    return d


def _bounds_used(d: Any, ctx: Context) -> list[str]:
    """The inequality hypotheses whose function occurs in d."""
    heads = {e.func.__name__ for e in d.atoms(AppliedUndef)}
    return [f"hypothesis {h.name}" for h in inequality_hypotheses(ctx.scope) if h.head in heads]


@lru_cache(maxsize=4096)
def _sign(d: Any, strict: bool) -> bool:
    """Is d >= 0 (> 0 if strict) by its structure? A function of d alone (the assumptions
    ride on its symbols), so it is remembered: the steps of a chain share their terms."""
    for form in _forms(d):
        known = form.is_positive if strict else form.is_nonnegative
        if known:
            return True
    if isinstance(d, sp.Abs):
        return not strict
    if isinstance(d, (Int, sp.Sum)) and not strict:  # an integral or sum of non-negative terms
        return _sign(d.args[0], False)
    if isinstance(d, sp.Product):
        return _sign(d.function, strict)
    if isinstance(d, sp.Mul):
        return all(_sign(f, strict) for f in d.args)
    if isinstance(d, sp.Add) and all(_sign(t, False) for t in d.args):
        return not strict or any(_sign(t, True) for t in d.args)
    if isinstance(d, sp.Pow) and d.exp.is_Integer and d.exp.is_even and d.base.is_extended_real:
        return not strict or bool(d.base.is_nonzero)
    return False


HYPERBOLIC = (sp.tanh, sp.sech, sp.cosh, sp.sinh)


def _forms(d: Any) -> Iterator[Any]:
    """d, then (made only when needed) expanded, factored over a common denominator,
    simplified (unless a polynomial, whose signs show in the other forms), and (when it has
    hyperbolic functions, whose signs SymPy rarely sees) written with exponentials and factored."""
    yield d
    makers = [sp.expand, lambda e: sp.factor(sp.together(e))]
    if not d.is_polynomial():
        makers.append(sp.simplify)
    if d.has(*HYPERBOLIC):
        makers.append(lambda e: sp.factor(sp.together(e.rewrite(sp.exp))))
    for make in makers:
        try:
            yield make(d)
        except (TypeError, ValueError, NotImplementedError, sp.PolynomialError):
            return


def _bounded_substitution(d: Any, ctx: Context) -> list[Any]:
    """d written through dummies that cover exactly the allowed values of its bounded
    symbols; d is non-negative when every expression returned is. lo < x < hi becomes
    x = (lo + hi t)/(1 + t) with t > 0; lo <= x < hi becomes lo + (hi - lo) t/(1 + t) with
    t >= 0, lo < x <= hi likewise from hi; lo <= x <= hi is [lo, hi) that way plus the end
    point x = hi (two expressions); x > lo becomes lo + t and x < hi becomes hi - t (t > 0, or
    t >= 0 for a non-strict bound). A symbolic lower bound lo <= x (lo an expression in other
    symbols, e.g. k <= n) becomes x = lo + t, innermost last, so that n >= d >= k gives
    n = k + t1 + t2."""
    limits = bounds(ctx)
    for x, lo, strict in _symbolic_lower_bounds(ctx, set(limits)):
        if x in d.free_symbols:
            d = d.xreplace({x: lo + _dummy(strict)})
    parts = [d]
    for x, (lo, hi) in limits.items():
        if x not in d.free_symbols:
            continue
        if lo and hi:
            t = sp.Dummy("t", nonnegative=True)
            if lo[1] and hi[1]:
                t = sp.Dummy("t", positive=True)
                parts = [p.xreplace({x: (lo[0] + hi[0] * t) / (1 + t)}) for p in parts]
            elif hi[1]:
                parts = [p.xreplace({x: lo[0] + (hi[0] - lo[0]) * t / (1 + t)}) for p in parts]
            elif lo[1]:
                parts = [p.xreplace({x: hi[0] - (hi[0] - lo[0]) * t / (1 + t)}) for p in parts]
            else:
                parts = [p.xreplace({x: v}) for p in parts
                         for v in (lo[0] + (hi[0] - lo[0]) * t / (1 + t), hi[0])]
        elif lo:
            parts = [p.xreplace({x: lo[0] + _dummy(lo[1])}) for p in parts]
        else:
            parts = [p.xreplace({x: hi[0] - _dummy(hi[1])}) for p in parts]
    return parts


def _dummy(strict: bool) -> sp.Dummy:
    """A fresh t > 0 (strict) or t >= 0. (positive=False would make t non-positive, so zero.)"""
    return sp.Dummy("t", positive=True) if strict else sp.Dummy("t", nonnegative=True)


def _symbolic_lower_bounds(ctx: Context, skip: set) -> list[tuple[Any, Any, bool]]:
    """(x, lo, strict) for each assumption lo <= x (lo < x) where lo is not a number and does
    not contain x, ordered so that x occurs in no later bound (substituting in this order
    leaves no bounded symbol behind); symbols in `skip` (numeric bounds) are left out."""
    pending = []
    for rel in ctx.assume:
        lhs, rhs = rel.lhs, rel.rhs
        if isinstance(rel, (sp.StrictGreaterThan, sp.GreaterThan)):
            lhs, rhs = rhs, lhs
        if isinstance(rel, (sp.StrictLessThan, sp.LessThan, sp.StrictGreaterThan, sp.GreaterThan)) \
                and isinstance(rhs, sp.Symbol) and rhs not in skip and not lhs.is_number \
                and rhs not in lhs.free_symbols and all(p[0] != rhs for p in pending):
            pending.append((rhs, lhs, isinstance(rel, (sp.StrictLessThan, sp.StrictGreaterThan))))
    ordered = []
    while pending:
        ready = [p for p in pending if not any(p[0] in q[1].free_symbols for q in pending)]
        if not ready:
            break
        ordered.append(ready[0])
        pending.remove(ready[0])
    return ordered
