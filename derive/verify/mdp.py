"""Finite MDPs, checked in exact rational arithmetic: policy values by substitution into the
Bellman equation, optimal values by the Bellman optimality condition (a contraction for
gamma < 1, so its fixed point is v*), greedy actions, claimed values and losses."""

from __future__ import annotations

from typing import Any

from derive.mdp import bellman_rhs
from derive.model import MDP, Verdict
from derive.verify.base import StepRejected


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

