"""Gaussian identities in matrices: the inv, det, tr operators, the symmetric and spd
structures, and the rules scaled_identity and complete_square_matrix (derive/rules/gaussian_matrix.py),
whose results the verifier re-checks on exact matrix instances."""

from __future__ import annotations

import random

import pytest
import sympy as sp
from flint import arb

from derive.ball_eval import BallEval
from derive.balls import precision
from derive.engine import RuleContext
from derive.exprs import evaluated, parse
from derive.matrices import random_matrix, structure_relations
from derive.matrix_eval import PREC, MatrixEval
from derive.mathprint import latex
from derive.model import Notation
from derive.rules import REGISTRY, RuleError
from derive.scope import Scope
from derive.verify import Context, StepRejected, check


def scope() -> Scope:
    """D x D: identity I, spd S, symmetric Y, generic G; vectors x, b, m; a positive scalar c."""
    sc = Scope()
    d = sp.Symbol("D", integer=True, positive=True)
    sc.ns.symbols["D"] = d
    for name, shape, kind in (("I", (d, d), "identity"), ("S", (d, d), "spd"), ("Y", (d, d), "symmetric"),
                              ("G", (d, d), None), ("x", (d, 1), None), ("b", (d, 1), None), ("m", (d, 1), None)):
        sym = sp.Symbol(name)
        sc.ns.symbols[name] = sym
        sc.shapes[sym] = tuple(sp.sympify(n) for n in shape)
        if kind:
            sc.structure[sym] = kind
    sc.ns.symbols["c"] = sp.Symbol("c", positive=True)
    return sc


SC = scope()


def e(text: str):
    return parse(text, SC.ns)


def apply(rule: str, text: str, **args):
    """The rule applied as the engine applies it: to the evaluated expression."""
    return REGISTRY[rule].apply(evaluated(e(text)), {k: e(v) for k, v in args.items()}, RuleContext(SC, ()))


def verdict(lhs: str, rhs: str):
    return check(e(lhs), "=", e(rhs), Context(SC, seed=5))


def rejected(lhs: str, rhs: str) -> StepRejected:
    with pytest.raises(StepRejected) as info:
        verdict(lhs, rhs)
    assert "D = " in info.value.counterexample  # the instance is named
    return info.value


# ---- structures ------------------------------------------------------------------------
def test_symmetric_and_spd_instances() -> None:
    rng = random.Random(3)
    for n in (1, 2, 4):
        y = random_matrix(n, n, "symmetric", rng)
        assert y == y.T and all(v.is_Rational for v in y)
        s = random_matrix(n, n, "spd", rng, scale=sp.Rational(-1, 10))  # the sign of the scale is dropped
        assert s == s.T and all(s[:k, :k].det() > 0 for k in range(1, n + 1))  # Sylvester's criterion
    with pytest.raises(ValueError, match="a matrix of structure spd is square"):
        random_matrix(2, 3, "spd", rng)
    k, n = sp.symbols("k n", integer=True, positive=True)
    a = sp.Symbol("a")
    assert structure_relations({a: (n, k)}, {a: "symmetric"}) == [sp.Eq(n, k, evaluate=False)]


# ---- operators -------------------------------------------------------------------------
def test_inv_det_tr_exactly_and_in_balls() -> None:
    m = sp.ImmutableMatrix([[2, 1], [1, 3]])
    env = {SC.ns.symbols["G"]: m}
    ev = MatrixEval(env, lambda x: x)
    assert ev.value(e("inv(G)")) == m.inv() and ev.value(e("det(G)")) == 5 and ev.value(e("tr(G)")) == 5
    with precision(PREC):
        balls = BallEval(env, lambda x: x)
        assert balls.value(e("det(G)")).contains(5) and balls.value(e("tr(G)")).contains(5)
        assert balls.value(e("inv(G)"))[0, 0].contains(arb(3) / 5)
    with pytest.raises(ValueError, match="needs a square matrix"):
        MatrixEval({SC.ns.symbols["x"]: sp.ImmutableMatrix([1, 2])}, lambda x: x).value(e("det(x)"))
    with pytest.raises(ValueError, match="singular"):
        MatrixEval({SC.ns.symbols["G"]: sp.ImmutableMatrix([[1, 1], [1, 1]])}, lambda x: x).value(e("inv(G)"))


def test_printing() -> None:
    assert latex(e("inv(S)"), Notation()) == "S^{-1}"
    assert latex(e("inv(S + G)"), Notation()) == "\\left(S + G\\right)^{-1}"
    assert latex(e("det(S)"), Notation()) == "\\det\\left(S\\right)"
    assert latex(e("tr(S)"), Notation()) == "\\operatorname{tr}\\left(S\\right)"


def test_steps_with_the_operators_are_checked_on_instances() -> None:
    v = verdict("det(matmul(S, G))", "det(S)*det(G)")
    assert v.method == "instance" and "D in {1, 2, 3}" in v.detail
    assert verdict("inv(matmul(S, S))", "matmul(inv(S), inv(S))").method == "symbolic"  # the matrix prover
    assert "false on a random exact instance" in rejected("det(S + G)", "det(S) + det(G)").message
    assert "false" in rejected("tr(matmul(S, G))", "tr(S)*tr(G)").message
    assert "false" in rejected("T(inv(G))", "inv(G)").message  # G is not symmetric


# ---- scaled_identity -------------------------------------------------------------------
def test_scaled_identity_rewrites() -> None:
    d, c = SC.ns.symbols["D"], SC.ns.symbols["c"]
    assert apply("scaled_identity", "tr(c*I)") == c * d
    assert apply("scaled_identity", "det(c**2*I)") == c**(2 * d)
    assert apply("scaled_identity", "log(det(c*I)/det(scale(I, 3)))") == sp.log(c**d / 3**d)
    assert apply("scaled_identity", "tr(matmul(inv(c*I), S))") == e("tr(S)") / c
    assert apply("scaled_identity", "matmul(matmul(T(x), inv(c*I)), x)") == e("matmul(T(x), x)") / c
    with pytest.raises(RuleError, match="no multiple of an identity"):
        apply("scaled_identity", "tr(matmul(S, G))")


def test_scaled_identity_results_hold_and_wrong_ones_fail() -> None:
    assert verdict("tr(3*I)", "3*D").method == "instance"
    assert verdict("det(3*I)", "3**D").method == "instance"
    assert verdict("matmul(inv(c*I), x)", "x/c").method == "symbolic"  # the matrix prover: inv(c I) c I = I
    rejected("tr(3*I)", "3*(D + 1)")       # wrong size
    rejected("det(3*I)", "3**(D - 1)")     # wrong exponent
    rejected("det(3*I)", "3*D")            # a trace for a determinant
    rejected("matmul(inv(c*I), x)", "c*x")  # inverse dropped


# ---- complete_square_matrix ------------------------------------------------------------
SQUARE = "matmul(matmul(T(x - matmul(inv(S), b)), S), x - matmul(inv(S), b)) - matmul(matmul(T(b), inv(S)), b)"


def test_complete_square_matrix_result() -> None:
    out = apply("complete_square_matrix", "matmul(matmul(T(x), S), x) - 2*matmul(T(b), x)", var="x")
    assert out == evaluated(e(SQUARE))
    assert verdict("matmul(matmul(T(x), S), x) - 2*matmul(T(b), x)", SQUARE).method == "instance"
    # inside an exponent, with a coefficient, a constant term kept and the linear term written x^T b
    out = apply("complete_square_matrix", "exp(-(matmul(matmul(T(x), S), x) - 2*matmul(T(x), b) + tr(S))/2)",
                var="x")
    assert out == evaluated(e(f"exp(-({SQUARE} + tr(S))/2)"))
    # two quadratic forms are added up; b may be given
    out = apply("complete_square_matrix", "matmul(matmul(T(x), S), x) + matmul(matmul(T(x), Y), x) - 2*matmul(T(m), x)",
                var="x", b="m")
    assert out == evaluated(e("matmul(matmul(T(x - matmul(inv(S + Y), m)), S + Y), x - matmul(inv(S + Y), m))"
                              " - matmul(matmul(T(m), inv(S + Y)), m)"))


def test_complete_square_matrix_refusals() -> None:
    with pytest.raises(RuleError, match="no sum with a quadratic form"):
        apply("complete_square_matrix", "matmul(T(b), x) + tr(S)", var="x")
    with pytest.raises(RuleError, match="neither k x\\^T A x nor linear"):
        apply("complete_square_matrix", "matmul(matmul(T(x), S), x) + matmul(matmul(T(x), x), matmul(T(x), b))", var="x")
    with pytest.raises(RuleError, match="not a vector symbol"):
        apply("complete_square_matrix", "matmul(matmul(T(x), S), x)", var="S")


@pytest.mark.parametrize("wrong", [
    SQUARE.replace(" - matmul(matmul(T(b)", " + matmul(matmul(T(b)"),                 # flipped sign
    SQUARE.replace(" - matmul(matmul(T(b), inv(S)), b)", ""),                         # dropped term
    SQUARE.replace("x - matmul(inv(S), b)", "x - matmul(inv(S), 2*b)"),                # changed coefficient
    SQUARE.replace("x - matmul(inv(S), b)", "x - matmul(S, b)"),                       # inverse dropped
])
def test_wrong_completions_are_rejected(wrong: str) -> None:
    assert "false on a random exact instance" in rejected("matmul(matmul(T(x), S), x) - 2*matmul(T(b), x)", wrong).message


def test_completion_needs_a_symmetric_matrix() -> None:
    """For a generic G the rule's output is false, and the verifier says so (the rule is not trusted)."""
    out = apply("complete_square_matrix", "matmul(matmul(T(x), G), x) - 2*matmul(T(b), x)", var="x")
    with pytest.raises(StepRejected, match="false on a random exact instance"):
        check(e("matmul(matmul(T(x), G), x) - 2*matmul(T(b), x)"), "=", out, Context(SC, seed=5))
    assert verdict("matmul(matmul(T(x), Y), x) - 2*matmul(T(b), x)",
                   SQUARE.replace("S", "Y")).method == "instance"  # symmetric, not definite: holds
