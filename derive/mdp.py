"""Finite MDPs given as data: enumerate deterministic policies and evaluate them exactly.

Rules:
- Numbers are exact (SymPy Rationals); a policy's values solve (I - gamma P_pi) v = r_pi,
  by `Matrix.LUsolve`, never by iteration.
- Nothing here is trusted: derive.verify certifies every value by putting it back into the
  Bellman equation, and optimality by the Bellman optimality condition.
"""

from __future__ import annotations

import itertools
from typing import Any

import sympy as sp

from derive.model import MDP
from derive.spec import MdpSpec

MAX_POLICIES = 4096


def from_spec(spec: MdpSpec) -> MDP:
    """The spec's exact fractions as SymPy Rationals."""
    def q(x: Any) -> sp.Rational:
        return sp.Rational(x.numerator, x.denominator)

    return MDP(spec.name, spec.states, spec.actions,
               {k: tuple((s2, q(p)) for s2, p in v) for k, v in spec.transitions.items()},
               {k: q(r) for k, r in spec.rewards.items()}, spec.loc)


def policy_count(m: MDP) -> int:
    """|A| ** |S|, the number of deterministic policies."""
    return len(m.actions) ** len(m.states)


def all_policies(m: MDP) -> list[tuple[str, ...]]:
    """Every deterministic policy as one action per state (in state order), the first
    action varying slowest."""
    if policy_count(m) > MAX_POLICIES:
        raise ValueError(f"{policy_count(m)} deterministic policies are too many to enumerate "
                         f"(at most {MAX_POLICIES})")
    return list(itertools.product(m.actions, repeat=len(m.states)))


def bellman_rhs(m: MDP, gamma: Any, v: dict[str, Any], s: str, a: str) -> Any:
    """r(s, a) + gamma * sum_{s2} P(s2 | s, a) v(s2), exactly."""
    return m.reward(s, a) + gamma * sp.Add(*(p * v[s2] for s2, p in m.transitions[s, a]))


def evaluate(m: MDP, policy: tuple[str, ...], gamma: Any) -> tuple[Any, ...]:
    """The values of a deterministic policy: the solution of (I - gamma P_pi) v = r_pi."""
    n = len(m.states)
    index = {s: i for i, s in enumerate(m.states)}
    lhs, rhs = sp.eye(n), sp.zeros(n, 1)
    for i, (s, a) in enumerate(zip(m.states, policy)):
        for s2, p in m.transitions[s, a]:
            lhs[i, index[s2]] -= gamma * p
        rhs[i] = m.reward(s, a)
    return tuple(lhs.LUsolve(rhs))


def dominant(rows: list[tuple[Any, ...]]) -> list[int]:
    """Indices of the value vectors that are >= every other one state by state."""
    return [i for i, v in enumerate(rows)
            if all(all(x >= y for x, y in zip(v, w)) for w in rows)]
