"""Limits that depend on a parameter's sign are taken under the chain's assumptions, and a
wrong value is still rejected."""

from __future__ import annotations

import pytest
import sympy as sp

from derive.scope import Scope
from derive.verify import Context, StepRejected, check
from derive.verify.assumed_limits import assumed_limit, assumed_limits

D = sp.Symbol("D", integer=True, positive=True)
s, w = sp.symbols("s w", real=True)
IN_UNIT = (sp.Lt(0, s), sp.Lt(s, 1))


def ctx(*assume) -> Context:
    return Context(Scope(), tuple(assume))


def test_geometric_power_under_the_assumed_range() -> None:
    assert assumed_limit(sp.Limit(1 - (1 - s)**D, D, sp.oo), ctx(*IN_UNIT)) == 1
    assert assumed_limit(sp.Limit(s**D, D, sp.oo), ctx(*IN_UNIT)) == 0
    assert assumed_limits(2 + sp.Limit((1 - s)**D, D, sp.oo), ctx(*IN_UNIT)) == 2


def test_without_a_deciding_assumption_the_limit_stays() -> None:
    node = sp.Limit((1 - s)**D, D, sp.oo)
    assert assumed_limit(node, ctx()) == node                      # no assumption at all
    assert assumed_limit(node, ctx(sp.Lt(0, s))) == node           # s > 0 alone does not decide
    assert assumed_limit(node, ctx(sp.Lt(0, s), sp.Lt(s, 2))) == node  # SymPy cannot take it: stays
    bounded_var = sp.Limit((1 - s)**D, D, sp.oo)
    assert assumed_limit(bounded_var, ctx(*IN_UNIT, sp.Lt(D, 5))) == bounded_var  # the variable is bounded


def test_value_depending_on_the_parameter_is_kept_symbolic_only_when_free_of_dummies() -> None:
    """lim (1 - s)^D + s is s: the parametrised value has the dummy in it, so it is not used."""
    node = sp.Limit((1 - s)**D + s, D, sp.oo)
    assert assumed_limit(node, ctx(*IN_UNIT)) == node


def test_verifier_proves_the_right_limit_and_rejects_wrong_ones() -> None:
    lim = sp.Limit(1 - (1 - s)**D, D, sp.oo)
    assert check(lim, "=", sp.Integer(1), ctx(*IN_UNIT)).method == "symbolic"
    for wrong in (sp.Integer(0), sp.Integer(2), -sp.Integer(1), 1 - s):
        with pytest.raises(StepRejected):
            check(lim, "=", wrong, ctx(*IN_UNIT))


def test_outside_the_decided_range_the_step_is_not_shown() -> None:
    """With only 0 < s < 2 SymPy cannot decide the limit: the step is undecided, never accepted."""
    with pytest.raises(StepRejected, match="undecided"):
        check(sp.Limit(1 - (1 - s)**D, D, sp.oo), "=", sp.Integer(1), ctx(sp.Lt(0, s), sp.Lt(s, 2)))
