"""Hypotheses checked against the definitions: a given equation that mentions a defined name
states something the definitions already decide, so it must not be refuted on an exact
instance (else the problem contradicts itself, and everything cited from it is unfounded)."""

from __future__ import annotations

from derive.matrices import is_matrix
from derive.verify.base import Context, StepRejected
from derive.scope import Scope


def contradicted_hypotheses(scope: Scope) -> dict[str, str]:
    """name -> why, for each scalar equality hypothesis whose sides mention a definition and
    which a check refutes (a counterexample, or a side undefined on an instance)."""
    from derive.verify import check  # the table of checks imports this package's modules

    out = {}
    for name, h in scope.hypotheses.items():
        if h.rel != "=" or h.params or h.lhs is None or is_matrix(h.lhs, scope.shapes):
            continue
        if scope.unfold(h.lhs) == h.lhs and scope.unfold(h.body) == h.body:
            continue  # no definition involved: the hypothesis constrains unknowns
        try:
            check(h.lhs, "=", h.body, Context(scope, seed=0))
        except StepRejected as exc:
            if exc.message.startswith(("false", "the left side is undefined", "the right side is undefined")):
                out[name] = f"contradicts the definitions: {exc.message}; {exc.counterexample}"
    return out
