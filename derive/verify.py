"""The verifier: every step `previous rel next` gets a verdict or is rejected.

Checks, strongest first:
- symbolic: after unfolding definitions (and the hypotheses the step cites), the difference
  simplifies to 0; for an inequality, the difference is shown non-negative by a sign
  certificate (squares, positive factors, integrals and sums of non-negative terms,
  factor-by-factor comparison of products, bounds from the chain's assumptions and from the
  problem's inequality hypotheses);
- instance: abstract objects (whole-number parameters, finite-space integrals and tables,
  expectations, operation counts) are replaced by random exact instances
  (derive/instances.py) and the relation is checked exactly, for several seeds; an identity
  between matrix expressions is checked entry by entry on exact random matrices;
- numeric: the relation holds at many random points satisfying the assumptions (weakest).
A step with a Dirac delta is checked only symbolically (deltas are sifted by carrying out
their integrals); neither an instance nor a sample point can evaluate a delta.
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
from derive.instances import SCALES, Instance, carried_out, is_abstract, tie_names, whole_number_params
from derive.matrices import is_matrix
from derive.matrix_eval import SCALES as MATRIX_SCALES
from derive.matrix_eval import MatrixEval, Undecided, decide, enclose, random_with_sigma_max, uses_matrix_calculus
from derive.mdp import bellman_rhs
from derive.model import MDP, Verdict
from derive.sizes import check_matrix
from derive.ops import Int, Theta, forward_values, sg
from derive.scope import Rewrite, Scope, inequality_hypotheses, rewrite_with

INSTANCE_TRIALS = 6
# an inequality between random tables can hold by chance on a few instances; it gets twice as many
INEQUALITY_TRIALS = 12
TIED_TRIALS = 2  # extra instances where functions on the same spaces coincide: F2 = F1, F2 = -F1
NUMERIC_POINTS = 24
POINTS_PER_INSTANCE = 6
PRECISION = 40
TOLERANCE = sp.Float("1e-25")
PROBE_DIGITS = 15
PROBE_TOLERANCE = sp.Float("1e-8")
DOIT_ROUNDS = 3


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
    rejected with its counterexample before any costly simplification is tried. The verdict
    says when a stop-gradient was given its value. A step whose evaluation recurses without
    end (a recursive definition called below its base case) is rejected.
    """
    try:
        verdict = _check(prev, rel, nxt, ctx)
    except RecursionError:
        raise StepRejected("evaluation does not terminate (a recursive definition below its base case?)",
                           f"{sp.sstr(prev)[:100]} {rel} {sp.sstr(nxt)[:100]}") from None
    if any(isinstance(e, sp.Basic) and e.has(sg) for e in (prev, nxt)):
        return Verdict(verdict.method, f"{verdict.detail}; sg(u) taken as u after differentiating")
    return verdict


def _check(prev: Any, rel: str, nxt: Any, ctx: Context) -> Verdict:
    a, b = prepare(prev, ctx), prepare(nxt, ctx)
    if rel in (">", ">="):
        a, b = b, a
    rel = {">": "<", ">=": "<="}.get(rel, rel)
    if a.has(Theta) or b.has(Theta):
        return _check_theta(a, b, rel)
    if rel == "=" and a == b:  # nothing to probe: sums and instances can be slow
        return Verdict("symbolic", "identical after unfolding definitions" + _cited(ctx))
    if uses_matrix_calculus(a, ctx.scope) or uses_matrix_calculus(b, ctx.scope):
        return _symbolic(a, b, rel, ctx) or _matrix_instances(a, b, rel, ctx)
    if is_matrix(a, ctx.scope.shapes) or is_matrix(b, ctx.scope.shapes):
        return _check_matrices(a, b, rel, ctx)
    if a.has(sp.DiracDelta) or b.has(sp.DiracDelta):
        return _check_delta(a, b, rel, ctx)
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
    """Evaluated form with cited hypotheses applied once, definitions unfolded and
    stop-gradients given their values (after the derivatives around them are taken)."""
    expr = sp.Integer(expr) if isinstance(expr, int) else evaluated(expr)
    if ctx.cited:
        expr = rewrite_with(expr, list(ctx.cited), once=True)
    return forward_values(ctx.scope.unfold(expr))


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
    if sp.expand(d) == 0 or rational_logs_zero(d):
        return True
    if _integrates_unknown(d, ctx.scope):
        return False
    try:
        done = d.replace(lambda e: isinstance(e, sp.Sum), carried_out)
        for _ in range(DOIT_ROUNDS):  # d/de_k of a sum gives a sum with a Kronecker delta: do it again
            again = done.doit()
            if again == done:
                break
            done = again
        done = decide_cases(done, ctx)
        done = _refine_abs(done, ctx)
        return sp.simplify(done) == 0 or sp.simplify(sp.expand_log(done, force=False)) == 0
    except (TypeError, ValueError, NotImplementedError, ZeroDivisionError):
        return False


def rational_logs_zero(d: Any) -> bool:
    """Is the number d, built from rationals and logs of positive rationals, exactly 0?

    Each log(p/q) is written as a sum of logs of primes with whole-number coefficients
    (unique factorisation); the result is a polynomial in those prime logs, and d = 0 when
    it expands to 0. (The converse is not used: a non-zero polynomial is left to other checks.)
    """
    if not isinstance(d, sp.Basic) or d.free_symbols or not d.has(sp.log):
        return False
    logs = d.atoms(sp.log)
    if not all(g.args[0].is_Rational and g.args[0].is_positive for g in logs):
        return False
    primes: dict[int, sp.Symbol] = {}

    def split(r: sp.Rational) -> Any:
        parts = [*((k, e) for k, e in sp.factorint(r.p).items()), *((k, -e) for k, e in sp.factorint(r.q).items())]
        return sp.Add(*[e * primes.setdefault(k, sp.Symbol(f"log_{k}")) for k, e in parts if k > 1])

    rest = d.xreplace({g: split(g.args[0]) for g in logs})
    if rest.atoms(sp.Function) or any(not (a.is_Rational or a.is_Symbol) for a in rest.atoms()):
        return False
    return sp.expand(rest) == 0


def decide_cases(expr: Any, ctx: Context) -> Any:
    """Replace each Piecewise by its branch where the chain's assumptions decide the
    conditions: the first branch whose condition is certified true after all earlier ones
    are certified false (a Piecewise left undecided stays as it is)."""
    def pick(node: sp.Piecewise) -> Any:
        for value, cond in node.args:
            verdict = implied(cond, ctx)
            if verdict is True:
                return value
            if verdict is not False:
                return node
        return node
    return expr.replace(lambda e: isinstance(e, sp.Piecewise), pick)


def implied(cond: Any, ctx: Context) -> bool | None:
    """True if the assumptions (and symbol properties) certify cond, False if they certify
    its negation, None if undecided. Relations are decided by sign certificates: a - b is
    certified positive, or it exceeds the difference of an assumed relation."""
    if cond in (sp.true, sp.false):
        return bool(cond)
    if isinstance(cond, (sp.And, sp.Or)):
        parts = [implied(c, ctx) for c in cond.args]
        want = isinstance(cond, sp.And)
        if all(p is want for p in parts):
            return want
        return (not want) if any(p is (not want) for p in parts) else None
    if isinstance(cond, (sp.Eq, sp.Ne)):
        d = cond.lhs - cond.rhs
        apart = sign_certificate(d, True, ctx) or sign_certificate(-d, True, ctx)
        return (not isinstance(cond, sp.Eq)) if apart else None
    if isinstance(cond, (sp.StrictLessThan, sp.LessThan, sp.StrictGreaterThan, sp.GreaterThan)):
        strict = isinstance(cond, (sp.StrictLessThan, sp.StrictGreaterThan))
        lo, hi = (cond.lhs, cond.rhs) if isinstance(cond, (sp.StrictLessThan, sp.LessThan)) else (cond.rhs, cond.lhs)
        if _relation_certified(hi - lo, strict, ctx):
            return True
        if _relation_certified(lo - hi, not strict, ctx):
            return False
    return None


def _relation_certified(d: Any, strict: bool, ctx: Context) -> bool:
    """Is d > 0 (>= 0 unless strict): by a sign certificate, or because d - (b - a) >= 0 for
    an assumption a < b (a <= b, if not strict)?"""
    if sign_certificate(d, strict, ctx):
        return True
    for rel in ctx.assume:
        if not isinstance(rel, (sp.StrictLessThan, sp.LessThan, sp.StrictGreaterThan, sp.GreaterThan)):
            continue
        a_strict = isinstance(rel, (sp.StrictLessThan, sp.StrictGreaterThan))
        lo, hi = (rel.lhs, rel.rhs) if isinstance(rel, (sp.StrictLessThan, sp.LessThan)) else (rel.rhs, rel.lhs)
        if (a_strict or not strict) and sign_certificate(d - (hi - lo), False, ctx):
            return True
    return False


def _integrates_unknown(expr: Any, scope: Scope) -> bool:
    """Does expr integrate an unknown function? SymPy has no closed form for that (and may
    search long for one); such a step is left to exact instances, where the function is a
    random polynomial."""
    return any(f.func.__name__ in scope.functions
               for node in expr.atoms(sp.Integral) for f in node.function.atoms(AppliedUndef))


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


# ---- Dirac deltas -------------------------------------------------------------------------
def _check_delta(a: Any, b: Any, rel: str, ctx: Context) -> Verdict:
    """A step with a Dirac delta holds only if shown symbolically: integrals are carried out
    (the sifting property), then the difference must simplify to 0 (or get a sign certificate).
    Otherwise it is rejected; the counterexample gives both sides after sifting, with every
    remaining unknown (function values, integrals, derivatives, free symbols) set to a random
    rational, shared by the two sides."""
    sa, sb = (sifted(opaque(e, ctx.scope)) for e in (a, b))
    if rel == "=":
        verdict = _symbolic_equal(sa, sb, ctx)
        if verdict:
            return Verdict("symbolic", "after sifting the deltas: " + verdict.detail)
    elif order_certificate(sa, sb, rel == "<", ctx):
        return Verdict("symbolic", "after sifting the deltas, the difference has a sign certificate")
    raise StepRejected("not shown symbolically (a step with a Dirac delta has no other check)",
                       _with_unknowns(sa, sb, "after sifting", ctx))


def _with_unknowns(a: Any, b: Any, where: str, ctx: Context) -> str:
    """A counterexample for sides that hold unknowns no instance can give a value to (functions
    on the real line, their integrals and derivatives): both sides with those set at random."""
    values: dict[Any, Any] = {}
    rng = random.Random(ctx.seed)
    x, y = (_unknowns_at_random(e, values, rng) for e in (a, b))
    shown = ", ".join(f"{sp.sstr(k)} = {v}" for k, v in list(values.items())[:8])
    return f"{where}; unknowns set at random, {shown}: left = {_show(x)}, right = {_show(y)}"


def sifted(expr: Any) -> Any:
    """expr with every integral carried out where SymPy can (a delta is sifted:
    the integral of delta(z - z0) h(z) over the line is h(z0))."""
    return expr.replace(lambda e: isinstance(e, sp.Integral), _integrate_or_keep)


def _unknowns_at_random(expr: Any, values: dict, rng: random.Random) -> Any:
    """expr with unknown function values, integrals, derivatives and symbols replaced by random
    rationals (the same value for the same object, recorded in `values`), then evaluated."""
    def value(node: Any) -> Any:
        if node not in values:
            values[node] = sp.Rational(rng.randint(1, 60), rng.randint(1, 7))
        return values[node]

    integrals = expr.atoms(sp.Integral)
    outer = [n for n in integrals if not any(m != n and m.has(n) for m in integrals)]
    expr = expr.xreplace({n: value(n) for n in sorted(outer, key=sp.default_sort_key)})  # whole integrals
    unknown = (AppliedUndef, sp.Derivative, sp.Subs, sp.DiracDelta)
    expr = expr.replace(lambda e: isinstance(e, unknown), value)
    expr = expr.xreplace({s: value(s) for s in sorted(expr.free_symbols, key=str)})
    return expr if expr.is_Rational else expr.evalf(PRECISION)


def _check_matrices(a: Any, b: Any, rel: str, ctx: Context) -> Verdict:
    """A matrix identity: identical after unfolding, or equal entry by entry on exact random
    instances (matrices drawn by their structure, matrix hypotheses honoured, sizes satisfying
    the chain's assumptions)."""
    if rel != "=":
        raise StepRejected("matrices are only compared by equality", f"{sp.sstr(a)} {rel} {sp.sstr(b)}")
    if a == b:
        return Verdict("symbolic", "identical after unfolding definitions" + _cited(ctx))
    rng = random.Random(ctx.seed)
    sizes: dict[str, set] = {}
    for trial in range(INSTANCE_TRIALS):
        inst = Instance(ctx.scope, rng, assume=ctx.assume, trial=trial)
        try:
            x, y = inst.matrix_value(a), inst.matrix_value(b)
        except ValueError as exc:
            raise StepRejected("could not evaluate a random instance", f"{inst.describe(set(inst.values))}: {exc}")
        where = inst.describe(set(inst.values))
        for k, v in inst.values.items():
            sizes.setdefault(str(k), set()).add(int(v))
        if x.shape != y.shape:
            raise StepRejected("the two sides have different shapes", f"{where}: {x.shape} vs {y.shape}")
        for (i, j), left in zip(((i, j) for i in range(x.rows) for j in range(x.cols)), x):
            if sp.simplify(left - y[i, j]) != 0:
                raise StepRejected("false on a random exact instance",
                                   f"{where}: entry ({i + 1}, {j + 1}): left = {_show(left)}, right = {_show(y[i, j])}")
    on = ", ".join(f"{k} in {{{', '.join(map(str, sorted(v)))}}}" for k, v in sorted(sizes.items()))
    return Verdict("instance", f"equal entry by entry on {INSTANCE_TRIALS} random exact instances ({on})"
                   + _cited(ctx))


# ---- inequalities -------------------------------------------------------------------------
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
    d = _hypothesis_substitution(_bounded_substitution(d, ctx), ctx)
    return _sign(d, strict) or _sign(_whole_number_shift(d), strict)


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


def _sign(d: Any, strict: bool) -> bool:
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


def _forms(d: Any) -> list[Any]:
    """d, factored over a common denominator, simplified, and (when it has hyperbolic
    functions, whose signs SymPy rarely sees) written with exponentials and factored."""
    forms = [d]
    try:
        forms += [sp.expand(d), sp.factor(sp.together(d)), sp.simplify(d)]
        if d.has(*HYPERBOLIC):
            forms.append(sp.factor(sp.together(d.rewrite(sp.exp))))
    except (TypeError, ValueError, NotImplementedError, sp.PolynomialError):
        pass
    return forms


def _bounded_substitution(d: Any, ctx: Context) -> Any:
    """Write symbols with assumed bounds through a dummy t that covers exactly the allowed
    values: lo < x < hi becomes x = (lo + hi t)/(1 + t) with t > 0; x > lo becomes lo + t and
    x < hi becomes hi - t (t > 0, or t >= 0 for a non-strict bound). A two-sided bound that
    is not strict on both sides is left alone (no such substitution covers its end points).
    A symbolic lower bound lo <= x (lo an expression in other symbols, e.g. k <= n) becomes
    x = lo + t, innermost last, so that n >= d >= k gives n = k + t1 + t2."""
    bounds = _bounds(ctx)
    for x, lo, strict in _symbolic_lower_bounds(ctx, set(bounds)):
        if x in d.free_symbols:
            d = d.xreplace({x: lo + _dummy(strict)})
    for x, (lo, hi) in bounds.items():
        if x not in d.free_symbols:
            continue
        if lo and hi:
            if lo[1] and hi[1]:
                t = sp.Dummy("t", positive=True)
                d = d.xreplace({x: (lo[0] + hi[0] * t) / (1 + t)})
        elif lo:
            d = d.xreplace({x: lo[0] + _dummy(lo[1])})
        else:
            d = d.xreplace({x: hi[0] - _dummy(hi[1])})
    return d


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
        if not value.is_number or not value.is_comparable or value.has(sp.nan, sp.zoo):
            return None  # e.g. an integral of an unknown function is left
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
        expr = expr.replace(lambda e: isinstance(e, sp.Integral), _integrate_or_keep)
    try:
        return expr.evalf(digits)
    except (ValueError, ArithmeticError):  # e.g. a divergent series: no value, undecided
        return sp.nan


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
        inst = Instance(ctx.scope, rng, assume=ctx.assume)
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
    polynomials: set[str] = set()
    names = tie_names(ctx.scope, a - b)
    tied = TIED_TRIALS if names else 0
    trials = INSTANCE_TRIALS if rel == "=" else INEQUALITY_TRIALS
    for trial in range(trials + tied):
        inst = Instance(ctx.scope, rng, scale=SCALES[trial % len(SCALES)], trial=trial,
                        tied=names if trial >= trials else frozenset(), tie_sign=(-1) ** trial, assume=ctx.assume)
        x, y = inst.evaluate(a), inst.evaluate(b)
        polynomials |= set(inst.polynomials)
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
                raise StepRejected("could not evaluate a random instance", _with_unknowns(x2, y2, where, ctx))
            if not ok:
                raise StepRejected("false on a random exact instance",
                                   f"{where}: left = {_show(x2)}, right = {_show(y2)}")
    on = ", ".join(f"{k} in {{{', '.join(map(str, sorted(v)))}}}" for k, v in sorted(params.items()))
    on = f" ({on})" if on else ""
    rest = "; other real symbols sampled" if sampled else ""
    ties = f", {tied} with tied tables" if tied else ""
    if polynomials:
        rest += (f"; {', '.join(sorted(polynomials))} taken as random polynomials plus exponentials "
                 "(evidence, not a proof for every function)")
    return Verdict("instance", f"holds on {trials + tied} random exact instances{on}{ties}{rest}")


def _matrix_instances(a: Any, b: Any, rel: str, ctx: Context) -> Verdict:
    """Check on random exact matrix instances (derive/matrices.py): matrices compared entry
    by entry, scalars (largest singular values) by exact values or certified enclosures."""
    rng = random.Random(ctx.seed)
    params: dict[str, set] = {}
    for trial in range(INSTANCE_TRIALS):
        # every third trial takes the largest sizes (below); the others, first (they are cheap
        # and most wrong steps fail there already), cycle through all sizes
        inst = Instance(ctx.scope, rng, scale=MATRIX_SCALES[trial % len(MATRIX_SCALES)], trial=trial - trial // 3)
        if trial % 3 == 2:  # every size and count at its largest, where matrices are most generic
            dims = [d for sym, ds in ctx.scope.shapes.items() for d in ds]
            for s in whole_number_params(a) + whole_number_params(b) + whole_number_params(sp.Tuple(*dims)):
                inst.values[s] = sp.Integer(3)
        x, y = inst.evaluate(a), inst.evaluate(b)
        env = {}
        for sym, dims in sorted(ctx.scope.shapes.items(), key=lambda kv: str(kv[0])):
            rows, cols = (int(inst.evaluate(d)) for d in dims)
            check_matrix(rows, cols)
            env[sym] = random_with_sigma_max(rows, cols, rng, inst.scale, ctx.scope.sigma_max.get(sym))
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
            raise StepRejected("could not evaluate at a sample point", _with_unknowns(x, y, pts, ctx))
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
    whole = [r for r in ctx.assume if r.free_symbols and all(x.is_integer and x in point for x in r.free_symbols)]
    for _ in range(100):  # whole numbers tied by assumptions (k <= n) are drawn again until they hold
        if all(bool(r.xreplace(point)) for r in whole):
            break
        for x in sorted({x for r in whole for x in r.free_symbols}, key=str):
            point[x] = sp.Integer(rng.randint(1, 6))
    return point


def _show(x: Any) -> str:
    text = str(x if x.is_Rational or not x.is_number else x.evalf(12))
    return text if len(text) < 120 else text[:117] + "..."


# ---- finite MDPs (exact rational arithmetic) -------------------------------------------------
def check_policy_values(m: MDP, policy: tuple[str, ...], gamma: Any, values: tuple[Any, ...]) -> Verdict:
    """Values of a deterministic policy, certified by substitution: for every state,
    v(s) = r(s, pi(s)) + gamma sum P(s2 | s, pi(s)) v(s2) holds exactly. For gamma < 1
    that system has one solution, so these are the policy's values."""
    v = dict(zip(m.states, values))
    for s, a in zip(m.states, policy):
        rhs = bellman_rhs(m, gamma, v, s, a)
        if rhs != v[s]:
            raise StepRejected("the values do not solve the policy's Bellman equation",
                               f"state {s}, action {a}: v({s}) = {v[s]}, but r + gamma sum P v = {rhs}")
    return Verdict("symbolic", f"substituted into v(s) = r(s, pi(s)) + gamma sum P v: exact in all "
                               f"{len(m.states)} states (gamma = {gamma})")


def check_optimal_values(m: MDP, gamma: Any, values: tuple[Any, ...]) -> tuple[Verdict, ...]:
    """Optimal values, certified without the enumeration: v(s) = max_a [r(s, a) + gamma
    sum P(s2 | s, a) v(s2)] exactly for every state and action. For gamma < 1 the Bellman
    optimality operator is a contraction, so its one fixed point is v*. One verdict per state."""
    v = dict(zip(m.states, values))
    verdicts = []
    for s in m.states:
        q = {a: bellman_rhs(m, gamma, v, s, a) for a in m.actions}
        best = max(q.values())
        if best != v[s]:
            a = max(q, key=lambda k: q[k])
            why = "an action does better than the value" if best > v[s] else "no action attains the value"
            raise StepRejected(f"the Bellman optimality condition fails: {why}",
                               f"state {s}: v({s}) = {v[s]}, but max_a q({s}, a) = q({s}, {a}) = {best}")
        qs = ", ".join(f"q({s},{a}) = {q[a]}" for a in m.actions)
        verdicts.append(Verdict("symbolic", f"Bellman optimality exact: v({s}) = max({qs}); holds in all "
                                            f"{len(m.states)} states, so v = v* (gamma = {gamma} < 1)"))
    return tuple(verdicts)


def check_greedy(m: MDP, gamma: Any, values: tuple[Any, ...], policy: tuple[tuple[str, str], ...]) -> None:
    """Each (state, action) attains max_a q(s, a) under the values: the policy is greedy."""
    v = dict(zip(m.states, values))
    for s, a in policy:
        q = {b: bellman_rhs(m, gamma, v, s, b) for b in m.actions}
        best = max(q, key=lambda k: q[k])
        if q[a] != q[best]:
            raise StepRejected(f"action {a} is not optimal in state {s}",
                               f"q({s}, {a}) = {q[a]} < q({s}, {best}) = {q[best]} = v*({s})")


def check_claim(name: str, claimed: Any, certified: Any) -> None:
    """A value claimed in the spec must equal the certified value exactly."""
    if claimed != certified:
        raise StepRejected(f"the claimed {name} is wrong",
                           f"claimed {name} = {claimed}, certified {name} = {certified} "
                           f"(difference {certified - claimed})")


def check_loss(s: str, best: Any, value: Any, loss: Any) -> Verdict:
    """loss = v*(s) - v(s) exactly, and it is >= 0 (no policy beats the optimal values)."""
    if best - value != loss or loss < 0:
        raise StepRejected("the loss against the optimal values is wrong or negative",
                           f"state {s}: v* = {best}, v = {value}, loss = {loss}")
    return Verdict("symbolic", f"exact: v*({s}) - v({s}) = {loss} >= 0, both values certified")


def find_improvement(m: MDP, gamma: Any, policy: tuple[str, ...],
                     values: tuple[Any, ...]) -> tuple[str, str, Any, Verdict] | None:
    """The first state (with the best action there) where one greedy step improves on the
    policy's own values, q(s, a) > v(s), with the exact gap; None if the policy is greedy
    with respect to its values (then it is optimal)."""
    v = dict(zip(m.states, values))
    for s in m.states:
        q = {a: bellman_rhs(m, gamma, v, s, a) for a in m.actions}
        a = max(q, key=lambda k: q[k])
        if q[a] > v[s]:
            return s, a, q[a], Verdict("symbolic", f"exact: q({s},{a}) - v({s}) = {q[a] - v[s]} > 0 "
                                                   f"under the policy's own values, so it is not optimal")
    return None
