"""Cost-model rules: operation counts of matrix expressions.

The cost model counts primitive scalar operations (+, -, *, /, exp, sqrt) of the
textbook algorithms: an entry of A B with inner size k costs k products and k - 1 sums;
scaling costs one product per entry; a softmax row of length p costs p exponentials,
p - 1 sums and p divisions. derive/instances.py counts the same algorithms by running
them on small matrices, which is how the verifier checks these formulas. Definitions are
unfolded before counting (a matrix defined as R^T costs what R^T costs).
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from derive.matrices import parenthesisations, product_factors
from derive.ops import T, cost, matmul, min_cost, scale, softmax_rows
from derive.rules import RuleError, rule, shown
from derive.verify import Context, sign_certificate


def shape(x: Any, shapes: dict) -> tuple[Any, Any]:
    """(rows, columns) of a matrix expression."""
    if isinstance(x, sp.Symbol):
        if x not in shapes:
            raise RuleError(f"{shown(x)} has no declared shape")
        return shapes[x]
    if isinstance(x, T):
        r, c = shape(x.args[0], shapes)
        return c, r
    if isinstance(x, matmul):
        (r, k1), (k2, c) = shape(x.args[0], shapes), shape(x.args[1], shapes)
        if sp.simplify(k1 - k2) != 0:
            raise RuleError(f"shapes do not match in {shown(x)}: {k1} vs {k2}")
        return r, c
    if isinstance(x, (scale, softmax_rows)):
        return shape(x.args[0], shapes)
    raise RuleError(f"not a matrix expression: {shown(x)}")


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
    raise RuleError(f"no cost model for {shown(x)}")


def operands(x: Any) -> tuple[Any, ...]:
    """The matrix operands of x (a transpose is free and has its argument as operand)."""
    if isinstance(x, (matmul,)):
        return x.args
    if isinstance(x, (scale, softmax_rows, T)):
        return x.args[:1]
    return ()


def count(x: Any, scope: Any) -> Any:
    """cost(x) in the model: the own counts of all operations of x, operands first."""
    def total(y: Any) -> Any:
        return own_cost(y, scope.shapes) + sum((total(o) for o in operands(y)), sp.S.Zero)

    return total(scope.unfold(x))


@rule("count_ops", "operation counts of the cost model")
def count_ops(expr: Any, args: dict, ctx: Any) -> Any:
    """cost(X) = sum over the operations of X of their own counts (operands first)."""
    nodes = expr.atoms(cost)
    if not nodes:
        raise RuleError(f"no cost(...) to count in {shown(expr)}")
    return expr.xreplace({n: count(n.args[0], ctx.scope) for n in nodes})


@rule("cheapest_order", "cheapest order of the product, certified against every other order")
def cheapest_order(expr: Any, args: dict, ctx: Any) -> Any:
    """min_cost(A_1 ... A_m) = cost(X) for the parenthesisation X whose count is <= the count
    of every other order for all sizes the chain's assumptions allow: each difference gets a
    sign certificate (e.g. k <= d written d = k + t, t >= 0, and all terms non-negative)."""
    nodes = expr.atoms(min_cost)
    if not nodes:
        raise RuleError(f"no min_cost(...) to resolve in {shown(expr)}")
    return expr.xreplace({n: cost(cheapest(n.args[0], ctx)) for n in nodes})


def cheapest(x: Any, ctx: Any) -> Any:
    """The first order of the product chain x certified no costlier than every other order."""
    orders = parenthesisations(product_factors(x))
    counts = [sp.expand(count(o, ctx.scope)) for o in orders]
    check = Context(ctx.scope, ctx.assume)
    for i, c in enumerate(counts):
        if all(sign_certificate(other - c, False, check) for j, other in enumerate(counts) if j != i):
            return orders[i]
    listing = "; ".join(f"{sp.sstr(o)}: {sp.sstr(c)}" for o, c in zip(orders, counts))
    raise RuleError(f"no order is certified cheapest for all sizes the assumptions allow ({listing})")
