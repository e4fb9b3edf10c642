"""The verifier accepts true steps with the right method and rejects wrong ones with a
counterexample: changed coefficient, flipped sign, dropped term, reversed inequality."""

from __future__ import annotations

import pytest
import sympy as sp

from derive.exprs import parse, parse_relations
from derive.model import Verdict
from derive.ops import Int
from derive.scope import FunctionInfo, Rewrite, Scope
from derive.verify import Context, StepRejected, check


def scope() -> Scope:
    """A scope with real x, s in (0, 1) by assumption, integers n, k, random g (mean 0) and R,
    finite spaces S, A, a density pi(a | s), a table r(s, a), and sigma(u) = 1/(1 + exp(-u))."""
    sc = Scope(spaces={"S": 3, "A": 2})
    for name, flags in {"x": {"real": True}, "u": {"real": True}, "s": {"real": True}, "b": {"real": True},
                        "n": {"integer": True, "positive": True}, "k": {"integer": True, "positive": True},
                        "g": {"real": True}, "R": {"real": True},
                        "st": {"real": True}, "a": {"real": True}, "gamma": {"positive": True}}.items():
        sc.ns.symbols[name] = sp.Symbol(name, **flags)
    sy = sc.ns.symbols
    sc.symbol_space.update({sy["st"]: "S", sy["a"]: "A"})
    sc.random |= {sy["g"], sy["R"]}
    sc.mean_zero.add(sy["g"])
    for name, arity in (("pi", 2), ("r", 2), ("sigma", 1)):
        sc.ns.functions[name] = (sp.Function(name, real=True), arity)
    sc.functions["pi"] = FunctionInfo("pi", ("A", "S"), 1, True)
    sc.functions["r"] = FunctionInfo("r", ("S", "A"), 0, False)
    sc.definitions["sigma"] = Rewrite("sigma", (sy["u"],), 1 / (1 + sp.exp(-sy["u"])))
    return sc


SC = scope()
IN_UNIT = tuple(parse_relations("0 < s < 1", SC.ns))


def verdict(lhs: str, rel: str, rhs: str, assume: tuple = ()) -> Verdict:
    return check(parse(lhs, SC.ns), rel, parse(rhs, SC.ns), Context(SC, assume, seed=7))


def rejected(lhs: str, rel: str, rhs: str, assume: tuple = ()) -> StepRejected:
    with pytest.raises(StepRejected) as info:
        verdict(lhs, rel, rhs, assume)
    assert info.value.counterexample  # a counterexample is always given
    return info.value


def test_identity_is_symbolic() -> None:
    assert verdict("Derivative(sigma(u), u)", "=", "sigma(u)*(1 - sigma(u))") == \
        Verdict("symbolic", "difference simplifies to 0")


def test_completed_square_is_symbolic() -> None:
    assert verdict("s*(1 - s)", "=", "1/4 - (s - 1/2)**2").method == "symbolic"


def test_bound_under_assumptions_is_certified() -> None:
    assert verdict("s*(1 - s)", "<=", "1/4", IN_UNIT) == \
        Verdict("symbolic", "the difference is non-negative (sign certificate)")
    assert verdict("s*(1 - s)", ">", "0", IN_UNIT) == \
        Verdict("symbolic", "the difference is positive (sign certificate)")


def test_changed_coefficient_is_rejected() -> None:
    err = rejected("Derivative(sigma(u), u)", "=", "sigma(u)*(2 - sigma(u))")
    assert err.message == "false at a random point"
    assert err.counterexample.startswith("u = ")
    assert "left = " in err.counterexample and "right = " in err.counterexample


def test_flipped_sign_is_rejected() -> None:
    assert rejected("s*(1 - s)", "=", "1/4 + (s - 1/2)**2").message == "false at a random point"


def test_dropped_term_is_rejected() -> None:
    assert rejected("(x + 1)**2", "=", "x**2 + 2*x").message == "false at a random point"


def test_reversed_inequality_is_rejected() -> None:
    err = rejected("s*(1 - s)", ">=", "1/4", IN_UNIT)
    assert err.message == "false at a random point"
    assert err.counterexample.startswith("s = ")


def test_tighter_bound_is_rejected() -> None:
    rejected("s*(1 - s)", "<=", "1/5", IN_UNIT)


def test_identity_over_densities_holds_on_instances() -> None:
    v = verdict("Int(pi(a, st)*(r(st, a) + gamma), a)", "=", "Int(pi(a, st)*r(st, a), a) + gamma")
    assert v.method == "instance"
    assert v.detail.startswith("holds on 6 random exact instances")


def test_wrong_identity_over_densities_names_the_tables() -> None:
    err = rejected("Int(pi(a, st)*(r(st, a) + gamma), a)", "=", "Int(pi(a, st)*r(st, a), a) + 2*gamma")
    assert err.message == "false on a random exact instance"
    assert "pi(" in err.counterexample and "gamma = " in err.counterexample


def test_mean_zero_variable_on_instances() -> None:
    assert verdict("E(g*(R - b))", "=", "E(g*R)").method == "instance"
    rejected("E(g*(R - b))", "=", "E(g*R) - b")


def test_bound_that_holds_only_for_large_values_fails() -> None:
    """Instances come in several magnitudes: E[g^2] > 1 is not a theorem."""
    rejected("2*E(g**2)", ">", "1")
    assert verdict("2*E(g**2)", ">", "0").method == "instance"


def test_product_bound_factor_by_factor() -> None:
    v = verdict("Product(sigma(b*k)*(1 - sigma(b*k)), (k, 1, n))", "<=", "(1/4)**n")
    assert v == Verdict("symbolic", "factor by factor: 0 <= each factor <= its bound")
    rejected("Product(sigma(b*k)*(1 - sigma(b*k)), (k, 1, n))", "<=", "(1/5)**n")


def test_growth_class() -> None:
    assert verdict("Theta(3*n**2 + n, n)", "=", "Theta(n**2, n)").method == "symbolic"
    err = rejected("Theta(3*n**2 + n, n)", "=", "Theta(n**3, n)")
    assert err.message == "the growth classes differ"
    assert err.counterexample == "(3*n**2 + n)/(n**3) tends to 0 as n grows"


def test_hidden_dependency_of_recursive_definition() -> None:
    """h(n) with h(0) = x depends on x: d/dx h(n) <= 0 must not pass as 'derivative is 0'."""
    sc = scope()
    x, kk = sc.ns.symbols["x"], sp.Symbol("kk", integer=True)
    sc.ns.functions["h"] = (sp.Function("h", real=True), 1)
    sc.definitions["h"] = Rewrite("h", (kk,), sc.ns.functions["sigma"][0](sc.ns.functions["h"][0](kk - 1)),
                                  at=((0, x),))
    lhs = parse("Abs(Derivative(h(n), x))", sc.ns)
    with pytest.raises(StepRejected) as info:
        check(lhs, "<=", sp.Integer(0), Context(sc, seed=1))
    assert info.value.message == "false on a random exact instance"
    assert info.value.counterexample.startswith("n = ")
    assert check(lhs, ">=", sp.Integer(0), Context(sc, seed=1)).method == "symbolic"


def test_cited_hypothesis_is_applied() -> None:
    sc = scope()
    v, q = sp.Function("v", real=True), sp.Function("q", real=True)
    sc.ns.functions.update({"v": (v, 1), "q": (q, 2)})
    st, a = sc.ns.symbols["st"], sc.ns.symbols["a"]
    hyp = Rewrite("v_policy", (st,), Int(sc.ns.functions["pi"][0](a, st) * q(st, a), a), lhs=v(st), head="v")
    assert check(v(st), "=", hyp.body, Context(sc, cited=(hyp,))) == \
        Verdict("symbolic", "identical after unfolding definitions (using v_policy)")


def test_numeric_only_step_says_so() -> None:
    """A bound no certificate covers is checked at sample points and labelled numeric."""
    assert verdict("sin(x)", "<=", "1") == Verdict("numeric", "holds at 24 random points (not a proof)")
    err = rejected("sin(x)", "<=", "1/2")
    assert err.message == "false at a sample point"


def test_non_strict_bound_does_not_certify_a_strict_claim() -> None:
    """Under 0 <= s, s > 0 is false at s = 0: no certificate may claim it."""
    assume = tuple(parse_relations("0 <= s", SC.ns))
    with pytest.raises(StepRejected):
        verdict("s", ">", "0", assume)
    assert verdict("s", ">=", "0", assume).method == "symbolic"


def test_square_of_a_non_real_is_not_certified() -> None:
    """(i x)^2 = -x^2: an even power is non-negative only for a real base."""
    from derive.verify import sign_certificate

    assert not sign_certificate(sp.Pow(sp.I * sp.Symbol("y", positive=True), 2, evaluate=False), False,
                                Context(SC))


def test_hyperbolic_factor_is_certified_positive_and_a_product_of_them_at_most_one() -> None:
    z = sp.Function("z", real=True)
    k, n = SC.ns.symbols["k"], SC.ns.symbols["n"]
    assert check(1 - sp.tanh(z(k)) ** 2, ">", sp.Integer(0), Context(SC)).method == "symbolic"
    v = check(sp.Product(1 - sp.tanh(z(k)) ** 2, (k, 1, n)), "<=", sp.Integer(1), Context(SC))
    assert v.method == "symbolic" and "factor by factor" in v.detail
    with pytest.raises(StepRejected):  # 1 + tanh^2 is not at most 1
        check(sp.Product(1 + sp.tanh(z(k)) ** 2, (k, 1, n)), "<=", sp.Integer(1), Context(SC))


def test_derivative_at_a_point_of_a_recursive_definition() -> None:
    sc = scope()
    x, k, n = (sc.ns.symbols[s] for s in ("x", "k", "n"))
    g = sp.Function("g", real=True)
    sc.ns.functions["g"] = (g, 1)
    sc.definitions["g"] = Rewrite("g", (k,), sp.tanh(g(k - 1)), at=((0, x),))
    left = sp.Subs(sp.Derivative(g(n), x), x, 0)
    assert check(left, "=", sp.Integer(1), Context(sc)).method == "instance"
    with pytest.raises(StepRejected) as exc:
        check(left, "=", sp.Rational(1, 2), Context(sc))
    assert "n = " in exc.value.counterexample
