"""derive.exprs: the allow-list parser (spec text -> unevaluated SymPy, never eval)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import sympy as sp

from derive import ops
from derive.exprs import ExprSyntaxError, Namespace, evaluated, parse, parse_relations

X = sp.Symbol("x", real=True)
S = sp.Symbol("s", real=True)
K = sp.Symbol("k", integer=True, positive=True)
N = sp.Symbol("n", integer=True, positive=True)
B = sp.IndexedBase("b", real=True)
F = sp.Function("f", real=True)


@pytest.fixture
def ns() -> Namespace:
    """x, s real; k, n positive integers; b indexed; f a declared function of two arguments."""
    return Namespace(symbols={"x": X, "s": S, "k": K, "n": N}, indexed={"b": B}, functions={"f": (F, 2)})


def tree(e: Any) -> Any:
    """The exact structure of e with argument order kept (srepr sorts the terms of Add/Mul)."""
    if not isinstance(e, sp.Basic) or not e.args or isinstance(e, sp.Symbol):
        return sp.srepr(e)
    return (type(e).__name__, *[tree(a) for a in e.args])


def rejected(text: str, ns: Namespace) -> str:
    """The message parse() rejects `text` with."""
    with pytest.raises(ExprSyntaxError) as info:
        parse(text, ns)
    return str(info.value)


# ---- numbers and names ---------------------------------------------------------------------
def test_integer_literal_is_a_sympy_integer(ns: Namespace) -> None:
    """Whole numbers become sympy Integers."""
    assert sp.srepr(parse("12", ns)) == "Integer(12)"
    assert sp.srepr(parse("10**100", ns)) == "Pow(Integer(10), Integer(100))"  # a small power is fine


@pytest.mark.parametrize("text, exact", [
    ("0.25", "Rational(1, 4)"),
    ("0.1", "Rational(1, 10)"),
    ("2.5", "Rational(5, 2)"),
    ("1e-3", "Rational(1, 1000)"),
    ("1.5e3", "Integer(1500)"),
    ("x**0.5", "Pow(Symbol('x', real=True), Rational(1, 2))"),
])
def test_float_literals_become_exact_rationals(ns: Namespace, text: str, exact: str) -> None:
    """A decimal is read as the exact rational it spells (0.1 is 1/10, not a binary float)."""
    result = parse(text, ns)
    assert sp.srepr(result) == exact
    assert not result.atoms(sp.Float)


def test_declared_names_and_constants(ns: Namespace) -> None:
    """Names resolve to the declared objects; pi and oo are the SymPy constants."""
    assert parse("x", ns) is X
    assert parse("k", ns) is K
    assert parse("pi", ns) is sp.pi
    assert parse("oo", ns) is sp.oo


# ---- operators, in the author's order --------------------------------------------------------
@pytest.mark.parametrize("text, structure", [
    ("x + s", ("Add", "Symbol('x', real=True)", "Symbol('s', real=True)")),
    ("s + x", ("Add", "Symbol('s', real=True)", "Symbol('x', real=True)")),
    ("x - s", ("Add", "Symbol('x', real=True)", ("Mul", "Integer(-1)", "Symbol('s', real=True)"))),
    ("x - 2", ("Add", "Symbol('x', real=True)", "Integer(-2)")),
    ("x + s + 1", ("Add", "Symbol('x', real=True)", "Symbol('s', real=True)", "Integer(1)")),
    ("x * s", ("Mul", "Symbol('x', real=True)", "Symbol('s', real=True)")),
    ("s * x * 2", ("Mul", "Symbol('s', real=True)", "Symbol('x', real=True)", "Integer(2)")),
    ("x / s", ("Mul", "Symbol('x', real=True)", ("Pow", "Symbol('s', real=True)", "Integer(-1)"))),
    ("1 / s", ("Pow", "Symbol('s', real=True)", "Integer(-1)")),
    ("1/4", "Rational(1, 4)"),
    ("x ** 2", ("Pow", "Symbol('x', real=True)", "Integer(2)")),
    ("-x", ("Mul", "Integer(-1)", "Symbol('x', real=True)")),
    ("-2", "Integer(-2)"),
    ("+x", "Symbol('x', real=True)"),
    ("2*x - x", ("Add", ("Mul", "Integer(2)", "Symbol('x', real=True)"),
                 ("Mul", "Integer(-1)", "Symbol('x', real=True)"))),
])
def test_arithmetic_builds_unevaluated_nodes_in_author_order(ns: Namespace, text: str, structure: Any) -> None:
    """+ - * / ** and unary minus build unevaluated nodes whose arguments keep the written order."""
    assert tree(parse(text, ns)) == structure


def test_author_order_is_kept_in_latex(ns: Namespace) -> None:
    """Printed with order='none' the expression reads as written, not in SymPy's canonical order."""
    expr = parse("1/4 - (s - 1/2)**2", ns)
    assert sp.latex(expr, order="none") == r"\frac{1}{4} - \left(s - \frac{1}{2}\right)^{2}"
    assert sp.latex(parse("x + s", ns), order="none") == "x + s"
    assert sp.latex(evaluated(parse("x + s", ns))) == "s + x"


def test_evaluated_returns_the_auto_simplified_form(ns: Namespace) -> None:
    """evaluated() applies SymPy's automatic simplifications to every node."""
    assert evaluated(parse("x + x", ns)) == 2 * X
    assert evaluated(parse("2*3", ns)) == sp.Integer(6)
    assert evaluated(parse("exp(0)", ns)) == sp.Integer(1)
    assert evaluated(parse("x - x", ns)) == sp.Integer(0)
    assert evaluated(parse("1/4 - (s - 1/2)**2", ns)) == sp.Rational(1, 4) - (S - sp.Rational(1, 2)) ** 2
    assert evaluated(X) is X
    assert evaluated(7) == 7


# ---- calls -------------------------------------------------------------------------------------
def test_builtin_calls_stay_unevaluated(ns: Namespace) -> None:
    """exp(0) stays exp(0) until evaluated; sqrt is the power 1/2; operators of derive.ops are built."""
    assert tree(parse("exp(0)", ns)) == ("exp", "Integer(0)")
    assert tree(parse("sqrt(x)", ns)) == ("Pow", "Symbol('x', real=True)", "Rational(1, 2)")
    assert parse("log(x)", ns) == sp.log(X, evaluate=False)
    assert parse("Max(x, s)", ns) == sp.Max(X, S, evaluate=False)
    assert tree(parse("gamma(x/2 + 1)", ns))[0] == "gamma"  # Euler's Gamma function, unevaluated
    assert parse("gamma(3)", ns) != 2 and evaluated(parse("gamma(3)", ns)) == 2
    assert parse("E(x)", ns) == ops.E(X)
    assert parse("Int(x, x)", ns) == ops.Int(X, X)
    assert parse("MaxOver(x, x)", ns) == ops.MaxOver(X, X)
    assert parse("MaxOver(x, x, s)", ns) == ops.MaxOver(X, X, S)  # a max over several variables
    with pytest.raises(ExprSyntaxError, match="takes 2 or 3 or 4 argument"):
        parse("MaxOver(x, x, s, k, n)", ns)


@pytest.mark.parametrize("text, message", [
    ("exp(x, s)", "'exp' takes 1 argument(s), got 2"),
    ("log()", "'log' takes 1 argument(s), got 0"),
    ("Max(x)", "'Max' takes 2 or 3 or 4 argument(s), got 1"),
    ("Max(x, s, x, s, x)", "'Max' takes 2 or 3 or 4 argument(s), got 5"),
    ("E(x, x)", "'E' takes 1 argument(s), got 2"),
    ("Int(x)", "'Int' takes 2 argument(s), got 1"),
    ("Derivative(x)", "'Derivative' takes 2 or 3 or 4 argument(s), got 1"),
])
def test_builtin_arity_is_checked(ns: Namespace, text: str, message: str) -> None:
    """A builtin called with the wrong number of arguments is rejected, naming the counts."""
    assert rejected(text, ns) == message


def test_declared_function_with_its_arity(ns: Namespace) -> None:
    """A declared function applies to exactly its number of arguments."""
    assert parse("f(x, s)", ns) == F(X, S)
    assert parse("f(x, s)", ns).func is F
    assert rejected("f(x)", ns) == "'f' takes 2 argument(s), got 1"
    assert rejected("f(x, s, x)", ns) == "'f' takes 2 argument(s), got 3"


def test_indexed_symbol_subscript(ns: Namespace) -> None:
    """b[k] is the Indexed of the declared base; the index is any expression."""
    assert parse("b[k]", ns) == B[K]
    assert tree(parse("b[k - 1]", ns)) == ("Indexed", ("IndexedBase", "Symbol('b', real=True)"),
                                           ("Add", "Symbol('k', integer=True, positive=True)", "Integer(-1)"))
    assert parse("b[1]", ns) == B[1]


def test_tuples_are_limits_of_sum_integral_product(ns: Namespace) -> None:
    """(variable, low, high) tuples give the limits of Sum, Integral and Product."""
    assert parse("Sum(b[k], (k, 1, n))", ns) == sp.Sum(B[K], (K, 1, N))
    assert parse("Product(k, (k, 1, n))", ns) == sp.Product(K, (K, 1, N))
    assert parse("Integral(x, (x, 0, 1))", ns) == sp.Integral(X, (X, 0, 1))
    assert parse("Integral(x, x)", ns) == sp.Integral(X, X)
    assert parse("Integral(x*s, (x, 0, 1), (s, 0, 1))", ns) == sp.Integral(
        sp.Mul(X, S, evaluate=False), (X, 0, 1), (S, 0, 1))


@pytest.mark.parametrize("text, message", [
    ("Sum(b[k], (k, 1))", "Sum limits are written (variable, low, high)"),
    ("Product(k, (k, 1, n, 2))", "Product limits are written (variable, low, high)"),
    ("Sum(x, (2, 1, n))", "the variable of 'Sum' must be a declared symbol"),
    ("Int(x, 2)", "the variable of 'Int' must be a declared symbol"),
    ("Sum(x, x)", "bad arguments to 'Sum': Sum requires values for lower and upper bounds."),
])
def test_bad_limits_are_rejected(ns: Namespace, text: str, message: str) -> None:
    """Limits must be (symbol, low, high) and bound variables declared symbols."""
    assert rejected(text, ns) == message


def test_derivative_with_an_order(ns: Namespace) -> None:
    """Derivative(f, x), Derivative(f, x, 2) and Derivative(f, (x, 2)) stay unevaluated."""
    cube = sp.Pow(X, 3, evaluate=False)
    assert parse("Derivative(x**3, x)", ns) == sp.Derivative(cube, X, evaluate=False)
    assert parse("Derivative(x**3, x, 2)", ns) == sp.Derivative(cube, (X, 2), evaluate=False)
    assert parse("Derivative(x**3, (x, 2))", ns) == sp.Derivative(cube, (X, 2), evaluate=False)
    assert tree(parse("Derivative(x**3, x, 2)", ns)) == (
        "Derivative", ("Pow", "Symbol('x', real=True)", "Integer(3)"),
        ("Tuple", "Symbol('x', real=True)", "Integer(2)"))
    assert evaluated(parse("Derivative(x**3, x, 2)", ns)) == sp.Derivative(X**3, (X, 2))


@pytest.mark.parametrize("text, message", [
    ("Derivative(x**3, (x, 2, 3))", "Derivative takes (variable, order) pairs"),
    ("Derivative(x, 5)", "the variable of 'Derivative' must be a declared symbol or an indexed one like e[k]"),
    ("Derivative(x, x, 0)", "the variable of 'Derivative' must be a declared symbol or an indexed one like e[k]"),
])
def test_derivative_order_is_checked(ns: Namespace, text: str, message: str) -> None:
    """An order is a whole number from 1 to 4 after a variable, or a (variable, order) pair."""
    assert rejected(text, ns) == message


# ---- relations ---------------------------------------------------------------------------------
def test_chained_relation_gives_one_relational_per_comparison(ns: Namespace) -> None:
    """`0 < s < 1` is two relations; each side is evaluated, the relation is not."""
    assert parse_relations("0 < s < 1", ns) == [sp.StrictLessThan(0, S), sp.StrictLessThan(S, 1)]
    assert parse_relations("0 <= x <= s < 1", ns) == [sp.LessThan(0, X), sp.LessThan(X, S), sp.StrictLessThan(S, 1)]


@pytest.mark.parametrize("text, srepr", [
    ("s <= 1", "[LessThan(Symbol('s', real=True), Integer(1))]"),
    ("s > 0", "[StrictGreaterThan(Symbol('s', real=True), Integer(0))]"),
    ("s >= x", "[GreaterThan(Symbol('s', real=True), Symbol('x', real=True))]"),
    ("x == s", "[Equality(Symbol('x', real=True), Symbol('s', real=True))]"),
    ("x != s", "[Unequality(Symbol('x', real=True), Symbol('s', real=True))]"),
    ("1 < 2", "[StrictLessThan(Integer(1), Integer(2))]"),
    ("x + x <= 2", "[LessThan(Mul(Integer(2), Symbol('x', real=True)), Integer(2))]"),
])
def test_each_relation_kind(ns: Namespace, text: str, srepr: str) -> None:
    """< <= > >= == != map to the SymPy relationals, kept unevaluated (1 < 2 is not True)."""
    assert sp.srepr(parse_relations(text, ns)) == srepr


@pytest.mark.parametrize("text, message", [
    ("s", "expected a relation such as 0 < s or s <= 1"),
    ("s is x", "relation Is is not allowed"),
    ("s in x", "relation In is not allowed"),
    ("0 < y", "undefined symbol 'y' (declare it under symbols)"),
])
def test_parse_relations_rejects(ns: Namespace, text: str, message: str) -> None:
    """Where a relation is expected, an expression or a Python-only comparison is refused."""
    with pytest.raises(ExprSyntaxError) as info:
        parse_relations(text, ns)
    assert str(info.value) == message


@pytest.mark.parametrize("text", ["x < 1", "0 < s < 1", "x == s", "x != s"])
def test_relation_where_an_expression_is_expected(ns: Namespace, text: str) -> None:
    """parse() refuses a relation at the top."""
    assert rejected(text, ns) == "a relation is not allowed here; write an expression"


def test_relation_inside_an_expression(ns: Namespace) -> None:
    """A comparison nested in a call is not an expression either."""
    assert rejected("exp(x < 1)", ns) == "'Compare' is not allowed in an expression"


# ---- rejections ----------------------------------------------------------------------------------
@pytest.mark.parametrize("text, message", [
    ("x.real", "attribute access '.real' is not allowed in an expression"),
    ("x.__class__", "attribute access '.__class__' is not allowed in an expression"),
    ("lambda: 1", "'Lambda' is not allowed in an expression"),
    ("lambda x: x", "'Lambda' is not allowed in an expression"),
    ("[i for i in x]", "'ListComp' is not allowed in an expression"),
    ("(i for i in x)", "'GeneratorExp' is not allowed in an expression"),
    ("{i: i for i in x}", "'DictComp' is not allowed in an expression"),
    ("'a'", "the literal 'a' is not allowed in an expression"),
    ("f'{x}'", "'JoinedStr' is not allowed in an expression"),
    ("b'x'", "the literal b'x' is not allowed in an expression"),
    ("True", "the literal True is not allowed in an expression"),
    ("None", "the literal None is not allowed in an expression"),
    ("...", "the literal Ellipsis is not allowed in an expression"),
    ("1j", "the literal 1j is not allowed in an expression"),
    ("f(x, s=1)", "keyword arguments are not allowed"),
    ("f(**x)", "keyword arguments are not allowed"),
    ("exp(*x)", "starred arguments are not allowed"),
    ("exp(x, *s)", "starred arguments are not allowed"),
    ("f(x, s)(s)", "only named functions can be called (no attributes or calls of calls)"),
    ("().__class__.__bases__[0].__subclasses__()",
     "only named functions can be called (no attributes or calls of calls)"),
    ("c[k]", "only declared indexed symbols can be subscripted, as b[k]"),
    ("x[k]", "only declared indexed symbols can be subscripted, as b[k]"),
    ("b[1:2]", "'Slice' is not allowed in an expression"),
    ("y", "undefined symbol 'y' (declare it under symbols)"),
    ("g(x)", "unknown function 'g' (declare it under functions or definitions)"),
    ("globals()", "unknown function 'globals' (declare it under functions or definitions)"),
    ("eval('1')", "the literal '1' is not allowed in an expression"),
    ("f", "'f' is a function: call it with arguments"),
    ("exp", "'exp' is a function: call it with arguments"),
    ("b", "'b' is indexed: write b[k]"),
    ("x if s else 1", "'IfExp' is not allowed in an expression"),
    ("x and s", "'BoolOp' is not allowed in an expression"),
    ("(x := 1)", "'NamedExpr' is not allowed in an expression"),
    ("await x", "'Await' is not allowed in an expression"),
    ("[x]", "'List' is not allowed in an expression"),
    ("x % 2", "operator Mod is not allowed"),
    ("x // 2", "operator FloorDiv is not allowed"),
    ("x @ s", "operator MatMult is not allowed"),
    ("~x", "operator Invert is not allowed"),
    ("not x", "operator Not is not allowed"),
    ("import os", "malformed expression at column 1: invalid syntax"),
    ("1 +", "malformed expression: invalid syntax"),
    ("1.0e400", "number is not finite"),
])
def test_disallowed_constructs_are_rejected_with_the_reason(ns: Namespace, text: str, message: str) -> None:
    """Everything outside the allow-list is refused with a message saying what it was."""
    assert rejected(text, ns) == message


def test_import_call_is_rejected_and_runs_nothing(ns: Namespace, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """`__import__('os').system(...)` is refused before anything runs: no CANARY file appears."""
    monkeypatch.chdir(tmp_path)
    text = "__import__('os').system('touch CANARY')"
    assert rejected(text, ns) == "only named functions can be called (no attributes or calls of calls)"
    with pytest.raises(ExprSyntaxError) as info:
        parse_relations(f"0 < {text}", ns)
    assert str(info.value) == "only named functions can be called (no attributes or calls of calls)"
    assert rejected("__import__('os')", ns) == "the literal 'os' is not allowed in an expression"
    assert not (tmp_path / "CANARY").exists()
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("text, message", [
    ("2**(10**10)", "exponent larger than 1000"),
    ("2**2**2**2**2", "exponent larger than 1000"),
    ("x**1001", "exponent larger than 1000"),
    ("(1/2)**2000", "exponent larger than 1000"),
    ("0.5**2000", "exponent larger than 1000"),
    ("(2**1000)**1000", "number too large"),
    ("1" + "0" * 100, "number with more than 60 digits"),
    ("1" * 61, "number with more than 60 digits"),
])
def test_huge_numbers_are_refused(ns: Namespace, text: str, message: str) -> None:
    """Powers that would exhaust memory and over-long digit strings are refused at parse time."""
    assert rejected(text, ns) == message


def test_limits_of_the_guards_are_inclusive(ns: Namespace) -> None:
    """60 digits, an exponent of 1000 and 2**1000 are still accepted."""
    assert parse("1" * 60, ns) == sp.Integer(int("1" * 60))
    assert tree(parse("2**1000", ns)) == ("Pow", "Integer(2)", "Integer(1000)")
    assert tree(parse("x**1000", ns)) == ("Pow", "Symbol('x', real=True)", "Integer(1000)")


@pytest.mark.parametrize("text, message", [
    ("", "empty expression"),
    ("   ", "empty expression"),
    ("x" * 4001, "expression longer than 4000 characters"),
    ("(" * 5000 + "x" + ")" * 5000, "expression longer than 4000 characters"),
    ("(" * 1900 + "x" + ")" * 1900, "malformed expression at column 201: too many nested parentheses"),
    ("-" * 3999 + "x", "expression nested too deeply"),
    ("-" * 500 + "x", "expression has more than 800 parts"),
    ("+".join(["x"] * 300), "expression has more than 800 parts"),
])
def test_empty_long_and_deep_text_is_refused(ns: Namespace, text: str, message: str) -> None:
    """Empty text, text over 4000 characters, deep nesting and too many parts are refused cleanly."""
    assert rejected(text, ns) == message


def test_moderately_deep_text_still_parses(ns: Namespace) -> None:
    """Nesting below the limits builds and evaluates without a RecursionError."""
    assert evaluated(parse("-" * 390 + "x", ns)) is X
    assert evaluated(parse("(" * 199 + "x" + ")" * 199, ns)) is X
    assert evaluated(parse("exp(" * 199 + "x" + ")" * 199, ns)).func is sp.exp


# ---- regressions (bugs found and fixed) --------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::sympy.utilities.exceptions.SymPyDeprecationWarning")
@pytest.mark.parametrize("text", ["(x, s)", "x + (1, 2)", "(1, 2)**2", "exp((x, s))", "f((x, s), x)"])
def test_tuple_outside_limits_is_rejected(ns: Namespace, text: str) -> None:
    """A tuple that is not the limits of a binder is not an expression."""
    with pytest.raises(ExprSyntaxError):
        parse(text, ns)


@pytest.mark.parametrize("text", ["2**(0*x + 10**10)", "2**(x - x + 10**10)"])
def test_power_guard_sees_through_cancelling_symbols(ns: Namespace, text: str) -> None:
    """An exponent that evaluates to 10**10 is refused even when it mentions a symbol."""
    with pytest.raises(ExprSyntaxError):
        parse(text, ns)


def test_dirac_delta_is_a_builtin(ns: Namespace) -> None:
    """DiracDelta(x) parses to SymPy's delta, unevaluated (DiracDelta(0) stays as written)."""
    assert parse("DiracDelta(x - s)", ns) == sp.DiracDelta(X - S, evaluate=False)
    assert tree(parse("DiracDelta(0)", ns)) == ("DiracDelta", "Integer(0)")
    assert rejected("DiracDelta(x, s)", ns) == "'DiracDelta' takes 1 argument(s), got 2"

def test_derivative_by_an_indexed_symbol(ns: Namespace) -> None:
    """A coordinate b[k] may be the variable of a derivative (only of a derivative)."""
    assert evaluated(parse("Derivative(b[k]**2, b[k])", ns)) == sp.Derivative(B[K]**2, B[K])
    assert rejected("Sum(x, (b[k], 1, n))", ns) == "the variable of 'Sum' must be a declared symbol"


def test_kronecker_delta_is_built_unevaluated(ns: Namespace) -> None:
    assert parse("KroneckerDelta(k, n)", ns) == sp.KroneckerDelta(K, N)
    assert rejected("KroneckerDelta(k)", ns) == "'KroneckerDelta' takes 2 argument(s), got 1"

def test_subs_binds_its_variable_only(ns: Namespace) -> None:
    e = parse("Subs(Derivative(f(x, s), x), x, k + 1)", ns)
    assert e == sp.Subs(sp.Derivative(F(X, S), X), X, K + 1)
    assert "must be a declared symbol" in rejected("Subs(f(x, s), 2, k)", ns)


def test_matrix_operators_parse_and_matproduct_binds(ns: Namespace) -> None:
    from derive import ops
    e = parse("MatProduct(diag(1 - f(k, x)**2), (k, 1, n))", ns)
    assert isinstance(e, ops.MatProduct) and e.free_symbols == {X, N}
    assert isinstance(parse("sigma_max(jacobian(x, x))", ns), ops.sigma_max)
    assert "(variable, low, high)" in rejected("MatProduct(x, k)", ns)
    assert "(variable, low, high)" in rejected("MatProduct(x, (k, 1))", ns)


def test_a_symbol_named_gamma_stays_a_symbol_beside_the_gamma_function() -> None:
    g = sp.Symbol("gamma", positive=True)
    e = parse("gamma*gamma(x)", Namespace(symbols={"gamma": g, "x": X}))
    assert e == sp.Mul(g, sp.gamma(X, evaluate=False), evaluate=False)

# ---- Piecewise ------------------------------------------------------------------------------

def test_piecewise_with_chained_and_combined_conditions(ns: Namespace) -> None:
    got = evaluated(parse("Piecewise((1, 0 <= x <= 1), (x, Or(x > 2, And(x < -1, s < 0))), (0, True))", ns))
    want = sp.Piecewise((1, (0 <= X) & (X <= 1)), (X, (X > 2) | ((X < -1) & (S < 0))), (0, True))
    assert got == want


def test_piecewise_equality_condition(ns: Namespace) -> None:
    assert evaluated(parse("Piecewise((0, x == 0), (1, True))", ns)) == sp.Piecewise((0, sp.Eq(X, 0)), (1, True))


@pytest.mark.parametrize("text, message", [
    ("Piecewise((1, x))", "a condition of 'Piecewise' is True, a relation"),
    ("Piecewise((1, x != 0), (0, True))", "compares with < <= > >= == only"),
    ("Piecewise((1, x < 0))", "the last condition of 'Piecewise', and only the last, is True"),
    ("Piecewise((1, True), (0, True))", "the last condition of 'Piecewise', and only the last, is True"),
    ("Piecewise(1, 2)", "each argument of 'Piecewise' is a pair (value, condition)"),
    ("Piecewise()", "'Piecewise' takes (value, condition) pairs"),
    ("Piecewise((1, Not(x < 0)), (0, True))", "a condition of 'Piecewise' is True, a relation"),
    ("Piecewise((1, And(x < 0)), (0, True))", "a condition of 'Piecewise' is True, a relation"),
    ("Piecewise((1, y < 0), (0, True))", "undefined symbol 'y'"),
])
def test_piecewise_rejects(ns: Namespace, text: str, message: str) -> None:
    assert message in rejected(text, ns)


def test_a_leading_minus_stands_before_the_fraction() -> None:
    """`-a/b` is -(a/b) (printed - a/b), not (-a)/b (printed with (-1) a above the bar); the
    value is unchanged."""
    a, b = sp.symbols("a b")
    ns = Namespace(symbols={"a": a, "b": b})
    minus = lambda e: sp.Mul(sp.S.NegativeOne, e, evaluate=False)  # noqa: E731
    over = lambda n, d: sp.Mul(n, sp.Pow(d, -1, evaluate=False), evaluate=False)  # noqa: E731
    assert parse("-a/b", ns) == minus(over(a, b))
    assert parse("-2*a/b", ns) == minus(over(sp.Mul(2, a, evaluate=False), b))
    assert parse("a/b", ns) == over(a, b)
