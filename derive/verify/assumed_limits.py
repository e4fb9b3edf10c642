"""Limits whose value depends on the chain's assumptions.

Rule: a limit `Limit(f, n, p)` that SymPy cannot take because its value depends on the sign
of a parameter (e.g. `(1 - s)**n` for n -> oo needs |1 - s| < 1) is taken again with every
parameter bounded by `assume` written through a fresh dummy that covers exactly its allowed
values (0 < s < 1 as s = t/(1 + t), t > 0; the same parametrisation as the sign certificate,
`certificates._bounded_substitution`). The value is accepted only when it is one expression
free of the dummies: then it is the limit at every allowed value of the parameters. A limit
whose variable is itself bounded, or whose parametrised limit SymPy cannot take either, or
whose value still depends on a dummy, is left as it is (the caller then decides as before).
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from derive.verify.base import Context
from derive.verify.certificates import _bounded_substitution


def assumed_limit(node: sp.Limit, ctx: Context) -> Any:
    """The value of `node` under the chain's assumptions, or `node` itself (see the module)."""
    var = node.args[1]
    if not ctx.assume or any(var in rel.free_symbols for rel in ctx.assume):
        return node
    parts = _bounded_substitution(node, ctx)
    if len(parts) != 1 or parts[0] == node:
        return node
    try:
        value = parts[0].doit()
    except (NotImplementedError, ValueError, TypeError, ArithmeticError):
        return node
    if value.atoms(sp.Limit, sp.AccumBounds) or any(isinstance(s, sp.Dummy) for s in value.free_symbols):
        return node
    return value


def assumed_limits(expr: Any, ctx: Context) -> Any:
    """`expr` with every limit taken under the chain's assumptions where that decides it."""
    if not isinstance(expr, sp.Basic) or not expr.has(sp.Limit):
        return expr
    return expr.replace(lambda e: isinstance(e, sp.Limit), lambda e: assumed_limit(e, ctx))
