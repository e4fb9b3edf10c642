"""Densities with bounded support: integrals of piecewise functions, infinite values included.

`integrate_piecewise` proves that its step's two sides are equal by carrying out every
integral of a piecewise integrand exactly (derive/piecewise_integral.py): split at the break
points, each piece in the extended reals (0 * oo = 0, x/0 = +oo, 0/0 has no value), in every
case of the parameter that moves the break points. It is a proof rule: the step states `to`.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from derive.model import Verdict
from derive import piecewise_integral as pwi  # the module, not its names: it imports derive.rules
from derive.rules import Param, RuleError, rule
from derive.verify.base import StepRejected


def _agree(x: Any, y: Any) -> bool:
    """Are two exact values equal (an infinity only to itself)?"""
    if sp.oo in (x, y) or -sp.oo in (x, y):
        return x == y
    return sp.simplify(x - y) == 0


def _sample(x: Any, case: pwi.Case) -> Any:
    return x if case.param is None or case.point else x.subs(case.param, case.sample)


def piecewise_claim(prev: Any, rel: str, nxt: Any, args: dict, ctx: Any) -> Verdict:
    """Both sides computed exactly in every case of the parameter; they must agree in each."""
    if rel != "=":
        raise RuleError("integrate_piecewise proves equations only (rel '=')")
    param = args.get("param")
    unfold = lambda e: ctx.scope.unfold(e, once=True)  # noqa: E731  (one level, where the walk meets it)
    split = pwi.cases([prev, nxt], param, unfold)
    for case in split:
        x, y = pwi.value_in(prev, case, unfold), pwi.value_in(nxt, case, unfold)
        if not _agree(x, y):
            x0, y0 = _sample(x, case), _sample(y, case)
            at = "" if case.param is None else f"{case.param} = {case.sample}: "
            if _agree(x0, y0):
                raise StepRejected(f"not shown in the case {case.text()}",
                                   f"left = {x}, right = {y}: equal at {case.param} = {case.sample} only")
            raise StepRejected(f"false in the case {case.text()}", f"{at}left = {x0}, right = {y0}")
    which = "" if param is None else f" in each of the {len(split)} cases of {param} ({', '.join(c.text() for c in split)})"
    return Verdict("symbolic", "integrals split at their break points and carried out exactly, infinite "
                               f"pieces included{which}; both sides agree")


@rule("integrate_piecewise", "split at the break points, piece by piece",
      Param("param", "symbol", required=False), prove=piecewise_claim)
def integrate_piecewise(expr: Any, args: dict, ctx: Any) -> Any:
    """Integrals of piecewise functions (Piecewise, e.g. densities with bounded support) carried
    out exactly: the range is split at the break points (the roots in z of the conditions, each
    linear in z) and each piece integrated in closed form in the extended reals: a product with
    a factor 0 is 0 (0 * oo = 0, as in p log(p/q) where p = 0), x/0 = +oo, log 0 = -oo, 0/0 has no
    value, a piece +oo on an interval of positive length makes the integral +oo. With `param: a`
    the break points may move with a (linearly): the line of a is split into the cases (open
    intervals and points) between which their order changes, and the step must hold in every
    case; the claim `to` is typically a Piecewise in a, or oo. A proof rule: give `to`."""
    raise RuleError("integrate_piecewise proves the claimed `to` of its step; give `to`")
