"""The integrate_piecewise rule (derive/rules/densities.py): a claim about integrals of
piecewise densities is proved by carrying them out exactly in every case of the parameter;
wrong claims (coefficient, sign, bound, strictness, a finite value for an infinite one) are
rejected with the case and a counterexample."""

from __future__ import annotations

from pathlib import Path

import pytest

from derive.engine import derive_problem
from derive.errors import EngineError, SpecError, VerificationError
from tests.problem_files import verdicts, write_problem

HEAD = """\
    id: "t"
    title: "t"
    statement: "s"
    symbols:
      z: real
      a: real
    definitions:
      p: {args: [z], body: "Piecewise((1, 0 <= z <= 1), (0, True))"}
      q: {args: [z], body: "Piecewise((1, a <= z <= a + 1), (0, True))"}
      mm: {args: [z], body: "(p(z) + q(z))/2"}
    solution:
      - chain:
          label: c
          start: "START"
          steps:
            - STEP
"""
KL = "Integral(p(z)*log(p(z)/q(z)), (z, -oo, oo))"
JS = "Integral(p(z)*log(p(z)/mm(z)), (z, -oo, oo))/2 + Integral(q(z)*log(q(z)/mm(z)), (z, -oo, oo))/2"
JS_VALUE = "Piecewise((log(2), a <= -1), (-a*log(2), a <= 0), (a*log(2), a <= 1), (log(2), True))"
CASES = "a < -1, a = -1, -1 < a < 0, a = 0, 0 < a < 1, a = 1, 1 < a"


def rejection(tmp_path: Path, start: str, step: str) -> str:
    with pytest.raises(VerificationError) as info:
        derive_problem("s", problem(tmp_path, start, step))
    return str(info.value)


def problem(tmp_path: Path, start: str, step: str) -> Path:
    return write_problem(tmp_path, HEAD, START=start, STEP=step)

def test_infinite_kl_is_proved_in_every_case(tmp_path: Path) -> None:
    path = problem(tmp_path, KL, '{by: integrate_piecewise, param: a, to: "Piecewise((0, a == 0), (oo, True))"}')
    assert verdicts(path) == [("symbolic", "integrals split at their break points and carried out exactly, "
                                           f"infinite pieces included in each of the 7 cases of a ({CASES}); "
                                           "both sides agree")]


def test_jensen_shannon_is_proved(tmp_path: Path) -> None:
    assert verdicts(problem(tmp_path, JS, f'{{by: integrate_piecewise, param: a, to: "{JS_VALUE}"}}'))[0][0] == "symbolic"


@pytest.mark.parametrize("claim, case, counterexample", [
    (JS_VALUE.replace("(a*log(2), a <= 1)", "(2*a*log(2), a <= 1)"), "0 < a < 1", "a = 1/2: left = log(2)/2, right = log(2)"),
    (JS_VALUE.replace("-a*log(2)", "a*log(2)"), "-1 < a < 0", "a = -1/2: left = log(2)/2, right = -log(2)/2"),
    (JS_VALUE.replace("a <= 1", "a <= 2"), "1 < a", "a = 3/2: left = log(2), right = 3*log(2)/2"),
    (JS_VALUE.replace("(log(2), a <= -1), ", ""), "a < -1", "a = -2: left = log(2), right = 2*log(2)"),
])
def test_wrong_jensen_shannon_claims_are_rejected(tmp_path: Path, claim: str, case: str, counterexample: str) -> None:
    msg = rejection(tmp_path, JS, f'{{by: integrate_piecewise, param: a, to: "{claim}"}}')
    assert f"false in the case {case}" in msg
    assert counterexample in msg


def test_non_strict_for_equality_is_rejected(tmp_path: Path) -> None:
    msg = rejection(tmp_path, KL, '{by: integrate_piecewise, param: a, to: "Piecewise((0, a <= 0), (oo, True))"}')
    assert "false in the case a < " in msg and "left = oo, right = 0" in msg


def test_finite_value_for_an_infinite_divergence_is_rejected(tmp_path: Path) -> None:
    msg = rejection(tmp_path, KL, '{by: integrate_piecewise, param: a, to: "Abs(a)*log(2)"}')
    assert "false in the case a < -1" in msg and "left = oo, right = 2*log(2)" in msg


def test_a_wrong_value_at_one_point_is_rejected(tmp_path: Path) -> None:
    claim = JS_VALUE.replace("(-a*log(2), a <= 0)", "(-a*log(2), a < 0), (1, a <= 0)")
    msg = rejection(tmp_path, JS, f'{{by: integrate_piecewise, param: a, to: "{claim}"}}')
    assert "false in the case a = 0" in msg and "left = 0, right = 1" in msg


def test_only_equations_and_a_claim(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match=r"proves equations only"):
        derive_problem("s", problem(tmp_path, KL, '{by: integrate_piecewise, param: a, rel: ">=", to: "0"}'))
    with pytest.raises(SpecError, match=r"proves a claim: give the claim as `to`"):
        derive_problem("s", problem(tmp_path, KL, '{by: integrate_piecewise, param: a}'))
