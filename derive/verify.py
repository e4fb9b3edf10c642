"""The verifier: every step `previous rel next` gets a verdict or is rejected.

Checks, strongest first:
- symbolic: after unfolding definitions (and the hypotheses the step cites), the difference
  simplifies to 0; for an inequality, the difference is shown non-negative by a sign
  certificate (squares, positive factors, factor-by-factor comparison of products, bounds
  from the chain's assumptions);
- instance: abstract objects (whole-number parameters, finite-space integrals and tables,
  expectations, operation counts) are replaced by random exact instances
  (derive/instances.py) and the relation is checked exactly, for several seeds;
- numeric: the relation holds at many random points satisfying the assumptions (weakest).
A step that no check accepts, or for which a counterexample is found, is rejected with the
counterexample. The rules that produced a step are never trusted.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy as sp
from sympy.core.function import AppliedUndef

from derive.exprs import evaluated
from derive.instances import SCALES, Instance, is_abstract, whole_number_params
from derive.matrices import SCALES as MATRIX_SCALES
from derive.matrices import MatrixEval, Undecided, decide, enclose, has_matrices, random_matrix
from derive.model import Verdict
from derive.ops import Theta
from derive.scope import Rewrite, Scope, rewrite_with

INSTANCE_TRIALS = 6
NUMERIC_POINTS = 24
POINTS_PER_INSTANCE = 6
PRECISION = 40
TOLERANCE = sp.Float("1e-25")
PROBE_DIGITS = 15
PROBE_TOLERANCE = sp.Float("1e-8")


class StepRejected(Exception):
    """The step is false or unproven; carries the reason and a counterexample."""

    def __init__(self, message: str, counterexample: str):
        super().__init__(message)
        self.message = message
        self.counterexample = counterexample


@dataclass(frozen=True)
class Context:
    """What a check may use: the problem's scope, the chain's assumptions, cited hypotheses."""

    scope: Scope
    assume: tuple[Any, ...] = ()
    cited: tuple[Rewrite, ...] = ()
    seed: int = 0


def check(prev: Any, rel: str, nxt: Any, ctx: Context) -> Verdict:
    """Verdict for `prev rel nxt`, or StepRejected.

    A cheap probe at one random point (or instance) runs first, so that a wrong step is
    rejected with its counterexample before any costly simplification is tried. A step
    whose evaluation recurses without end (a recursive definition called below its base
    case) is rejected.
    """
    try:
        return _check(prev, rel, nxt, ctx)
    except RecursionError:
        raise StepRejected("evaluation does not terminate (a recursive definition below its base case?)",
                           f"{sp.sstr(prev)[:100]} {rel} {sp.sstr(nxt)[:100]}") from None


def _check(prev: Any, rel: str, nxt: Any, ctx: Context) -> Verdict:
    a, b = prepare(prev, ctx), prepare(nxt, ctx)
    if rel in (">", ">="):
        a, b = b, a
    rel = {">": "<", ">=": "<="}.get(rel, rel)
    if a.has(Theta) or b.has(Theta):
        return _check_theta(a, b, rel)
    if has_matrices(a, ctx.scope.shapes) or has_matrices(b, ctx.scope.shapes):
        return _symbolic(a, b, rel, ctx) or _matrix_instances(a, b, rel, ctx)
    abstract = is_abstract(a, ctx.scope) or is_abstract(b, ctx.scope)
    _probe(a, b, rel, abstract, ctx)
    verdict = _symbolic(a, b, rel, ctx)
    if verdict:
        return verdict
    return _instances(a, b, rel, ctx) if abstract else _numeric(a, b, rel, ctx)


def _symbolic(a: Any, b: Any, rel: str, ctx: Context) -> Verdict | None:
    """The symbolic verdict for `a rel b` (rel one of = < <=), or None."""
    sa, sb = opaque(a, ctx.scope), opaque(b, ctx.scope)
    if rel == "=":
        return _symbolic_equal(sa, sb, ctx)
    reason = order_certificate(sa, sb, rel == "<", ctx)
    return Verdict("symbolic", reason) if reason else None


def prepare(expr: Any, ctx: Context) -> Any:
    """Evaluated form with cited hypotheses applied once and definitions unfolded."""
    expr = sp.Integer(expr) if isinstance(expr, int) else evaluated(expr)
    if ctx.cited:
        expr = rewrite_with(expr, list(ctx.cited), once=True)
    return ctx.scope.unfold(expr)


def opaque(expr: Any, scope: Scope) -> Any:
    """Make the hidden dependencies of recursive definitions explicit for symbolic checks.

    A recursive definition left at a symbolic argument, like h(n) with h(0) = x, depends on
    x although x is not among its arguments; SymPy would take d/dx h(n) = 0. Each such
    application gets the free symbols of its definition as extra arguments.
    """
    def hide(node: Any) -> Any:
        d = scope.definitions[node.func.__name__]
        hidden = set().union(*(base.free_symbols for _, base in d.at)) - set(node.args)
        return sp.Function(f"{node.func.__name__}_", real=True)(*node.args, *sorted(hidden, key=str))

    return expr.replace(lambda e: isinstance(e, AppliedUndef) and e.func.__name__ in scope.definitions
                        and scope.definitions[e.func.__name__].at, hide)


# ---- equalities ---------------------------------------------------------------------------
def _symbolic_equal(a: Any, b: Any, ctx: Context) -> Verdict | None:
    if a == b:
        return Verdict("symbolic", "identical after unfolding definitions" + _cited(ctx))
    if symbolic_zero(a - b, ctx):
        return Verdict("symbolic", "difference simplifies to 0" + _cited(ctx))
    return None


def _cited(ctx: Context) -> str:
    return f" (using {', '.join(r.name for r in ctx.cited)})" if ctx.cited else ""


def symbolic_zero(d: Any, ctx: Context) -> bool:
    """Does d simplify to 0 (derivatives, definite integrals and limits carried out)?"""
    d = _refine_abs(d, ctx)
    if sp.expand(d) == 0:
        return True
    try:
        done = d.doit()
        done = _refine_abs(done, ctx)
        return sp.simplify(done) == 0 or sp.simplify(sp.expand_log(done, force=False)) == 0
    except (TypeError, ValueError, NotImplementedError, ZeroDivisionError):
        return False


def _refine_abs(expr: Any, ctx: Context) -> Any:
    """Replace |x| by x or -x where the sign of x is certified."""
    def fix(node: Any) -> Any:
        x = node.args[0]
        if sign_certificate(x, False, ctx):
            return x
        if sign_certificate(-x, False, ctx):
            return -x
        return node
    return expr.replace(lambda e: isinstance(e, sp.Abs), fix)


def _check_theta(a: Any, b: Any, rel: str) -> Verdict:
    """Theta(f, n) = Theta(g, n) exactly when f/g tends to a finite positive limit."""
    if not (rel == "=" and isinstance(a, Theta) and isinstance(b, Theta) and a.args[1] == b.args[1]):
        raise StepRejected("a growth class can only be equated with a growth class in the same variable",
                           f"{sp.sstr(a)} vs {sp.sstr(b)}")
    (f, n), g = a.args, b.args[0]
    lim = sp.limit(f / g, n, sp.oo)
    if lim.is_positive and lim.is_finite:
        return Verdict("symbolic", f"the ratio tends to {sp.sstr(lim)}, finite and positive")
    raise StepRejected("the growth classes differ", f"({sp.sstr(f)})/({sp.sstr(g)}) tends to {sp.sstr(lim)} "
                                                    f"as {n} grows")


# ---- inequalities -------------------------------------------------------------------------
def order_certificate(lo: Any, hi: Any, strict: bool, ctx: Context) -> str | None:
    """A reason why lo <= hi (lo < hi if strict) holds, or None."""
    if isinstance(lo, sp.Product) and _same_product_range(lo, hi, strict):
        f = lo.function
        g = hi.function if isinstance(hi, sp.Product) else hi.base if isinstance(hi, sp.Pow) else hi
        if sign_certificate(f, False, ctx) and sign_certificate(g - f, strict, ctx):
            return "factor by factor: 0 <= each factor <= its bound"
    if sign_certificate(hi - lo, strict, ctx):
        return "the difference is " + ("positive" if strict else "non-negative") + " (sign certificate)"
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
    """Is d >= 0 (> 0 if strict), by symbol assumptions and the chain's bounds?"""
    d = _bounded_substitution(d, ctx)
    return _sign(d, strict)


def _sign(d: Any, strict: bool) -> bool:
    for form in _forms(d):
        known = form.is_positive if strict else form.is_nonnegative
        if known:
            return True
    if isinstance(d, sp.Abs):
        return not strict
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


def _forms(d: Any) -> list[Any]:
    """d, factored over a common denominator, simplified, and (when it has hyperbolic
    functions, whose signs SymPy rarely sees) written with exponentials and factored."""
    forms = [d]
    try:
        forms += [sp.factor(sp.together(d)), sp.simplify(d)]
        if d.has(*HYPERBOLIC):
            forms.append(sp.factor(sp.together(d.rewrite(sp.exp))))
    except (TypeError, ValueError, NotImplementedError, sp.PolynomialError):
        pass
    return forms


def _bounded_substitution(d: Any, ctx: Context) -> Any:
    """Write symbols with assumed bounds through a dummy t that covers exactly the allowed
    values: lo < x < hi becomes x = (lo + hi t)/(1 + t) with t > 0; x > lo becomes lo + t and
    x < hi becomes hi - t (t > 0, or t >= 0 for a non-strict bound). A two-sided bound that
    is not strict on both sides is left alone (no such substitution covers its end points)."""
    for x, (lo, hi) in _bounds(ctx).items():
        if x not in d.free_symbols:
            continue
        if lo and hi:
            if lo[1] and hi[1]:
                t = sp.Dummy("t", positive=True)
                d = d.xreplace({x: (lo[0] + hi[0] * t) / (1 + t)})
        elif lo:
            d = d.xreplace({x: lo[0] + sp.Dummy("t", positive=lo[1], nonnegative=True)})
        else:
            d = d.xreplace({x: hi[0] - sp.Dummy("t", positive=hi[1], nonnegative=True)})
    return d


def _bounds(ctx: Context) -> dict[Any, list[Any]]:
    """Numeric bounds read off the chain's assumptions: x -> [(lo, strict) or None,
    (hi, strict) or None]."""
    out: dict[Any, list[Any]] = {}
    for rel in ctx.assume:
        lhs, rhs = rel.lhs, rel.rhs
        strict = isinstance(rel, (sp.StrictLessThan, sp.StrictGreaterThan))
        if isinstance(rel, (sp.StrictGreaterThan, sp.GreaterThan)):
            lhs, rhs = rhs, lhs
        if isinstance(rhs, sp.Symbol) and lhs.is_number:
            out.setdefault(rhs, [None, None])[0] = (lhs, strict)
        elif isinstance(lhs, sp.Symbol) and rhs.is_number:
            out.setdefault(lhs, [None, None])[1] = (rhs, strict)
    return out


# ---- instances and sampling ---------------------------------------------------------------
def _holds(lo: Any, hi: Any, rel: str, tolerance: Any = None) -> bool | None:
    """Does lo rel hi hold for these numbers, up to `tolerance` relative to their size
    (None if not decidable here)?"""
    diff = hi - lo
    if diff.free_symbols:
        return None
    if diff.is_Rational:
        value = diff
    else:
        value = diff.evalf(PRECISION)
        if not value.is_number or value.has(sp.nan, sp.zoo):
            return None
    size = abs(lo.evalf(20)) + abs(hi.evalf(20))
    tol = TOLERANCE if tolerance is None or not size.is_number else tolerance * (1 + size)
    if rel == "=":
        return bool(abs(value) <= tol)
    return bool(value > tol) if rel == "<" else bool(value >= -tol)


def _at(expr: Any, point: dict, ctx: Context, digits: int = PRECISION, quick: bool = False) -> Any:
    """Value of expr at a point: definitions unfolded, derivatives and limits carried out
    before the point is put in. Integrals: numerical quadrature with breakpoints at the
    point's values, accepted only when its error estimate is small; otherwise (unless
    `quick`, which then gives NaN: undecided) SymPy integrates them in closed form."""
    expr = ctx.scope.unfold(expr)
    expr = expr.replace(lambda e: isinstance(e, (sp.Derivative, sp.Limit, sp.Subs)), lambda e: e.doit())
    expr = expr.xreplace(point)
    if expr.is_Rational:
        return expr
    if expr.has(sp.Integral):
        breaks = sorted({float(v) for v in point.values()} | {0.0})
        try:
            with mpmath.workdps(digits):
                return sp.Float(_mp(expr, breaks), digits)
        except (NotImplementedError, ValueError, ZeroDivisionError, ArithmeticError):
            if quick:
                return sp.nan
        expr = expr.replace(lambda e: isinstance(e, sp.Integral), _integrate_or_keep)
    return expr.evalf(digits)


def _integrate_or_keep(node: sp.Integral) -> Any:
    """The integral in closed form when SymPy finds one, else the integral itself."""
    try:
        done = node.doit()
    except (TypeError, ValueError, NotImplementedError):
        return node
    return node if done.has(sp.Integral) else done


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


def _probe(a: Any, b: Any, rel: str, abstract: bool, ctx: Context) -> None:
    """Reject at once if one random point (or instance) already contradicts the step."""
    rng = random.Random(ctx.seed ^ 0x5EED)
    where = ""
    if abstract:
        inst = Instance(ctx.scope, rng)
        a, b = inst.evaluate(a), inst.evaluate(b)
        where = inst.describe(set(inst.values))
    point = _sample_point(a.free_symbols | b.free_symbols, ctx, rng)
    x, y = (_at(e, point, ctx, PROBE_DIGITS, quick=True) for e in (a, b))
    if _holds(x, y, rel, PROBE_TOLERANCE) is False:
        pts = ", ".join(f"{k} = {v}" for k, v in point.items())
        raise StepRejected("false at a random point" if not abstract else "false on a random exact instance",
                           f"{'; '.join(p for p in (where, pts) if p)}: left = {_show(x)}, right = {_show(y)}")


def _instances(a: Any, b: Any, rel: str, ctx: Context) -> Verdict:
    """Check on random exact instances; real symbols left over are sampled at random points."""
    rng = random.Random(ctx.seed)
    sampled = False
    params: dict[str, set] = {}
    for trial in range(INSTANCE_TRIALS):
        inst = Instance(ctx.scope, rng, scale=SCALES[trial % len(SCALES)])
        x, y = inst.evaluate(a), inst.evaluate(b)
        for k, v in inst.values.items():
            if k.is_integer and k not in ctx.scope.symbol_space:
                params.setdefault(str(k), set()).add(int(v))
        if rel == "=" and symbolic_zero(x - y, ctx):
            continue
        free = x.free_symbols | y.free_symbols
        sampled = sampled or bool(free)
        for i in range(POINTS_PER_INSTANCE if free and rel != "=" else 1):
            point = _sample_point(free, ctx, rng, narrow=bool(i % 2))
            x2, y2 = _at(x, point, ctx), _at(y, point, ctx)
            ok = _holds(x2, y2, rel)
            where = inst.describe(set(inst.values))
            pts = ", ".join(f"{k} = {v}" for k, v in point.items())
            where = "; ".join(p for p in (where, pts) if p)
            if ok is None:
                raise StepRejected("could not evaluate a random instance", where)
            if not ok:
                raise StepRejected("false on a random exact instance",
                                   f"{where}: left = {_show(x2)}, right = {_show(y2)}")
    on = ", ".join(f"{k} in {{{', '.join(map(str, sorted(v)))}}}" for k, v in sorted(params.items()))
    on = f" ({on})" if on else ""
    rest = "; other real symbols sampled" if sampled else ""
    return Verdict("instance", f"holds on {INSTANCE_TRIALS} random exact instances{on}{rest}")


def _matrix_instances(a: Any, b: Any, rel: str, ctx: Context) -> Verdict:
    """Check on random exact matrix instances (derive/matrices.py): matrices compared entry
    by entry, scalars (largest singular values) by exact values or certified enclosures."""
    rng = random.Random(ctx.seed)
    params: dict[str, set] = {}
    for trial in range(INSTANCE_TRIALS):
        inst = Instance(ctx.scope, rng, scale=MATRIX_SCALES[trial % len(MATRIX_SCALES)])
        if trial % 3 == 0:  # every size and count at its largest, where matrices are most generic
            dims = [d for sym, ds in ctx.scope.shapes.items() for d in ds]
            for s in whole_number_params(a) + whole_number_params(b) + whole_number_params(sp.Tuple(*dims)):
                inst.values[s] = sp.Integer(3)
        x, y = inst.evaluate(a), inst.evaluate(b)
        env = {}
        for sym, dims in sorted(ctx.scope.shapes.items(), key=lambda kv: str(kv[0])):
            rows, cols = (int(inst.evaluate(d)) for d in dims)
            env[sym] = random_matrix(rows, cols, rng, inst.scale, ctx.scope.sigma_max.get(sym))
        for k, v in inst.values.items():
            if k.is_integer and k not in ctx.scope.symbol_space:
                params.setdefault(str(k), set()).add(int(v))
        where = "; ".join(p for p in (inst.describe(set(inst.values)),
                                      ", ".join(f"{k} = {sp.sstr(v.tolist())}" for k, v in env.items())) if p)
        me = MatrixEval(env, ctx.scope.unfold)
        try:
            x, y = me.value(x), me.value(y)
            ok = _matrix_holds(x, y, rel, me, ctx)
        except (Undecided, ValueError) as exc:
            raise StepRejected(f"could not decide on an exact instance ({exc})", where) from None
        if not ok:
            raise StepRejected("false on a random exact instance",
                               f"{where}: left = {_show_value(x, me)}, right = {_show_value(y, me)}")
    on = ", ".join(f"{k} in {{{', '.join(map(str, sorted(v)))}}}" for k, v in sorted(params.items()))
    return Verdict("instance", f"holds on {INSTANCE_TRIALS} random exact matrix instances ({on}); "
                               "singular values exact or certified by interval arithmetic")


def _matrix_holds(x: Any, y: Any, rel: str, me: MatrixEval, ctx: Context) -> bool:
    if isinstance(x, sp.MatrixBase) or isinstance(y, sp.MatrixBase):
        if rel != "=" or not (isinstance(x, sp.MatrixBase) and isinstance(y, sp.MatrixBase)) or x.shape != y.shape:
            raise ValueError("matrices can only be equated with matrices of the same shape")
        return all(d == 0 or symbolic_zero(d, ctx) or decide(sp.S.Zero, d, "=", me.enclosures)
                   for d in (x - y))
    if (x.free_symbols | y.free_symbols) - set(me.enclosures):
        raise ValueError(f"symbols left after the instance: {(x.free_symbols | y.free_symbols) - set(me.enclosures)}")
    return decide(x, y, rel, me.enclosures)


def _show_value(x: Any, me: MatrixEval) -> str:
    if isinstance(x, sp.MatrixBase):
        text = sp.sstr(sp.ImmutableMatrix(x).evalf(12).tolist())
        return text if len(text) < 300 else text[:297] + "..."
    if x.free_symbols & set(me.enclosures):
        return str(enclose(x, me.enclosures))
    return _show(x)


def _numeric(a: Any, b: Any, rel: str, ctx: Context) -> Verdict:
    """Check at random points satisfying the assumptions (weakest check)."""
    rng = random.Random(ctx.seed)
    free = a.free_symbols | b.free_symbols
    for i in range(NUMERIC_POINTS):
        point = _sample_point(free, ctx, rng, narrow=bool(i % 2))
        x, y = (_at(e, point, ctx) for e in (a, b))
        ok = _holds(x, y, rel)
        pts = ", ".join(f"{k} = {v}" for k, v in point.items())
        if ok is None:
            raise StepRejected("could not evaluate at a sample point", pts)
        if not ok:
            raise StepRejected("false at a sample point", f"{pts}: left = {_show(x)}, right = {_show(y)}")
    return Verdict("numeric", f"holds at {NUMERIC_POINTS} random points (not a proof)")


def _sample_point(free: set, ctx: Context, rng: random.Random, narrow: bool = False) -> dict:
    """Random rationals for the free symbols, inside the assumed bounds.

    A narrow point keeps every value within a hundredth of the range around 0 (or near
    the lower bound when 0 is outside), where many bounds are tight; a value allowed to
    equal its bound (0 for a nonnegative symbol, lo for `lo <= x`) takes it there.
    """
    bounds = _bounds(ctx)
    point = {}
    for s in sorted(free, key=str):
        lo_b, hi_b = bounds.get(s, (None, None))
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
    return point


def _show(x: Any) -> str:
    text = str(x if x.is_Rational or not x.is_number else x.evalf(12))
    return text if len(text) < 120 else text[:117] + "..."
