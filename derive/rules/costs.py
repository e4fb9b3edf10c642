"""Cost-model rules: operation counts of matrix expressions.

The cost model counts primitive scalar operations (+, -, *, /, exp, sqrt) of the
textbook algorithms: an entry of A B with inner size k costs k products and k - 1 sums;
scaling costs one product per entry; a softmax row of length p costs p exponentials,
p - 1 sums and p divisions. derive/instances.py counts the same algorithms by running
them on small matrices, which is how the verifier checks these formulas.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from derive.ops import T, cost, matmul, scale, softmax_rows
from derive.rules import RuleError, rule


def shape(x: Any, shapes: dict) -> tuple[Any, Any]:
    """(rows, columns) of a matrix expression."""
    if isinstance(x, sp.Symbol):
        if x not in shapes:
            raise RuleError(f"{x} has no declared shape")
        return shapes[x]
    if isinstance(x, T):
        r, c = shape(x.args[0], shapes)
        return c, r
    if isinstance(x, matmul):
        (r, k1), (k2, c) = shape(x.args[0], shapes), shape(x.args[1], shapes)
        if sp.simplify(k1 - k2) != 0:
            raise RuleError(f"shapes do not match in {x}: {k1} vs {k2}")
        return r, c
    if isinstance(x, (scale, softmax_rows)):
        return shape(x.args[0], shapes)
    raise RuleError(f"not a matrix expression: {x}")


def own_cost(x: Any, shapes: dict) -> Any:
    """Operations of the outermost operation of x alone (its operands already computed)."""
    if isinstance(x, (sp.Symbol, T)):
        return sp.S.Zero
    r, c = shape(x, shapes)
    if isinstance(x, matmul):
        k = shape(x.args[0], shapes)[1]
        return r * c * (2 * k - 1)
    if isinstance(x, scale):
        return r * c
    if isinstance(x, softmax_rows):
        return r * (3 * c - 1)
    raise RuleError(f"no cost model for {x}")


def operands(x: Any) -> tuple[Any, ...]:
    """The matrix operands of x (a transpose is free and has its argument as operand)."""
    if isinstance(x, (matmul,)):
        return x.args
    if isinstance(x, (scale, softmax_rows, T)):
        return x.args[:1]
    return ()


@rule("count_ops", "operation counts of the cost model")
def count_ops(expr: Any, args: dict, ctx: Any) -> Any:
    """cost(X) = sum over the operations of X of their own counts (operands first)."""
    nodes = expr.atoms(cost)
    if not nodes:
        raise RuleError("no cost(...) to count")

    def total(x: Any) -> Any:
        return own_cost(x, ctx.scope.shapes) + sum((total(o) for o in operands(x)), sp.S.Zero)

    return expr.xreplace({n: total(n.args[0]) for n in nodes})
