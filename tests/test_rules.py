"""Each rule of the registry performs exactly its stated rewrite."""

from __future__ import annotations


import pytest
import sympy as sp

from derive.engine import RuleContext
from derive.ops import E, Int, T, Theta, Var, cost, matmul, min_cost, scale, softmax_rows
from derive.rules import REGISTRY, RuleError
from derive.scope import Rewrite, Scope

x, b, s = sp.symbols("x b s", real=True)
n, d = sp.symbols("n d", integer=True, positive=True)
g, R = sp.symbols("g R", real=True)
Q, K, V = sp.symbols("Q K V")
f = sp.Function("f", real=True)


def ctx() -> RuleContext:
    sc = Scope()
    sc.random |= {g, R}
    sc.shapes.update({Q: (n, d), K: (n, d), V: (n, d)})
    u = sp.Symbol("u", real=True)
    sc.definitions["f"] = Rewrite("f", (u,), u**2 + 1)
    sc.hypotheses["h"] = Rewrite("h", (), 2 * x, lhs=b)
    sc.hypotheses["bound"] = Rewrite("bound", (), 2 * x, "<=", lhs=b)
    return RuleContext(sc, ())


def apply(rule: str, expr, **args):
    return REGISTRY[rule].apply(expr, args, ctx())


def test_registry_names() -> None:
    assert sorted(REGISTRY) == [
        "asymptotic_class", "binomial_sums", "cancel", "cheapest_order", "collect", "complete_square",
        "complete_square_matrix", "contradiction", "count_ops", "decide_pieces", "differentiate", "evaluate_sums",
        "expand", "expand_log", "factor", "gaussian_moments", "induction", "integrate", "integrate_piecewise",
        "limit", "linearity", "scaled_identity", "shift_index", "simplify", "solve", "split_last", "split_sums",
        "substitute", "telescope", "together", "unfold", "use", "variance"]
    assert all(r.statement for r in REGISTRY.values())


def test_unfold_and_use() -> None:
    assert apply("unfold", f(x) + f(b), name="f") == x**2 + b**2 + 2
    assert apply("use", b * x, name="h") == 2 * x**2
    with pytest.raises(RuleError, match="does not occur"):
        apply("use", x, name="h")


def test_complete_square() -> None:
    out = apply("complete_square", s * (1 - s), var=s)
    assert sp.srepr(out) == sp.srepr(sp.Add(sp.Rational(1, 4), sp.Mul(-1, sp.Pow(sp.Add(s, -sp.Rational(1, 2),
                                     evaluate=False), 2, evaluate=False), evaluate=False), evaluate=False))
    with pytest.raises(RuleError, match="not a quadratic in s"):
        apply("complete_square", s**3, var=s)


def test_solve_and_its_claim() -> None:
    assert apply("solve", b, equation=2 * b * E(g**2) - 2 * E(g**2 * R), **{"for": b}) == E(g**2 * R) / E(g**2)
    lhs, rel, rhs = REGISTRY["solve"].claim(b, "=", sp.Integer(3), {"equation": b - 3, "for": b}, ctx())
    assert (lhs, rel, rhs) == (sp.Integer(0), "=", sp.Integer(0))


def test_calculus_rules() -> None:
    assert apply("differentiate", sp.Derivative(x**3, x)) == 3 * x**2
    assert apply("integrate", sp.Integral(x, (x, 0, 1))) == sp.Rational(1, 2)
    assert apply("limit", sp.Limit((n**2 + n) / n**2, n, sp.oo)) == 1
    assert apply("asymptotic_class", Theta(3 * n**2 + n, n)) == Theta(n**2, n)


def test_gaussian_moments() -> None:
    m, v = sp.symbols("m v", positive=True)
    q = sp.Function("q")
    z = sp.Symbol("z", real=True)
    out = apply("gaussian_moments", sp.Integral((z - m) ** 2 * q(z), (z, -sp.oo, sp.oo)) + sp.Integral(q(z), (z, -sp.oo, sp.oo)),
                density="q", mean=m, variance=v)
    assert out == v + 1


def test_probability_rules() -> None:
    assert apply("variance", Var(g * R)) == E(g**2 * R**2) - E(g * R) ** 2
    assert apply("linearity", E(g * (R - b))) == E(g * R) - b * E(g)
    a = sp.Symbol("a")
    assert apply("linearity", Int(f(a) * (x + 2), a)) == x * Int(f(a), a) + 2 * Int(f(a), a)


def test_count_ops() -> None:
    expr = cost(matmul(softmax_rows(scale(matmul(Q, T(K)), 1 / sp.sqrt(d))), V))
    out = apply("count_ops", expr)
    assert sp.expand(out - (n**2 * (2 * d - 1) + n**2 + n * (3 * n - 1) + n * d * (2 * n - 1))) == 0
    with pytest.raises(RuleError, match="no cost"):
        apply("count_ops", x)


def test_use_refuses_an_inequality_hypothesis() -> None:
    """b <= 2x does not allow rewriting b as 2x."""
    with pytest.raises(RuleError, match="inequality"):
        apply("use", b * x, name="bound")

def svd_ctx(assume: str) -> RuleContext:
    """U (n x k), S (k x k), R (n x k), V (n x d), C := T(R); the chain assumes `assume`."""
    from derive.exprs import parse_relations

    sc = Scope()
    k = sp.Symbol("k", integer=True, positive=True)
    U, S, Rm, C = sp.symbols("U S Rm C")
    sc.shapes.update({U: (n, k), S: (k, k), Rm: (n, k), V: (n, d)})
    sc.definitions["C"] = Rewrite("C", (), T(Rm), lhs=C)
    for name, sym in {"n": n, "d": d, "k": k, "U": U, "S": S, "Rm": Rm, "V": V, "C": C}.items():
        sc.ns.symbols[name] = sym
    return RuleContext(sc, tuple(parse_relations(assume, sc.ns)) if assume else ())


def test_cheapest_order_is_certified_against_every_order() -> None:
    """Under k <= d <= n the engine picks U (S (R^T V)); with no assumption on d and n no
    order is cheapest for all sizes and the rule says so, listing every count."""
    U, S, C = sp.symbols("U S C")
    chain = min_cost(matmul(matmul(matmul(U, S), C), V))
    out = REGISTRY["cheapest_order"].apply(chain, {}, svd_ctx("k <= d <= n"))
    assert out == cost(matmul(U, matmul(S, matmul(C, V))))
    with pytest.raises(RuleError, match="no order is certified cheapest"):
        REGISTRY["cheapest_order"].apply(chain, {}, svd_ctx(""))
    with pytest.raises(RuleError, match="no min_cost"):
        REGISTRY["cheapest_order"].apply(x, {}, svd_ctx(""))


def test_count_ops_unfolds_definitions() -> None:
    """C := R^T costs what R^T costs: nothing; the product C V then costs k d (2n - 1)."""
    C = sp.Symbol("C")
    k = sp.Symbol("k", integer=True, positive=True)
    out = REGISTRY["count_ops"].apply(cost(matmul(C, V)), {}, svd_ctx(""))
    assert sp.expand(out - k * d * (2 * n - 1)) == 0

def test_evaluate_sums_decides_convergence_by_the_assumptions() -> None:
    lam = sp.Symbol("lam", positive=True)
    series = sp.Sum(lam * (1 - lam)**(n - 1) * n, (n, 1, sp.oo))
    unit = (sp.StrictLessThan(0, lam, evaluate=False), sp.StrictLessThan(lam, 1))
    assert REGISTRY["evaluate_sums"].apply(series, {}, RuleContext(Scope(), unit)) == 1 / lam
    with pytest.raises(RuleError, match="the assumptions do not decide"):
        apply("evaluate_sums", series)
    with pytest.raises(RuleError, match="no sum"):
        apply("evaluate_sums", x)


def test_evaluate_sums_decides_an_index_range() -> None:
    e, v = sp.IndexedBase("e", real=True), sp.IndexedBase("v", real=True)
    j, k = sp.symbols("j k", integer=True, positive=True)
    grad = sp.Derivative(sp.Sum((v[j] - e[j])**2, (j, 1, d)), e[k]).doit()
    inside = (sp.LessThan(k, d),)
    assert REGISTRY["evaluate_sums"].apply(grad, {}, RuleContext(Scope(), inside)) == 2 * e[k] - 2 * v[k]


def test_limit_rule_uses_the_chains_assumptions() -> None:
    """lim (1 - s)^n needs 0 < s < 1: with it the rule gives 0, without it the rule refuses."""
    node = sp.Limit(1 - (1 - s)**n, n, sp.oo)
    inside = RuleContext(Scope(), (sp.Lt(0, s), sp.Lt(s, 1)))
    assert REGISTRY["limit"].apply(node, {}, inside) == 1
    with pytest.raises(RuleError, match="could not evaluate the limit"):
        apply("limit", node)
