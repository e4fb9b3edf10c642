"""Checks on random exact instances of abstract objects (derive/instances.py): whole-number
parameters, finite spaces and tables, expectations, operation counts. Real symbols left over
are sampled at points (derive/verify/numeric.py)."""

from __future__ import annotations

import random
from typing import Any

import sympy as sp

from derive.instances import SCALES, Instance, tie_names
from derive.model import Verdict
from derive.verify.base import Context, StepRejected, holds, params_seen, params_text, show, with_unknowns
from derive.verify.numeric import sample_point, value_at
from derive.verify.symbolic import symbolic_zero

INSTANCE_TRIALS = 6
# an inequality between random tables can hold by chance on a few instances; it gets twice as many
INEQUALITY_TRIALS = 12
TIED_TRIALS = 2  # extra instances where functions on the same spaces coincide: F2 = F1, F2 = -F1
POINTS_PER_INSTANCE = 6
PROBE_DIGITS = 15
PROBE_TOLERANCE = sp.Float("1e-8")


def probe(a: Any, b: Any, rel: str, abstract: bool, ctx: Context) -> None:
    """Reject at once if one random point (or instance) already contradicts the step."""
    rng = random.Random(ctx.seed ^ 0x5EED)
    where = ""
    if abstract:
        inst = Instance(ctx.scope, rng, assume=ctx.assume)
        a, b = inst.evaluate(a), inst.evaluate(b)
        where = inst.describe(set(inst.values))
    point = sample_point(a.free_symbols | b.free_symbols, ctx, rng)
    x, y = (value_at(e, point, ctx, PROBE_DIGITS, quick=True) for e in (a, b))
    if holds(x, y, rel, PROBE_TOLERANCE) is False:
        pts = ", ".join(f"{k} = {v}" for k, v in point.items())
        raise StepRejected("false at a random point" if not abstract else "false on a random exact instance",
                           f"{'; '.join(p for p in (where, pts) if p)}: left = {show(x)}, right = {show(y)}")


def instances(a: Any, b: Any, rel: str, ctx: Context) -> Verdict:
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
        params_seen(inst.values, ctx.scope, params)
        if rel == "=" and symbolic_zero(x - y, ctx):
            continue
        free = x.free_symbols | y.free_symbols
        sampled = sampled or bool(free)
        for i in range(POINTS_PER_INSTANCE if free and rel != "=" else 1):
            point = sample_point(free, ctx, rng, narrow=bool(i % 2))
            x2, y2 = value_at(x, point, ctx), value_at(y, point, ctx)
            ok = holds(x2, y2, rel)
            where = inst.describe(set(inst.values))
            pts = ", ".join(f"{k} = {v}" for k, v in point.items())
            where = "; ".join(p for p in (where, pts) if p)
            if ok is None:
                raise StepRejected("could not evaluate a random instance", with_unknowns(x2, y2, where, ctx))
            if not ok:
                raise StepRejected("false on a random exact instance",
                                   f"{where}: left = {show(x2)}, right = {show(y2)}")
    on = f" ({params_text(params)})" if params else ""
    rest = "; other real symbols sampled" if sampled else ""
    ties = f", {tied} with tied tables" if tied else ""
    if polynomials:
        rest += (f"; {', '.join(sorted(polynomials))} taken as random polynomials plus exponentials "
                 "(evidence, not a proof for every function)")
    return Verdict("instance", f"holds on {trials + tied} random exact instances{on}{ties}{rest}")

