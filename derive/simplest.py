"""The simplest form equal to a computed rule result, offered by the engine when a step has no `to:`.

Rule: a step whose rule computes (differentiates, integrates, takes a limit, sums, takes
Gaussian moments) and names no result prints SymPy's raw output only when no equal form has
fewer operations. The candidates are SymPy's `simplify`, `factor` and `cancel` of the result;
the one with the fewest operations (`count_ops`) replaces it when it has at most two thirds
as many, brings in no function the raw result lacks (no cosh for a sigmoid's exponentials),
and the verifier proves it equal to the raw result symbolically. The step is then checked from
the previous expression to the simplified form, and its note says it was simplified.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from derive.verify import Context, StepRejected, check

COMPUTING_RULES = frozenset({"differentiate", "integrate", "limit", "evaluate_sums", "gaussian_moments"})
SIMPLIFIED_NOTE = "; simplified to the simplest equal form"


def simplest(result: Any, ctx: Context) -> Any | None:
    """The simplest proven-equal form of `result`, or None when `result` is already simplest."""
    if not isinstance(result, sp.Expr) or result.has(sp.Piecewise):
        return None
    functions = {type(f) for f in result.atoms(sp.Function)}
    best, best_ops = None, 2 * sp.count_ops(result) // 3 + 1
    for transform in (sp.simplify, sp.factor, sp.cancel):
        try:
            candidate = transform(result)
        except (sp.PolynomialError, NotImplementedError, TypeError, ValueError):
            continue
        ops = sp.count_ops(candidate)
        if ops < best_ops and not candidate.has(sp.Piecewise) \
                and {type(f) for f in candidate.atoms(sp.Function)} <= functions:
            best, best_ops = candidate, ops
    if best is None:
        return None
    try:
        verdict = check(result, "=", best, ctx)
    except StepRejected:
        return None
    return best if verdict.method == "symbolic" else None
