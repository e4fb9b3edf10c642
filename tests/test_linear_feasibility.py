"""Exact linear feasibility (derive/linear_feasibility.py): infeasible systems get checked
Farkas multipliers, feasible ones a checked witness point; strict and non-strict inequalities
are kept apart exactly; cases of Max, Min, Abs and Heaviside are decided by implication."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
import sympy as sp

from derive.linear_feasibility import (Feasible, Infeasible, NotLinear, check_certificate, check_witness, decide,
                                       decided, decisions, describe, feasibility, implies, sign)

x, y, z, w1, w2 = sp.symbols("x y z w1 w2", real=True)
a = sp.Symbol("a", positive=True)


def test_strict_system_is_infeasible_with_checked_multipliers() -> None:
    system, answer = feasibility([w1 > 0, w2 > 0, w1 + w2 < 0])
    assert isinstance(answer, Infeasible)
    assert answer.multipliers == {0: 1, 1: 1, 2: 1} and answer.constant == 0
    assert describe(system, answer) == ("infeasible: 1 * (w1 > 0) + 1 * (w2 > 0) + 1 * (w1 + w2 < 0) is identically 0, "
                                        "so the system would give 0 > 0 (Farkas multipliers, checked)")


def test_non_strict_for_strict_makes_it_feasible_at_the_equality_case() -> None:
    system, answer = feasibility([w1 >= 0, w2 >= 0, w1 + w2 <= 0])
    assert isinstance(answer, Feasible)
    assert answer.point == {0: 0, 1: 0}
    assert describe(system, answer) == "feasible: every inequality holds at w1 = 0, w2 = 0 (witness, checked exactly)"


def test_a_point_interval_is_feasible_only_when_closed() -> None:
    assert isinstance(feasibility([x >= 1, x <= 1])[1], Feasible)
    assert isinstance(feasibility([x > 1, x <= 1])[1], Infeasible)
    assert isinstance(feasibility([sp.Eq(x, 1), x < 1])[1], Infeasible)


def test_a_negative_constant_certificate() -> None:
    _, answer = feasibility([x + y >= 3, x <= 1, y <= 1])
    assert isinstance(answer, Infeasible) and answer.constant == -1
    assert answer.multipliers == {0: 1, 1: 1, 2: 1}


def test_the_witness_satisfies_every_row_exactly() -> None:
    system, answer = feasibility([x + y < 1, x - y > 0, y > -3, z >= x + 2 * y])
    assert isinstance(answer, Feasible)
    values = {s: sp.Rational(answer.point[i].numerator, answer.point[i].denominator) for i, s in enumerate(system.atoms)}
    assert all(bool(r.subs(values)) for r in system.relations)


def test_a_changed_multiplier_or_a_moved_witness_is_refused() -> None:
    rows = [({0: Fraction(1)}, Fraction(0), True), ({0: Fraction(-1)}, Fraction(0), False)]   # x > 0, -x >= 0
    check_certificate(rows, Infeasible({0: Fraction(1), 1: Fraction(1)}, Fraction(0)))
    with pytest.raises(AssertionError, match="do not combine"):
        check_certificate(rows, Infeasible({0: Fraction(2), 1: Fraction(1)}, Fraction(0)))
    with pytest.raises(AssertionError, match="not positive"):
        check_certificate(rows, Infeasible({0: Fraction(-1), 1: Fraction(1)}, Fraction(0)))
    with pytest.raises(AssertionError, match="violates row 0"):
        check_witness(rows, Feasible({0: Fraction(0)}))   # x > 0 fails at its equality case


def test_random_systems_always_return_a_checked_answer() -> None:
    rng = random.Random(7)
    for _ in range(300):
        rows = [({v: Fraction(rng.randint(-3, 3)) for v in range(3)}, Fraction(rng.randint(-4, 4)), rng.random() < 0.5)
                for _ in range(rng.randint(1, 6))]
        answer = decide(rows, 3)   # decide checks its own answer; a wrong one raises
        (check_certificate if isinstance(answer, Infeasible) else check_witness)(rows, answer)


def test_monomials_are_atoms_and_other_relations_are_refused() -> None:
    system, answer = feasibility([x * y > 0, x * y < 0])
    assert system.atoms == (x * y,) and isinstance(answer, Infeasible)
    assert implies([sp.sqrt(2) * x > 0], x > 0) is False   # sqrt(2)*x is an atom of its own: not implied
    with pytest.raises(NotLinear, match="not an inequality"):
        feasibility([sp.Ne(x, 0)])
    assert implies([sp.Ne(x, 0)], x > 0) is False


def test_implication_and_signs_of_products() -> None:
    assert implies([x > 0, y > 0], x + y > 0)
    assert not implies([x > 0], x + y > 0)
    assert not implies([x >= 0], x > 0)            # the equality case x = 0
    assert sign(a * (x - y), [x > y]) == 1          # a declared positive, x - y > 0
    assert sign(y * (x - 1), [y < 0, x < 1]) == 1
    assert sign(y * (x - 1), [y < 0]) is None


def test_cases_decided_and_left() -> None:
    assert decided(sp.Max(0, x), [x > 0]) == x
    assert decided(sp.Max(0, x), [x >= 0]) == x            # Max needs only >=
    assert decided(sp.Heaviside(x), [x >= 0]) == sp.Heaviside(x)   # 1/2 at 0: not decided
    assert decided(sp.Heaviside(x - y), [x < y]) == 0
    assert decided(sp.Min(0, x) + sp.Abs(x - 1), [x <= 1, x > 0]) == 1 - x
    assert decided(sp.Max(x, y, z), [x >= y, x >= z]) == x
    assert decided(sp.Max(x, y), [x > 0]) == sp.Max(x, y)
    assert decisions([sp.Max(0, x) * sp.Heaviside(x)], [x > 0]) == "Heaviside(x) = 1; Max(0, x) = x"


def test_derivatives_are_taken_before_cases_and_bound_variables_are_left() -> None:
    # Max(0, u) = u on u >= 0, but its derivative at u = 0 is Heaviside(0) = 1/2, not 1
    assert decided(sp.Derivative(sp.Max(0, x), x), [x >= 0]) == sp.Heaviside(x)
    assert decided(sp.Derivative(sp.Max(0, x), x), [x > 0]) == 1
    k = sp.Symbol("k", integer=True)
    inside = sp.Sum(sp.Max(0, k), (k, -2, 2))
    assert decided(inside, [k > 0]) == inside       # the bound k is not the free k of the assumption
