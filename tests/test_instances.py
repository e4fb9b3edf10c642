"""Random exact instances: tables, densities, expectations, finite integrals, op counts."""

from __future__ import annotations

import random
from typing import Any

import pytest

import sympy as sp

from derive.instances import Instance, OpCounter, free_vars, is_abstract, rational_orthogonal
from derive.ops import ArgMaxOver, E, Int, MaxOver, T, cost, matmul, min_cost, scale, softmax_rows
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


def test_free_vars_of_sympy_binders_respect_our_binders_inside() -> None:
    """A Product whose factor holds Int(..., a) does not have a free."""
    k = sp.Symbol("k", integer=True, positive=True)
    assert free_vars(sp.Product(Int(pi(a, st), a) * x, (k, 1, n))) == {st, x, n}


def test_max_over_several_variables_is_the_max_over_the_product_space() -> None:
    sc = scope()
    r = sp.Function("r", real=True)
    sc.functions["r"] = FunctionInfo("r", ("S", "A"), 0, False)
    inst = Instance(sc, random.Random(5))
    table = [inst.evaluate(r(sp.Integer(i), sp.Integer(j))) for i in range(3) for j in range(2)]
    assert inst.evaluate(MaxOver(sp.Abs(r(st, a)), st, a)) == max(abs(v) for v in table)


def test_whole_number_parameters_cycle_with_the_trial() -> None:
    values = {int(Instance(scope(), random.Random(0), trial=t).evaluate(n)) for t in range(3)}
    assert values == {1, 2, 3}


def test_indexed_symbol_with_a_space_takes_points_of_it() -> None:
    sc = scope()
    b = sp.IndexedBase("b", real=True)
    sc.indexed_space["b"] = "S"
    inst = Instance(sc, random.Random(6))
    assert all(inst.evaluate(b[i]) in (0, 1, 2) for i in range(1, 8))

def test_indexed_tables_keep_declared_signs() -> None:
    """A nonnegative (positive) indexed symbol gets nonnegative (positive) table values."""
    sc = Scope()
    g, h = sp.IndexedBase("G", nonnegative=True), sp.IndexedBase("H", positive=True)
    for seed in range(20):
        inst = Instance(sc, random.Random(seed))
        assert all(inst.evaluate(g[k]) >= 0 and inst.evaluate(h[k]) > 0 for k in range(1, 5))

def matrix_scope() -> Scope:
    """P = U S R^T (compact SVD, U and R with orthonormal columns), P = X Y^T, R^T R = I."""
    from derive.scope import Rewrite

    k = sp.Symbol("k", integer=True, positive=True)
    U, S, R, X, Y, I, P = sp.symbols("U S R X Y I P")
    sc = Scope()
    sc.shapes.update({U: (n, k), S: (k, k), R: (n, k), X: (n, d), Y: (n, d), I: (k, k), P: (n, n)})
    sc.structure.update({U: "orthonormal_columns", S: "positive_diagonal", R: "orthonormal_columns",
                         I: "identity"})
    sc.hypotheses["svd"] = Rewrite("svd", (), matmul(matmul(U, S), T(R)), lhs=P)
    sc.hypotheses["split"] = Rewrite("split", (), P, lhs=matmul(X, T(Y)))
    sc.hypotheses["orth"] = Rewrite("orth", (), I, lhs=matmul(T(R), R))
    return sc


def test_matrix_values_honour_structures_and_hypotheses() -> None:
    sc = matrix_scope()
    k = sp.Symbol("k", integer=True, positive=True)
    U, S, R, X, Y, P = sp.symbols("U S R X Y P")
    for seed in range(4):
        inst = Instance(sc, random.Random(seed), assume=(sp.Le(k, d),))
        p = inst.matrix_value(P)
        assert inst.values[k] <= inst.values[d] and inst.values[k] <= inst.values[n]
        assert p == inst.matrix_value(matmul(matmul(U, S), T(R))) == inst.matrix_value(matmul(X, T(Y)))
        assert p.rank() == inst.values[k]
        assert inst.matrix_value(2 * matmul(T(R), R) - scale(matmul(T(R), R), 1)) == sp.eye(int(inst.values[k]))
    with pytest.raises(ValueError, match="shapes do not match"):
        Instance(sc, random.Random(0), assume=(sp.Le(k, d),)).matrix_value(matmul(U, R))


def test_unsatisfiable_hypothesis_is_reported() -> None:
    from derive.scope import Rewrite

    sc = matrix_scope()
    R, I = sp.symbols("R I")
    sc.structure.pop(R)  # R^T R = I no longer holds for a random R
    with pytest.raises(ValueError, match="does not satisfy hypothesis orth"):
        k = sp.Symbol("k", integer=True, positive=True)
        Instance(sc, random.Random(0), assume=(sp.Le(k, d),)).matrix_value(I)
    assert isinstance(sc.hypotheses["orth"], Rewrite)


def test_min_cost_is_the_least_count_over_all_orders() -> None:
    k = sp.Symbol("k", integer=True, positive=True)
    U, S, R, X = sp.symbols("U S R X")
    sc = matrix_scope()
    inst = Instance(sc, random.Random(5))
    chain = matmul(matmul(matmul(U, S), T(R)), X)
    best = inst.evaluate(min_cost(chain))
    nn, kk, dd = (int(inst.values[s]) for s in (n, k, d))
    counts = [kk * dd * (2 * nn - 1) + kk * dd * (2 * kk - 1) + nn * dd * (2 * kk - 1),
              nn * kk * (2 * kk - 1) + nn * nn * (2 * kk - 1) + nn * dd * (2 * nn - 1)]
    assert best <= min(counts) and best == min(inst.evaluate(cost(o)) for o in (
        matmul(U, matmul(S, matmul(T(R), X))), matmul(matmul(U, S), matmul(T(R), X)),
        matmul(matmul(U, matmul(S, T(R))), X), matmul(U, matmul(matmul(S, T(R)), X)), chain))

def test_whole_numbers_satisfy_the_chains_assumptions() -> None:
    k = sp.Symbol("k", integer=True, positive=True)
    for seed in range(20):
        inst = Instance(scope(), random.Random(seed), assume=(sp.LessThan(k, d),))
        inst.evaluate(k + d)
        assert inst.values[k] <= inst.values[d]


def test_unknown_function_on_the_reals_is_a_random_polynomial() -> None:
    """A cubic plus an exponential, the same at every argument; derivatives carried out."""
    f = sp.Function("f", real=True)
    sc = scope()
    sc.functions["f"] = FunctionInfo("f", ("R",), 0, False)
    inst = Instance(sc, random.Random(6))
    value = inst.evaluate(sp.Derivative(f(x), x) + f(2))
    poly = inst.polynomials["f"]
    assert value == sp.diff(poly(x), x) + poly(2)
    wave = [t for t in sp.Add.make_args(poly(x)) if t.has(sp.exp)]
    assert len(wave) == 1 and sp.Poly(poly(x) - wave[0], x).degree() <= 3
    assert sp.diff(poly(x), x, 4) != 0
    assert inst.describe(set()).startswith("f(u1) = ")


def test_carried_out_sums_are_remembered() -> None:
    from derive.instances import carried_out

    k = sp.Symbol("k", integer=True, positive=True)
    series = sp.Sum(sp.Rational(1, 2)**k, (k, 1, sp.oo))
    assert carried_out(series) == 1
    assert carried_out.cache_info().hits + carried_out.cache_info().misses >= 1
    assert carried_out(series) is carried_out(series)

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
    assert p.has(sp.exp) and inst.evaluate(ell(2 * x)) == p.subs(x, 2 * x)
    assert inst.evaluate(sp.Subs(sp.Derivative(ell(v), v), v, x + 1)) == sp.diff(p, x).subs(x, x + 1)
    assert "ell(u1) = " in inst.describe(set())


def test_equality_case_makes_random_variables_uncorrelated() -> None:
    """In an equality case each random variable is uncorrelated with those drawn before it
    (exactly), its mean kept; an ordinary instance leaves them correlated."""
    cov = E(g * R) - E(g) * E(R)
    assert Instance(scope(), random.Random(5)).evaluate(cov) != 0
    for seed in range(4):
        plain, equal = Instance(scope(), random.Random(seed)), Instance(scope(), random.Random(seed), equal=1)
        assert equal.evaluate(cov) == 0
        assert equal.evaluate(E(g)) == 0
        assert equal.evaluate(E(R)) == plain.evaluate(E(R))

def _table_scope() -> tuple[Scope, Any]:
    sc = scope()
    f = sp.Function("f", real=True)
    sc.functions["f"] = FunctionInfo("f", ("S", "A"), 0, False)
    return sc, f


def test_a_maximum_inside_a_binder_is_taken_at_each_point_of_it() -> None:
    """ArgMaxOver(f(st, a), a) inside MaxOver(..., st): the inner arg max is found at every st,
    not at one point drawn for the bound st."""
    sc, f = _table_scope()
    for seed in range(20):
        inst = Instance(sc, random.Random(seed))
        inner = [inst.evaluate(ArgMaxOver(f(sp.Integer(i), a), a)) for i in range(3)]
        if len(set(inner)) > 1:
            break
    assert len(set(inner)) > 1  # the arg max differs between states: the test discriminates
    assert inst.evaluate(MaxOver(ArgMaxOver(f(st, a), a), st)) == max(inner)
    assert inst.evaluate(MaxOver(-ArgMaxOver(f(st, a), a), st)) == -min(inner)


def test_both_sides_share_the_real_values_a_maximum_fixes() -> None:
    """A maximum of an expression in a real symbol fixes that symbol; the other side, evaluated
    first, takes the same value."""
    sc, f = _table_scope()
    gamma = sp.Symbol("gamma", nonnegative=True)
    inst = Instance(sc, random.Random(1))
    x, y = inst.evaluate_pair(gamma * f(st, 0), MaxOver(gamma * f(st, a), a))
    assert not x.free_symbols and not y.free_symbols
    assert x <= y
    assert x == inst.values[gamma] * inst.evaluate(f(st, 0))


@pytest.mark.parametrize("case, sign, shared", [(1, 1, False), (2, -1, True)])
def test_equality_case_constants_are_positive_then_one_negative(case: int, sign: int, shared: bool) -> None:
    """Case 1: each free table its own positive constant; case 2: one negative constant for all."""
    sc, f = _table_scope()
    h = sp.Function("h", real=True)
    sc.functions["h"] = FunctionInfo("h", ("S", "A"), 0, False)
    same = []
    for seed in range(10):
        inst = Instance(sc, random.Random(seed), equal=case)
        values = {inst.evaluate(f(sp.Integer(i), sp.Integer(j))) for i in range(3) for j in range(2)}
        others = {inst.evaluate(h(sp.Integer(i), sp.Integer(j))) for i in range(3) for j in range(2)}
        assert len(values) == len(others) == 1 and sp.sign(next(iter(values))) == sign
        same.append(values == others)
    assert all(same) if shared else not all(same)


def test_gaussian_integrals_are_closed_form_before_sympy_integrates(monkeypatch: pytest.MonkeyPatch) -> None:
    """d/dmu of a Gaussian integral of an unknown function, and a sum of such integrals, are
    evaluated on an instance by the closed-form rule alone: SymPy's integrator is never
    called (it took seconds an instance), and the value is the exact one."""
    mu, e = sp.Symbol("mu", real=True), sp.Symbol("e", real=True)
    j = sp.Symbol("j", integer=True, positive=True)
    ell = sp.Function("ell", real=True)
    sc = Scope()
    sc.functions["ell"] = FunctionInfo("ell", ("R",), 0, False)
    phi = sp.exp(-e ** 2 / 2) / sp.sqrt(2 * sp.pi)
    integral = sp.Integral(ell(e + mu) * phi, (e, -sp.oo, sp.oo))
    inst = Instance(sc, random.Random(7))
    poly = inst.evaluate(ell(mu))  # the instance's polynomial for ell
    expected = sp.integrate(sp.diff(poly.subs(mu, e + mu), mu) * phi, (e, -sp.oo, sp.oo))
    monkeypatch.setattr(sp.Integral, "doit", lambda self, **hints: pytest.fail(f"integrated {self}"))
    got = inst.evaluate(sp.Derivative(integral, mu))
    monkeypatch.undo()
    assert not got.has(sp.Integral) and sp.simplify(got - expected) == 0
    monkeypatch.setattr(sp.Integral, "doit", lambda self, **hints: pytest.fail(f"integrated {self}"))
    assert sp.expand(inst.evaluate(sp.Sum(integral, (j, 1, 3)))) == sp.expand(3 * inst.evaluate(integral))
