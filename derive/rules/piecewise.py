"""Piecewise-linear rules: cases of Max, Min, Abs and Heaviside decided by the chain's
assumptions, and contradictions between linear assumptions (exact Fourier-Motzkin with a
Farkas certificate, derive.linear_feasibility)."""

from __future__ import annotations

from typing import Any

import sympy as sp

from derive.linear_feasibility import Infeasible, NotLinear, decided, describe, feasibility, sign_facts
from derive.model import Verdict
from derive.rules import RuleError, rule, shown
from derive.verify import StepRejected


@rule("decide_pieces", "the cases decided by the assumptions")
def decide_pieces(expr: Any, args: dict, ctx: Any) -> Any:
    """Replace every Max, Min, Abs and Heaviside whose case the chain's assumptions imply by
    that case (Max(0, u) = u when u >= 0 follows, Heaviside(u) = 1 when u > 0 follows); an
    implication is the exact infeasibility of the assumptions with its negation. Fails when
    no case is decided."""
    result = decided(expr, list(ctx.assume))
    if result == expr:
        found = sorted(expr.atoms(sp.Max, sp.Min, sp.Abs, sp.Heaviside), key=sp.default_sort_key)
        if not found:
            raise RuleError(f"no Max, Min, Abs or Heaviside in {shown(expr)} (unfold the definitions first)")
        raise RuleError(f"the assumptions decide no case of {', '.join(shown(f) for f in found[:3])} in {shown(expr)}")
    return result


def contradiction_claim(prev: Any, rel: str, nxt: Any, args: dict, ctx: Any) -> Verdict:
    """A false relation between two numbers (0 < 0) follows from contradictory assumptions: the
    chain's assumptions (and the signs of declared symbols), read as linear inequalities over
    their monomials, have no common solution; the verdict gives the checked Farkas multipliers.
    Feasible assumptions reject the step with a checked witness point; a claim that is not a
    false relation between numbers is refused (it would hold vacuously, whatever it says)."""
    a, b = sp.sympify(prev), sp.sympify(nxt)
    if not (a.is_Rational and b.is_Rational):
        raise RuleError(f"contradiction claims a false relation between two numbers (e.g. 0 < 0), not {shown(prev)}"
                        f" {rel} {shown(nxt)}")
    if {"=": a == b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[rel]:
        raise RuleError(f"{a} {rel} {b} holds without the assumptions: claim a false one, e.g. 0 < 0")
    assume = list(ctx.assume)
    if not assume:
        raise RuleError("the chain has no assumptions to contradict (add them under assume)")
    try:
        system, answer = feasibility([*assume, *sign_facts(assume)])
    except NotLinear as exc:
        raise RuleError(f"the assumptions are not linear inequalities: {exc}") from None
    if isinstance(answer, Infeasible):
        return Verdict("symbolic", f"the assumptions are contradictory: {describe(system, answer)}")
    raise StepRejected("the assumptions are not contradictory", describe(system, answer))


@rule("contradiction", "the assumptions contradict each other", prove=contradiction_claim)
def contradiction(expr: Any, args: dict, ctx: Any) -> Any:
    """Contradiction proves the false claim of its step (`0 < 0`: start 0, rel <, to 0) by
    showing the chain's linear assumptions infeasible; it computes nothing."""
    raise RuleError("contradiction proves the claimed `to` of its step; give `to`")
