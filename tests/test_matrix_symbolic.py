"""Matrix steps proved for symbolic sizes (derive/verify/matrix_symbolic.py): products,
transposes, inverses, jacobians, grad, the facts of permutation and ones matrices, opaque
entry-by-entry functions and row softmax with permutations moved out; and wrong steps, which
the prover never accepts and the exact instances reject with a counterexample."""

from __future__ import annotations

import pytest
import sympy as sp

from derive.exprs import parse
from derive.scope import Scope
from derive.verify import Context, StepRejected, check
from derive.verify.matrix_symbolic import matrix_symbolic

D, N, E = sp.symbols("D N E", integer=True, positive=True)
NAMES = "X Y M Mi P one b h Om c Z"
X, Y, M, Mi, P, one, b, h, Om, c, Z = sp.symbols(NAMES, real=True)


def scope() -> Scope:
    sc = Scope()
    sc.ns.symbols.update({"D": D, "N": N, "E": E, **{str(s): s for s in (X, Y, M, Mi, P, one, b, h, Om, c, Z)}})
    sc.shapes.update({X: (D, N), Y: (N, E), M: (N, N), Mi: (N, N), P: (N, N), one: (N, sp.Integer(1)),
                      b: (D, sp.Integer(1)), h: (N, sp.Integer(1)), Om: (D, N), c: (D, sp.Integer(1)),
                      Z: (D + 1, N)})
    sc.structure.update({P: "permutation", one: "ones", Mi: "invertible"})
    return sc


SC = scope()
CTX = Context(SC, seed=3)


def p(text: str) -> sp.Expr:
    return parse(text, SC.ns)


@pytest.mark.parametrize("left, right, fact", [
    ("matmul(matmul(X, P), T(P))", "X", "P P^T = I"),
    ("matmul(T(P), matmul(P, Y))", "Y", "P^T P = I"),
    ("matmul(matmul(b, T(one)), P)", "matmul(b, T(one))", "P fixes the ones matrix"),
    ("T(matmul(X, Y))", "matmul(T(Y), T(X))", ""),
    ("matmul(X + scale(X, 2), Y)", "3*matmul(X, Y)", ""),
    ("matmul(matmul(X, inv(Mi)), Mi)", "X", "two-sided inverse"),
    ("T(jacobian(b + matmul(Om, h), h))", "T(Om)", "jacobians"),
    ("grad(matmul(T(c), b + matmul(Om, h)), Om)", "matmul(c, T(h))", "grad"),
    ("softmax_rows(matmul(matmul(T(P), M), P))", "matmul(matmul(T(P), softmax_rows(M)), P)", "f(P M Q) = P f(M) Q"),
    ("tanh(matmul(b, T(one)) + matmul(X, P))", "matmul(tanh(matmul(b, T(one)) + X), P)", "f(P M Q) = P f(M) Q"),
    ("matmul(T(Z), Z) + matmul(T(Z), Z)", "scale(matmul(T(Z), Z), 2)", ""),
])
def test_true_matrix_steps_are_proved_for_every_size(left: str, right: str, fact: str) -> None:
    v = check(p(left), "=", p(right), CTX)
    assert v.method == "symbolic" and "symbolic sizes" in v.detail and fact in v.detail


@pytest.mark.parametrize("left, right", [
    ("matmul(matmul(X, T(P)), T(P))", "X"),                                       # P^T P^T is not I
    ("matmul(P, Y)", "Y"),                                                          # a permutation is no identity
    ("T(matmul(X, M))", "matmul(T(X), T(M))"),                                      # transposes in the wrong order
    ("matmul(X, matmul(M, Mi))", "matmul(X, matmul(Mi, M))"),                       # products do not commute
    ("matmul(matmul(X, inv(matmul(M, Mi))), Mi)", "matmul(X, inv(M))"),             # (M Mi)^-1 = Mi^-1 M^-1
    ("T(jacobian(b + matmul(Om, h), h))", "scale(T(Om), 2)"),                       # changed coefficient
    ("grad(matmul(T(c), b + matmul(Om, h)), Om)", "-matmul(c, T(h))"),              # flipped sign
    ("softmax_rows(matmul(matmul(T(P), M), P))", "matmul(matmul(P, softmax_rows(M)), T(P))"),  # swapped
    ("tanh(matmul(X, P) + matmul(X, P))", "scale(matmul(tanh(X), P), 2)"),          # f(2A) is not 2 f(A)
    ("matmul(T(one), matmul(M, P))", "matmul(T(one), M)"),                          # only 1^T P = 1^T, not 1^T M
])
def test_wrong_matrix_steps_are_not_proved_and_are_rejected(left: str, right: str) -> None:
    assert matrix_symbolic(SC.unfold(p(left)), SC.unfold(p(right)), "=", CTX) is None
    with pytest.raises(StepRejected) as exc:
        check(p(left), "=", p(right), CTX)
    assert exc.value.message and ("P = " in exc.value.counterexample or "X = " in exc.value.counterexample
                                  or "M = " in exc.value.counterexample or "Om = " in exc.value.counterexample
                                  or "vs" in exc.value.counterexample)


def test_what_sympy_cannot_hold_is_left_to_the_instances() -> None:
    assert matrix_symbolic(p("matmul(diag(h), h)"), p("h**2"), "=", CTX) is None  # diag vs an entrywise power
    v = check(p("matmul(diag(h), h)"), "=", p("h**2"), CTX)
    assert v.method == "instance" and "random exact matrix instances" in v.detail
    assert matrix_symbolic(p("X"), p("X"), "<=", CTX) is None


def test_compound_sizes_are_named_in_the_verdict() -> None:
    v = check(p("T(matmul(T(Z), Z))"), "=", p("matmul(T(Z), Z)"), CTX)
    assert v.method == "symbolic" and "(D + 1) x N" in v.detail
