"""Messages an author can act on: every error path the command line reaches prints a located
message naming what failed, with no empty field and never a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sympy as sp
from click.testing import CliRunner, Result

from derive.cli import main
from derive.engine import derive_problem
from derive.errors import Loc, VerificationError, without_empty_fields
from derive.model import Chain

from tests.test_build import make_set, sample

HEAD = """\
id: "{n}"
title: "Case {n}"
statement: "x"
symbols:
  x: real
  b: real
  k: positive integer
  n: positive integer
functions:
  g: {{args: [R]}}
definitions:
  f: {{args: [x], body: "x**2"}}
hypotheses:
  h: {{lhs: b, rhs: "2*x"}}
solution:
  - chain:
      label: c
{assume}      start: "{start}"
      steps:
        - {step}
"""

# (start, step, assume, what the first line of the failure must contain)
CASES = [
    ("x", "{by: unfold, name: f}", "", "rule 'unfold' does not apply: definition f does not occur in `x`"),
    ("x", "{by: unfold}", "", "rule 'unfold' does not apply: no definition occurs in `x`"),
    ("x", "{by: use, name: h}", "", "the left side `b` of hypothesis h does not occur in `x`"),
    ("exp(x)", "{by: complete_square, var: x}", "", "`exp(x)` is not a polynomial in x"),
    ("x**3", "{by: complete_square, var: x}", "", "`x**3` is not a quadratic in x (degree 3)"),
    ("x", "{by: substitute, old: b, new: '1'}", "", "`b` does not occur in `x`"),
    ("x", "{by: solve, equation: 'x**2 - 1', for: x}", "",
     "expected exactly one root of `x**2 - 1` = 0 in x, found 2: `-1`, `1`"),
    ("x", "{by: differentiate}", "", "no derivative to evaluate in `x`"),
    ("Integral(g(x), (x, 0, 1))", "{by: integrate}", "",
     "SymPy finds no closed form for the integral `Integral(g(x), (x, 0, 1))`"),
    ("Sum(1/(k**x + log(k)), (k, 1, n)) + Sum(k, (k, 1, n))", "{by: evaluate_sums}", "",
     "SymPy finds no closed form for `Sum(1/(k**x + log(k)), (k, 1, n))`"),
    ("Sum(x**k, (k, 0, n))", "{by: evaluate_sums}", "",
     "the assumptions do not decide Eq(x, 1), a case of `Piecewise("),
    ("x", "{by: evaluate_sums}", "", "no sum to evaluate in `x`"),
    ("Limit(g(x), x, 0)", "{by: limit}", "",
     "rule 'limit' does not apply: SymPy finds no closed form for the limit `Limit(g(x), x, 0, dir='+')`"),
    ("Limit(sin(1/x), x, 0)", "{by: limit}", "", "rule 'limit' does not apply: the limit "
     "`Limit(sin(1/x), x, 0, dir='+')` does not exist: SymPy only bounds it, `AccumBounds(-1, 1)`"),
    ("x", "{by: limit}", "", "rule 'limit' does not apply: no limit to evaluate in `x`"),
    ("Theta(exp(n), n)", "{by: asymptotic_class}", "", "`exp(n)` in `Theta(exp(n), n)` is not a polynomial in n"),
    ("x", "{by: variance}", "", "no Var(...) to rewrite in `x`"),
    ("x", "{by: linearity}", "", "no E(...) or Int(...) in `x`"),
    ("x", "{by: count_ops}", "", "no cost(...) to count in `x`"),
    ("x", "{by: cheapest_order}", "", "no min_cost(...) to resolve in `x`"),
    ("x", "{to: 'x'}", '      assume: ["0 < < x"]\n', "malformed relation at column 5: invalid syntax"),
    ("x", "{to: 'x = 1'}", "",
     "malformed expression at column 3: invalid syntax; `=` is not allowed in an expression (a step's relation "
     "goes under `rel:`)"),
    ("x**2", "{rel: '>=', to: '1'}", "", "false at a random point: `x**2  >=  1` is not shown"),
    ("x", "{by: nosuchrule}", "", "unknown rule 'nosuchrule'; known rules: "),
]

TRACEBACK = re.compile(r"Traceback|File \"[^\"]+\", line \d+")
EMPTY_FIELD = re.compile(r"(?:^|[:;,] )[:;,](?: |$)|: $")


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def assert_clean(text: str) -> None:
    """No traceback, and no empty field (`counterexample: : left`, `a; ; b`, a line ending `: `)."""
    assert not TRACEBACK.search(text), text
    for line in text.splitlines():
        assert not EMPTY_FIELD.search(line.strip()), line


@pytest.fixture(scope="module")
def failures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Build one set holding every case; the FAIL line of each problem, by case number."""
    root = tmp_path_factory.mktemp("cases")
    problems = {f"case{i}": HEAD.format(n=i, start=start, step=step, assume=assume)
                for i, (start, step, assume, _) in enumerate(CASES)}
    make_set(root, problems)
    result = run("--root", str(root), "build", "mini", "--no-pdf", "--jobs", "2")
    assert result.exit_code == 2, result.output
    assert_clean(result.output)
    return {m[1]: m[2] for m in re.finditer(r"^FAIL (\d+) Case \d+: (.*)$", result.stdout, re.M)}


@pytest.mark.parametrize("case", range(len(CASES)))
def test_every_rule_and_spec_failure_names_what_it_could_not_handle(failures: dict[str, str], case: int) -> None:
    assert CASES[case][3] in failures[str(case)]
    assert re.match(r".*/case\d+\.yaml:\d+: solution\[0\]\.chain\.", failures[str(case)])


def test_a_wrong_step_has_a_counterexample_and_no_empty_field(tmp_path: Path) -> None:
    make_set(tmp_path, {"wrong": sample("9.9", wrong=True)})
    result = run("--root", str(tmp_path), "build", "mini", "--no-pdf")
    assert result.exit_code == 1
    assert "      counterexample: u = " in result.stdout
    assert_clean(result.output)


def test_empty_fields_are_dropped_from_a_rejection() -> None:
    err = VerificationError(Loc("p.yaml", 3, "solution[0]"), "c.1", "false on a random exact instance",
                            ": left = 16, right = 2")
    assert str(err) == "p.yaml:3: solution[0]: step c.1: false on a random exact instance\n" \
                       "  counterexample: left = 16, right = 2"
    assert without_empty_fields("n = 2; ; E = 1: left = 1") == "n = 2; E = 1: left = 1"
    assert str(VerificationError(Loc("p.yaml", 3, "k"), "c.1", "undecided", "")) == "p.yaml:3: k: step c.1: undecided"


SET_CASES = {
    "unknown set": ({}, ["build", "nosuch"], 2, "no problem set named 'nosuch'"),
    "bad set name": ({}, ["build", "../x"], 2, "not a set name: '../x'"),
    "broken yaml": ({"set.yaml": "title: [unclosed\n"}, ["build", "s"], 2, "set.yaml:"),
    "unknown key": ({"set.yaml": "title: T\norder: []\nsize: 3\n"}, ["build", "s"], 2, "size"),
    "missing problem": ({"set.yaml": "title: T\norder: [gone]\n"}, ["build", "s"], 2, "no problem file gone.yaml"),
    "broken problem yaml": ({"set.yaml": "title: T\norder: [p]\n", "p.yaml": "id: [\n"}, ["build", "s"], 2, "p.yaml:"),
    "list a broken set": ({"set.yaml": "title: T\norder: [gone]\n"}, ["list"], 2, "no problem file gone.yaml"),
    "new over a file": ({"set.yaml": "title: T\norder: []\n"}, ["new", "s"], 2, "set.yaml exists already"),
    "new bad problem": ({}, ["new", "s", "no-dash"], 2, "not a problem name: 'no-dash'"),
    "watch no set": ({}, ["watch", "nosuch"], 2, "no problem set named 'nosuch'"),
    "quiet and verbose": ({"set.yaml": "title: T\norder: []\n"}, ["build", "s", "-q", "-v"], 2,
                          "-q and -v exclude each other"),
    "bad option": ({}, ["build", "s", "--jobs", "0"], 2, "--jobs"),
}


@pytest.mark.parametrize("name", SET_CASES)
def test_set_and_usage_errors_are_located_and_clean(tmp_path: Path, name: str) -> None:
    files, args, code, text = SET_CASES[name]
    for file, body in files.items():
        (tmp_path / "problems" / "s").mkdir(parents=True, exist_ok=True)
        (tmp_path / "problems" / "s" / file).write_text(body)
    result = run("--root", str(tmp_path), *args)
    assert result.exit_code == code, result.output
    assert text in result.output
    assert_clean(result.output)
    if args[0] == "build" and code == 2:  # a broken problem file fails that problem alone (partial booklet)
        assert (tmp_path / "build").exists() == (name == "broken problem yaml")


# ---- the trip-ups that opened issue 13 (the others are CASES above and the rejection tests) ----
TRIP = """\
id: "1"
title: "T"
statement: "S"
symbols: {{x: real}}
definitions:
  inner: {{args: [u], body: "u**2"}}
  outer: {{args: [u], body: "inner(u) + 1"}}
solution:
  - chain:
      label: c
{assume}      start: "{start}"
      steps:
        - {step}
"""


@pytest.mark.parametrize("step, to", [("{by: unfold}", "x**2 + 1"), ("{by: unfold, name: outer}", "inner(x) + 1")])
def test_a_bare_unfold_opens_every_definition_a_named_one_one_level(tmp_path: Path, step: str, to: str) -> None:
    """A bare `unfold` goes through `outer` into `inner`; `unfold, name: outer` opens outer only."""
    path = tmp_path / "p.yaml"
    path.write_text(TRIP.format(assume="", start="outer(x)", step=step))
    (chain,) = [b for b in derive_problem("s", path).blocks if isinstance(b, Chain)]
    assert sp.sstr(chain.steps[0].expr) == to


def test_an_equals_sign_in_assume_is_an_equation(tmp_path: Path) -> None:
    """`x = 1` under `assume` is read as `x == 1` (it once gave a bare "invalid syntax")."""
    path = tmp_path / "p.yaml"
    path.write_text(TRIP.format(assume='      assume: ["x = 1", "0 <= x"]\n', start="x", step="{to: 'x'}"))
    (chain,) = [b for b in derive_problem("s", path).blocks if isinstance(b, Chain)]
    x = sp.Symbol("x", real=True)
    assert chain.assume == (sp.Eq(x, 1), sp.LessThan(0, x))
