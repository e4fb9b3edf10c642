"""What a problem gives, checked against its definitions once per problem: a given equation
that mentions a defined name states something the definitions already decide, so it must not
be refuted on an exact instance (else the problem contradicts itself, and everything cited
from it is unfounded); a definition declared a density must be one."""

from __future__ import annotations

import dataclasses

import sympy as sp

from derive.matrices import is_matrix
from derive.ops import Int
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


def improper_densities(scope: Scope, names: list[str]) -> dict[str, str]:
    """name -> why, for each definition declared `density: true` that the verifier does not
    accept as a density in its leading parameters (those before `given`): its value must be
    >= 0 and its integral over them 1 (a sum over a finite space, else over the real line).
    A parameter used at a finite space ranges over it."""
    from derive.verify import check

    out = {}
    for name in names:
        d = scope.definitions.get(name)
        if d is None or not d.params:
            continue
        leading = d.params[:len(d.params) - scope.given.get(name, 0)]
        spaces = dict(scope.symbol_space)
        for p, space in zip(d.params, scope.param_spaces.get(name, ())):
            if space is not None and space != "R":
                spaces.setdefault(p, space)
        ctx = Context(dataclasses.replace(scope, symbol_space=spaces), seed=0)
        value = scope.ns.functions[name][0](*d.params)
        total = value
        for p in leading:
            total = Int(total, p) if p in spaces else sp.Integral(total, (p, -sp.oo, sp.oo))
        for lhs, rel, rhs in ((sp.Integer(0), "<=", value), (total, "=", sp.Integer(1))):
            try:
                check(lhs, rel, rhs, ctx)
            except StepRejected as exc:
                out[name] = (f"is declared a density, but {sp.sstr(lhs)} {rel} {sp.sstr(rhs)} is not shown: "
                             f"{exc.message}; {exc.counterexample}")
                break
    return out
