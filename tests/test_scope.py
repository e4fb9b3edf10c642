"""derive.scope: the declarations of a problem as SymPy objects, definitions and hypotheses as rewrites."""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp

from derive.errors import Loc
from derive.exprs import parse
from derive.ops import T, matmul
from derive.scope import FunctionInfo, Rewrite, Scope, build_scope, inequality_hypotheses
from derive.spec import load_problem

HEADER = 'id: "1"\ntitle: "T"\nstatement: "S"\n'
SOLUTION = 'solution:\n  - chain: {label: c1, start: "x", steps: [{to: "x"}]}\n'

GOOD = HEADER + """\
spaces: {S: 3, A: 2}
symbols:
  x: real
  n: positive integer
  k: {integer: true, nonnegative: true}
  s: {space: S, latex: "s'"}
  a: {space: A}
  w: {random: true, mean_zero: true, shape: [n, 2]}
  b: {real: true, indexed: true, latex: 'c'}
functions:
  P: {args: [S, S, A], given: 2, density: true, latex: 'p'}
  g: {args: [R]}
definitions:
  sigma: {args: [u], body: "1/(1 + exp(-u))", latex: '\\sigma'}
  h: {args: [k], body: "sigma(h(k - 1) + b[k])", at: {0: "x"}}
  c: "2*x"
hypotheses:
  hg: {lhs: "g(x)", rhs: "x**2"}
  hw: {lhs: "w", rel: "<=", rhs: "1"}
""" + SOLUTION

X = sp.Symbol("x", real=True)
N = sp.Symbol("n", positive=True, integer=True)
K = sp.Symbol("k", integer=True, nonnegative=True)
S = sp.Symbol("s", real=True)
A = sp.Symbol("a", real=True)
W = sp.Symbol("w", real=True)
U = sp.Symbol("u", real=True)
C = sp.Symbol("c", real=True)
B = sp.IndexedBase("b", real=True)
G = sp.Function("g", real=True)
H = sp.Function("h", real=True)
SIGMA = sp.Function("sigma", real=True)


def scope_of(tmp_path: Path, text: str, defined: list[str] = ()) -> tuple[Scope, list[str], Path]:
    """build_scope of a problem file with `text`: the scope, its issues as strings, the file."""
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    spec, issues = load_problem(path)
    assert issues == []
    found: list = []
    sc = build_scope(spec, found, [(name, Loc(str(path), 99, "chain")) for name in defined])
    return sc, [str(i) for i in found], path


@pytest.fixture
def good(tmp_path: Path) -> Scope:
    """The scope of GOOD, which has no issues."""
    sc, issues, _ = scope_of(tmp_path, GOOD)
    assert issues == []
    return sc


def sig(e: sp.Expr) -> sp.Expr:
    """The body of sigma, evaluated."""
    return 1 / (1 + sp.exp(-e))


# ---- declarations --------------------------------------------------------------------------------
def test_symbols_carry_their_assumptions(good: Scope) -> None:
    """Declared assumptions become SymPy assumptions; a symbol without any is real."""
    syms = good.ns.symbols
    assert syms["x"] == X and syms["x"].is_real
    assert syms["n"] == N and syms["n"].is_positive and syms["n"].is_integer
    assert syms["k"] == K and syms["k"].is_nonnegative and syms["k"].is_integer
    assert syms["s"] == S and syms["w"] == W
    assert syms["x"] != sp.Symbol("x")
    assert syms["u"] == U  # a definition's undeclared parameter is a real symbol
    assert syms["c"] == C  # a constant definition is a real symbol
    assert list(syms) == ["x", "n", "k", "s", "a", "w", "u", "c"]


def test_symbol_properties(good: Scope) -> None:
    """Spaces, random / mean-zero flags, shapes and LaTeX overrides are recorded per symbol."""
    assert good.spaces == {"S": 3, "A": 2}
    assert good.symbol_space == {S: "S", A: "A"}
    assert good.random == {W} and good.mean_zero == {W}
    assert good.shapes == {W: (N, sp.Integer(2))}
    assert good.symbol_latex == {"s": "s'", "b": "c"}


def test_indexed_symbols_are_indexed_bases(good: Scope) -> None:
    """An indexed symbol is an IndexedBase (not a symbol) with its assumptions, used as b[k]."""
    assert good.ns.indexed == {"b": B}
    assert "b" not in good.ns.symbols
    assert parse("b[k]", good.ns) == B[K]
    assert good.symbol_latex["b"] == "c"  # b[k] prints as c_k


def test_functions_with_spaces(good: Scope) -> None:
    """Functions are real SymPy functions of their arity (a density also non-negative); their
    argument spaces are kept."""
    assert good.functions == {
        "P": FunctionInfo("P", ("S", "S", "A"), 2, True),
        "g": FunctionInfo("g", ("R",), 0, False),
    }
    assert good.ns.functions["P"] == (sp.Function("P", real=True, nonnegative=True), 3)
    assert good.ns.functions["g"] == (G, 1)
    assert good.ns.functions["sigma"] == (SIGMA, 1)  # a definition with parameters is a function
    assert good.ns.functions["h"] == (H, 1)
    assert good.function_latex == {"P": "p", "sigma": r"\sigma"}


def test_definitions_are_rewrites_with_evaluated_bodies(good: Scope) -> None:
    """name(params) := body becomes a Rewrite; a constant definition rewrites its symbol."""
    assert good.definitions == {
        "sigma": Rewrite("sigma", (U,), sig(U)),
        "h": Rewrite("h", (K,), SIGMA(H(K - 1) + B[K]), at=((0, X),)),
        "c": Rewrite("c", (), 2 * X, lhs=C),
    }


def test_chain_defined_names_become_symbols(tmp_path: Path) -> None:
    """A chain's `defines` name is a new real symbol; a declared one keeps its declaration."""
    sc, issues, _ = scope_of(tmp_path, GOOD, defined=["Vb", "n"])
    assert issues == []
    assert sc.ns.symbols["Vb"] == sp.Symbol("Vb", real=True)
    assert sc.ns.symbols["n"] == N


# ---- unfolding -----------------------------------------------------------------------------------
def test_recursive_definition_unfolds_to_its_base_case(good: Scope) -> None:
    """h(3) unfolds fully, through h(2), h(1), down to h(0) = x."""
    h3 = parse("h(3)", good.ns)
    assert good.unfold(h3, {"h"}) == SIGMA(SIGMA(SIGMA(X + B[1]) + B[2]) + B[3])
    assert good.unfold(h3) == sig(sig(sig(X + B[1]) + B[2]) + B[3])
    assert not good.unfold(h3).atoms(sp.core.function.AppliedUndef)
    assert good.unfold(parse("h(0)", good.ns)) == X


def test_recursive_definition_at_a_symbol_unfolds_only_once(good: Scope) -> None:
    """h(n) unfolds one level with once=True; the fixed-point unfold leaves it alone."""
    hn = parse("h(n)", good.ns)
    assert good.unfold(hn, once=True) == SIGMA(H(N - 1) + B[N])
    assert good.unfold(hn, {"h"}, once=True) == SIGMA(H(N - 1) + B[N])
    assert good.unfold(hn) == H(N)
    assert good.unfold(hn, {"h"}) == H(N)


def test_unfold_only_the_named_definitions(good: Scope) -> None:
    """`names` restricts unfolding; a constant definition replaces its symbol."""
    e = parse("c*sigma(x)", good.ns)
    assert good.unfold(e, {"c"}) == 2 * X * SIGMA(X)
    assert good.unfold(e, {"sigma"}) == C * sig(X)
    assert good.unfold(e) == 2 * X * sig(X)
    assert good.unfold(e, set()) is e


def test_definition_rewrite_matches_and_applies(good: Scope) -> None:
    """A definition matches applications of its head; a recursive one only concretely at integers."""
    h, sigma = good.definitions["h"], good.definitions["sigma"]
    assert sigma.matches(SIGMA(X + 1)) and sigma.apply(SIGMA(X + 1)) == sig(X + 1)
    assert not sigma.matches(G(X)) and not sigma.matches(X)
    assert h.matches(H(N)) and not h.matches_concrete(H(N))
    assert h.matches_concrete(H(sp.Integer(2)))
    assert h.apply(H(sp.Integer(0))) == X
    assert h.apply(H(sp.Integer(2))) == SIGMA(H(1) + B[2])
    assert h.apply(H(N)) == SIGMA(H(N - 1) + B[N])


# ---- hypotheses --------------------------------------------------------------------------------
def test_hypotheses_are_rewrites(good: Scope) -> None:
    """g(x) = x**2 rewrites g of anything; w <= 1 rewrites the symbol w with relation <=."""
    assert good.hypotheses == {
        "hg": Rewrite("hg", (X,), X**2, "=", G(X), head="g"),
        "hw": Rewrite("hw", (), sp.Integer(1), "<=", W),
    }
    hg, hw = good.hypotheses["hg"], good.hypotheses["hw"]
    assert hg.matches(G(S)) and hg.matches(G(S + 1))
    assert hg.apply(G(S + 1)) == (S + 1) ** 2
    assert not hg.matches(SIGMA(S)) and not hg.matches(S)
    assert hw.matches(W) and not hw.matches(X)
    assert hw.apply(W) == 1
    assert hw.rel == "<="


# ---- issues ----------------------------------------------------------------------------------------
def test_duplicate_names_and_unknown_spaces_are_issues(tmp_path: Path) -> None:
    """Every clash, unknown space and bad expression in the declarations is reported with its place."""
    sc, issues, path = scope_of(tmp_path, HEADER + """\
spaces: {S: 3}
symbols:
  x: real
  n: positive integer
  s: {space: Q}
  v: {shape: [n, m]}
functions:
  x: {args: [R]}
  P: {args: [S, Z]}
definitions:
  P: {args: [u], body: "u"}
  n: "3"
  z: {args: [k], body: "k +* 1"}
  h: {args: [k], body: "k", at: {0: "y"}}
hypotheses:
  bad2: {lhs: "x + 1", rhs: "1"}
  bad3: {lhs: "q", rhs: "1"}
  bad4: {lhs: "P(2)", rhs: "1"}
""" + SOLUTION)
    f = str(path)
    assert issues == [
        f"{f}:8: symbols.s: unknown space 'Q' (declare it under spaces)",
        f"{f}:11: functions.x: 'x' declared twice",
        f"{f}:12: functions.P: unknown space 'Z' (declare it under spaces, or use R)",
        f"{f}:14: definitions.P: 'P' declared twice",
        f"{f}:15: definitions.n: 'n' is already declared",
        f"{f}:9: symbols.v.shape[1]: undefined symbol 'm' (declare it under symbols)",
        f"{f}:16: definitions.z.body: malformed expression at column 4: invalid syntax",
        f"{f}:17: definitions.h.at.0: undefined symbol 'y' (declare it under symbols)",
        f"{f}:19: hypotheses.bad2.lhs: the left side of a hypothesis must be a symbol, a function "
        "applied to distinct symbols, like Q(s, a), or a matrix expression, like matmul(T(R), R)",
        f"{f}:20: hypotheses.bad3.lhs: undefined symbol 'q' (declare it under symbols)",
        f"{f}:21: hypotheses.bad4.lhs: the left side of a hypothesis must be a symbol, a function "
        "applied to distinct symbols, like Q(s, a), or a matrix expression, like matmul(T(R), R)",
    ]
    assert "z" not in sc.definitions and set(sc.hypotheses) == set()


def test_hypothesis_lhs_needs_distinct_symbols(tmp_path: Path) -> None:
    """Q(s, s) is not a pattern: its arguments must be distinct symbols."""
    _, issues, path = scope_of(tmp_path, HEADER + """\
symbols:
  x: real
  s: real
functions:
  Q: {args: [R, R]}
hypotheses:
  same: {lhs: "Q(s, s)", rhs: "1"}
  ok: {lhs: "Q(s, x)", rhs: "1"}
""" + SOLUTION)
    assert issues == [f"{path}:10: hypotheses.same.lhs: the left side of a hypothesis must be a symbol, a "
                      "function applied to distinct symbols, like Q(s, a), or a matrix expression, like "
                      "matmul(T(R), R)"]


def test_matrix_hypotheses_and_structures(tmp_path: Path) -> None:
    """A hypothesis may have a matrix expression on its left; structures are recorded."""
    sc, issues, _ = scope_of(tmp_path, HEADER + """\
symbols:
  x: real
  n: positive integer
  R: {shape: [n, 2], structure: orthonormal_columns}
  I: {shape: [2, 2], structure: identity}
hypotheses:
  orth: {lhs: "matmul(T(R), R)", rhs: I}
""" + SOLUTION)
    R, I = sc.ns.symbols["R"], sc.ns.symbols["I"]
    assert issues == []
    assert sc.structure == {R: "orthonormal_columns", I: "identity"}
    assert sc.hypotheses["orth"].lhs == matmul(T(R), R) and sc.hypotheses["orth"].body == I


def test_name_of_an_indexed_symbol_cannot_be_reused(tmp_path: Path) -> None:
    """A function or a definition named like an indexed symbol is a duplicate name."""
    _, issues, path = scope_of(tmp_path, HEADER + """\
symbols:
  x: real
  b: {real: true, indexed: true}
  c: {real: true, indexed: true}
functions:
  b: {args: [R]}
definitions:
  c: "2*x"
""" + SOLUTION)
    assert issues == [f"{path}:9: functions.b: 'b' declared twice",
                      f"{path}:11: definitions.c: 'c' is already declared"]


def test_integral_variable_needs_a_space_and_matrices_need_shapes(tmp_path: Path) -> None:
    """Int over a variable with no finite space, or cost(...) of a matrix with no shape, is a
    spec issue at the expression's line (an instance could not be built for it)."""
    from derive.engine import derive_problem
    from derive.errors import SpecError

    path = tmp_path / "p.yaml"
    path.write_text(
        'id: "1"\ntitle: "t"\nstatement: "s"\n'
        "symbols: {x: real, A: real, n: positive integer}\n"
        "functions: {f: {args: [R]}}\n"
        "solution:\n"
        "  - chain:\n"
        "      label: c\n"
        '      start: "Int(f(x), x) + cost(matmul(A, A))"\n'
        "      steps:\n"
        '        - {to: "0"}\n'
    )
    with pytest.raises(SpecError) as info:
        derive_problem("s", path)
    assert [str(i) for i in info.value.issues] == [
        f"{path}:9: solution[0].chain.start: Int over 'x' needs a finite space: declare `x: {{space: ...}}`",
        f"{path}:9: solution[0].chain.start: matrix 'A' in cost(...) needs a shape: "
        "declare `A: {shape: [rows, cols]}`",
    ]


BOUNDED = HEADER + """\
spaces: {S: 2}
symbols:
  s: {space: S}
functions:
  V1: {args: [S]}
  V2: {args: [S]}
  p: {args: [S], density: true}
hypotheses:
  order: {lhs: "V1(s)", rel: "<=", rhs: "V2(s)"}
""" + SOLUTION


def test_inequality_hypothesis_on_a_function(tmp_path: Path) -> None:
    """F(s) <= rhs(s) on an unknown function is kept as a bound (inequality_hypotheses)."""
    sc, issues, _ = scope_of(tmp_path, BOUNDED)
    assert issues == []
    assert [h.name for h in inequality_hypotheses(sc)] == ["order"]


@pytest.mark.parametrize("lhs, rhs", [("p(s)", "V2(s)"), ("V1(s)", "V1(s) + 1")])
def test_inequality_hypothesis_needs_a_free_unknown_function(tmp_path: Path, lhs: str, rhs: str) -> None:
    """A density, or a function its own bound uses, cannot be bounded: a located issue."""
    text = BOUNDED.replace('{lhs: "V1(s)", rel: "<=", rhs: "V2(s)"}', f'{{lhs: "{lhs}", rel: "<=", rhs: "{rhs}"}}')
    _, issues, path = scope_of(tmp_path, text)
    assert len(issues) == 1 and issues[0].startswith(f"{path}:") and "hypotheses.order.lhs" in issues[0]
    assert "inequality hypothesis" in issues[0]

def test_conditional_bar_of_functions_and_definitions(tmp_path: Path) -> None:
    """`given` of a function or a definition is recorded for the printer (p(z | x))."""
    sc, issues, _ = scope_of(tmp_path, HEADER + """\
symbols:
  x: real
functions:
  lik: {args: [R, R], given: 1}
definitions:
  post: {args: [z, u], given: 1, body: "lik(u, z)"}
  plain: {args: [z], body: "z"}
""" + SOLUTION)
    assert issues == []
    assert sc.given == {"lik": 1, "post": 1}


def test_parameters_of_definitions_get_the_spaces_their_bodies_use(tmp_path: Path) -> None:
    """A parameter passed to a function on (Tau) is a point of Tau, also through another
    definition; one used only in arithmetic is a number (None)."""
    sc, issues, _ = scope_of(tmp_path, HEADER + """\
spaces: {Tau: 4}
symbols:
  tau: {space: Tau}
functions:
  g: {args: [Tau]}
  R: {args: [Tau]}
definitions:
  ptau: {args: [y, th], body: "exp(th*g(y))"}
  J: {args: [v, th], body: "ptau(v, th)*R(tau)"}
""" + SOLUTION)
    assert issues == []
    assert sc.param_spaces == {"ptau": ("Tau", None), "J": ("Tau", None)}


def test_a_call_of_a_definition_with_an_argument_of_the_wrong_space_is_located(tmp_path: Path) -> None:
    """J's body passes tau (a point of Tau) where ptau's body uses a number: an issue at J's line."""
    sc, issues, path = scope_of(tmp_path, HEADER + """\
spaces: {Tau: 4, S: 2}
symbols:
  tau: {space: Tau}
  s: {space: S}
functions:
  g: {args: [Tau]}
  R: {args: [Tau]}
definitions:
  ptau: {args: [y, th], body: "exp(th*g(y))"}
  J: {args: [th], body: "Int(ptau(th, tau)*R(tau), tau)"}
  K: "ptau(s, 1)"
""" + SOLUTION)
    assert issues == [
        f"{path}:13: definitions.J.body: argument 2 of ptau (definitions.ptau) is a number (its body never "
        f"uses it as a point), but 'tau' ranges over Tau",
        f"{path}:14: definitions.K: argument 1 of ptau (definitions.ptau) is a point of space Tau, but 's' "
        f"ranges over S"]


def test_a_recursion_called_below_its_base_case_is_refused_at_once() -> None:
    import sympy as sp
    from derive.scope import BelowBaseCase, Rewrite
    k, x = sp.symbols("k x")
    h = sp.Function("h")
    rec = Rewrite("h", (k,), sp.tanh(h(k - 1)), at=((0, x),))
    assert rec.apply(h(0)) == x and rec.apply(h(2)) == sp.tanh(h(1))
    with pytest.raises(BelowBaseCase, match=r"h\(-1\) lies below the base case h\(0\) of its recursive definition"):
        rec.apply(h(-1))
