"""derive.piecewise_integral: integrals of piecewise functions split at their break points,
carried out exactly in the extended reals (0 * oo = 0, x/0 = +oo, 0/0 no value), in every case
of a parameter that moves the break points."""

from __future__ import annotations

from typing import Any

import pytest
import sympy as sp
from sympy.core.function import AppliedUndef

from derive.piecewise_integral import cases, value_in
from derive.rules import RuleError

Z, A = sp.symbols("z a", real=True)
P = sp.Piecewise((1, (0 <= Z) & (Z <= 1)), (0, True))
Q = sp.Piecewise((1, (A <= Z) & (Z <= A + 1)), (0, True))
p, q, m = sp.Function("p"), sp.Function("q"), sp.Function("m")
BODIES = {p: P, q: Q, m: (P + Q) / 2}


def unfold(e: Any) -> Any:
    return BODIES[e.func].subs(Z, e.args[0]) if isinstance(e, AppliedUndef) and e.func in BODIES else e


def line(f: Any) -> Any:
    return sp.Integral(f, (Z, -sp.oo, sp.oo))


def table(expr: Any, param: Any = A) -> list[tuple[str, Any]]:
    return [(c.text(), value_in(expr, c, unfold)) for c in cases([expr], param, unfold)]


def test_a_shifted_density_integrates_to_one_for_every_shift() -> None:
    assert table(line(q(Z))) == [("every real a", 1)]


def test_kl_of_shifted_uniforms_is_infinite_except_at_zero() -> None:
    kl = table(line(p(Z) * sp.log(p(Z) / q(Z))))
    assert kl == [("a < -1", sp.oo), ("a = -1", sp.oo), ("-1 < a < 0", sp.oo), ("a = 0", 0),
                  ("0 < a < 1", sp.oo), ("a = 1", sp.oo), ("1 < a", sp.oo)]


def test_jensen_shannon_of_shifted_uniforms() -> None:
    js = line(p(Z) * sp.log(p(Z) / m(Z))) / 2 + line(q(Z) * sp.log(q(Z) / m(Z))) / 2
    got = dict(table(js))
    log2 = sp.log(2)
    assert got == {"a < -1": log2, "a = -1": log2, "-1 < a < 0": -A * log2, "a = 0": 0,
                   "0 < a < 1": A * log2, "a = 1": log2, "1 < a": log2}


def test_a_piece_minus_infinity_and_symbolic_pieces() -> None:
    # log q is -oo where q = 0: the integral of log q over [0, 2] is -oo unless [0, 2] lies in the support
    assert table(sp.Integral(sp.log(q(Z)), (Z, 0, 2)))[4] == ("0 < a < 1", -sp.oo)
    # a piece that depends on z and a: the overlap of [0, 1] and [a, a + 1] weighted by z
    got = dict(table(line(Z * p(Z) * q(Z))))
    assert sp.simplify(got["0 < a < 1"] - (1 - A**2) / 2) == 0
    assert got["1 < a"] == 0 and got["a = 1"] == 0


def test_abs_splits_at_its_root() -> None:
    assert dict(table(sp.Integral(sp.Abs(Z - A), (Z, 0, 1)))) == {
        "a < 0": sp.Rational(1, 2) - A, "a = 0": sp.Rational(1, 2),
        "0 < a < 1": A**2 - A + sp.Rational(1, 2), "a = 1": sp.Rational(1, 2), "1 < a": A - sp.Rational(1, 2)}


def test_without_a_parameter_one_case_of_numbers() -> None:
    f = sp.Piecewise((Z, Z < 1), (2 - Z, Z < 2), (0, True))
    assert table(sp.Integral(f, (Z, 0, 3)), None) == [("the single case", 1)]


def test_zero_over_zero_outside_a_zero_weight_has_no_value() -> None:
    with pytest.raises(RuleError, match=r"has no value \(0/0 or oo - oo\) on \(-oo, a\) in a < -1"):
        table(line(sp.log(p(Z) / q(Z))))


def test_plus_and_minus_infinity_has_no_value() -> None:
    with pytest.raises(RuleError, match="oo - oo"):
        table(line(p(Z) * sp.log(p(Z) / q(Z)) - q(Z) * sp.log(q(Z) / p(Z))))


def test_break_points_moving_with_a_parameter_need_it_named() -> None:
    with pytest.raises(RuleError, match=r"the break points meet where `.*` = 0, which depends on a: name the parameter with `param:`"):
        cases([line(p(Z) * q(Z))], None, unfold)


def test_conditions_not_linear_in_z_are_refused() -> None:
    f = sp.Piecewise((1, Z**2 < 1), (0, True))
    with pytest.raises(RuleError, match="not linear in z"):
        table(line(f))


def test_break_points_not_linear_in_the_parameter_are_refused() -> None:
    f = sp.Piecewise((1, Z < A**2), (0, True))
    with pytest.raises(RuleError, match="not linear in a alone"):
        table(sp.Integral(f, (Z, -1, 1)))


def test_a_condition_on_the_parameter_inside_an_integrand_splits_the_cases() -> None:
    f = sp.Piecewise((Z, A > 0), (0, True))
    assert table(sp.Integral(f, (Z, 0, 1))) == [("a < 0", 0), ("a = 0", 0), ("0 < a", sp.Rational(1, 2))]
