"""The numeric check (weakest): the relation holds at sample points satisfying the
assumptions; values at a point, with definite integrals by certified-error quadrature."""

from __future__ import annotations

import random
from typing import Any

import mpmath
import sympy as sp

from derive.model import Verdict
from derive.verify.base import PRECISION, Context, StepRejected, bounds, holds, show, with_unknowns
from derive.verify.symbolic import integrate_or_keep

NUMERIC_POINTS = 24


def numeric(a: Any, b: Any, rel: str, ctx: Context) -> Verdict:
    """Check at random points satisfying the assumptions (weakest check)."""
    rng = random.Random(ctx.seed)
    free = a.free_symbols | b.free_symbols
    for i in range(NUMERIC_POINTS):
        point = sample_point(free, ctx, rng, narrow=bool(i % 2))
        x, y = (value_at(e, point, ctx) for e in (a, b))
        ok = holds(x, y, rel)
        pts = ", ".join(f"{k} = {v}" for k, v in point.items())
        if ok is None:
            raise StepRejected("could not evaluate at a sample point", with_unknowns(x, y, pts, ctx))
        if not ok:
            raise StepRejected("false at a sample point", f"{pts}: left = {show(x)}, right = {show(y)}")
    return Verdict("numeric", f"holds at {NUMERIC_POINTS} random points (not a proof)")


def sample_point(free: set, ctx: Context, rng: random.Random, narrow: bool = False) -> dict:
    """Random rationals for the free symbols, inside the assumed bounds.

    A narrow point keeps every value within a hundredth of the range around 0 (or near
    the lower bound when 0 is outside), where many bounds are tight; a value allowed to
    equal its bound (0 for a nonnegative symbol, lo for `lo <= x`) takes it there.
    """
    limits = bounds(ctx)
    point = {}
    for s in sorted(free, key=str):
        lo_b, hi_b = limits.get(s, (None, None))
        lo, hi = (b[0] if b else None for b in (lo_b, hi_b))
        closed = (lo_b is not None and not lo_b[1]) or (lo_b is None and bool(s.is_nonnegative)
                                                         and not s.is_positive)
        if s.is_positive or s.is_nonnegative:
            lo = 0 if lo is None else max(lo, 0)
        if s.is_negative:
            hi = 0 if hi is None else min(hi, 0)
        lo = sp.Integer(-4) if lo is None else sp.nsimplify(lo)
        hi = lo + 8 if hi is None else sp.nsimplify(hi)
        frac = sp.Rational(rng.randint(1, 999), 1000)
        if narrow:
            centre = 0 if lo < 0 < hi else lo
            width = (hi - lo) / 100
            lo, hi = max(lo, centre - width), min(hi, centre + width)
        value = lo if narrow and closed else lo + (hi - lo) * frac
        point[s] = sp.Integer(rng.randint(1, 4)) if s.is_integer else value
    whole = [r for r in ctx.assume if r.free_symbols and all(x.is_integer and x in point for x in r.free_symbols)]
    for _ in range(100):  # whole numbers tied by assumptions (k <= n) are drawn again until they hold
        if all(bool(r.xreplace(point)) for r in whole):
            break
        for x in sorted({x for r in whole for x in r.free_symbols}, key=str):
            point[x] = sp.Integer(rng.randint(1, 6))
    return point


def value_at(expr: Any, point: dict, ctx: Context, digits: int = PRECISION, quick: bool = False) -> Any:
    """Value of expr at a point: definitions unfolded, derivatives and limits carried out
    before the point is put in. Integrals: numerical quadrature with breakpoints at the
    point's values, accepted only when its error estimate is small; otherwise (unless
    `quick`, which then gives NaN: undecided) SymPy integrates them in closed form."""
    expr = ctx.scope.unfold(expr)
    expr = expr.replace(lambda e: isinstance(e, (sp.Derivative, sp.Limit, sp.Subs)), lambda e: e.doit())
    try:
        expr = expr.xreplace(point)
    except ValueError:  # a derivative of an unknown function left at a number: undecided
        return sp.nan
    if expr.is_Rational:
        return expr
    if expr.has(sp.Integral):
        breaks = sorted({float(v) for v in point.values()} | {0.0})
        try:
            with mpmath.workdps(digits):
                return sp.Float(_mp(expr, breaks), digits)
        except (NotImplementedError, ValueError, ZeroDivisionError, ArithmeticError, TypeError):  # TypeError: complex
            if quick:
                return sp.nan
        expr = expr.replace(lambda e: isinstance(e, sp.Integral), integrate_or_keep)
    try:
        return expr.evalf(digits)
    except (ValueError, ArithmeticError):  # e.g. a divergent series: no value, undecided
        return sp.nan


MP_FUNCTIONS = {sp.exp: mpmath.exp, sp.log: mpmath.log, sp.sin: mpmath.sin, sp.cos: mpmath.cos,
                sp.tanh: mpmath.tanh, sp.cosh: mpmath.cosh, sp.sech: mpmath.sech, sp.Abs: abs}


def _mp(expr: Any, breaks: list[float]) -> Any:
    """Evaluate with mpmath, definite integrals by quadrature split at `breaks` (much faster
    than evalf); a quadrature whose error estimate is not small raises ArithmeticError."""
    return _compile(expr, breaks)({})


def _compile(expr: Any, breaks: list[float]) -> Any:
    """expr as a function of an environment {symbol: mpf}, built from closures (no eval):
    the tree is walked once, not at every quadrature node."""
    if isinstance(expr, sp.Symbol):
        return lambda env: env[expr]
    if expr.is_Number or expr in (sp.pi, sp.E):
        const = mpmath.mpf(sp.Float(expr, mpmath.mp.dps))
        return lambda env: const
    if isinstance(expr, (sp.Add, sp.Mul)):
        parts = [_compile(a, breaks) for a in expr.args]
        combine = mpmath.fsum if isinstance(expr, sp.Add) else mpmath.fprod
        return lambda env: combine(f(env) for f in parts)
    if isinstance(expr, sp.Pow):
        base, exp = _compile(expr.base, breaks), _compile(expr.exp, breaks)
        return lambda env: mpmath.power(base(env), exp(env))
    if expr.func in MP_FUNCTIONS:
        fn, arg = MP_FUNCTIONS[expr.func], _compile(expr.args[0], breaks)
        return lambda env: fn(arg(env))
    if isinstance(expr, sp.Integral) and len(expr.limits) == 1 and len(expr.limits[0]) == 3:
        return _compile_integral(expr, breaks)
    raise NotImplementedError(type(expr).__name__)


def _compile_integral(expr: sp.Integral, breaks: list[float]) -> Any:
    (z, lo, hi), = expr.limits
    body = _compile(expr.function, breaks)
    ends = [(lambda env, e=e: mpmath.inf if e == sp.oo else -mpmath.inf) if e.is_infinite else _compile(e, breaks)
            for e in (lo, hi)]

    def integral(env: dict) -> Any:
        a, b = ends[0](env), ends[1](env)
        inner = [mpmath.mpf(x) for x in breaks if a < x < b]
        value, error = mpmath.quad(lambda t: body({**env, z: t}), [a, *inner, b], error=True)
        if error > mpmath.mpf(10) ** (-12) * (1 + abs(value)):
            raise ArithmeticError(f"quadrature error {error}")
        return value

    return integral

