"""derive.mdp: deterministic policies enumerated, evaluated exactly, dominance found."""

from __future__ import annotations

from fractions import Fraction

import pytest
import sympy as sp

from derive import mdp
from derive.errors import Loc
from derive.spec import MdpSpec

LOC = Loc("m.yaml", 1, "solution[0].mdp")
R = sp.Rational


def chain() -> mdp.MDP:
    """The four-state chain of assn5 problem 2."""
    moves = {("-1", "+"): "0", ("-1", "-"): "0", ("0", "+"): "1", ("0", "-"): "-1",
             ("1", "+"): "2", ("1", "-"): "0", ("2", "+"): "0", ("2", "-"): "1"}
    spec = MdpSpec("chain", ("-1", "0", "1", "2"), ("+", "-"),
                   {k: ((v, Fraction(1)),) for k, v in moves.items()},
                   {("2", "+"): Fraction(3), ("-1", "-"): Fraction(1)}, LOC)
    return mdp.from_spec(spec)


def coin() -> mdp.MDP:
    """One state that stays or leaves to an absorbing state with probability 1/2."""
    spec = MdpSpec("coin", ("s", "t"), ("a",),
                   {("s", "a"): (("s", Fraction(1, 2)), ("t", Fraction(1, 2))), ("t", "a"): (("t", Fraction(1)),)},
                   {("s", "a"): Fraction(1)}, LOC)
    return mdp.from_spec(spec)


def test_from_spec_makes_exact_rationals() -> None:
    m = coin()
    assert m.transitions[("s", "a")] == (("s", R(1, 2)), ("t", R(1, 2)))
    assert m.reward("s", "a") == 1 and m.reward("t", "a") == 0


def test_all_policies_in_order() -> None:
    policies = mdp.all_policies(chain())
    assert len(policies) == mdp.policy_count(chain()) == 16
    assert policies[0] == ("+", "+", "+", "+") and policies[-1] == ("-", "-", "-", "-")


def test_too_many_policies_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mdp, "MAX_POLICIES", 8)
    with pytest.raises(ValueError, match="16 deterministic policies are too many"):
        mdp.all_policies(chain())


def test_evaluate_solves_the_bellman_equations_exactly() -> None:
    assert mdp.evaluate(chain(), ("-", "-", "+", "+"), R(1, 10)) == (R(100, 99), R(10, 99), R(149, 495), R(298, 99))
    assert mdp.evaluate(chain(), ("-", "+", "+", "+"), R(99, 100))[1] == R(2940300, 29701)
    # v(s) = 1 + gamma (v(s)/2 + 0): v = 1/(1 - gamma/2)
    assert mdp.evaluate(coin(), ("a", "a"), R(1, 2)) == (R(4, 3), 0)


def test_bellman_rhs() -> None:
    v = {"s": R(4, 3), "t": R(0)}
    assert mdp.bellman_rhs(coin(), R(1, 2), v, "s", "a") == R(4, 3)


def test_dominant_rows() -> None:
    assert mdp.dominant([(1, 2), (2, 2), (2, 1)]) == [1]
    assert mdp.dominant([(1, 2), (2, 1)]) == []
    assert mdp.dominant([(1, 1), (1, 1)]) == [0, 1]
