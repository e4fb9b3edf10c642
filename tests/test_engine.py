"""The engine performs the shipped derivations; every step carries its verdict; a rule's
result must equal the author's claim; rules that do not apply are errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import sympy as sp

from derive.engine import derive_problem
from derive.errors import EngineError, VerificationError
from derive.exprs import evaluated
from derive.model import Answer, Chain
from derive.ops import E

ROOT = Path(__file__).resolve().parent.parent


def methods(set_name: str, stem: str) -> dict[str, list[str]]:
    d = derive_problem(set_name, ROOT / "problems" / set_name / f"{stem}.yaml")
    return {b.label: [s.verdict.method for s in b.steps] for b in d.blocks if isinstance(b, Chain)}


def test_sigmoid_gradient_verdicts() -> None:
    assert methods("hw4", "sigmoid_gradient") == {
        "dsigma": ["symbolic", "symbolic", "symbolic"],
        "square": ["symbolic", "symbolic"],
        "positive": ["symbolic"],
        "bound": ["symbolic", "symbolic", "symbolic"],
        "lower": ["symbolic"],
    }


def test_attention_cost_verdicts_and_total() -> None:
    d = derive_problem("hw4", ROOT / "problems/hw4/attention_cost.yaml")
    total = next(b for b in d.blocks if isinstance(b, Chain) and b.label == "total")
    n, dd = sp.Symbol("n", integer=True, positive=True), sp.Symbol("d", integer=True, positive=True)
    assert sp.expand(sp.sympify(total.steps[-1].expr) - ((4 * dd + 3) * n**2 - (dd + 1) * n)) == 0
    assert methods("hw4", "attention_cost") == {
        "scores": ["instance"], "scaling": ["instance"], "softmax": ["instance"], "values": ["instance"],
        "total": ["instance", "instance", "symbolic"], "growth": ["symbolic", "symbolic"], "order": ["symbolic"]}
    assert total.steps[0].verdict.detail == ("holds on 6 random exact instances (d in {1, 2, 3, 4, 5, 6}, n in {1, 2, 3, 4, "
                                             "5, 6}); and on all 36 whole-number cases d, n <= 6 allowed by the assumptions")


def test_svd_attention_order_and_bound() -> None:
    """1.3.2: the engine picks U (S (R^T V)); the boxed bound is n k d <= min cost <= 6 n k d."""
    assert methods("hw4", "svd_attention") == {
        "output": ["symbolic", "symbolic"], "best": ["instance", "instance"], "naive": ["instance"],
        "upper": ["instance", "symbolic", "symbolic"], "lower": ["instance", "symbolic"]}
    d = derive_problem("hw4", ROOT / "problems/hw4/svd_attention.yaml")
    best = next(b for b in d.blocks if isinstance(b, Chain) and b.label == "best")
    assert sp.sstr(best.steps[0].expr) == "cost(matmul(U, matmul(S, matmul(T(R), V))))"
    answer = next(b for b in d.blocks if isinstance(b, Answer))
    assert (sp.sstr(answer.below.steps[-1].expr), sp.sstr(answer.chain.steps[-1].expr)) == ("d*k*n", "6*d*k*n")


def test_projection_attention_identity_proved_and_on_rank_k_instances() -> None:
    """1.3.3: the matrix steps are proved for symbolic sizes (R^T R = I from R's structure), but the
    last, which needs the hypothesis P = U S R^T without citing it: on rank-k instances."""
    assert methods("hw4", "projection_attention") == {
        "identity": ["symbolic", "symbolic", "symbolic", "symbolic", "symbolic", "symbolic", "symbolic",
                     "symbolic", "instance"],
        "best": ["instance", "instance"], "naive": ["instance"],
        "upper": ["instance", "symbolic"], "lower": ["instance", "symbolic"]}


def test_bellman_verdicts() -> None:
    assert methods("hw4", "bellman_optimal") == {
        "v_from_q": ["symbolic"], "q_from_v": ["symbolic"], "a_from_q": ["symbolic"],
        "a_from_v": ["symbolic", "symbolic"], "expansion": ["symbolic", "symbolic", "instance"]}


def test_baseline_verdicts_and_answer() -> None:
    d = derive_problem("hw4", ROOT / "problems/hw4/baseline_variance.yaml")
    answer = next(b for b in d.blocks if isinstance(b, Answer))
    assert answer.long is True
    g, r = sp.Symbol("G", real=True), sp.Symbol("R", real=True)
    assert evaluated(answer.chain.steps[-1].expr) == E(g**2 * r) / E(g**2)
    assert methods("hw4", "baseline_variance") == {
        "variance": ["instance", "instance", "instance", "symbolic"],
        "slope": ["symbolic", "symbolic"], "root": ["symbolic"],
        "curvature": ["symbolic", "symbolic", "instance"]}


def test_gaussian_kl_is_symbolic_throughout() -> None:
    assert methods("assn5", "gaussian_kl") == {"kl": ["symbolic"] * 6}


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(textwrap.dedent(body))
    return path


HEAD = """\
    id: "t"
    title: "t"
    statement: "s"
    symbols: {x: real}
    solution:
"""


def test_rule_result_must_match_claim(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + """\
      - chain:
          label: c
          start: "(x + 1)**2"
          steps:
            - {by: expand, to: "x**2 + 2*x + 2"}
    """)
    with pytest.raises(VerificationError) as info:
        derive_problem("s", path)
    msg = str(info.value)
    assert msg.startswith(f"{path}:10: solution[0].chain.steps[0]: step c.1: rule 'expand' gives "
                          "`x**2 + 2*x + 1`, not the claimed `x**2 + 2*x + 2`\n  counterexample: x = ")


def test_rule_that_does_not_apply(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + """\
      - chain:
          label: c
          start: "x**3"
          steps:
            - {by: complete_square, var: x}
    """)
    with pytest.raises(EngineError) as info:
        derive_problem("s", path)
    assert str(info.value) == (f"{path}:10: solution[0].chain.steps[0]: step c.1: rule 'complete_square' "
                               "does not apply: `x**3` is not a quadratic in x (degree 3)")


def test_chain_mixing_directions_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + """\
      - chain:
          label: c
          start: "x**2"
          steps:
            - {rel: ">=", to: "0"}
            - {rel: "<=", to: "1 + x**2 - x**2 - 1"}
    """)
    with pytest.raises(EngineError) as info:
        derive_problem("s", path)
    assert str(info.value) == f"{path}:6: solution[0].chain: chain 'c': chain mixes ['<=', '>=']"


def test_defines_names_the_result_for_later_chains(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + """\
      - chain:
          label: c
          defines: F
          start: "(x + 1)**2"
          steps:
            - {by: expand}
      - chain:
          label: d
          start: "Derivative(F, x)"
          steps:
            - {by: unfold, name: F}
            - {by: differentiate, to: "2*x + 2"}
    """)
    d = derive_problem("s", path)
    assert [s.verdict.method for s in d.blocks[1].steps] == ["symbolic", "symbolic"]


def test_answer_with_a_lower_bound(tmp_path: Path) -> None:
    """`below` boxes low <= start <= end; the two chains must share their start."""
    body = HEAD + """\
      - chain:
          label: up
          assume: ["0 < x < 1"]
          start: "x**2"
          steps:
            - {rel: "<=", to: "1"}
      - chain:
          label: down
          start: "START"
          steps:
            - {rel: ">=", to: "0"}
      - answer: {chain: up, below: down}
    """
    d = derive_problem("s", write(tmp_path, body.replace("START", "x**2")))
    answer = d.blocks[-1]
    assert isinstance(answer, Answer) and answer.below is not None and answer.below.label == "down"
    with pytest.raises(EngineError) as info:
        derive_problem("s", write(tmp_path, body.replace("START", "x**4")))
    assert str(info.value) == f"{tmp_path / 'p.yaml'}:17: solution[2].answer: chains down and up start differently"


# ---- finite MDPs ---------------------------------------------------------------------------
def test_chain_mdp_optimal_policies_values_and_losses() -> None:
    from derive.model import PolicyEvaluation, PolicyTable, Say
    d = derive_problem("assn5", ROOT / "problems/assn5/chain_mdp.yaml")
    a, b = (x for x in d.blocks if isinstance(x, PolicyTable))
    c = next(x for x in d.blocks if isinstance(x, PolicyEvaluation))
    R = sp.Rational
    assert (a.gamma, b.gamma) == (R(1, 10), R(99, 100))
    assert a.policy == ("-", "-", "+", "+") and b.policy == ("-", "+", "+", "+")
    assert [x.value for x in a.optimal] == [R(100, 99), R(10, 99), R(149, 495), R(298, 99)]
    assert [x.value for x in b.optimal] == [R(2940598, 29701), R(2940300, 29701), R(2970000, 29701),
                                            R(3000000, 29701)]
    assert len(a.rows) == len(b.rows) == 16 and sum(r.optimal for r in a.rows) == sum(r.optimal for r in b.rows) == 1
    assert {r.verdict.method for r in a.rows + b.rows} == {"symbolic"}
    assert c.policy == a.policy and [x.value for x in c.values] == [R(10000, 199), R(9900, 199), R(514701, 9950),
                                                                     R(10398, 199)]
    assert [x.value for x in c.losses] == [o.value - v.value for o, v in zip(b.optimal, c.values)]
    assert all(x.value > 0 for x in c.losses)
    s, a, q = c.improvement
    assert (s, a, q.name, q.value) == ("0", "+", "q(0,+)", R(50955399, 995000))
    cited = dict((tok, v) for blk in d.blocks if isinstance(blk, Say) for tok, v, _ in blk.refs)
    assert cited["@{a.q(0,-)}"] == R(10, 99) and cited["@{a.q(0,+)}"] == R(149, 4950)


MDP_HEAD = """\
    id: "m"
    title: "m"
    statement: "s"
    solution:
      - mdp:
          name: two
          states: [x, y]
          actions: [stay, move]
          transitions:
            x: {stay: x, move: y}
            y: {stay: y, move: {x: 1/2, y: 1/2}}
          rewards: {y: {stay: 1}}
"""


def test_stochastic_mdp_end_to_end(tmp_path: Path) -> None:
    from derive.model import PolicyTable
    path = write(tmp_path, MDP_HEAD + """\
      - policies: {label: a, mdp: two, gamma: 0.5, optimal: {policy: {x: move, y: stay}, values: {x: 1, y: 2}}}
    """)
    (t,) = [b for b in derive_problem("s", path).blocks if isinstance(b, PolicyTable)]
    assert t.policy == ("move", "stay") and [c.value for c in t.optimal] == [1, 2]
    assert t.q[("y", "move")] == sp.Rational(3, 4)


def test_wrong_claimed_value_is_rejected_with_counterexample(tmp_path: Path) -> None:
    path = write(tmp_path, MDP_HEAD + """\
      - policies: {label: a, mdp: two, gamma: 0.5, optimal: {values: {x: 1, y: "5/2"}}}
    """)
    with pytest.raises(VerificationError) as info:
        derive_problem("s", path)
    assert str(info.value) == (f"{path}:13: solution[1].policies.optimal.values.y: step a.v*(y): the claimed "
                               "v*(y) is wrong\n  counterexample: claimed v*(y) = 5/2, certified v*(y) = 2 "
                               "(difference -1/2)")


def test_non_optimal_claimed_policy_is_rejected_with_counterexample(tmp_path: Path) -> None:
    path = write(tmp_path, MDP_HEAD + """\
      - policies: {label: a, mdp: two, gamma: 0.5, optimal: {policy: {x: stay}}}
    """)
    with pytest.raises(VerificationError) as info:
        derive_problem("s", path)
    assert str(info.value) == (f"{path}:13: solution[1].policies.optimal.policy.x: step a.policy(x): claimed "
                               "optimal policy: action stay is not optimal in state x\n  counterexample: "
                               "q(x, stay) = 1/2 < q(x, move) = 1 = v*(x)")


def test_wrong_claimed_evaluation_and_loss_are_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, MDP_HEAD + """\
      - policies: {label: a, mdp: two, gamma: 0.5}
      - evaluate: {label: c, mdp: two, gamma: 0.5, policy: {x: stay, y: stay}, compare: a, loss: {x: 2}}
    """)
    with pytest.raises(VerificationError) as info:
        derive_problem("s", path)
    assert str(info.value).endswith("step c.loss(x): the claimed loss(x) is wrong\n  counterexample: claimed "
                                    "loss(x) = 2, certified loss(x) = 1 (difference -1)")


def test_ties_need_an_explicit_policy(tmp_path: Path) -> None:
    path = write(tmp_path, MDP_HEAD + """\
      - policies: {label: a, mdp: two, gamma: 0}
      - evaluate: {label: c, mdp: two, gamma: 0.5, policy: a}
    """)
    with pytest.raises(EngineError, match="block 'a' has several optimal policies"):
        derive_problem("s", path)


def test_claimed_value_must_be_rational(tmp_path: Path) -> None:
    from derive.errors import SpecError
    path = write(tmp_path, MDP_HEAD + """\
      - policies: {label: a, mdp: two, gamma: 0.5, optimal: {values: {x: "sqrt(2)"}}}
    """)
    with pytest.raises(SpecError, match="a claimed value must be an exact rational number, got sqrt"):
        derive_problem("s", path)

def test_definition_given_reaches_the_notation(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(textwrap.dedent("""\
        id: "1"
        title: "T"
        statement: "S"
        symbols: {x: real, z: real}
        definitions:
          post: {args: [z, x], body: "z*x", given: 1, latex: 'p'}
        solution:
          - chain: {label: c, start: "post(z, x)", steps: [{by: unfold}]}
        """))
    d = derive_problem("t", path)
    assert d.notation.given == {"post": 1}


def test_elbo_bound_verdicts() -> None:
    assert methods("assn5", "elbo_bound") == {
        "elbo_joint": ["symbolic", "symbolic", "instance", "instance"],
        "decomposition": ["instance", "instance", "symbolic", "instance", "instance"],
        "gibbs": ["symbolic", "instance", "instance", "instance", "instance"],
        "bound": ["instance", "instance"], "training": ["instance"]}


def test_entropy_upper_bound_verdicts() -> None:
    assert methods("quiz4", "entropy_upper_bound") == {
        "identity": ["instance"], "h_y": ["symbolic", "instance"], "h_z": ["symbolic", "instance"],
        "h_z_given_y": ["symbolic", "instance"], "h_y_given_z": ["symbolic", "instance"],
        "rewritten": ["instance"] * 3, "cross_entropy_z": ["symbolic"] + ["instance"] * 4,
        "upper_bound": ["instance"] * 4, "vae": ["instance", "symbolic"]}


@pytest.mark.slow
def test_reparam_gradient_verdicts() -> None:
    sym = "symbolic"
    assert methods("assn5", "reparam_gradient") == {
        "estimator": [sym], "kl": [sym] * 6, "dkl_mu": [sym, sym], "dkl_sigma": [sym, sym],
        "grad_mu": [sym] * 4, "grad_sigma": [sym] * 4, "reparam": ["instance"], "unbiased": ["instance"],
        "unbiased_grad_mu": ["instance"], "unbiased_grad_sigma": ["instance"], "unbiased_two": ["instance"]}
