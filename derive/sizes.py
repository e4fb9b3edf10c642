"""Size estimates made before work that can explode: expanding, and exact matrix instances.

Rules:
- `expand` and `collect` (derive/rules/algebra.py) first estimate the number of terms: a sum adds
  its terms, a product multiplies them, a power (sum of k terms)**n gives C(n+k-1, k-1);
  more than MAX_EXPAND_TERMS is refused with the estimate.
- A matrix instance has at most MAX_INSTANCE_ENTRIES entries (rows x cols).
- Derivative orders are bounded where expressions are parsed (derive/exprs.py).
"""

from __future__ import annotations

from math import comb
from typing import Any

import sympy as sp

from derive.errors import LimitError

MAX_EXPAND_TERMS = 20_000
MAX_INSTANCE_ENTRIES = 10_000


def expanded_terms(expr: Any) -> int:
    """An estimate of the number of terms of `sp.expand(expr)` (an upper bound for sums of
    distinct monomials), computed without expanding."""
    if isinstance(expr, sp.Add):
        return sum(expanded_terms(a) for a in expr.args)
    if isinstance(expr, sp.Mul):
        out = 1
        for a in expr.args:
            out *= expanded_terms(a)
        return out
    if isinstance(expr, sp.Pow) and isinstance(expr.exp, sp.Integer) and expr.exp > 1:
        k = expanded_terms(expr.base)
        return comb(int(expr.exp) + k - 1, k - 1) if k > 1 else 1
    if isinstance(expr, sp.Basic) and expr.args and not isinstance(expr, (sp.Pow, sp.Mul, sp.Add)):
        return max((expanded_terms(a) for a in expr.args), default=1)
    return 1


def check_matrix(rows: int, cols: int) -> None:
    """Refuse (LimitError) an exact matrix instance of more than MAX_INSTANCE_ENTRIES entries."""
    if rows * cols > MAX_INSTANCE_ENTRIES:
        raise LimitError(f"an exact matrix instance of {rows} x {cols} has more than {MAX_INSTANCE_ENTRIES} "
                         "entries (the limit); declare symbolic sizes such as [n, d] instead")
