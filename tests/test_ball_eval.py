"""Ball evaluation of matrix expressions: forward-mode jacobians agree with the exact ones,
and relations are decided only when the balls separate."""

from __future__ import annotations

import random

import pytest
import sympy as sp
from flint import arb, arb_mat

from derive.ball_eval import BallEval, ball_decision, show_ball
from derive.balls import NotEnclosed, enclosure, precision
from derive.matrix_eval import PREC, MatrixEval
from derive.ops import T, diag, jacobian, matmul, sigma_max

x, W, b = sp.symbols("x W b")


def instance(n: int, seed: int) -> dict:
    rng = random.Random(seed)
    def rational(r: int, c: int) -> sp.ImmutableMatrix:
        return sp.ImmutableMatrix(r, c, lambda i, j: sp.Rational(rng.randint(-9, 9), rng.randint(1, 9)))
    return {x: rational(n, 1), W: rational(n, n), b: rational(n, 1)}


def test_forward_mode_jacobian_holds_the_exact_one() -> None:
    env = instance(4, 1)
    f = 3 * sp.tanh(matmul(W, sp.tanh(matmul(W, x) + b))) + matmul(T(W), x) ** 2 + matmul(diag(x), b)
    exact = MatrixEval(env, lambda e: e).value(jacobian(f, x))
    with precision(PREC):
        balls = BallEval(env, lambda e: e).value(jacobian(f, x))
        assert (balls.nrows(), balls.ncols()) == (4, 4)
        assert all(balls[i, j].overlaps(enclosure(exact[i, j], 60)) for i in range(4) for j in range(4))
        assert all(balls[i, j].rad() < arb(2) ** -150 for i in range(4) for j in range(4))


def test_jacobian_of_a_constant_is_zero_and_of_the_identity_is_the_unit_matrix() -> None:
    env = instance(3, 2)
    with precision(PREC):
        zero = BallEval(env, lambda e: e).value(jacobian(matmul(W, b), x))
        unit = BallEval(env, lambda e: e).value(jacobian(x, x))
    assert zero == arb_mat(3, 3) and unit == arb_mat([[1, 0, 0], [0, 1, 0], [0, 0, 1]])


def test_what_has_no_derivative_here_is_not_enclosed() -> None:
    env = instance(2, 3)
    with precision(PREC), pytest.raises(NotEnclosed, match="sigma_max inside a jacobian"):
        BallEval(env, lambda e: e).value(jacobian(sigma_max(x) * x, x))
    with precision(PREC), pytest.raises(NotEnclosed, match="a jacobian inside a jacobian"):
        BallEval(env, lambda e: e).value(jacobian(matmul(jacobian(x, x), x), x))


def test_ball_decision_decides_only_separated_balls() -> None:
    one, near = arb(1), arb(1, 1e-3)
    assert ball_decision(one, arb(2), "<") is True and ball_decision(arb(2), one, "<=") is False
    assert ball_decision(one, near, "<") is None and ball_decision(one, one, "<=") is True
    assert ball_decision(one, arb(2), "=") is False and ball_decision(one, near, "=") is None
    m = arb_mat([[1, 2]])
    assert ball_decision(m, arb_mat([[1, 3]]), "=") is False and ball_decision(m, m, "=") is None
    assert ball_decision(m, m, "<=") is None
    assert show_ball(arb_mat([[1, 2]])) == "[[1.00000000000, 2.00000000000]]"


def test_overlapping_balls_agree_only_when_tight() -> None:
    from derive.ball_eval import agree_to

    with precision(PREC):
        one = arb(1)
        assert agree_to(one, one + arb(0, 2.0 ** -250), 200)
        assert not agree_to(one, arb(1, 1e-3), 200)  # overlapping but wide: says nothing
        assert agree_to(arb_mat([[1, 2]]), arb_mat([[1, 2]]), 200)


def test_grad_softmax_and_inverse_in_balls_hold_the_exact_values() -> None:
    from derive.ball_eval import BallEval
    from derive.balls import precision
    from derive.matrix_eval import PREC, MatrixEval, enclose
    from derive.ops import T, grad, inv, matmul, softmax_rows
    w_, v_ = sp.symbols("w_ v_", real=True)
    env = {w_: sp.ImmutableMatrix([[2, 1], [1, 1]]), v_: sp.ImmutableMatrix([[1], [-2]])}
    for e in (grad(matmul(T(v_), matmul(matmul(w_, w_), v_)), w_), softmax_rows(w_), inv(w_)):
        exact = MatrixEval(env, lambda x: x).value(e)
        with precision(PREC):
            ball = BallEval(env, lambda x: x).value(e)
            for i in range(exact.rows):
                for j in range(exact.cols):
                    assert ball[i, j].overlaps(enclose(exact[i, j])) and ball[i, j].rad() < 1e-50, (e, i, j)
