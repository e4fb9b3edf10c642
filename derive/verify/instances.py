"""Checks on random exact instances of abstract objects (derive/instances.py): whole-number
parameters, finite spaces and tables, expectations, operation counts. Real symbols left over
are sampled at points (derive/verify/numeric.py)."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from derive.instances import SCALES, SPREAD_EVERY, Instance, tie_names, whole_number_params
from derive.matrices import structure_relations
from derive.ops import cost, min_cost
from derive.model import Verdict
from derive.verify.base import (Context, StepRejected, holds, params_seen, params_text, show, sides_at,
                                with_unknowns)
from derive.verify.numeric import evaluator, sample_point, value_at, zero_point
from derive.verify.symbolic import symbolic_zero

INSTANCE_TRIALS = 6
# an inequality between random tables can hold by chance on a few instances; it gets twice as many
INEQUALITY_TRIALS = 12
TIED_TRIALS = 2  # extra instances where functions on the same spaces coincide: F2 = F1, F2 = -F1
EQUALITY_TRIALS = 2  # equality cases of an inequality: tables constant, random variables uncorrelated, densities on the same spaces equal
POINTS_PER_INSTANCE = 6
EQUALITY_POINTS = 2  # ... for an equation
SIMPLIFY_OPS = 120  # an instance with real symbols left is simplified only when it is this small
GRID_MAX = 6  # whole numbers 1 .. GRID_MAX (0 .. when not positive), every allowed combination
GRID_LIMIT = 60  # ... at most this many, smallest first
PROBE_DIGITS = 15
PROBE_TOLERANCE = sp.Float("1e-8")


def probe(a: Any, b: Any, rel: str, abstract: bool, ctx: Context) -> None:
    """Reject at once if one random point (or instance) already contradicts the step."""
    rng = random.Random(ctx.seed ^ 0x5EED)
    where = ""
    if abstract:
        inst = Instance(ctx.scope, rng, assume=ctx.assume)
        inst.honour_equalities()
        a, b = inst.evaluate_pair(a, b)
        where = inst.describe(set(inst.values))
        undefined(a, b, where)
    point = sample_point(a.free_symbols | b.free_symbols, ctx, rng)
    x, y = (value_at(e, point, ctx, PROBE_DIGITS, quick=True) for e in (a, b))
    if holds(x, y, rel, PROBE_TOLERANCE) is False:
        pts = ", ".join(f"{k} = {v}" for k, v in point.items())
        raise StepRejected("false at a random point" if not abstract else "false on a random exact instance",
                           sides_at('; '.join(p for p in (where, pts) if p), show(x), show(y)))


def instances(a: Any, b: Any, rel: str, ctx: Context) -> Verdict:
    """Check on random exact instances (all objects at one magnitude, or in every
    SPREAD_EVERY-th each at its own), then on the equality cases of an inequality (every
    free table constant, densities on the same spaces equal), then on the grid of small whole
    numbers allowed by the assumptions (`whole_number_grid`); real symbols left over are
    sampled at points (near their ends, at magnitudes of both signs)."""
    rng = random.Random(ctx.seed)
    seen = Seen()
    names = tie_names(ctx.scope, a - b)
    tied = TIED_TRIALS if names else 0
    trials = INSTANCE_TRIALS if rel == "=" else INEQUALITY_TRIALS
    equal = 0 if rel == "=" else EQUALITY_TRIALS
    for trial in range(trials + tied + equal):
        inst = Instance(ctx.scope, rng, scale=SCALES[trial % len(SCALES)], trial=trial,
                        spread=trial < trials and trial % SPREAD_EVERY == SPREAD_EVERY - 1,
                        tied=names if trials <= trial < trials + tied else frozenset(), tie_sign=(-1) ** trial,
                        equal=max(0, trial - trials - tied + 1), assume=ctx.assume)
        _on_instance(inst, a, b, rel, ctx, rng, seen, "false on a random exact instance" if trial < trials + tied
                     else "false in an equality case (tables constant; random variables uncorrelated; "
                          "densities equal to a definition or density on their spaces)")
    grid = whole_number_grid(a, b, ctx)
    for i, values in enumerate(grid[:GRID_LIMIT]):
        if tuple(sorted(values.items(), key=lambda kv: str(kv[0]))) in seen.cases:
            continue
        inst = Instance(ctx.scope, rng, trial=i, assume=ctx.assume)
        inst.values.update(values)
        _on_instance(inst, a, b, rel, ctx, rng, seen, "false on the grid of small whole numbers")
    on = f" ({params_text(seen.params)})" if seen.params else ""
    rest = "; other real symbols sampled" if seen.sampled else ""
    ties = f", {tied} with tied tables" if tied else ""
    if equal:
        ties += (f", {equal} equality cases (tables constant; random variables uncorrelated; densities "
                 "equal to a definition or density on their spaces)")
    if seen.magnitudes:
        spread = trials // SPREAD_EVERY
        ties += f"; magnitudes 1, 1/1000, 1000 ({spread} instance{'s' * (spread > 1)} with each object at its own)"
    if grid:
        names_ = ", ".join(sorted(str(k) for k in grid[0]))
        done = min(len(grid), GRID_LIMIT)
        count = f"all {done}" if done == len(grid) else f"{done} of {len(grid)}"
        ties += (f"; and on {count} "
                 f"whole-number cases {names_} <= {GRID_MAX} allowed by the assumptions")
    if seen.polynomials:
        rest += (f"; {', '.join(sorted(seen.polynomials))} taken as random polynomials plus exponentials "
                 "(evidence, not a proof for every function)")
    return Verdict("instance", f"holds on {trials + tied + equal} random exact instances{on}{ties}{rest}")


@dataclass
class Seen:
    """What the instances of one check covered, for its verdict."""

    params: dict[str, set] = field(default_factory=dict)
    polynomials: set[str] = field(default_factory=set)
    sampled: bool = False
    magnitudes: bool = False  # some object took a magnitude (a table, function, matrix, random variable)
    cases: set[tuple] = field(default_factory=set)  # the whole-number values met


def _on_instance(inst: Instance, a: Any, b: Any, rel: str, ctx: Context, rng: random.Random, seen: Seen,
                 false: str) -> None:
    """Check `a rel b` on one instance (rejecting with `false` and the instance)."""
    inst.honour_equalities()
    x, y = inst.evaluate_pair(a, b)
    where = inst.describe(set(inst.values))
    undefined(x, y, where)
    seen.polynomials |= set(inst.polynomials)
    seen.magnitudes = seen.magnitudes or inst.magnitude_used
    params_seen(inst.values, ctx.scope, seen.params)
    seen.cases.add(tuple(sorted(((k, v) for k, v in inst.values.items() if k.is_integer), key=lambda kv: str(kv[0]))))
    free = x.free_symbols | y.free_symbols
    at_x, at_y = evaluator(x, ctx), evaluator(y, ctx)
    if rel in ("=", "<=") and at_x.settled == at_y.settled:
        return  # the same expression once carried out: equal at every point of this instance
    if rel == "=" and free:  # refute first: a point where the sides differ decides before any simplification
        point = sample_point(free, ctx, random.Random(ctx.seed), index=0)
        x2, y2 = at_x(point), at_y(point)
        if holds(x2, y2, rel) is False:
            raise StepRejected(false, sides_at(_here(where, point), show(x2), show(y2)))
    if rel == "=" and (not free or sp.count_ops(x - y) <= SIMPLIFY_OPS) and symbolic_zero(x - y, ctx):
        return
    seen.sampled = seen.sampled or bool(free)
    for i in range((POINTS_PER_INSTANCE if rel != "=" else EQUALITY_POINTS) if free else 1):
        point = sample_point(free, ctx, rng, index=i)
        if inst.equal and i == 0:  # an equality case: every real symbol at 0 (or the end of its range nearest 0)
            zero = zero_point(free, ctx)
            point = zero if all(v is not None for v in zero.values()) else point
        x2, y2 = at_x(point), at_y(point)
        ok = holds(x2, y2, rel)
        here = _here(where, point)
        if ok is None and rel == "=" and symbolic_zero(x - y, ctx):  # no value at a point, but equal
            return
        if ok is None:
            raise StepRejected("could not evaluate a random instance", with_unknowns(x2, y2, here, ctx))
        if not ok:
            raise StepRejected(false, sides_at(here, show(x2), show(y2)))


def _here(where: str, point: dict) -> str:
    """The instance and the sample point, as a counterexample's place."""
    pts = ", ".join(f"{k} = {v}" for k, v in point.items())
    return "; ".join(p for p in (where, pts) if p)


def undefined(x: Any, y: Any, where: str) -> None:
    """Reject if a side has no value on this instance (zoo, nan: a division by zero, 0/0), or
    no real value (the imaginary unit: the log or square root of a negative number; every
    quantity of a problem is real)."""
    for side, e in (("left", x), ("right", y)):
        if isinstance(e, sp.Basic) and e.has(sp.zoo, sp.nan):
            raise StepRejected(f"the {side} side is undefined on an exact instance (a division by zero?)",
                               f"{where}: {side} = {sp.sstr(e)[:150]}")
        if isinstance(e, sp.Basic) and e.has(sp.I):
            raise StepRejected(f"the {side} side has no real value on an exact instance (the log or square "
                               f"root of a negative number?)", f"{where}: {side} = {sp.sstr(e)[:150]}")


def whole_number_grid(a: Any, b: Any, ctx: Context) -> list[dict]:
    """Every assignment of 0/1 .. GRID_MAX to the step's whole-number parameters (and, for
    operation counts, the matrix sizes) that satisfies the chain's assumptions and the size
    relations of declared structures, smallest first; empty if there are none."""
    e = sp.Tuple(a, b)
    syms = set(whole_number_params(e))
    if e.has(cost, min_cost):
        syms |= {s for ds in ctx.scope.shapes.values() for d in ds for s in d.free_symbols if s.is_integer}
    syms -= set(ctx.scope.symbol_space)
    rels = [r for r in (*ctx.assume, *structure_relations(ctx.scope.shapes, ctx.scope.structure))
            if r.free_symbols and all(x.is_integer for x in r.free_symbols)]
    grew = True
    while grew:
        extra = {x for r in rels if r.free_symbols & syms for x in r.free_symbols} - syms
        grew, syms = bool(extra), syms | extra
    order = sorted(syms, key=str)
    if not order:
        return []
    rels = [r for r in rels if r.free_symbols <= syms]
    ranges = [range(1 if s.is_positive else 0, GRID_MAX + 1) for s in order]
    out = []
    for values in itertools.product(*ranges):
        point = dict(zip(order, map(sp.Integer, values)))
        if all(bool(r.xreplace(point)) for r in rels):
            out.append(point)
    return sorted(out, key=lambda p: (max(p.values()), sum(p.values())))
