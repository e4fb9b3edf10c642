"""derive.balls: certified arb balls of exact real numbers."""

from __future__ import annotations

import pytest
import sympy as sp
from flint import arb

from derive.balls import NotEnclosed, ball, enclosure, excludes_zero


def test_rationals_are_exact_and_functions_are_enclosed() -> None:
    assert ball(sp.Rational(1, 4), 64) == arb(0.25) and ball(sp.Rational(1, 4), 64).is_exact()
    x = 1 - sp.tanh(sp.Rational(3, 2)) ** 2
    b = enclosure(x, 60)
    assert b.overlaps(arb(str(sp.N(x, 80)), "1e-78")) and b.rel_accuracy_bits() >= 200


def test_cancellation_raises_the_precision() -> None:
    """1 - tanh(40)**2 ~ 4.5e-35 cancels ~115 bits: the ball still has 60 good digits."""
    x = 1 - sp.tanh(40) ** 2
    b = enclosure(x, 60)
    assert b > 0 and b.rel_accuracy_bits() >= 200
    assert b.overlaps(arb(str(sp.N(x, 90)), "1e-120"))


def test_placeholders_take_their_balls() -> None:
    s = sp.Dummy("s")
    assert ball(s**2 + 1, 64, {s: arb(2)}) == arb(5)


@pytest.mark.parametrize("bad", [sp.log(sp.Integer(-1)), 1 / (sp.sinh(1) ** 2 - sp.cosh(1) ** 2 + 1),
                                 sp.sqrt(-2 + sp.tanh(1)), sp.Symbol("x") + 1, sp.zeta(3)])
def test_what_has_no_finite_real_ball_is_not_enclosed(bad: sp.Expr) -> None:
    with pytest.raises(NotEnclosed):
        ball(bad, 64)


def test_the_zero_screen_only_says_no() -> None:
    assert excludes_zero(sp.tanh(1) - sp.Rational(3, 4))
    assert not excludes_zero(sp.sinh(1) ** 2 - sp.cosh(1) ** 2 + 1)  # exactly 0: not excluded
    assert not excludes_zero(sp.Integer(0))
