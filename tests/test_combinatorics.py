"""Binomial coefficients decided by the assumptions, the rule binomial_sums, and the checks
of steps with binomial coefficients, floor and ceiling: true steps proved or covered on the
instances the verdict names, wrong ones rejected with a counterexample."""

from __future__ import annotations

import pytest
import sympy as sp

from derive.engine import RuleContext
from derive.exprs import Namespace, parse, parse_relations
from derive.model import Verdict
from derive.rules import REGISTRY, RuleError
from derive.rules.combinatorics import vanishing_binomials
from derive.scope import Scope
from derive.verify import Context, StepRejected, check

SC = Scope()
for _name, _flags in {"n": {"integer": True, "positive": True}, "m": {"integer": True, "positive": True},
                      "j": {"integer": True, "nonnegative": True}, "z": {"integer": True},
                      "c": {"real": True}}.items():
    SC.ns.symbols[_name] = sp.Symbol(_name, **_flags)
n, m, j, z, c = (SC.ns.symbols[k] for k in "nmjzc")
NS: Namespace = SC.ns


def rels(text: str) -> tuple:
    return tuple(parse_relations(text, NS))


def verdict(lhs: str, rel: str, rhs: str, assume: str = "") -> Verdict:
    return check(parse(lhs, NS), rel, parse(rhs, NS), Context(SC, rels(assume) if assume else (), seed=7))


def rejected(lhs: str, rel: str, rhs: str, assume: str = "") -> StepRejected:
    with pytest.raises(StepRejected) as info:
        verdict(lhs, rel, rhs, assume)
    return info.value


def row_sums(text: str, assume: str = "") -> sp.Expr:
    return REGISTRY["binomial_sums"].apply(parse(text, NS), {}, RuleContext(SC, rels(assume) if assume else ()))


def test_binomials_vanish_where_the_assumptions_say_so() -> None:
    ctx = Context(SC, rels("n <= m"))
    assert vanishing_binomials(sp.binomial(n, m + 1) * c + 1, ctx) == 1
    assert vanishing_binomials(sp.binomial(n, -1 - j), ctx) == 0
    kept = sp.binomial(n, m)  # m >= n only: binomial(n, m) is 1 at m = n
    assert vanishing_binomials(kept, ctx) == kept
    assert vanishing_binomials(sp.binomial(n, m + 1), Context(SC, ())) == sp.binomial(n, m + 1)
    negative_row = sp.binomial(z, z + 1)  # z may be negative: binomial(-1, 0) = 1, not 0
    assert vanishing_binomials(negative_row, ctx) == negative_row


def test_a_whole_row_sums_to_a_power_of_two() -> None:
    assert row_sums("Sum(binomial(n, j), (j, 0, n))") == 2**n
    assert row_sums("Sum(binomial(n, j), (j, 0, m))", "n <= m") == 2**n
    assert row_sums("3*Sum(binomial(n, j), (j, 0, m + 2))", "n <= m") == 3 * 2**n


def test_a_row_sum_to_a_number_is_written_out() -> None:
    assert sp.expand(row_sums("Sum(binomial(n, j), (j, 0, 2))") - (1 + n + n * (n - 1) / 2)) == 0
    assert row_sums("Sum(binomial(5, j), (j, 0, 2))") == 16
    assert row_sums("Sum(binomial(3, j), (j, 0, 3))") == 8


def test_binomial_sums_refuses_what_it_cannot_decide() -> None:
    with pytest.raises(RuleError, match=r"do not decide m >= n .*add it under assume"):
        row_sums("Sum(binomial(n, j), (j, 0, m))")
    with pytest.raises(RuleError, match="partial row sum"):
        row_sums("Sum(binomial(n, j), (j, 0, m))", "m < n")
    with pytest.raises(RuleError, match="no sum Sum"):
        row_sums("Sum(j, (j, 0, m))")
    with pytest.raises(RuleError, match="must be whole numbers"):
        row_sums("Sum(binomial(z, j), (j, 0, m))")


def test_the_row_sum_is_proved_under_its_assumption() -> None:
    assert verdict("Sum(binomial(n, j), (j, 0, m))", "=", "2**n", "n <= m").method == "symbolic"
    assert verdict("Sum(binomial(n, j), (j, 0, n))", "=", "2**n").method == "symbolic"
    assert verdict("Sum(binomial(n, j), (j, 0, m))", "<=", "2**n").method in ("symbolic", "instance")


@pytest.mark.parametrize("lhs, rel, rhs, assume, why", [
    ("Sum(binomial(n, j), (j, 0, m))", "=", "2**n", "", "D > D_i: a partial row"),
    ("Sum(binomial(n, j), (j, 0, m))", "=", "2**n", "m < n", "the case excluded"),
    ("Sum(binomial(n, j), (j, 0, m))", "=", "2**(n + 1)", "n <= m", "wrong exponent"),
    ("Sum(binomial(n, j), (j, 0, m))", "=", "2**n + 1", "n <= m", "changed constant"),
    ("Sum(binomial(n, j), (j, 0, m))", "<", "2**n", "n <= m", "strict for non-strict"),
    ("Sum(binomial(n, j), (j, 1, m))", "=", "2**n", "n <= m", "wrong bound"),
    ("Sum(binomial(j, n), (j, 0, m))", "=", "2**n", "n <= m", "swapped arguments"),
    ("Sum(binomial(n, j), (j, 0, 2))", "=", "1 + n + n*(n + 1)/2", "", "flipped sign"),
    ("binomial(n, 2)", "=", "n*(n - 1)", "", "dropped factor 1/2"),
])
def test_wrong_binomial_steps_are_rejected(lhs: str, rel: str, rhs: str, assume: str, why: str) -> None:
    err = rejected(lhs, rel, rhs, assume)
    assert err.counterexample, why


def test_floor_and_ceiling_on_instances() -> None:
    assert verdict("floor(13/2)", "=", "6").method == "symbolic"
    assert verdict("floor((13 - 3)/2) + 1", "=", "ceiling(11/2)").method == "symbolic"
    good = verdict("floor((n - 3)/2) + 1", "=", "floor((n - 1)/2)")
    assert good.method in ("symbolic", "instance")
    assert verdict("ceiling(n/2)", "=", "floor((n + 1)/2)").method in ("symbolic", "instance")


@pytest.mark.parametrize("lhs, rhs", [
    ("floor(13/2)", "7"),
    ("floor((n - 3)/2) + 1", "ceiling((n - 1)/2)"),
    ("ceiling(n/2)", "floor(n/2)"),
    ("floor(n/2) + ceiling(n/2)", "n + 1"),
])
def test_wrong_floor_steps_are_rejected(lhs: str, rhs: str) -> None:
    assert rejected(lhs, "=", rhs).counterexample


@pytest.mark.parametrize("lhs, rel, rhs", [
    ("floor(c)", "<=", "c"),
    ("floor(c)", ">", "c - 1"),
    ("ceiling(c)", ">=", "c"),
    ("ceiling(c)", "<", "c + 1"),
    ("floor(n/2)", "<=", "n/2"),
    ("floor(floor(c)/2)", "<=", "c/2"),
])
def test_floor_and_ceiling_bounds_are_proved(lhs: str, rel: str, rhs: str) -> None:
    v = verdict(lhs, rel, rhs)
    assert (v.method, v.detail.startswith("the difference is")) == ("symbolic", True)


@pytest.mark.parametrize("lhs, rel, rhs, why", [
    ("floor(c)", "<", "c", "strict for non-strict: equal at whole numbers"),
    ("ceiling(c)", ">", "c", "strict for non-strict: equal at whole numbers"),
    ("floor(c)", ">", "c - 1/2", "wrong bound"),
    ("floor(n/2)", "<", "n/2", "strict for non-strict: equal at even n"),
    ("ceiling(c)", "<=", "c", "flipped direction"),
])
def test_wrong_floor_bounds_are_rejected(lhs: str, rel: str, rhs: str, why: str) -> None:
    assert rejected(lhs, rel, rhs).counterexample, why
