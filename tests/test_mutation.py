"""Every wrong step made from the shipped specs (see tests/mutation.py) is rejected with a
message naming the file, the step and a counterexample.

The suite runs every second mutant of every problem (an evenly spread, fixed sample) to stay in
the CI time budget; `python -m tests.mutation` runs all of them, and scripts/bench.py records
that full score in docs/performance.md."""

from __future__ import annotations

import pytest

from tests.mutation import expression_mutants, mutants, run_all

SAMPLE = 2  # the slow test runs every second mutant of each problem


def test_expression_mutants_cover_the_four_kinds() -> None:
    assert expression_mutants("1/4 - (s - 1/2)**2") == [
        ("sign", "1 / 4 + (s - 1 / 2) ** 2"),
        ("coefficient", "2 / 4 - (s - 1 / 2) ** 2"),
        ("coefficient", "1 / 5 - (s - 1 / 2) ** 2"),
        ("sign", "1 / 4 - (s + 1 / 2) ** 2"),
        ("coefficient", "1 / 4 - (s - 1 / 2) ** 3"),
        ("coefficient", "1 / 4 - (s - 2 / 2) ** 2"),
        ("coefficient", "1 / 4 - (s - 1 / 3) ** 2"),
        ("drop term", "-(s - 1 / 2) ** 2"),
        ("drop term", "1 / 4"),
    ]


def test_claimed_mdp_values_and_actions_are_mutated() -> None:
    ms = mutants("assn5:chain_mdp")
    assert len(ms) == 44
    assert {m.kind for m in ms} == {"coefficient", "sign", "policy action"}
    first = ms[0]
    assert (first.label, first.path, first.to) == ("a.v*(-1)", ("policies", "optimal", "values", -1), "101 / 99")
    assert sum(m.kind == "policy action" for m in ms) == 8


@pytest.mark.slow
def test_every_sampled_mutant_of_the_shipped_specs_is_rejected() -> None:
    results = run_all(["hw4", "assn5", "quiz4"], every=SAMPLE)
    survivors = [(m.stem, m.label, m.kind, m.to, m.rel, msg[:300]) for m, ok, msg in results if not ok]
    assert len(results) >= 450
    assert len({(m.set_name, m.stem) for m, _, _ in results}) == 21
    assert {m.kind for m, _, _ in results} == {"coefficient", "sign", "drop term", "reversed inequality",
                                               "policy action"}
    assert survivors == []


def test_weaker_bound_over_abstract_objects_is_decided_on_instances() -> None:
    import sympy as sp

    from derive.ops import Int
    from derive.scope import FunctionInfo, Scope
    from tests.mutation import _weaker

    z = sp.Symbol("z", real=True)
    p = sp.Function("p", real=True)
    sc = Scope(spaces={"Z": 3})
    sc.symbol_space[z] = "Z"
    sc.functions["p"] = FunctionInfo("p", ("Z",), 0, True)
    entropy = -Int(p(z) * sp.log(p(z)), z)  # non-negative on a finite space
    assert _weaker(sp.S.Zero, entropy, "<=", sc)  # x <= 0 weakened to x <= H(p)
    assert not _weaker(sp.S.Zero, -entropy - 1, "<=", sc)


def test_equivalence_over_abstract_objects_is_decided_on_instances() -> None:
    import sympy as sp

    from derive.scope import FunctionInfo, Scope
    from tests.mutation import _equivalent

    m, e = sp.symbols("m e", real=True)
    f = sp.Function("f", real=True)
    sc = Scope()
    sc.functions["f"] = FunctionInfo("f", ("R",), 0, False)
    phi = sp.exp(-e**2 / 2) / sp.sqrt(2 * sp.pi)
    same = sp.Integral(f(m + e) * phi, (e, -sp.oo, sp.oo))
    assert _equivalent(same, sp.Integral(f(m - e) * phi, (e, -sp.oo, sp.oo)), sc)  # phi is symmetric
    assert not _equivalent(same, sp.Integral(f(m + 2 * e) * phi, (e, -sp.oo, sp.oo)), sc)
