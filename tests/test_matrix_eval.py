"""Exact matrix instances: random matrices with a prescribed largest singular value, matrix
expressions (matmul, diag, jacobian, MatProduct, entrywise functions), certified largest
singular values, and the verifier's decisions on them, including wrong bounds rejected with
a counterexample."""

from __future__ import annotations

import random

import pytest
import sympy as sp

from derive.exprs import parse
from flint import arb

from derive.balls import precision
from derive.matrices import random_matrix
from derive.matrix_eval import MatrixEval, Undecided, decide, enclose, largest_eigenvalue
from derive.scope import Rewrite, Scope
from derive.verify import Context, StepRejected, check

d, n, t = sp.symbols("d n t", integer=True, positive=True)
W, y, x1 = sp.symbols("W y x1", real=True)
X = sp.Function("X", real=True)


def scope() -> Scope:
    """W is d x d with sigma_max(W) = 1/2; y, x1 are vectors; X(t) = tanh(W X(t-1)), X(1) = x1."""
    sc = Scope()
    sc.ns.symbols.update({"d": d, "n": n, "t": t, "W": W, "y": y, "x1": x1})
    sc.ns.functions["X"] = (X, 1)
    sc.shapes.update({W: (d, d), y: (d, sp.Integer(1)), x1: (d, sp.Integer(1))})
    sc.sigma_max[W] = sp.Rational(1, 2)
    sc.definitions["X"] = Rewrite("X", (t,), parse("tanh(matmul(W, X(t - 1)))", sc.ns), at=((1, x1),))
    return sc


SC = scope()


def p(text: str) -> sp.Expr:
    return parse(text, SC.ns)


@pytest.mark.parametrize("size", [1, 2, 3])
def test_random_matrix_has_the_prescribed_largest_singular_value(size: int) -> None:
    m = random_matrix(size, size, None, random.Random(size), top=sp.Rational(1, 2))
    assert all(v.is_Rational for v in m)
    assert MatrixEval({}, SC.unfold).sigma_max(m) == sp.Rational(1, 2)


def test_entrywise_functions_diag_and_jacobian() -> None:
    w = sp.ImmutableMatrix([[1, 2], [0, 1]])
    v = sp.ImmutableMatrix([[1], [-1]])
    me = MatrixEval({W: w, y: v}, SC.unfold)
    assert me.value(p("diag(1 - y**2)")) == sp.zeros(2, 2)
    jac = me.value(p("jacobian(tanh(matmul(W, y)), y)"))
    assert jac == sp.ImmutableMatrix([[1 - sp.tanh(-1) ** 2, 2 - 2 * sp.tanh(-1) ** 2], [0, 1 - sp.tanh(-1) ** 2]])
    with pytest.raises(ValueError, match="matmul"):
        me.value(W * y)


def test_matrix_product_puts_later_factors_on_the_left() -> None:
    a, b = sp.ImmutableMatrix([[1, 1], [0, 1]]), sp.ImmutableMatrix([[1, 0], [1, 1]])
    f = sp.Function("F")
    me = MatrixEval({}, lambda e: e.replace(lambda q: q.func == f, lambda q: a if q.args[0] == 2 else b))
    assert me.value(p("MatProduct(y, (t, 1, 2))").xreplace({y: f(t)})) == a * b


def test_certified_largest_eigenvalue_encloses_the_truth() -> None:
    g = sp.ImmutableMatrix([[2 + sp.tanh(1), 1], [1, 3]])
    box = largest_eigenvalue(g)
    true = max(sp.N(e, 70) for e in sp.Matrix(g).eigenvals())
    with precision(240):
        assert box.overlaps(arb(str(true), "1e-68")) and box.rad() < arb("1e-40")


def test_a_repeated_largest_eigenvalue_is_certified() -> None:
    """diag(t, t) with t = 1 - tanh(1)**2: the two equal eigenvalues form one cluster."""
    t = 1 - sp.tanh(1) ** 2
    box = largest_eigenvalue(sp.ImmutableMatrix([[t, 0], [0, t]]))
    assert box.contains(enclose(t)) and box.rad() < arb("1e-40")


def test_decide_is_exact_or_certified_never_by_tolerance() -> None:
    assert decide(sp.Rational(1, 2), sp.Rational(1, 2), "<=", {})
    assert not decide(sp.Rational(1, 2), sp.Rational(1, 2), "<", {})
    box = sp.Dummy("s")
    tiny = sp.Rational(1, 10**50)
    encl = {box: enclose(sp.Rational(1, 2) + tiny + sp.tanh(1) / 10**70)}
    assert not decide(box, sp.Rational(1, 2), "<=", encl)  # off by 1e-50: still rejected
    with pytest.raises(Undecided):  # an enclosure that straddles the bound decides nothing
        decide(box, sp.Rational(1, 2), "<=", {box: arb("0.5", "0.01")})


CTX = Context(SC, seed=7)


def test_layer_jacobian_and_bound_are_accepted_on_instances() -> None:
    v = check(p("jacobian(tanh(matmul(W, y)), y)"), "=", p("matmul(diag(1 - tanh(matmul(W, y))**2), W)"), CTX)
    assert v.method == "instance" and "matrix instances" in v.detail
    v = check(p("sigma_max(jacobian(X(n + 1), x1))"), "<=", p("(1/2)**n"), CTX)
    assert v.method == "instance" and "n in {1, 2, 3}" in v.detail


@pytest.mark.parametrize("wrong", ["(1/2)**(n + 1)", "(1/2)**n"])
def test_wrong_bounds_are_rejected_with_a_counterexample(wrong: str) -> None:
    """(1/2)^(n+1) for n layers, and the handout's literal (1/2)^n for dx_n/dx_1."""
    start = "sigma_max(jacobian(X(n + 1), x1))" if wrong.endswith("+ 1)") else "sigma_max(jacobian(X(n), x1))"
    with pytest.raises(StepRejected) as exc:
        check(p(start), "<=", p(wrong), CTX)
    assert "false on a random exact instance" in exc.value.message
    assert "W = " in exc.value.counterexample and "left = " in exc.value.counterexample


def test_wrong_layer_jacobian_is_rejected() -> None:
    with pytest.raises(StepRejected) as exc:
        check(p("jacobian(tanh(matmul(W, y)), y)"), "=", p("matmul(W, diag(1 - tanh(matmul(W, y))**2))"), CTX)
    assert "W = " in exc.value.counterexample


def test_singular_values_are_nonnegative_symbolically() -> None:
    assert check(p("sigma_max(matmul(W, W))"), ">=", sp.Integer(0), CTX).method == "symbolic"


@pytest.mark.parametrize("rel, bound, case", [
    ("<", "1", "c I"),  # tight at y = 0
    (">", "0", "nilpotent"),  # W = c e_1 e_d^T: the product of two layer Jacobians vanishes
])
def test_matrix_inequalities_meet_their_equality_cases(rel: str, bound: str, case: str) -> None:
    start = "sigma_max(diag(1 - tanh(matmul(W, y))**2))" if case == "c I" else "sigma_max(jacobian(X(n + 1), x1))"
    with pytest.raises(StepRejected) as exc:
        check(p(start), rel, p(bound), CTX)
    assert exc.value.message.startswith("false on an equality case (vectors zero") and case in exc.value.message
    assert "y = [[0]" in exc.value.counterexample or "x1 = [[0]" in exc.value.counterexample


def test_a_true_matrix_bound_says_which_equality_cases_it_survived() -> None:
    v = check(p("sigma_max(diag(1 - tanh(matmul(W, y))**2))"), "<=", p("1"), CTX)
    assert v.method == "instance"
    assert ("and on the equality cases: vectors zero, matrices with sigma_max c equal to c I; vectors zero, "
            "matrices with sigma_max c equal to c e_1 e_d^T (nilpotent)") in v.detail


def test_softmax_rows_inverse_and_grad_exactly() -> None:
    from derive.ops import inv, softmax_rows
    a = sp.ImmutableMatrix([[0, sp.log(3)], [sp.log(2), sp.log(2)]])
    me = MatrixEval({W: a}, SC.unfold)
    assert me.value(softmax_rows(W)) == sp.ImmutableMatrix([[sp.Rational(1, 4), sp.Rational(3, 4)], [sp.S.Half] * 2])
    m = sp.ImmutableMatrix([[2, 1], [1, 1]])
    assert MatrixEval({W: m}, SC.unfold).value(inv(W)) == sp.ImmutableMatrix([[1, -1], [-1, 2]])
    with pytest.raises(ValueError, match="singular"):
        MatrixEval({W: sp.ImmutableMatrix([[1, 1], [1, 1]])}, SC.unfold).value(inv(W))
    # d (y^T W y) / dW = y y^T, in the shape of W
    v = sp.ImmutableMatrix([[1], [-2]])
    g = MatrixEval({W: m, y: v}, SC.unfold).value(p("grad(matmul(T(y), matmul(W, y)), W)"))
    assert g == v * v.T
    with pytest.raises(ValueError, match="1 x 1"):
        MatrixEval({W: m, y: v}, SC.unfold).value(p("grad(matmul(W, y), W)"))


def test_grad_is_checked_on_instances_and_a_wrong_one_rejected() -> None:
    v = check(p("grad(matmul(T(y), matmul(W, x1)), W)"), "=", p("matmul(y, T(x1))"), CTX)
    assert v.method == "symbolic" and "grad" in v.detail
    with pytest.raises(StepRejected) as exc:
        check(p("grad(matmul(T(y), matmul(W, x1)), W)"), "=", p("matmul(x1, T(y))"), CTX)  # swapped
    assert "W = " in exc.value.counterexample


def test_naming_puts_one_placeholder_per_function_of_numbers_innermost_first() -> None:
    env = {W: sp.ImmutableMatrix([[sp.Rational(1, 2)]]), x1: sp.ImmutableMatrix([[sp.Rational(1, 8)]])}
    me = MatrixEval(env, SC.unfold, named={})
    value = me.value(p("tanh(matmul(W, tanh(matmul(W, x1)))) + tanh(matmul(W, x1))"))
    inner, outer = sorted(me.named, key=lambda b: b.dummy_index)
    assert me.named == {inner: sp.tanh(sp.Rational(1, 16)), outer: sp.tanh(sp.tanh(sp.Rational(1, 16)) / 2)}
    assert value == sp.ImmutableMatrix([[inner + outer]])
    ball = me.enclosures[outer]
    assert abs(float(ball.mid()) - 0.031199244416922311) < 1e-16 and float(ball.rad()) < 1e-50


def test_naming_writes_abs_by_the_sign_of_its_ball() -> None:
    me = MatrixEval({W: sp.ImmutableMatrix([[sp.Rational(1, 2)]])}, SC.unfold, named={})
    box = me.value(p("tanh(matmul(W, W))"))[0]
    assert me.value(p("sigma_max(1 - tanh(matmul(W, W))**2)")) == 1 - box**2


def test_identically_zero_needs_a_zero_numerator_and_a_denominator_shown_non_zero() -> None:
    from derive.matrix_eval import identically_zero
    me = MatrixEval({W: sp.ImmutableMatrix([[sp.Rational(1, 2)]])}, SC.unfold, named={})
    c = me.value(p("tanh(matmul(W, W))"))[0]
    assert identically_zero((1 - c**2) * (1 + c) - (1 + c) ** 2 * (1 - c), me.enclosures)
    assert not identically_zero((1 - c) ** 2 - 1 + c**2, me.enclosures)
    assert identically_zero(1 / (1 + c) - (1 - c) / (1 - c**2), me.enclosures)
    t = sp.tanh(sp.Rational(1, 4))  # c's value: c - t is a denominator not shown non-zero
    assert not identically_zero((c**2 - t**2) / (c - t) - (c + t), me.enclosures)


def test_an_identity_between_named_numbers_is_decided_on_their_exact_values() -> None:
    """(e^u + 1)^2 - e^(2u) - 2 e^u = 1 is no polynomial identity in the placeholders of e^u
    and e^(2u): naming leaves it undecided and the exact values decide it; a wrong one is false."""
    from derive.verify.matrices import _exact_values, _exactly
    mats = {W: sp.ImmutableMatrix([[sp.Rational(1, 2)]]), y: sp.ImmutableMatrix([[sp.Rational(1, 3)]])}
    true = p("(exp(matmul(W, y)) + 1)**2 - exp(2*matmul(W, y)) - 2*exp(matmul(W, y))")
    one = p("exp(0*matmul(W, y))")
    with pytest.raises(Undecided):
        _exact_values(true, one, "=", MatrixEval(mats, SC.unfold, named={}), CTX, "")
    assert _exactly(true, one, "=", mats, CTX, "") == (True, ("", ""), True)
    wrong = p("(exp(matmul(W, y)) + 1)**2 - exp(2*matmul(W, y)) - exp(matmul(W, y))")
    assert _exactly(wrong, one, "=", mats, CTX, "")[0] is False
