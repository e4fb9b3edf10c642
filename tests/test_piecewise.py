"""The piecewise rules (derive/rules/piecewise.py) and the verifier's decided cases: Max, Min,
Abs and Heaviside decided by the chain's assumptions (exact linear implication), and
contradictions between linear assumptions proved by checked Farkas multipliers."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from derive.engine import derive_problem
from derive.errors import EngineError, VerificationError
from tests.problem_files import verdicts, write_problem

HEAD = """\
    id: "t"
    title: "t"
    statement: "s"
    symbols:
      x: real
      u: real
      w1: real
      w2: real
      p: real
      t: real
      j: real
      alpha: {positive: true}
    definitions:
      relu: {args: [u], body: "Max(0, u)"}
      leaky: {args: [u], body: "Max(0, u) + alpha*Min(0, u)"}
    solution:
      - chain:
          label: c
          assume: [ASSUME]
          start: "START"
          steps:
            - STEP
"""


def run(tmp_path: Path, assume: str, start: str, step: str) -> list[tuple[str, str]]:
    return verdicts(write_problem(tmp_path, HEAD, ASSUME=assume, START=start, STEP=step))

def test_a_decided_relu_is_proved(tmp_path: Path) -> None:
    [(method, detail)] = run(tmp_path, '"u > 0"', "relu(u)", '{to: "u"}')
    assert method == "symbolic"
    assert detail.startswith("cases decided by the assumptions (exact linear implication): Max(0, u) = u; then ")


def test_the_rule_decides_a_heaviside_of_a_product_by_its_factors(tmp_path: Path) -> None:
    [(method, detail)] = run(tmp_path, '"t < 0", "x < j"', "p*Heaviside(t*(x - j))", '{by: decide_pieces, to: "p"}')
    assert method == "symbolic" and "Heaviside(t*(-j + x)) = 1" in detail


def test_a_wrong_case_is_rejected_with_a_counterexample(tmp_path: Path) -> None:
    with pytest.raises(VerificationError, match="rule 'decide_pieces' gives `u`, not the claimed `-u`"):
        run(tmp_path, '"u > 0"', "Max(0, u)", '{by: decide_pieces, to: "-u"}')
    with pytest.raises(EngineError, match="no Max, Min, Abs or Heaviside in `relu[(]u[)]` [(]unfold"):
        run(tmp_path, '"u > 0"', "relu(u)", '{by: decide_pieces}')
    with pytest.raises(VerificationError, match="counterexample"):   # a flipped case claimed directly
        run(tmp_path, '"u < 0"', "relu(u)", '{to: "u"}')


def test_leaky_relu_slope_on_each_side(tmp_path: Path) -> None:
    assert run(tmp_path, '"u < 0"', "Derivative(leaky(u), u)",
               '{to: "alpha"}')[0][0] == "symbolic"
    with pytest.raises(VerificationError, match="counterexample"):   # the slope of the other side
        run(tmp_path, '"u < 0"', "Derivative(leaky(u), u)", '{to: "1"}')


def test_heaviside_at_the_equality_case_is_not_decided(tmp_path: Path) -> None:
    # u >= 0 allows u = 0, where the step is 1/2: strict for non-strict must not pass
    with pytest.raises(VerificationError, match="counterexample: u = 0"):
        run(tmp_path, '"u >= 0"', "Heaviside(u)", '{to: "1"}')
    with pytest.raises(EngineError, match="the assumptions decide no case of `Heaviside[(]u[)]`"):
        run(tmp_path, '"u >= 0"', "Heaviside(u)", '{by: decide_pieces}')


def test_contradictory_assumptions_prove_the_claim_with_farkas_multipliers(tmp_path: Path) -> None:
    [(method, detail)] = run(tmp_path, '"w2 > 0", "w1 + w2 < 0", "w1 > 0"', "0",
                             '{by: contradiction, rel: "<", to: "0"}')
    assert method == "symbolic"
    assert detail == ("the assumptions are contradictory: infeasible: 1 * (w2 > 0) + 1 * (w1 + w2 < 0) + 1 * (w1 > 0) "
                      "is identically 0, so the system would give 0 > 0 (Farkas multipliers, checked)")


def test_feasible_assumptions_are_rejected_with_a_witness(tmp_path: Path) -> None:
    with pytest.raises(VerificationError, match="the assumptions are not contradictory.*\n  counterexample: "
                                                "feasible: every inequality holds at w2 = 0, w1 = 0"):
        run(tmp_path, '"w2 >= 0", "w1 + w2 <= 0", "w1 >= 0"', "0", '{by: contradiction, rel: "<", to: "0"}')
    with pytest.raises(VerificationError, match="not contradictory"):   # a dropped assumption
        run(tmp_path, '"w2 > 0", "w1 + w2 < 0"', "0", '{by: contradiction, rel: "<", to: "0"}')


def test_contradiction_needs_assumptions_and_a_claim(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(textwrap.dedent(HEAD).replace("      assume: [ASSUME]\n", "").replace("START", "0")
                    .replace("STEP", '{by: contradiction, rel: "<", to: "0"}'))
    with pytest.raises(EngineError, match="no assumptions to contradict"):
        derive_problem("s", path)


def test_a_derivative_at_the_edge_of_a_closed_case_is_not_decided(tmp_path: Path) -> None:
    # under u >= 0, Max(0, u) = u, but d/du Max(0, u) is Heaviside(u), 1/2 at u = 0
    with pytest.raises(VerificationError, match="counterexample: u = 0"):
        run(tmp_path, '"u >= 0"', "Derivative(Max(0, u), u)", '{to: "1"}')
    assert run(tmp_path, '"u > 0"', "Derivative(Max(0, u), u)", '{to: "1"}')[0][0] == "symbolic"


def test_contradiction_claims_only_a_false_relation_between_numbers(tmp_path: Path) -> None:
    contradictory = '"w2 > 0", "w1 + w2 < 0", "w1 > 0"'
    with pytest.raises(EngineError, match="0 < 1 holds without the assumptions"):
        run(tmp_path, contradictory, "0", '{by: contradiction, rel: "<", to: "1"}')
    with pytest.raises(EngineError, match="a false relation between two numbers"):
        run(tmp_path, contradictory, "w1", '{by: contradiction, rel: "<", to: "0"}')
    assert run(tmp_path, contradictory, "1", '{by: contradiction, rel: "<=", to: "0"}')[0][0] == "symbolic"
