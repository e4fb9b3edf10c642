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


def test_whole_numbers_satisfy_the_chains_assumptions() -> None:
    k = sp.Symbol("k", integer=True, positive=True)
    for seed in range(20):
        inst = Instance(scope(), random.Random(seed), assume=(sp.LessThan(k, d),))
        inst.evaluate(k + d)
        assert inst.values[k] <= inst.values[d]


def test_unknown_function_on_the_reals_is_a_random_polynomial() -> None:
    f = sp.Function("f", real=True)
    sc = scope()
    sc.functions["f"] = FunctionInfo("f", ("R",), 0, False)
    assert Instance(sc, random.Random(6)).evaluate(f(x)) == f(x)  # only when asked for
    inst = Instance(sc, random.Random(6), polynomials_on=True)
    value = inst.evaluate(sp.Derivative(f(x), x) + f(2))
    poly = inst.polynomials["f"]
    assert value == sp.diff(poly(x), x) + poly(2)
    assert sp.Poly(poly(x), x).degree() <= 3
    assert inst.describe(set()).startswith("f(u1) = ")


def test_carried_out_sums_are_remembered() -> None:
    from derive.instances import carried_out

    k = sp.Symbol("k", integer=True, positive=True)
    series = sp.Sum(sp.Rational(1, 2)**k, (k, 1, sp.oo))
    assert carried_out(series) == 1
    assert carried_out.cache_info().hits + carried_out.cache_info().misses >= 1
    assert carried_out(series) is carried_out(series)
