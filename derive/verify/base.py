"""What every check shares: the rejection, the context, preparing the two sides, reading
bounds off the assumptions, and deciding a relation between two numbers."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef

from derive.exprs import evaluated
from derive.ops import forward_values
from derive.scope import Rewrite, Scope, rewrite_with

PRECISION = 40
TOLERANCE = sp.Float("1e-25")


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


def cited(ctx: Context) -> str:
    return f" (using {', '.join(r.name for r in ctx.cited)})" if ctx.cited else ""


def bounds(ctx: Context) -> dict[Any, list[Any]]:
    """Numeric bounds read off the chain's assumptions: x -> [(lo, strict) or None,
    (hi, strict) or None]."""
    out: dict[Any, list[Any]] = {}
    for rel in ctx.assume:
        if not isinstance(rel, (sp.StrictLessThan, sp.LessThan, sp.StrictGreaterThan, sp.GreaterThan)):
            continue
        lhs, rhs = rel.lhs, rel.rhs
        strict = isinstance(rel, (sp.StrictLessThan, sp.StrictGreaterThan))
        if isinstance(rel, (sp.StrictGreaterThan, sp.GreaterThan)):
            lhs, rhs = rhs, lhs
        if isinstance(rhs, sp.Symbol) and lhs.is_number:
            out.setdefault(rhs, [None, None])[0] = (lhs, strict)
        elif isinstance(lhs, sp.Symbol) and rhs.is_number:
            out.setdefault(lhs, [None, None])[1] = (rhs, strict)
    return out


def holds(lo: Any, hi: Any, rel: str, tolerance: Any = None) -> bool | None:
    """Does lo rel hi hold for these numbers, up to `tolerance` relative to their size
    (None if not decidable here)?"""
    infinite = (sp.oo, -sp.oo)
    if lo in infinite or hi in infinite:  # oo - oo has no value: compare in the extended reals
        result = {"=": sp.Eq, "<": sp.Lt, "<=": sp.Le}[rel](lo, hi)
        return bool(result) if result in (sp.true, sp.false) else None
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


def show(x: Any) -> str:
    text = str(x if x.is_Rational or not x.is_number else x.evalf(12))
    return text if len(text) < 120 else text[:117] + "..."


def params_seen(values: dict, scope: Scope, into: dict[str, set]) -> None:
    """Record the whole-number parameters of an instance (for the verdict)."""
    for k, v in values.items():
        if k.is_integer and k not in scope.symbol_space:
            into.setdefault(str(k), set()).add(int(v))


def params_text(params: dict[str, set]) -> str:
    """`n in {1, 2, 3}, k in {...}` for a verdict (long ranges shortened)."""
    def values(v: set) -> str:
        vs = sorted(v)
        return ", ".join(map(str, vs)) if len(vs) <= 8 else f"{len(vs)} values from {vs[0]} to {vs[-1]}"
    return ", ".join(f"{k} in {{{values(v)}}}" for k, v in sorted(params.items()))


def with_unknowns(a: Any, b: Any, where: str, ctx: Context) -> str:
    """A counterexample for sides that hold unknowns no instance can give a value to (functions
    on the real line, their integrals and derivatives): both sides with those set at random."""
    values: dict[Any, Any] = {}
    rng = random.Random(ctx.seed)
    x, y = (unknowns_at_random(e, values, rng) for e in (a, b))
    shown = ", ".join(f"{sp.sstr(k)} = {v}" for k, v in list(values.items())[:8])
    return sides_at("; ".join(p for p in (where, f"unknowns set at random, {shown}" if shown else "") if p),
                    show(x), show(y))


def sides_at(place: str, left: str, right: str) -> str:
    """A counterexample: where (omitted when empty: no field is ever empty), then both values."""
    return f"{place}: left = {left}, right = {right}" if place else f"left = {left}, right = {right}"


def unknowns_at_random(expr: Any, values: dict, rng: random.Random) -> Any:
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

