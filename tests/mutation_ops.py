"""The mutation operators aimed at the soundness classes of issue 8 (see tests/mutation.py).

Each operator makes one kind of change to an expression's text; `class_mutants` returns at
most MAX_PER_KIND mutants of each kind (evenly spread over the candidates, in a fixed order).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

MAX_PER_KIND = 1
SIBLINGS = {"exp": "log", "log": "exp", "sin": "cos", "cos": "sin", "sinh": "cosh", "cosh": "sinh",
            "tanh": "sech", "sech": "tanh", "Max": "Min", "Min": "Max", "Sum": "Product", "Product": "Sum",
            "sqrt": "exp"}
BINDERS = {"Sum", "Product", "Integral", "MatProduct"}  # a (var, lo, hi) tuple after the body
NO_SWAP = BINDERS | {"Derivative", "Limit", "Subs", "Int", "MaxOver", "ArgMaxOver", "Theta", "jacobian"}
TIGHTEN = "1/1000"


def class_mutants(text: str, symbols: set[str], arity: dict[str, int]) -> list[tuple[str, str]]:
    """(kind, mutated text) for the issue-8 operators on one expression; `symbols` are the
    declared symbol names, `arity` maps each defined or declared function to its arity."""
    tree = ast.parse(text, mode="eval")
    out: list[tuple[str, str]] = []
    for kind, make in (("swap symbols", _swap_symbols), ("sibling function", _siblings),
                       ("exponent", _exponents), ("bounds", _bounds), ("zero or one", _zero_one),
                       ("swap arguments", _swap_arguments)):
        found = list(dict.fromkeys(t for t in make(tree, symbols, arity) if t != ast.unparse(tree)))
        out += [(kind, t) for t in _spread(found, MAX_PER_KIND)]
    return out


def _spread(items: list, k: int) -> list:
    """At most k items, evenly spread over the list (first and last included)."""
    if len(items) <= k:
        return items
    return [items[round(i * (len(items) - 1) / (k - 1))] for i in range(k)] if k > 1 else items[:1]


def _names(tree: ast.Expression, symbols: set[str]) -> list[str]:
    """Symbol names in order of first occurrence (call names and indexed bases excluded)."""
    calls = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    bases = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Subscript)}
    bound = {t.elts[0].id for n in ast.walk(tree) if isinstance(n, ast.Call) for t in n.args[1:]
             if isinstance(t, ast.Tuple) and t.elts and isinstance(t.elts[0], ast.Name)}
    return list(dict.fromkeys(n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in symbols - bound
                              and id(n) not in calls and id(n) not in bases))


def _swap_symbols(tree: ast.Expression, symbols: set[str], arity: dict[str, int]) -> Iterator[str]:
    names = _names(tree, symbols)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            copy = ast.parse(ast.unparse(tree), mode="eval")
            calls = {id(n.func) for n in ast.walk(copy) if isinstance(n, ast.Call)}
            for node in ast.walk(copy):
                if isinstance(node, ast.Name) and id(node) not in calls and node.id in (a, b):
                    node.id = b if node.id == a else a
            yield ast.unparse(copy)


def _siblings(tree: ast.Expression, symbols: set[str], arity: dict[str, int]) -> Iterator[str]:
    for copy, nodes, node in _each(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.func.id
            others = [SIBLINGS[name]] if name in SIBLINGS else \
                [f for f, k in sorted(arity.items()) if f != name and k == arity.get(name)]
            for other in others[:2]:
                node.func.id = other
                yield ast.unparse(copy)
                node.func.id = name


def _exponents(tree: ast.Expression, symbols: set[str], arity: dict[str, int]) -> Iterator[str]:
    for copy, nodes, node in _each(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) and not isinstance(node.right, ast.Constant):
            node.right = ast.BinOp(node.right, ast.Add(), ast.Constant(1))
            yield ast.unparse(copy)


def _bounds(tree: ast.Expression, symbols: set[str], arity: dict[str, int]) -> Iterator[str]:
    for copy, nodes, node in _each(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in BINDERS):
            continue
        for arg in node.args[1:]:
            if not (isinstance(arg, ast.Tuple) and len(arg.elts) == 3):
                continue
            for end in (1, 2):
                old = arg.elts[end]
                infinite = isinstance(old, ast.Name) and old.id == "oo" or \
                    isinstance(old, ast.UnaryOp) and isinstance(old.operand, ast.Name) and old.operand.id == "oo"
                arg.elts[end] = ast.Constant(0) if infinite else ast.BinOp(old, ast.Add(), ast.Constant(1))
                yield ast.unparse(copy)
                arg.elts[end] = old


def _zero_one(tree: ast.Expression, symbols: set[str], arity: dict[str, int]) -> Iterator[str]:
    """A term or a call argument (not a bound variable or limits) put to 0; a factor to 1."""
    for copy, nodes, node in _each(tree):
        slots: list[tuple[object, str, int | None, int]] = []
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            slots += [(node, "left", None, 0), (node, "right", None, 0)]
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)):
            slots += [(node, "left", None, 1), (node, "right", None, 1)]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id not in NO_SWAP:
            slots += [(node, "args", i, 0) for i in range(len(node.args))]
        for owner, field, i, value in slots:
            old = getattr(owner, field) if i is None else getattr(owner, field)[i]
            if isinstance(old, ast.Constant):
                continue
            if i is None:
                setattr(owner, field, ast.Constant(value))
            else:
                getattr(owner, field)[i] = ast.Constant(value)
            yield ast.unparse(copy)
            if i is None:
                setattr(owner, field, old)
            else:
                getattr(owner, field)[i] = old


def _swap_arguments(tree: ast.Expression, symbols: set[str], arity: dict[str, int]) -> Iterator[str]:
    for copy, nodes, node in _each(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id not in NO_SWAP:
            for i in range(len(node.args) - 1):
                args = node.args
                args[i], args[i + 1] = args[i + 1], args[i]
                yield ast.unparse(copy)
                args[i], args[i + 1] = args[i + 1], args[i]


def _each(tree: ast.Expression) -> Iterator[tuple[ast.Expression, list[ast.AST], ast.AST]]:
    """(fresh copy, its nodes, the i-th node of that copy) for each node index i."""
    text = ast.unparse(tree)
    for i in range(len(list(ast.walk(tree)))):
        copy = ast.parse(text, mode="eval")
        nodes = list(ast.walk(copy))
        yield copy, nodes, nodes[i]


def inequality_mutants(to: str, rel: str) -> list[tuple[str, str, str]]:
    """(kind, to, rel) of an inequality step: made strict, and its bound tightened."""
    if rel not in ("<=", "<", ">=", ">"):
        return []
    out = [("strict inequality", to, rel.rstrip("="))] if rel.endswith("=") else []
    tighter = f"({to}) - {TIGHTEN}" if rel.startswith("<") else f"({to}) + {TIGHTEN}"
    return out + [("tightened constant", tighter, rel)]
