"""Which expressions need exact instances: abstract objects (integrals over finite spaces,
expectations, maxima, operation counts, sums, unknown tables, whole-number parameters), the
free variables of an expression with every binder respected, and which unknown functions a
tied instance makes coincide."""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef

from derive.ops import ArgMaxOver, E, Int, MatProduct, MaxOver, Var, cost, min_cost
from derive.scope import Scope, inequality_hypotheses

ABSTRACT_OPS = (Int, E, Var, MaxOver, ArgMaxOver, cost, min_cost)


def is_abstract(expr: Any, scope: Scope) -> bool:
    """Does expr involve objects only an instance can give meaning to?"""
    if expr.atoms(*ABSTRACT_OPS) or expr.atoms(sp.Sum, sp.Product) or whole_number_params(expr):
        return True
    if any(f.func.__name__ in scope.functions for f in expr.atoms(AppliedUndef)):
        return True
    return bool(expr.free_symbols & (scope.random | set(scope.symbol_space)))


BINDING_OPS = (Int, MaxOver, ArgMaxOver)


def free_vars(expr: Any) -> set:
    """Free symbols of expr, where Int, MaxOver and ArgMaxOver bind their variable(s) (and the
    binders of SymPy and MatProduct theirs)."""
    if isinstance(expr, BINDING_OPS):
        return free_vars(expr.args[0]) - set(expr.args[1:])
    if isinstance(expr, (sp.Sum, sp.Product, sp.Integral)):  # SymPy's binders, with ours inside
        bounds = set().union(*(free_vars(b) for _, *lims in expr.limits for b in lims))
        return (free_vars(expr.function) - set(expr.variables)) | bounds
    if isinstance(expr, sp.Limit):
        return (free_vars(expr.args[0]) - {expr.args[1]}) | free_vars(expr.args[2])
    if isinstance(expr, (sp.Subs, MatProduct)):
        return set(expr.free_symbols)
    if not isinstance(expr, sp.Basic) or not expr.args:
        return set(expr.free_symbols) if isinstance(expr, sp.Basic) else set()
    return set().union(*(free_vars(a) for a in expr.args))


def put_free(expr: Any, values: dict) -> Any:
    """expr with the free occurrences of the symbols in `values` replaced; a variable bound by
    Int, MaxOver, ArgMaxOver or SymPy's Sum, Product, Integral keeps its name inside its binder
    (so Int(P(s, s2), s) - Int(P(s2, s), s2) at s = 0 still sums over s)."""
    binders = [b for b in sp.preorder_traversal(expr) if isinstance(b, (*BINDING_OPS, sp.Sum, sp.Product, sp.Integral))]
    if not any(_bound_by(b) & set(values) for b in binders):
        return expr.xreplace(values)
    return _put(expr, values)


def _bound_by(node: Any) -> set:
    return set(node.args[1:]) if isinstance(node, BINDING_OPS) else set(node.variables)


def _put(expr: Any, values: dict) -> Any:
    if expr in values:
        return values[expr]
    if not isinstance(expr, sp.Basic) or not expr.args or not values:
        return expr
    if isinstance(expr, BINDING_OPS):
        inner = {k: v for k, v in values.items() if k not in _bound_by(expr)}
        return expr.func(_put(expr.args[0], inner), *expr.args[1:])
    if isinstance(expr, (sp.Sum, sp.Product, sp.Integral)):
        inner = {k: v for k, v in values.items() if k not in _bound_by(expr)}
        limits = [(x, *(_put(b, values) for b in lims)) for x, *lims in expr.limits]
        return expr.func(_put(expr.function, inner), *limits)
    return expr.func(*(_put(a, values) for a in expr.args))


def whole_number_params(expr: Any) -> list[sp.Symbol]:
    """Integer symbols that are not bound inside expr."""
    return sorted((s for s in free_vars(expr) if s.is_integer), key=str)


def tie_leader(scope: Scope, name: str, tied: frozenset[str]) -> str | None:
    """Among the `tied` functions, the free one (neither a density nor bounded by a hypothesis)
    declared first with the same argument spaces as `name`, when that is another function:
    `name`'s table is then the leader's, times the instance's tie sign (F2 = F1 or F2 = -F1), the
    coincident cases where bounds in F1 - F2 or F1 + F2 are tight."""
    if name not in tied:
        return None
    bounded = {h.head for h in inequality_hypotheses(scope)}
    spaces = scope.functions[name].spaces
    free = [f.name for f in scope.functions.values()
            if f.name in tied and not f.density and f.name not in bounded and f.spaces == spaces]
    return free[0] if name in free and free[0] != name else None


def tie_names(scope: Scope, expr: Any) -> frozenset[str]:
    """The unknown functions of expr (definitions unfolded) when two of them are free and on
    the same spaces, so that a tied instance differs from an untied one; else empty."""
    names = frozenset(f.func.__name__ for f in scope.unfold(expr).atoms(AppliedUndef)) & set(scope.functions)
    return names if any(tie_leader(scope, name, names) for name in names) else frozenset()
