"""Random exact instances: tables, densities, expectations, finite integrals, op counts."""

from __future__ import annotations

import random

import pytest

import sympy as sp

from derive.instances import Instance, OpCounter, free_vars, is_abstract, rational_orthogonal
from derive.ops import E, Int, MaxOver, T, cost, matmul, scale, softmax_rows
from derive.scope import FunctionInfo, Scope

st, a = sp.symbols("st a", real=True)
g, R, x = sp.symbols("g R x", real=True)
n, d = sp.symbols("n d", integer=True, positive=True)
Q, K, V = sp.symbols("Q K V")
pi = sp.Function("pi", real=True)


def scope() -> Scope:
    sc = Scope(spaces={"S": 3, "A": 2})
    sc.symbol_space.update({st: "S", a: "A"})
    sc.functions["pi"] = FunctionInfo("pi", ("A", "S"), 1, True)
    sc.random |= {g, R}
    sc.mean_zero.add(g)
    sc.shapes.update({Q: (n, d), K: (n, d), V: (n, d)})
    return sc


def test_free_vars_respect_binders() -> None:
    assert free_vars(Int(pi(a, st) * x, a)) == {st, x}
    assert free_vars(MaxOver(pi(a, st), a)) == {st}


def test_density_sums_to_one() -> None:
    inst = Instance(scope(), random.Random(3))
    assert inst.evaluate(Int(pi(a, st), a)) == 1


def test_mean_zero_and_expectation_linearity() -> None:
    inst = Instance(scope(), random.Random(4))
    assert inst.evaluate(E(g)) == 0
    assert inst.evaluate(E(g * R + 3 * R)) == inst.evaluate(E(g * R)) + 3 * inst.evaluate(E(R))


def test_abstract_detection() -> None:
    sc = scope()
    assert is_abstract(E(g), sc) and is_abstract(n * x, sc) and not is_abstract(sp.sin(x), sc)


def test_counted_operations_match_the_cost_model() -> None:
    for nn, dd in ((1, 1), (2, 3), (3, 2)):
        counter = OpCounter()
        ones = [[1] * dd for _ in range(nn)]
        counter.run(matmul(softmax_rows(scale(matmul(Q, T(K)), x)), V), {Q: ones, K: ones, V: ones})
        assert counter.count == nn**2 * (2 * dd - 1) + nn**2 + nn * (3 * nn - 1) + nn * dd * (2 * nn - 1)


def test_cost_on_an_instance_uses_its_sizes() -> None:
    inst = Instance(scope(), random.Random(5))
    value = inst.evaluate(cost(matmul(Q, T(K))) - n**2 * (2 * d - 1))
    assert value == 0


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_rational_orthogonal_is_exactly_orthogonal(n: int) -> None:
    for seed in range(5):
        q = rational_orthogonal(n, random.Random(seed))
        assert q.T * q == sp.eye(n)
        assert all(isinstance(x, sp.Rational) for x in q)


def test_free_vars_of_a_sum_look_inside_binding_operators() -> None:
    k = sp.Symbol("k", integer=True)
    assert free_vars(sp.Sum(Int(pi(a, st) * x, a) * k, (k, 1, n))) == {st, x, n}


def test_indexed_symbol_with_a_space_takes_points() -> None:
    sc = scope()
    sc.indexed_space["xd"] = "S"
    xd, i = sp.IndexedBase("xd", real=True), sp.Symbol("i", integer=True)
    inst = Instance(sc, random.Random(5))
    assert all(inst.evaluate(xd[k]) in {0, 1, 2} for k in range(1, 9))
    # pi(a | xd[1]) is a density at a point of S, so it sums to one over a
    assert inst.evaluate(sp.Sum(Int(pi(a, xd[i]), a), (i, 1, 3))) == 3


def test_unknown_function_of_a_real_argument_is_a_polynomial() -> None:
    sc = scope()
    ell, v = sp.Function("ell", real=True), sp.Symbol("v", real=True)
    sc.functions["ell"] = FunctionInfo("ell", ("R",), 0, False)
    inst = Instance(sc, random.Random(6))
    p = inst.evaluate(ell(x))
    assert sp.Poly(p, x).degree() <= 3 and inst.evaluate(ell(2 * x)) == p.subs(x, 2 * x)
    assert inst.evaluate(sp.Subs(sp.Derivative(ell(v), v), v, x + 1)) == sp.diff(p, x).subs(x, x + 1)
    assert "ell(u) = " in inst.describe(set())
