"""The induction rule (derive/rules/induction.py): a claim for every n about recursive objects
is proved by its base case and its step, symbolically; a wrong claim is rejected with a
counterexample; what the rule cannot prove is rejected, never accepted on evidence."""

from __future__ import annotations

from pathlib import Path

import pytest

from derive.engine import derive_problem
from derive.errors import EngineError, SpecError, VerificationError
from derive.model import Chain
from tests.problem_files import verdicts, write_problem

ROOT = Path(__file__).resolve().parents[1]

HEAD = """\
    id: "t"
    title: "t"
    statement: "s"
    symbols:
      x: real
      c: real
      k: positive integer
      n: positive integer
      j: integer
      a: {real: true, indexed: true}
    definitions:
      h: {args: [k], body: "exp(h(k - 1))", at: {0: "x"}}
      v: {args: [k], body: "c*v(k - 1) + a[k]", at: {0: "x"}}
      g: {args: [k], body: "sin(g(k - 1))", at: {0: "x"}}
    solution:
      - chain:
          label: c
          start: "START"
          steps:
            - STEP
"""


def problem(tmp_path: Path, start: str, step: str) -> Path:
    return write_problem(tmp_path, HEAD, START=start, STEP=step)

def test_chain_rule_through_n_layers_is_proved(tmp_path: Path) -> None:
    path = problem(tmp_path, "Derivative(h(n), x)",
                   '{by: induction, on: n, base: 0, to: "Product(exp(h(k - 1)), (k, 1, n))"}')
    assert verdicts(path) == [("symbolic", "induction: base n=0 and step checked symbolically")]


def test_unrolled_recursion_with_a_sum_is_proved(tmp_path: Path) -> None:
    path = problem(tmp_path, "v(n)", '{by: induction, on: n, to: "c**n*x + Sum(c**(n - k)*a[k], (k, 1, n))"}')
    assert verdicts(path) == [("symbolic", "induction: base n=1 and step checked symbolically")]


def test_outer_abs_is_stripped_and_said(tmp_path: Path) -> None:
    path = problem(tmp_path, "Abs(Derivative(g(n), x))",
                   '{by: induction, on: n, base: 0, to: "Abs(Product(cos(g(k - 1)), (k, 1, n)))"}')
    assert verdicts(path) == [("symbolic", "induction: base n=0 and step checked symbolically "
                                           "(the stronger claim without the outer Abs proved)")]


def test_wrong_claim_is_rejected_with_a_counterexample(tmp_path: Path) -> None:
    path = problem(tmp_path, "v(n)", '{by: induction, on: n, to: "c**n*x + Sum(c**(n - k + 1)*a[k], (k, 1, n))"}')
    with pytest.raises(VerificationError) as info:
        derive_problem("s", path)
    msg = str(info.value)
    assert "step c.1: induction on n: the base case n = 1 is not shown symbolically, and the claim is false" in msg
    assert "\n  counterexample: " in msg


def test_wrong_step_with_a_true_base_is_rejected(tmp_path: Path) -> None:
    # true for n = 0 (both sides 1), false from n = 1 on
    path = problem(tmp_path, "Derivative(h(n), x)",
                   '{by: induction, on: n, base: 0, to: "Product(2*exp(h(k - 1)), (k, 1, n))"}')
    with pytest.raises(VerificationError, match="the step from n to n [+] 1 is not shown symbolically, "
                                                "and the claim is false: `.*` is not shown\n  counterexample: n = 1"):
        derive_problem("s", path)


def test_a_base_above_the_least_value_is_an_error(tmp_path: Path) -> None:
    path = problem(tmp_path, "v(n)", '{by: induction, on: n, base: 2, to: "c**n*x + Sum(c**(n - k)*a[k], (k, 1, n))"}')
    with pytest.raises(EngineError, match="rule 'induction' does not apply: base n = 2 leaves n = 1..1 unproved"):
        derive_problem("s", path)


def test_a_variable_without_least_value_needs_a_base(tmp_path: Path) -> None:
    path = problem(tmp_path, "x + j", '{by: induction, on: j, to: "j + x"}')
    with pytest.raises(EngineError, match="j has no least value"):
        derive_problem("s", path)


def test_inequalities_and_missing_claims_are_refused(tmp_path: Path) -> None:
    path = problem(tmp_path, "v(n)", '{by: induction, on: n, rel: "<=", to: "v(n) + 1"}')
    with pytest.raises(EngineError, match="induction proves equations only"):
        derive_problem("s", path)
    path = problem(tmp_path, "v(n)", "{by: induction, on: n}")
    with pytest.raises(SpecError, match="rule 'induction' proves a claim: give the claim as `to`"):
        derive_problem("s", path)


def test_derivative_in_an_indexed_symbol_is_refused(tmp_path: Path) -> None:
    # v(n) depends on every a[k]: an unknown standing for v(n) must not have d/da[1] = 0
    path = problem(tmp_path, "Derivative(v(n), a[1])", '{by: induction, on: n, to: "c**(n - 1)"}')
    with pytest.raises(EngineError, match="cannot differentiate a recursive object in an indexed symbol"):
        derive_problem("s", path)


@pytest.mark.parametrize(("set_name", "stem", "chains"), [
    ("hw4", "sigmoid_gradient", {"bound"}),
    ("hw4", "tanh_gradient", {"bound", "zero_bias"}),
    ("hw4", "importance_reinforce", {"weight"}),
    ("quiz4", "vq_update", {"unrolled"}),
])
def test_shipped_specs_prove_their_claims_for_every_n(set_name: str, stem: str, chains: set[str]) -> None:
    d = derive_problem(set_name, ROOT / "problems" / set_name / f"{stem}.yaml")
    proved = {b.label for b in d.blocks if isinstance(b, Chain) for s in b.steps
              if s.rule == "induction" and s.verdict.method == "symbolic"
              and s.verdict.detail.startswith("induction: base ")}
    assert proved == chains
