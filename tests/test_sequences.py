"""Sequence rules (derive/rules/sequences.py): index shifts, split-off end terms, telescoping,
linearity of sums and products, and the aligned normal form the symbolic check uses; wrong
steps about sums and products with symbolic bounds are rejected with a counterexample. Also
the bounds `lo < b[s] < hi` from a chain's assumptions on the entries of an indexed symbol."""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp

from derive.engine import derive_problem
from derive.errors import EngineError, VerificationError
from derive.instance_tables import entry_bounds
from tests.problem_files import verdicts, write_problem
from derive.rules.sequences import aligned, peeled, shifted, split_linear

s, t, a, i, j, tau, n = sp.symbols("s t a i j tau n", integer=True)
g = sp.Function("g")
beta, x, w = sp.IndexedBase("beta"), sp.IndexedBase("x"), sp.IndexedBase("w")

HEAD = """\
    id: "t"
    title: "t"
    statement: "s"
    symbols:
      t: positive integer
      s: positive integer
      i: integer
      j: integer
      tau: integer
      m: nonnegative integer
      c: real
      beta: {real: true, indexed: true}
      x: {real: true, indexed: true}
      w: {real: true, indexed: true}
    definitions:
      alpha: {args: [t], body: "Product(1 - beta[s], (s, 1, t))"}
      f: {args: [i], body: "Sum(w[j - i]*x[j], (j, i - m, i + m))"}
    solution:
      - chain:
          label: c
          assume: ASSUME
          start: "START"
          steps:
            - STEP
"""


ALIGNED = ("symbolic", "difference simplifies to 0 once its sums and products are re-indexed and written over "
                       "common ranges (end terms split off)")


# the normal form


def problem(tmp_path: Path, start: str, step: str, assume: str = '["0 < beta[s]", "beta[s] < 1"]') -> Path:
    return write_problem(tmp_path, HEAD, START=start, STEP=step, ASSUME=assume)

def test_telescoping_product_and_sum() -> None:
    assert aligned(sp.Product(g(s + 1) / g(s), (s, a, t))) == g(t + 1) / g(a)
    assert aligned(sp.Sum(g(s + 1) - g(s), (s, a, t))) == g(t + 1) - g(a)
    assert aligned(sp.Sum(1 / s - 1 / (s + 1), (s, 1, t))) == 1 - 1 / (t + 1)


def test_ratio_of_consecutive_products() -> None:
    p = lambda hi: sp.Product(1 - beta[s], (s, 1, hi))  # noqa: E731
    assert aligned(p(t) / p(t - 1)) == 1 - beta[t]
    assert aligned(p(t) / p(t - 2)) == (1 - beta[t]) * (1 - beta[t - 1])


def test_shifted_sums_are_written_over_one_range() -> None:
    left = sp.Sum(w[j - i] * x[j + tau], (j, i - a, i + t))
    right = sp.Sum(w[s - i - tau] * x[s], (s, i + tau - a, i + tau + t))
    assert aligned(left - right) == 0
    # one more term on the right: exactly that term is left over
    longer = sp.Sum(w[s - i - tau] * x[s], (s, i + tau - a, i + tau + t + 1))
    assert aligned(left - longer) == -w[t + 1] * x[i + t + tau + 1]


def test_peel_shift_and_linearity_are_identities() -> None:
    node = sp.Sum(g(s), (s, a, t))
    assert peeled(node, a + 1, t - 1) == g(a) + sp.Sum(g(s), (s, a + 1, t - 1)) + g(t)
    assert shifted(node, 2) == sp.Sum(g(s - 2), (s, a + 2, t + 2))
    assert split_linear(sp.Sum(3 * g(s) + 2, (s, 1, n))) == 3 * sp.Sum(g(s), (s, 1, n)) + 2 * n
    assert split_linear(sp.Product(2 * g(s) ** 2, (s, 1, n))) == 2 ** n * sp.Product(g(s), (s, 1, n)) ** 2
    # the identities hold on concrete (also empty and reversed) ranges
    for lo, hi in ((1, 4), (3, 2), (4, 1)):
        e = sp.Sum(s ** 2, (s, lo, hi))
        assert peeled(e, lo + 1, hi - 1).doit() == e.doit()
        assert shifted(e, 3).doit() == e.doit()


def test_different_summands_are_not_aligned() -> None:
    # g(s) and g(2 s) are no shift of one another: nothing cancels
    d = sp.Sum(g(s), (s, 1, t)) - sp.Sum(g(2 * s), (s, 1, t))
    assert aligned(d) == d
    # a free i in one summand is never captured by renaming the other's index i
    e = sp.Sum(x[j] * i, (j, 1, t)) - sp.Sum(x[i] * i, (i, 1, t))
    assert aligned(e) != 0


# steps

def test_ratio_by_split_last_is_proved(tmp_path: Path) -> None:
    path = problem(tmp_path, "sqrt(Product(1 - beta[s], (s, 1, t))/Product(1 - beta[s], (s, 1, t - 1)))",
                   '{by: split_last, at: t, to: "sqrt(1 - beta[t])"}')
    assert verdicts(path) == [ALIGNED]


@pytest.mark.parametrize("wrong", ["sqrt(1 - beta[t - 1])", "sqrt(1 + beta[t])", "1 - beta[t]",
                                   "sqrt((1 - beta[t])*(1 - beta[1]))"])
def test_wrong_ratio_is_rejected(tmp_path: Path, wrong: str) -> None:
    path = problem(tmp_path, "sqrt(alpha(t)/alpha(t - 1))", f'{{to: "{wrong}"}}')
    with pytest.raises(VerificationError, match="false on a random exact instance|counterexample"):
        derive_problem("s", path)


def test_recurrence_both_ways_is_proved(tmp_path: Path) -> None:
    path = problem(tmp_path, "alpha(t)", '{to: "(1 - beta[t])*alpha(t - 1)"}')
    assert verdicts(path) == [ALIGNED]
    path = problem(tmp_path, "1 - (1 - beta[t])*alpha(t - 1)", '{to: "1 - alpha(t)"}')
    assert verdicts(path) == [ALIGNED]


@pytest.mark.parametrize("wrong", ["(1 - beta[t - 1])*alpha(t - 1)", "(1 - beta[t])*alpha(t - 2)",
                                   "(1 + beta[t])*alpha(t - 1)", "alpha(t - 1)"])
def test_wrong_recurrence_is_rejected(tmp_path: Path, wrong: str) -> None:
    path = problem(tmp_path, "alpha(t)", f'{{to: "{wrong}"}}')
    with pytest.raises(VerificationError, match="counterexample: t = "):
        derive_problem("s", path)


def test_shift_index_and_equivariance(tmp_path: Path) -> None:
    start = "Sum(w[j - i]*x[j + tau], (j, i - m, i + m))"
    path = problem(tmp_path, start, '{by: shift_index, shift: tau, to: "Sum(w[j - i - tau]*x[j], (j, i + tau - m, '
                                    'i + tau + m))"}')
    assert verdicts(path) == [ALIGNED]
    path = problem(tmp_path, start, '{to: "f(i + tau)"}')
    assert verdicts(path)[0][0] == "symbolic"


@pytest.mark.parametrize("wrong", ["f(i + tau + 1)", "f(i - tau)", "Sum(w[j - i - tau]*x[j], (j, i + tau - m, i + tau + m + 1))",
                                   "Sum(w[j - i]*x[j], (j, i + tau - m, i + tau + m))"])
def test_wrong_shift_is_rejected(tmp_path: Path, wrong: str) -> None:
    path = problem(tmp_path, "Sum(w[j - i]*x[j + tau], (j, i - m, i + m))", f'{{to: "{wrong}"}}')
    with pytest.raises(VerificationError, match="counterexample"):
        derive_problem("s", path)


def test_telescope_and_split_sums_rules(tmp_path: Path) -> None:
    path = problem(tmp_path, "Product((1 - beta[s + 1])/(1 - beta[s]), (s, 1, t))",
                   '{by: telescope, to: "(1 - beta[t + 1])/(1 - beta[1])"}')
    assert verdicts(path) == [ALIGNED]
    path = problem(tmp_path, "Sum(c*x[s] + 2, (s, 1, t))", '{by: split_sums, to: "c*Sum(x[s], (s, 1, t)) + 2*t"}')
    assert verdicts(path)[0][0] == "symbolic"
    path = problem(tmp_path, "Sum(c*x[s] + 2, (s, 1, t))", '{by: split_sums, to: "c*Sum(x[s], (s, 1, t)) + 2*t + 2"}')
    with pytest.raises(VerificationError, match="rule 'split_sums' gives .* not the claimed .*\n  counterexample: t = "):
        derive_problem("s", path)


def test_rules_that_do_not_apply_say_why(tmp_path: Path) -> None:
    for step, message in (("{by: shift_index, shift: c}", "the shift `c` is not declared an integer"),
                          ("{by: split_last}", "no sum or product of one index occurs in `c`"),
                          ("{by: split_last, at: s}", "no sum or product of one index up to `s` occurs"),
                          ("{by: telescope}", "nothing telescopes in `c`")):
        start = "Sum(x[s], (s, 1, t))" if "up to" in message or "integer" in message else "c"
        with pytest.raises(EngineError, match=message):
            derive_problem("s", problem(tmp_path, start, step))


# bounds on the entries of an indexed symbol

def test_entry_bounds_from_assumptions() -> None:
    assume = (sp.Lt(0, beta[s]), sp.Lt(beta[s], 1))
    assert entry_bounds(assume, beta) == (0, 1)
    assert entry_bounds((sp.Lt(0, beta[s]),), beta) is None  # one side only: not a range
    assert entry_bounds((sp.Lt(0, beta[3]), sp.Lt(beta[3], 1)), beta) is None  # one entry, not every entry
    assert entry_bounds(assume, x) is None


def test_bounded_entries_are_honoured_and_needed(tmp_path: Path) -> None:
    path = problem(tmp_path, "Abs(1 - beta[t])", '{to: "1 - beta[t]"}')
    method, _ = verdicts(path)[0]
    assert method in ("symbolic", "instance")
    with pytest.raises(VerificationError, match="counterexample"):
        derive_problem("s", problem(tmp_path, "Abs(1 - beta[t])", '{to: "1 - beta[t]"}', assume='["0 < beta[s]"]'))
