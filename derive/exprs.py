"""The allow-list expression parser: spec text -> SymPy objects, with no eval.

Spec strings are never given to eval, sympify or parse_expr (they run code). The text is
read by Python's `ast` module, and only these nodes are accepted: numbers, names that the
spec declared (or the constants below), + - * / **, unary minus, calls of allow-listed or
declared functions with checked arity, `name[index]` for indexed symbols, tuples inside
calls (limits), and comparisons (only where a relation is expected). Everything else
(attributes, keywords, strings, lambdas, comprehensions, ...) is rejected with the reason.
SymPy objects are built directly, unevaluated, so the printed form keeps the author's order.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import sympy as sp

from derive import ops

MAX_TEXT = 4000
MAX_NODES = 800
MAX_DIGITS = 60
MAX_EXPONENT = 1000
MAX_DERIVATIVE_ORDER = 40
MAX_POWER_BITS = 4096


class ExprSyntaxError(ValueError):
    """The text is not an expression of the spec language; the message says why."""


# name -> (constructor taking SymPy args, allowed argument counts)
BUILTINS: dict[str, tuple[Callable[..., Any], tuple[int, ...]]] = {
    "exp": (lambda x: sp.exp(x, evaluate=False), (1,)),
    "log": (lambda x: sp.log(x, evaluate=False), (1,)),
    "sqrt": (lambda x: sp.Pow(x, sp.Rational(1, 2), evaluate=False), (1,)),
    "Abs": (lambda x: sp.Abs(x, evaluate=False), (1,)),
    "sin": (lambda x: sp.sin(x, evaluate=False), (1,)),
    "cos": (lambda x: sp.cos(x, evaluate=False), (1,)),
    "tanh": (lambda x: sp.tanh(x, evaluate=False), (1,)),
    "sech": (lambda x: sp.sech(x, evaluate=False), (1,)),
    "cosh": (lambda x: sp.cosh(x, evaluate=False), (1,)),
    "Derivative": (lambda f, *v: sp.Derivative(f, *v, evaluate=False), (2, 3, 4)),
    "Integral": (lambda f, *v: sp.Integral(f, *v), (2, 3)),
    "Sum": (lambda f, v: sp.Sum(f, v), (2,)),
    "Product": (lambda f, v: sp.Product(f, v), (2,)),
    "Limit": (lambda f, v, p: sp.Limit(f, v, p), (3,)),
    "DiracDelta": (lambda x: sp.DiracDelta(x, evaluate=False), (1,)),
    "KroneckerDelta": (lambda i, j: sp.KroneckerDelta(i, j, evaluate=False), (2,)),
    "Subs": (lambda f, v, p: sp.Subs(f, v, p), (3,)),
    "Max": (lambda *a: sp.Max(*a, evaluate=False), (2, 3, 4)),
    "Min": (lambda *a: sp.Min(*a, evaluate=False), (2, 3, 4)),
    "floor": (lambda x: sp.floor(x, evaluate=False), (1,)),
    "ceiling": (lambda x: sp.ceiling(x, evaluate=False), (1,)),
    "Heaviside": (lambda x: sp.Heaviside(x, sp.Rational(1, 2), evaluate=False), (1,)),
    "binomial": (lambda n, k: sp.binomial(n, k, evaluate=False), (2,)),
    "factorial": (lambda n: sp.factorial(n, evaluate=False), (1,)),
    "besseli": (lambda nu, x: sp.besseli(nu, x, evaluate=False), (2,)),
    "gamma": (lambda x: sp.gamma(x, evaluate=False), (1,)),
    "sinh": (lambda x: sp.sinh(x, evaluate=False), (1,)),
    "atan": (lambda x: sp.atan(x, evaluate=False), (1,)),
    "erf": (lambda x: sp.erf(x, evaluate=False), (1,)),
    "Piecewise": (sp.Piecewise, ()),  # built by _Builder._piecewise: (value, condition) pairs
}
for _name, _cls in ops.OPS.items():
    BUILTINS[_name] = (_cls, tuple(int(n) for n in _cls.nargs.args) if hasattr(_cls.nargs, "args") else (_cls.nargs,))

CONSTANTS: dict[str, Any] = {"oo": sp.oo, "pi": sp.pi}

# the variable-binding functions: which argument positions hold a bound variable or limits
BINDERS = {"Derivative", "Integral", "Sum", "Product", "Limit", "Subs", "Int", "MaxOver", "ArgMaxOver",
           "MatProduct"}


@dataclass
class Namespace:
    """The names an expression may use: declared symbols, indexed bases and functions."""

    symbols: dict[str, sp.Symbol] = field(default_factory=dict)
    indexed: dict[str, sp.IndexedBase] = field(default_factory=dict)
    functions: dict[str, tuple[Any, int]] = field(default_factory=dict)

    def known(self) -> list[str]:
        """All names, for 'did you mean' messages."""
        return sorted({*self.symbols, *self.indexed, *self.functions, *BUILTINS, *CONSTANTS})


# What SymPy raises on arguments it cannot take, e.g. Limit(x, x, x); reported as a syntax error.
SYMPY_REFUSALS = (NotImplementedError, ArithmeticError, TypeError, ValueError, RecursionError,
                  sp.polys.polyerrors.BasePolynomialError)


def parse(text: str, ns: Namespace) -> Any:
    """Parse an expression (no relations) into an unevaluated SymPy object."""
    tree = _tree(text, "expression")
    if isinstance(tree, ast.Compare):
        raise ExprSyntaxError("a relation is not allowed here; write an expression")
    return _refusals_as_syntax(lambda: _Builder(ns).build(tree))


def _refusals_as_syntax(make: Callable[[], Any]) -> Any:
    """`make()`, with SymPy's refusals of its arguments turned into ExprSyntaxError."""
    try:
        return make()
    except ExprSyntaxError:
        raise
    except SYMPY_REFUSALS as exc:
        raise ExprSyntaxError(f"SymPy cannot build this: {' '.join(str(exc).split())[:200]}") from None


def parse_relations(text: str, ns: Namespace) -> list[Any]:
    """Parse `a < b` or a chained `a < b <= c` into SymPy relationals (one per comparison);
    an equality may be written `a = b` or `a == b`."""
    if isinstance(text, str):
        text = _ASSIGN.sub("==", text)
    tree = _tree(text, "relation")
    if not isinstance(tree, ast.Compare):
        raise ExprSyntaxError("expected a relation such as 0 < s or s <= 1")
    b = _Builder(ns)
    terms = _refusals_as_syntax(lambda: [b.build(tree.left)] + [b.build(c) for c in tree.comparators])
    out = []
    for op, lhs, rhs in zip(tree.ops, terms, terms[1:]):
        kind = {ast.Lt: sp.StrictLessThan, ast.LtE: sp.LessThan, ast.Gt: sp.StrictGreaterThan,
                ast.GtE: sp.GreaterThan, ast.Eq: sp.Eq, ast.NotEq: sp.Ne}.get(type(op))
        if kind is None:
            raise ExprSyntaxError(f"relation {type(op).__name__} is not allowed")
        out.append(kind(evaluated(lhs), evaluated(rhs), evaluate=False))
    return out


def evaluated(expr: Any) -> Any:
    """The same expression with SymPy's automatic simplifications applied (for computing)."""
    if not isinstance(expr, sp.Basic) or expr.is_Atom or not expr.args:
        return expr
    return expr.func(*[evaluated(a) for a in expr.args])


# a single `=` (not part of ==, <=, >=, !=): the author meant an equation
_ASSIGN = re.compile(r"(?<![<>=!])=(?!=)")
_ASSIGN_HINT = {"expression": "; `=` is not allowed in an expression (a step's relation goes under `rel:`)"}


def _tree(text: str, kind: str) -> ast.AST:
    """The parsed body of `text`; a syntax error says where, with a hint for a lone `=`."""
    if not isinstance(text, str) or not text.strip():
        raise ExprSyntaxError("empty expression")
    if len(text) > MAX_TEXT:
        raise ExprSyntaxError(f"expression longer than {MAX_TEXT} characters")
    try:
        tree = ast.parse(text.strip().replace("\n", " "), mode="eval")
    except SyntaxError as exc:
        col = f" at column {exc.offset}" if exc.offset else ""
        hint = _ASSIGN_HINT.get(kind, "") if _ASSIGN.search(text) else ""
        raise ExprSyntaxError(f"malformed {kind}{col}: {exc.msg}{hint}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExprSyntaxError("expression nested too deeply") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ExprSyntaxError(f"expression has more than {MAX_NODES} parts")
    return tree.body


class _Builder:
    """Turns an allow-listed AST into SymPy objects."""

    def __init__(self, ns: Namespace):
        self.ns = ns

    def build(self, node: ast.AST) -> Any:
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            raise ExprSyntaxError(f"{_describe(node)} is not allowed in an expression")
        return method(node)

    def _Constant(self, node: ast.Constant) -> Any:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ExprSyntaxError(f"{_describe(node)} is not allowed in an expression")
        if isinstance(value, int):
            if len(str(abs(value))) > MAX_DIGITS:
                raise ExprSyntaxError(f"number with more than {MAX_DIGITS} digits")
            return sp.Integer(value)
        if not math.isfinite(value):
            raise ExprSyntaxError("number is not finite")
        return sp.Rational(repr(value))

    def _Name(self, node: ast.Name) -> Any:
        name = node.id
        if name in self.ns.symbols:
            return self.ns.symbols[name]
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in self.ns.functions or name in BUILTINS:
            raise ExprSyntaxError(f"'{name}' is a function: call it with arguments")
        if name in self.ns.indexed:
            raise ExprSyntaxError(f"'{name}' is indexed: write {name}[k]")
        raise ExprSyntaxError(f"undefined symbol '{name}' (declare it under symbols)")

    def _UnaryOp(self, node: ast.UnaryOp) -> Any:
        operand = self.build(node.operand)
        if isinstance(node.op, ast.USub):
            if isinstance(operand, sp.Number):
                return -operand
            return sp.Mul(sp.S.NegativeOne, operand, evaluate=False)
        if isinstance(node.op, ast.UAdd):
            return operand
        raise ExprSyntaxError(f"operator {type(node.op).__name__} is not allowed")

    def _BinOp(self, node: ast.BinOp) -> Any:
        a, b = self.build(node.left), self.build(node.right)
        op = node.op
        if isinstance(op, ast.Add):
            return sp.Add(*_terms(a, sp.Add), b, evaluate=False)
        if isinstance(op, ast.Sub):
            neg = -b if isinstance(b, sp.Number) else sp.Mul(sp.S.NegativeOne, b, evaluate=False)
            return sp.Add(*_terms(a, sp.Add), neg, evaluate=False)
        if isinstance(op, ast.Mult):
            return sp.Mul(*_terms(a, sp.Mul), b, evaluate=False)
        if isinstance(op, ast.Div):
            if isinstance(a, sp.Integer) and isinstance(b, sp.Integer) and b != 0:
                return sp.Rational(a, b)
            if a == 1:
                return sp.Pow(b, sp.S.NegativeOne, evaluate=False)
            negative, a = _sign_out(a)
            q = sp.Mul(a, sp.Pow(b, sp.S.NegativeOne, evaluate=False), evaluate=False)
            return sp.Mul(sp.S.NegativeOne, q, evaluate=False) if negative else q
        if isinstance(op, ast.Pow):
            _check_power(a, b)
            return sp.Pow(a, b, evaluate=False)
        raise ExprSyntaxError(f"operator {type(op).__name__} is not allowed")

    def _Subscript(self, node: ast.Subscript) -> Any:
        if not isinstance(node.value, ast.Name) or node.value.id not in self.ns.indexed:
            raise ExprSyntaxError("only declared indexed symbols can be subscripted, as b[k]")
        index = self.build(node.slice)
        return self.ns.indexed[node.value.id][index]

    def _Call(self, node: ast.Call) -> Any:
        if not isinstance(node.func, ast.Name):
            raise ExprSyntaxError("only named functions can be called (no attributes or calls of calls)")
        if node.keywords:
            raise ExprSyntaxError("keyword arguments are not allowed")
        name = node.func.id
        if name == "Piecewise":
            return self._piecewise(node.args)
        args = []
        for a in node.args:
            if isinstance(a, ast.Starred):
                raise ExprSyntaxError("starred arguments are not allowed")
            if isinstance(a, ast.Tuple) and name in BINDERS:  # limits such as (k, 1, n)
                args.append(sp.Tuple(*[self.build(e) for e in a.elts]))
            else:
                args.append(self.build(a))
        if name in self.ns.functions:
            head, arity = self.ns.functions[name]
            if len(args) != arity:
                raise ExprSyntaxError(f"'{name}' takes {arity} argument(s), got {len(args)}")
            return head(*args)
        if name not in BUILTINS:
            raise ExprSyntaxError(f"unknown function '{name}' (declare it under functions or definitions)")
        make, counts = BUILTINS[name]
        if len(args) not in counts:
            want = " or ".join(str(c) for c in counts)
            raise ExprSyntaxError(f"'{name}' takes {want} argument(s), got {len(args)}")
        if name in BINDERS:
            _check_bound(name, args[1:])
        try:
            return make(*args)
        except (TypeError, ValueError) as exc:
            raise ExprSyntaxError(f"bad arguments to '{name}': {exc}") from None


    def _piecewise(self, pairs: list[ast.AST]) -> Any:
        """Piecewise((value, condition), ..., (value, True)): each condition a relation
        (chained ones are conjunctions) or And/Or of conditions; the last one is True, so the
        function is defined everywhere."""
        if not pairs:
            raise ExprSyntaxError("'Piecewise' takes (value, condition) pairs")
        built = []
        for k, pair in enumerate(pairs):
            if not (isinstance(pair, ast.Tuple) and len(pair.elts) == 2):
                raise ExprSyntaxError("each argument of 'Piecewise' is a pair (value, condition)")
            value, cond = self.build(pair.elts[0]), self._condition(pair.elts[1])
            if (cond is sp.true) != (k == len(pairs) - 1):
                raise ExprSyntaxError("the last condition of 'Piecewise', and only the last, is True")
            built.append((value, cond))
        return sp.Piecewise(*built, evaluate=False)

    def _condition(self, node: ast.AST) -> Any:
        """A condition of Piecewise: True, a relation < <= > >= == (chained: all of them), or
        And(...)/Or(...) of conditions."""
        if isinstance(node, ast.Constant) and node.value is True:
            return sp.true
        if isinstance(node, ast.Compare):
            kinds = {ast.Lt: sp.StrictLessThan, ast.LtE: sp.LessThan, ast.Gt: sp.StrictGreaterThan,
                     ast.GtE: sp.GreaterThan, ast.Eq: sp.Eq}
            if any(type(op) not in kinds for op in node.ops):
                raise ExprSyntaxError("a condition of 'Piecewise' compares with < <= > >= == only")
            terms = [evaluated(self.build(t)) for t in (node.left, *node.comparators)]
            rels = [kinds[type(op)](lhs, rhs) for op, lhs, rhs in zip(node.ops, terms, terms[1:])]
            return rels[0] if len(rels) == 1 else sp.And(*rels)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("And", "Or") \
                and len(node.args) >= 2 and not node.keywords:
            return (sp.And if node.func.id == "And" else sp.Or)(*[self._condition(a) for a in node.args])
        raise ExprSyntaxError("a condition of 'Piecewise' is True, a relation such as 0 <= z, "
                              "or And(...)/Or(...) of conditions")


def _terms(a: Any, kind: type) -> tuple:
    """The operands of a left operand of the same kind (a + b + c is one sum, not nested)."""
    return a.args if isinstance(a, kind) else (a,)


def _sign_out(a: Any) -> tuple[bool, Any]:
    """A numerator's leading sign taken out, so that `-a/b` is -(a/b), not (-a)/b (which
    prints as a fraction with (-1) a above the bar): (True, a) for Mul(-1, a) and for a product
    with a negative leading number, else (False, a) unchanged."""
    if isinstance(a, sp.Mul) and a.args and isinstance(a.args[0], sp.Number) and a.args[0] < 0:
        rest = a.args[1:] if a.args[0] == -1 else (-a.args[0], *a.args[1:])
        return True, rest[0] if len(rest) == 1 else sp.Mul(*rest, evaluate=False)
    return False, a


def _check_bound(name: str, specs: list) -> None:
    """Bound variables must be symbols; limits are (symbol, low, high) tuples."""
    if name == "Subs":  # Subs(f, x, value): f with x put equal to value
        specs = specs[:1]
    for s in specs:
        if name == "Limit":
            return
        if name == "Derivative" and isinstance(s, sp.Integer) and 0 < s <= 4:
            continue
        if name == "MatProduct" and not isinstance(s, sp.Tuple):
            raise ExprSyntaxError("MatProduct limits are written (variable, low, high)")
        var = s[0] if isinstance(s, sp.Tuple) and len(s) else s
        if isinstance(s, sp.Tuple) and name == "Derivative" and len(s) != 2:
            raise ExprSyntaxError("Derivative takes (variable, order) pairs")
        if isinstance(s, sp.Tuple) and name == "Derivative" and not (isinstance(s[1], sp.Integer)
                                                                    and 0 < s[1] <= MAX_DERIVATIVE_ORDER):
            raise ExprSyntaxError(f"a derivative order must be a whole number from 1 to {MAX_DERIVATIVE_ORDER}")
        if isinstance(s, sp.Tuple) and name in ("Sum", "Product", "Integral", "MatProduct") and len(s) != 3:
            raise ExprSyntaxError(f"{name} limits are written (variable, low, high)")
        if not (isinstance(var, sp.Symbol) or (name == "Derivative" and isinstance(var, sp.Indexed))):
            raise ExprSyntaxError(f"the variable of '{name}' must be a declared symbol"
                                  + (" or an indexed one like e[k]" if name == "Derivative" else ""))


def _check_power(base: Any, exponent: Any) -> None:
    """Refuse powers whose value would be huge (2**(10**10) exhausts memory)."""
    base, exponent = _value(base), _value(exponent)
    if isinstance(exponent, sp.Number) and exponent.is_finite and abs(exponent) > MAX_EXPONENT:
        raise ExprSyntaxError(f"exponent larger than {MAX_EXPONENT}")
    if isinstance(base, sp.Rational) and isinstance(exponent, sp.Number):
        size = max(abs(base.p), abs(base.q), 2)
        if float(abs(exponent)) * math.log2(size) > MAX_POWER_BITS:
            raise ExprSyntaxError("number too large")


def _value(expr: Any) -> Any:
    """The evaluated form of a subexpression, so that 0*x + 10**10 is seen as 10**10
    (safe: every power inside it was already checked)."""
    return evaluated(expr) if isinstance(expr, sp.Basic) else expr


def _describe(node: ast.AST) -> str:
    if isinstance(node, ast.Constant):
        return f"the literal {node.value!r}"
    if isinstance(node, ast.Attribute):
        return f"attribute access '.{node.attr}'"
    return f"'{type(node).__name__}'"
