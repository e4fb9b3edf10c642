"""Symbolic checks (proofs): the difference simplifies to 0 after unfolding definitions and
carrying out derivatives, sums, integrals and limits (a limit that depends on a parameter's
sign taken under the chain's assumptions, derive/verify/assumed_limits.py); an inequality
gets a sign certificate (derive/verify/certificates.py); growth classes by the limit of their ratio; steps with a
Dirac delta after sifting (no other check can evaluate a delta)."""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef

from derive.instances import carried_out
from derive.ops import Theta
from derive.model import Verdict
from derive.scope import Scope
from derive.verify.assumed_limits import assumed_limits
from derive.verify.base import Context, StepRejected, cited, opaque, with_unknowns
from derive.verify.certificates import order_certificate, sign_certificate

DOIT_ROUNDS = 3


def symbolic(a: Any, b: Any, rel: str, ctx: Context) -> Verdict | None:
    """The symbolic verdict for `a rel b` (rel one of = < <=), or None."""
    if (verdict := infinite_values(a, b, rel)) is not None:
        return verdict
    sa, sb = opaque(a, ctx.scope), opaque(b, ctx.scope)
    if rel == "=":
        return symbolic_equal(sa, sb, ctx)
    reason = order_certificate(sa, sb, rel == "<", ctx)
    return Verdict("symbolic", reason) if reason else None


def infinite_values(a: Any, b: Any, rel: str) -> Verdict | None:
    """Where a side is oo or -oo, or its limits and series carried out make it so, and no
    symbol is left, the sides are compared in the extended reals: oo - oo has no value, so no
    difference can decide. None otherwise (the other checks then evaluate at points, where
    `holds` compares infinities the same way). Integrals are left to the other checks."""
    def infinite(e: Any) -> bool:
        return e in (sp.oo, -sp.oo) or isinstance(e, sp.Basic) and any(
            isinstance(n, sp.Limit) or isinstance(n, sp.Sum) and n.has(sp.oo, -sp.oo) for n in sp.preorder_traversal(e))

    if not (infinite(a) or infinite(b)):
        return None
    x, y = _closed(a), _closed(b)
    if not any(v in (sp.oo, -sp.oo) for v in (x, y)) or x.free_symbols or y.free_symbols:
        return None
    result = {"=": sp.Eq, "<": sp.Lt, "<=": sp.Le}[rel](x, y)
    if result is sp.true:
        return Verdict("symbolic", f"exact values compared in the extended reals: left = {x}, right = {y}")
    if result is sp.false:
        raise StepRejected("false: the exact values compared in the extended reals", f"left = {x}, right = {y}")
    return None


def _closed(e: Any) -> Any:
    """e with its limits and series carried out (e itself if SymPy fails)."""
    if not isinstance(e, sp.Basic):
        return sp.Integer(e)
    try:
        return e.replace(lambda n: isinstance(n, (sp.Limit, sp.Sum)), lambda n: n.doit())
    except Exception:  # noqa: BLE001 -- no closed value: the other checks decide
        return e


def symbolic_equal(a: Any, b: Any, ctx: Context) -> Verdict | None:
    if a == b:
        return Verdict("symbolic", "identical after unfolding definitions" + cited(ctx))
    if symbolic_zero(a - b, ctx):
        return Verdict("symbolic", "difference simplifies to 0" + cited(ctx))
    if not (a - b).has(sp.Sum, sp.Product):
        return None
    from derive.rules.sequences import aligned  # the rules import the verifier
    try:
        d = aligned(a - b)
    except (TypeError, ValueError):
        return None
    if d != a - b and symbolic_zero(d, ctx):
        return Verdict("symbolic", "difference simplifies to 0 once its sums and products are re-indexed and "
                       "written over common ranges (end terms split off)" + cited(ctx))
    return None


def symbolic_zero(d: Any, ctx: Context) -> bool:
    """Does d simplify to 0 (derivatives, definite integrals and limits carried out)?

    Expanding d comes first, except when d holds a limit not yet taken: expanding its body
    costs most of the check (hw4 3.2.2) and seldom decides, so there it comes last."""
    d = _refine_abs(d, ctx)
    late = isinstance(d, sp.Basic) and d.has(sp.Limit)
    if not late and sp.expand(d) == 0 or rational_logs_zero(d):
        return True
    return _sums_cancel_termwise(d) or _carried_out_zero(d, ctx) or late and sp.expand(d) == 0


def _sums_cancel_termwise(d: Any) -> bool:
    """Is d, with its derivatives of sums taken inside the sums, a combination
    sum_k c_k * Sum(f_k, L) of sums over the same finite limits L (coefficients free of L's
    indices and of sums) whose terms cancel, sum_k c_k f_k = 0? Linearity over one range then makes d 0,
    whatever the range's length (SymPy's convention for an empty or reversed range is linear
    too). Tried before carrying the sums out: SymPy's search for a closed form of a sum with
    a symbolic end (Gosper's algorithm, hypergeometric terms) took most of udl 6.4's time
    and never found one for these terms."""
    if not isinstance(d, sp.Basic) or not d.has(sp.Sum):
        return False
    e = d.replace(lambda n: isinstance(n, sp.Derivative) and n.expr.has(sp.Sum), lambda n: n.doit(deep=False))
    limits, body = None, []
    for term in sp.Add.make_args(e):
        sums = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.Sum)]
        if len(sums) != 1 or limits not in (None, sums[0].limits) or infinite_range(sums[0]):
            return False
        limits = sums[0].limits
        coefficient = term / sums[0]
        if coefficient.has(sp.Sum, sp.Product) or coefficient.free_symbols & {v for v, *_ in limits}:
            return False  # a ratio of sums is no combination of sums: simplifying it took long
        body.append(coefficient * sums[0].function)
    total = sp.Add(*body)
    try:
        return sp.expand(total) == 0 or sp.simplify(total) == 0
    except (TypeError, ValueError, NotImplementedError, ZeroDivisionError):
        return False


def _carried_out_zero(d: Any, ctx: Context) -> bool:
    """Is d 0 once its sums, limits, derivatives and integrals are carried out and its cases
    decided by the assumptions?"""
    if _integrates_unknown(d, ctx.scope):
        return False
    try:
        done = assumed_limits(d.replace(lambda e: isinstance(e, sp.Sum), carried_out), ctx)
        for _ in range(DOIT_ROUNDS):  # d/de_k of a sum gives a sum with a Kronecker delta: do it again
            again = done.doit()
            if again == done:
                break
            done = again
        done = decide_cases(done, ctx)
        from derive.rules.combinatorics import vanishing_binomials  # here: derive.rules imports derive.verify
        done = vanishing_binomials(done, ctx)
        if _open_case(done) or _open_infinite_product(done):
            return False
        done = _refine_abs(done, ctx)
        logs = sp.expand_log(done, force=False) if done.has(sp.log) else None
        if logs is not None and sp.expand(prime_logs(logs)) == 0:  # cheap, and often enough
            return True
        return sp.simplify(done) == 0 or logs is not None and sp.simplify(logs) == 0
    except (TypeError, ValueError, NotImplementedError, ZeroDivisionError):
        return False


def _open_case(d: Any) -> bool:
    """Is there a case split the assumptions leave open with a series, product or integral
    SymPy could not carry out in one case (e.g. a geometric series where |1 - lam| < 1 is not
    assumed)? Such a difference is not shown to be 0 (simplifying it only takes long)."""
    return any(any(b.has(sp.Sum, sp.Product, sp.Integral) for b, _ in p.args) for p in d.atoms(sp.Piecewise))


def _open_infinite_product(d: Any) -> bool:
    """Is an infinite product left that SymPy could not carry out? Such a difference is not
    shown to be 0 either: simplifying it took over 100 CPU s (a Sum made a Product, quiz4 3)."""
    return any(infinite_range(p) for p in d.atoms(sp.Product))


def infinite_range(node: Any) -> bool:
    """Does a sum or product run to oo or from -oo?"""
    return any(b.is_infinite for _, *ends in node.limits for b in ends)


def rational_logs_zero(d: Any) -> bool:
    """Is the number d, built from rationals and logs of positive rationals, exactly 0?
    (`prime_logs`; the converse is not used: a non-zero polynomial is left to other checks.)"""
    if not isinstance(d, sp.Basic) or d.free_symbols or not d.has(sp.log):
        return False
    if not all(g.args[0].is_Rational and g.args[0].is_positive for g in d.atoms(sp.log)):
        return False
    rest = prime_logs(d)
    if rest.atoms(sp.Function) or any(not (a.is_Rational or a.is_Symbol) for a in rest.atoms()):
        return False
    return sp.expand(rest) == 0


def prime_logs(d: Any) -> Any:
    """d with each log(p/q) of a positive rational written as a sum of logs of primes with
    whole-number coefficients (unique factorisation), each prime's log a symbol log_p: an
    identity, so d is 0 when the result expands to 0 (a polynomial in those symbols that is
    0 whatever their values)."""
    primes: dict[int, sp.Symbol] = {}

    def split(r: sp.Rational) -> Any:
        parts = [*((k, e) for k, e in sp.factorint(r.p).items()), *((k, -e) for k, e in sp.factorint(r.q).items())]
        return sp.Add(*[e * primes.setdefault(k, sp.Dummy(f"log_{k}")) for k, e in parts if k > 1])

    return d.xreplace({g: split(g.args[0]) for g in d.atoms(sp.log) if g.args[0].is_Rational and g.args[0].is_positive})


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


def check_theta(a: Any, b: Any, rel: str, ctx: Context) -> Verdict:
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


def check_delta(a: Any, b: Any, rel: str, ctx: Context) -> Verdict:
    """A step with a Dirac delta holds only if shown symbolically: integrals are carried out
    (the sifting property), then the difference must simplify to 0 (or get a sign certificate).
    Otherwise it is rejected; the counterexample gives both sides after sifting, with every
    remaining unknown (function values, integrals, derivatives, free symbols) set to a random
    rational, shared by the two sides."""
    sa, sb = (sifted(opaque(e, ctx.scope)) for e in (a, b))
    if rel == "=":
        verdict = symbolic_equal(sa, sb, ctx)
        if verdict:
            return Verdict("symbolic", "after sifting the deltas: " + verdict.detail)
    elif order_certificate(sa, sb, rel == "<", ctx):
        return Verdict("symbolic", "after sifting the deltas, the difference has a sign certificate")
    raise StepRejected("not shown symbolically (a step with a Dirac delta has no other check)",
                       with_unknowns(sa, sb, "after sifting", ctx))


def sifted(expr: Any) -> Any:
    """expr with every integral carried out where SymPy can (a delta is sifted:
    the integral of delta(z - z0) h(z) over the line is h(z0))."""
    return expr.replace(lambda e: isinstance(e, sp.Integral), integrate_or_keep)


def integrate_or_keep(node: sp.Integral) -> Any:
    """The integral in closed form when SymPy finds one, else the integral itself. An
    integrand holding an unknown function of the variable of integration has no closed form
    unless a delta sifts it or it is a derivative: SymPy's integrator is not tried on it
    (heurisch spends seconds failing on such integrals)."""
    if not _integrable(node):
        return node
    try:
        done = node.doit()
    except (TypeError, ValueError, NotImplementedError):
        return node
    return node if done.has(sp.Integral) else done


def _integrable(node: sp.Integral) -> bool:
    """Can SymPy's integrator remove this integral? Not when an unknown function of a variable
    of integration occurs without a delta or a derivative."""
    variables = {lim[0] for lim in node.limits}
    unknown = any(f.free_symbols & variables for f in node.function.atoms(AppliedUndef))
    return not unknown or node.function.has(sp.DiracDelta, sp.Derivative)

