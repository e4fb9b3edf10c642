"""The numeric check (weakest): the relation holds at sample points satisfying the
assumptions; values at a point, with definite integrals by certified-error quadrature."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy as sp
from sympy.core.function import AppliedUndef

from derive.balls import NotEnclosed, ball
from derive.instances import carried_out
from derive.model import Verdict
from derive.verify.assumed_limits import assumed_limits
from derive.verify.base import PRECISION, Context, StepRejected, bounds, holds, show, sides_at, with_unknowns
from derive.verify.symbolic import infinite_range, integrate_or_keep

NUMERIC_POINTS = 40
# how each symbol's value is drawn at a point (rotated over points and symbols, so every
# symbol meets every kind, in combination with the others' kinds)
KINDS = ("uniform", "narrow", "low end", "high end", "magnitude")
SEARCH_STARTS = 3
SEARCH_ROUNDS = 60
EQUALITY_TOLERANCE = 1e-12


def numeric(a: Any, b: Any, rel: str, ctx: Context) -> Verdict:
    """Check at points satisfying the assumptions (weakest check): uniform in the allowed
    range, near 0, near each end of the range (within 10^-9 .. 10^-1 of a finite end), and at
    magnitudes 10^-6 .. 10^6 of both signs where the range is unbounded. A strict inequality
    must also survive the search for its equality cases (`equality_cases`)."""
    rng = random.Random(ctx.seed)
    free = a.free_symbols | b.free_symbols
    tried = []
    at_a, at_b = evaluator(a, ctx), evaluator(b, ctx)
    for i in range(NUMERIC_POINTS):
        point = sample_point(free, ctx, rng, index=i)
        x, y = at_a(point), at_b(point)
        ok = holds(x, y, rel)
        pts = ", ".join(f"{k} = {v}" for k, v in point.items())
        if ok is None:
            raise StepRejected("could not evaluate at a sample point", with_unknowns(x, y, pts, ctx))
        if not ok:
            raise StepRejected("false at a sample point", sides_at(pts, show(x), show(y)))
        tried.append((point, abs(y - x) / (1 + abs(x) + abs(y))))
    ends = "; ".join(f"{s} from {e[0]} to {e[1]}" for s, e in covered_ends(free, ctx).items())
    strict = ""
    if rel == "<":
        equality_cases(a, b, ctx, [p for p, _ in sorted(tried, key=lambda t: t[1])[:SEARCH_STARTS]])
        strict = "; a search for equality cases (zero, the ends, stationary points of the slack) found none"
    eqs = [sp.sstr(r) for r in ctx.assume if isinstance(r, sp.Eq) and r.free_symbols & free]
    on = f"; every point on {', '.join(eqs)} (solved for one symbol)" if eqs else ""
    return Verdict("numeric", f"holds at {NUMERIC_POINTS} sample points ({ends}: uniform, near 0, near each end, "
                              f"magnitudes 1e-6 to 1e6 where unbounded){on}{strict}; not a proof: no sign certificate "
                              "was found, and only real symbols occur (no exact instance applies)")


def covered_ends(free: set, ctx: Context) -> dict[Any, list[str]]:
    """The ends of each symbol's range that sample points approach, for the verdict."""
    out = {}
    for s in sorted(free, key=str):
        lo, hi = _range(s, bounds(ctx))[:2]
        out[s] = [str(lo) if lo is not None else "-oo", str(hi) if hi is not None else "oo"]
    return out


def _range(s: Any, limits: dict) -> tuple[Any, Any, bool, bool]:
    """(lo, hi, lo closed, hi closed) of s from its bounds and sign assumptions (None: unbounded)."""
    lo_b, hi_b = limits.get(s, (None, None))
    lo, hi = (sp.nsimplify(b[0]) if b else None for b in (lo_b, hi_b))
    lo_closed, hi_closed = bool(lo_b and not lo_b[1]), bool(hi_b and not hi_b[1])
    if s.is_positive or s.is_nonnegative:
        if lo is None or lo < 0:
            lo, lo_closed = sp.Integer(0), not s.is_positive
    if s.is_negative or s.is_nonpositive:
        if hi is None or hi > 0:
            hi, hi_closed = sp.Integer(0), not s.is_negative
    return lo, hi, lo_closed, hi_closed


def sample_point(free: set, ctx: Context, rng: random.Random, narrow: bool = False, index: int | None = None) -> dict:
    """Random rationals for the free symbols, inside the assumed bounds. Point `index` gives
    symbol number k the kind KINDS[(index + k) % 5]: uniform over the range (a stretch of 8
    where unbounded); narrow (within a hundredth of the range around 0, or at the lower end
    when 0 is outside, at the end itself when it is allowed); near the low or the high end
    (10^-j inside a finite end, -10^j or 10^j at an infinite one); a log-uniform magnitude
    10^-6 .. 10^6 of either sign (inside a finite range: that close to one of its ends).
    Without `index`, every symbol is uniform (narrow if `narrow`)."""
    limits = bounds(ctx)
    point = {}
    for rel in ctx.assume:  # the other symbols of an equality on a free one are drawn too, then solved for
        if isinstance(rel, sp.Eq) and rel.free_symbols & set(free) and not rel.has(sp.Indexed, AppliedUndef):
            free = set(free) | rel.free_symbols
    for k, s in enumerate(sorted(free, key=str)):
        kind = KINDS[(index + k) % len(KINDS)] if index is not None else "narrow" if narrow else "uniform"
        if s.is_integer:
            point[s] = sp.Integer(rng.randint(1, 4) if index is None else (1, 2, 3, 4, 6, 9, 12)[(index + k) % 7])
            continue
        point[s] = _value(kind, *_range(s, limits), rng)
    point = _on_equalities(point, ctx, rng)
    whole = [r for r in ctx.assume if r.free_symbols and all(x.is_integer and x in point for x in r.free_symbols)]
    for _ in range(100):  # whole numbers tied by assumptions (k <= n) are drawn again until they hold
        if all(bool(r.xreplace(point)) for r in whole):
            break
        for x in sorted({x for r in whole for x in r.free_symbols}, key=str):
            point[x] = sp.Integer(rng.randint(1, 6))
    return point


def _on_equalities(point: dict, ctx: Context, rng: random.Random) -> dict:
    """The point moved onto the chain's equalities between real symbols (a == b, a + b == 1):
    each is solved for its last symbol that occurs linearly, in turn; if a solved value leaves
    the assumed bounds, the other symbols are drawn again (uniformly), up to 50 times.
    ValueError if no point satisfies them."""
    eqs = [r for r in ctx.assume if isinstance(r, sp.Eq) and r.free_symbols and r.free_symbols <= set(point)
           and not r.has(sp.Indexed, AppliedUndef, sp.Sum, sp.Product)]
    if not eqs:
        return point
    others = [r for r in ctx.assume if not isinstance(r, sp.Eq) and r.free_symbols <= set(point)]
    limits = bounds(ctx)
    for _ in range(50):
        p = dict(point)
        for rel in eqs:
            d = rel.lhs - rel.rhs
            x = next((s for s in sorted(d.free_symbols, key=str, reverse=True)
                      if not s.is_integer and sp.degree(d, s) == 1 and d.is_polynomial(s)), None)
            if x is None:
                raise ValueError(f"the assumption {rel} cannot be solved for a real symbol")
            p[x] = sp.solve(d.xreplace({k: v for k, v in p.items() if k != x}), x)[0]
        if all(bool(r.xreplace(p)) for r in (*eqs, *others)):
            return p
        point = {s: v if s.is_integer else _value("uniform", *_range(s, limits), rng) for s, v in point.items()}
    raise ValueError(f"no sample point satisfies {', '.join(map(str, eqs))} within the assumed bounds")


def _value(kind: str, lo: Any, hi: Any, lo_closed: bool, hi_closed: bool, rng: random.Random) -> Any:
    tiny = sp.Rational(1, 10 ** rng.randint(1, 9))
    if kind == "magnitude":
        size = sp.Rational(rng.randint(1, 9)) * sp.Rational(10) ** rng.randint(-6, 6)
        if lo is None and hi is None:
            return size * rng.choice((-1, 1))
        kind = "low end" if hi is None or (lo is not None and rng.random() < 0.5) else "high end"
        if lo is None or hi is None:
            return lo + size if hi is None else hi - size
    if kind == "low end":
        if lo is None:
            return -sp.Integer(10) ** rng.randint(1, 6) if hi is None else hi - sp.Integer(10) ** rng.randint(1, 6)
        return lo if lo_closed and rng.random() < 0.3 else lo + (tiny if hi is None else (hi - lo) * tiny)
    if kind == "high end":
        if hi is None:
            return sp.Integer(10) ** rng.randint(1, 6) if lo is None else lo + sp.Integer(10) ** rng.randint(1, 6)
        return hi if hi_closed and rng.random() < 0.3 else hi - (tiny if lo is None else (hi - lo) * tiny)
    low = sp.Integer(-4) if lo is None else lo
    high = low + 8 if hi is None else hi
    if lo is None and hi is not None:
        low = high - 8
    if kind == "narrow":
        centre = 0 if low < 0 < high else low
        width = (high - low) / 100
        if centre == low and lo_closed:
            return low
        low, high = max(low, centre - width), min(high, centre + width)
    return low + (high - low) * sp.Rational(rng.randint(1, 999), 1000)


def equality_cases(a: Any, b: Any, ctx: Context, starts: list[dict]) -> None:
    """Reject the strict claim a < b if its slack b - a reaches 0 (to EQUALITY_TOLERANCE relative
    to the sides): at the point where every symbol is 0 (or at the end of its range nearest 0),
    at the exact stationary points and roots of a slack rational in one symbol, and at the end of
    a local search (compass steps, halved when no neighbour is lower) from the sample points of
    least slack. Evidence cannot rule out an equality it does not meet; a strict bound that is
    tight somewhere needs a sign certificate."""
    d = b - a
    free = sorted(d.free_symbols, key=str)
    limits = bounds(ctx)
    ranges = {s: _range(s, limits) for s in free}

    def inside(p: dict) -> bool:
        for s, (lo, hi, lc, hc) in ranges.items():
            v = p[s]
            below = lo is not None and (v < lo or (v == lo and not lc))
            if below or (hi is not None and (v > hi or (v == hi and not hc))):
                return False
        p = _completed(p, ctx)
        return all(bool(r.xreplace(p)) is not False for r in ctx.assume if r.free_symbols <= set(p))

    at_a, at_b = evaluator(a, ctx), evaluator(b, ctx)

    def slack(p: dict) -> Any:
        x, y = at_a(p, 30), at_b(p, 30)
        try:
            return abs(float(y - x)) / (1 + abs(float(x)) + abs(float(y)))
        except (TypeError, ValueError):
            return None

    def reject(p: dict, how: str) -> None:
        pts = ", ".join(f"{k} = {v}" for k, v in p.items())
        raise StepRejected("a strict inequality whose two sides meet: equality is reached " + how,
                           sides_at(pts, show(at_a(p)), show(at_b(p))))

    candidates = [zero_point(set(free), ctx)]
    if len(free) == 1:
        candidates += [{free[0]: r} for r in _critical_points(d, free[0])]
    for p in candidates:
        if all(v is not None for v in p.values()) and inside(p):
            v = slack(p)
            if v is not None and v <= EQUALITY_TOLERANCE:
                reject(p, "(at zero or an end of the range)" if p is candidates[0] else "(a stationary point)")
    for start in starts:
        p, step, best = dict(start), 0.5, slack(start)
        for _ in range(SEARCH_ROUNDS):
            if best is None or best <= EQUALITY_TOLERANCE:
                break
            moved = False
            for s in free:
                for sign in (1, -1):
                    q = dict(p)
                    q[s] = p[s] + sign * sp.Rational(step).limit_denominator(10 ** 12) * (1 + abs(p[s]))
                    if inside(q):
                        v = slack(q)
                        if v is not None and v < best:
                            p, best, moved = q, v, True
            if not moved:
                step /= 2
        if best is not None and best <= EQUALITY_TOLERANCE:
            reject({k: sp.Float(v, 15) for k, v in p.items()},
                   f"to {EQUALITY_TOLERANCE:g} (a local search of the slack)")


def _completed(p: dict, ctx: Context) -> dict:
    """p with each symbol that an equality of the assumptions fixes given p (linearly) added."""
    p = dict(p)
    for rel in ctx.assume:
        missing = rel.free_symbols - set(p) if isinstance(rel, sp.Eq) else set()
        if len(missing) == 1 and rel.free_symbols & set(p):
            x, = missing
            d = (rel.lhs - rel.rhs).xreplace(p)
            if d.is_polynomial(x) and sp.degree(d, x) == 1:
                p[x] = sp.solve(d, x)[0]
    return p


def zero_point(free: set, ctx: Context) -> dict:
    """Each symbol at 0, or at the end of its range nearest 0 (None if that end is excluded)."""
    limits = bounds(ctx)
    return {s: _nearest_zero(_range(s, limits)) for s in sorted(free, key=str)}


def _nearest_zero(r: tuple) -> Any:
    lo, hi, lc, hc = r
    if (lo is None or lo < 0 or (lo == 0 and lc)) and (hi is None or hi > 0 or (hi == 0 and hc)):
        return sp.Integer(0)
    return lo if lo is not None and lo >= 0 and lc else hi if hi is not None and hi <= 0 and hc else None


def _critical_points(d: Any, x: Any) -> list[Any]:
    """Exact real roots of the slack and of its derivative, when the slack is rational in x."""
    try:
        num = sp.numer(sp.together(d))
        if not num.is_polynomial(x):
            return []
        poly = sp.Poly(num, x)
        if poly.degree() > 12 or poly.free_symbols - {x}:
            return []
        return [r for q in (poly, poly.diff(x)) if q.degree() > 0 for r in sp.real_roots(q)
                if r.is_Rational or r.is_real]
    except (sp.PolynomialError, NotImplementedError, ValueError, TypeError):
        return []


def value_at(expr: Any, point: dict, ctx: Context, digits: int = PRECISION, quick: bool = False) -> Any:
    """Value of expr at a point: definitions unfolded, derivatives and limits carried out
    (under the chain's assumptions where a limit depends on them) before the point is put in. Integrals: numerical quadrature with breakpoints at the
    point's values, accepted only when its error estimate is small; otherwise (unless
    `quick`, which then gives NaN: undecided) SymPy integrates them in closed form."""
    return evaluator(expr, ctx)(point, digits, quick)


@dataclass(frozen=True)
class Evaluator:
    """`value_at` of one expression at many points: `settled` is the expression with its
    definitions unfolded and its limits and derivatives carried out (the point-free work,
    done once); calling it with (point, digits=PRECISION, quick=False) gives the value."""

    settled: Any

    def __call__(self, point: dict, digits: int = PRECISION, quick: bool = False) -> Any:
        return _settled_at(self.settled, point, digits, quick)


def evaluator(expr: Any, ctx: Context) -> Evaluator:
    """The `Evaluator` of expr under ctx's definitions and assumptions."""
    expr = assumed_limits(ctx.scope.unfold(expr), ctx)
    return Evaluator(expr.replace(lambda e: isinstance(e, (sp.Derivative, sp.Limit, sp.Subs)), lambda e: e.doit()))


def _settled_at(expr: Any, point: dict, digits: int, quick: bool) -> Any:
    """`value_at` of an expression whose definitions, limits and derivatives are carried out."""
    try:
        expr = expr.xreplace(point)
    except ValueError:  # a derivative of an unknown function left at a number: undecided
        return sp.nan
    if expr.is_Rational:
        return expr
    if any(infinite_range(p) for p in expr.atoms(sp.Product)):  # no closed form: SymPy's evalf of it may not end
        expr = expr.replace(lambda e: isinstance(e, sp.Product) and infinite_range(e), carried_out)
        if any(infinite_range(p) for p in expr.atoms(sp.Product)):
            return sp.nan
    if expr.has(sp.Integral):
        breaks = sorted({float(v) for v in point.values()} | {0.0})
        try:
            with mpmath.workdps(digits):
                return sp.Float(_mp(expr, breaks), digits)
        except (NotImplementedError, ValueError, ZeroDivisionError, ArithmeticError, TypeError):  # TypeError: complex
            if quick:
                return sp.nan
        expr = expr.replace(lambda e: isinstance(e, sp.Integral), integrate_or_keep)
    fast = by_ball(expr, digits)
    if fast is not None:
        return fast
    try:
        return expr.evalf(digits)
    except (ValueError, ArithmeticError):  # e.g. a divergent series: no value, undecided
        return sp.nan


def by_ball(expr: Any, digits: int) -> sp.Float | None:
    """The value of the exact real number expr to `digits` digits, from an Arb ball (in C, far
    faster than evalf on sums of exponentials), when a ball at one or two times the working
    bits is that accurate; None otherwise (a node Arb does not evaluate, no finite value, or
    a cancellation to 0: evalf decides those, as before)."""
    want = int(digits * 3.33) + 8
    for prec in (want + 32, 2 * want + 64):
        try:
            b = ball(expr, prec)
        except NotEnclosed:
            return None
        if b.is_exact() or b.rel_accuracy_bits() >= want:
            man, exp = b.mid().man_exp()
            bits = mpmath.libmp.dps_to_prec(digits)
            return sp.Float._new(mpmath.libmp.from_man_exp(int(man), int(exp), bits, "n"), bits)
    return None


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

