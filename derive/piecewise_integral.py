"""Exact integrals of piecewise functions over intervals, infinite values included.

Rules:
- The break points of an integral are the roots in its variable z of the relations in the
  conditions of the Piecewise functions of its integrand (each linear in z), and its finite
  limits. On each open interval between consecutive break points every Piecewise is one of
  its branches, found by deciding the conditions at an inner point; the end points are a set
  of measure zero and do not count.
- On an interval the piece is evaluated in the extended reals: a product with a factor 0 is 0
  (0 * oo = 0, the convention of the divergence integrals: the integrand vanishes where the
  weight p does), except 0/0, which has no value; x/0 is +oo (the quantities divided are
  densities, so 1/q is the limit from above), log 0 = -oo and log oo = oo. |x| is the
  Piecewise x for x >= 0, -x otherwise (its root a break point like the others). A piece that is
  +oo (-oo) on an interval of positive length gives the integral +oo (-oo); finite pieces
  are integrated by SymPy in closed form. Both +oo and -oo, or 0/0, is an error.
- One parameter p may move the break points (each linear in p with rational coefficients).
  Their order changes only at the values of p where two of them meet (and where a condition
  free of z changes, or the sign of an |x|), so the real line of p splits into finitely many cases: open intervals
  and points. On a point p takes its value; on an open interval every condition is decided
  at one exact inner value of p, which decides it on the whole interval, while the pieces
  and their limits stay symbolic in p. The value of an expression is computed in every case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import sympy as sp

from sympy.core.function import AppliedUndef

from derive.rules import RuleError, shown


@dataclass(frozen=True)
class Case:
    """One case of the parameter: an open interval (lo, hi) decided at `sample`, or a point."""

    param: Any
    sample: Any
    point: bool
    lo: Any = -sp.oo
    hi: Any = sp.oo

    def text(self) -> str:
        """The case as a relation of the parameter."""
        if self.param is None:
            return "the single case"
        if self.point:
            return f"{self.param} = {self.sample}"
        if self.lo == -sp.oo and self.hi == sp.oo:
            return f"every real {self.param}"
        return "".join([f"{self.lo} < " if self.lo != -sp.oo else "", str(self.param),
                        f" < {self.hi}" if self.hi != sp.oo else ""])

    def decisions(self) -> dict:
        return {} if self.param is None or self.point else {self.param: self.sample}

    def fixed(self, expr: Any) -> Any:
        return expr.xreplace({self.param: self.sample}) if self.point else expr


def cases(exprs: list[Any], param: Any, unfold: Callable[[Any], Any] = lambda e: e) -> list[Case]:
    """The cases of `param` in which the break points of every integral in `exprs`, and the
    conditions outside integrals, keep their order."""
    crit: set[Any] = set()
    for expr in exprs:
        expr = _opened(expr, unfold)
        variables = set()
        for node in expr.atoms(sp.Integral):
            z, lo, hi = _limits(node)
            variables.add(z)
            points = _break_points(node.function, z) + [b for b in (lo, hi) if b.is_finite is not False]
            crit |= {_root(b1 - b2, param) for i, b1 in enumerate(points) for b2 in points[i + 1:]}
        # a condition free of every integration variable (inside an integrand or not) changes where it meets 0
        crit |= {_root(r.lhs - r.rhs, param) for r in _relations(expr) if not r.free_symbols & variables}
    crit.discard(None)
    if param is None:
        if crit:
            raise RuleError("the break points depend on a parameter: name the parameter with `param:`")
        return [Case(None, None, False)]
    values = sorted(crit)
    if not values:
        return [Case(param, sp.S.Zero, False)]
    out = [Case(param, values[0] - 1, False, hi=values[0])]
    for c, nxt in zip(values, values[1:] + [None]):
        out.append(Case(param, c, True))
        out.append(Case(param, c + 1 if nxt is None else (c + nxt) / 2, False, lo=c, hi=sp.oo if nxt is None else nxt))
    return out


def value_in(expr: Any, case: Case, unfold: Callable[[Any], Any] = lambda e: e) -> Any:
    """The exact value of `expr` (integrals of piecewise functions carried out) in one case.
    `unfold` opens one application of a definition (the walk opens them where it meets them,
    so that no integral is rebuilt around an unfolded Piecewise: SymPy would fold it into one
    Piecewise and lose 0 * log(0/0) = 0)."""
    return _value(case.fixed(expr), case.decisions(), case, lambda e: case.fixed(unfold(e)))


def _limits(node: sp.Integral) -> tuple[Any, Any, Any]:
    if len(node.limits) != 1 or len(node.limits[0]) != 3:
        raise RuleError(f"{shown(node)} is not one integral over an interval (z, lo, hi)")
    return node.limits[0]


def _relations(expr: Any) -> list[Any]:
    """The relations in the conditions of the Piecewise functions of expr, and x >= 0 for
    each |x| (read as the Piecewise x if x >= 0, else -x)."""
    signs = [sp.GreaterThan(x.args[0], 0) for x in expr.atoms(sp.Abs)]
    return [r for pw in expr.atoms(sp.Piecewise) for _, cond in pw.args
            for r in (cond.atoms(sp.Rel) if cond not in (sp.true, sp.false) else ())] + \
        [r for r in signs if isinstance(r, sp.Rel)]


def _break_points(f: Any, z: Any) -> list[Any]:
    """The roots in z of the relations of f's conditions that involve z (each linear in z)."""
    out: list[Any] = []
    for rel in _relations(f):
        d = sp.expand(rel.lhs - rel.rhs)
        if not d.has(z):
            continue
        if not d.is_polynomial(z) or sp.degree(d, z) != 1:
            raise RuleError(f"the condition {rel} is not linear in {z}")
        root = sp.solve(d, z)[0]
        if not any(sp.simplify(root - b) == 0 for b in out):
            out.append(root)
    return out


def _root(d: Any, param: Any) -> Any:
    """The value of the parameter at which d (linear in it, rational coefficients) vanishes;
    None if d never does."""
    d = sp.expand(d)
    names = ", ".join(sorted(map(str, d.free_symbols)))
    if param is None and d.free_symbols:
        raise RuleError(f"the break points meet where {shown(d)} = 0, which depends on {names}: "
                        f"name the parameter with `param:`")
    if param is None or not d.has(param):
        if d.free_symbols:
            raise RuleError(f"the break points meet where {shown(d)} = 0, which depends on {names} besides {param}")
        return None
    if d.free_symbols != {param} or not d.is_polynomial(param) or sp.degree(d, param) != 1:
        raise RuleError(f"the break points meet where {shown(d)} = 0, which is not linear in {param} alone")
    return sp.solve(d, param)[0]


def _decide(cond: Any, at: dict) -> bool:
    truth = cond.subs(at) if at else cond
    if truth not in (sp.true, sp.false):
        raise RuleError(f"the condition {cond} is not decided at {at or 'its break points'}")
    return bool(truth)


def _value(e: Any, at: dict, case: Case, unfold: Callable[[Any], Any]) -> Any:
    """e in the extended reals with its Piecewise branches decided at the point `at` (an
    integral's variable may be given an inner point there: it decides the branches and stays
    symbolic in the result). A division by zero is carried as zoo until its use decides it:
    0/0 has no value (nan), x/0 is +oo otherwise."""
    if isinstance(e, (AppliedUndef, sp.Symbol)) and (opened := unfold(e)) != e:
        return _value(opened, at, case, unfold)
    if isinstance(e, sp.Abs):
        e = sp.Piecewise((e.args[0], sp.GreaterThan(e.args[0], 0)), (-e.args[0], True))
    if isinstance(e, sp.Piecewise):
        return next(_value(v, at, case, unfold) for v, c in e.args if _decide(c, at))
    if isinstance(e, sp.Integral):
        return _integral(e, at, case, unfold)
    if e.is_Atom or not e.args:
        return e
    args = [_value(a, at, case, unfold) for a in e.args]
    if sp.nan in args:
        return sp.S.Zero if isinstance(e, sp.Mul) and 0 in args else sp.nan
    if isinstance(e, sp.Mul) and 0 in args:
        return sp.nan if sp.zoo in args else sp.S.Zero
    if isinstance(e, sp.Pow) and args[0] == 0 and args[1].is_negative:
        return sp.zoo
    if isinstance(e, sp.log) and args[0] == 0:
        return -sp.oo
    return e.func(*[sp.oo if a is sp.zoo else a for a in args])


def _integral(node: sp.Integral, at: dict, case: Case, unfold: Callable[[Any], Any]) -> Any:
    """The integral split at its break points, each piece in the extended reals."""
    z, lo, hi = _limits(node)
    if node.function.has(sp.Integral):
        raise RuleError(f"{shown(node)} has an integral inside its integrand")
    lo0, hi0 = (sp.sympify(b).subs(at) for b in (lo, hi))
    points = _break_points(_opened(node.function, unfold), z)
    for b in [lo0, hi0, *(b.subs(at) for b in points)]:
        if not (b.is_number and b.is_extended_real):
            raise RuleError(f"the break point or limit {shown(b)} of {shown(node)} is not a number in {case.text()}")
    inner = [b for b in points if lo0 < b.subs(at) < hi0]
    ends = [lo] + sorted(inner, key=lambda b: b.subs(at)) + [hi]
    infinite, finite = set(), sp.S.Zero
    for left, right in zip(ends, ends[1:]):
        l0, r0 = left.subs(at), right.subs(at)
        if l0 == r0:
            continue
        z0 = _inner(l0, r0)
        piece = _value(node.function, {**at, z: z0}, case, unfold)  # z stays symbolic: only the conditions see z0
        piece = sp.oo if piece is sp.zoo else piece
        where = f"({left}, {right}) in {case.text()}"
        if piece is sp.nan or piece.has(sp.nan, sp.zoo):
            raise RuleError(f"the integrand of {shown(node)} has no value (0/0 or oo - oo) on {where}")
        if piece in (sp.oo, -sp.oo):
            infinite.add(piece)
            continue
        if piece.has(sp.oo, -sp.oo):
            raise RuleError(f"the sign of the infinite piece {shown(piece)} on {where} is not decided")
        part = sp.integrate(piece, (z, left, right))
        if part.has(sp.Integral):
            raise RuleError(f"SymPy finds no closed form for the piece {shown(piece)} on {where}")
        if part in (sp.oo, -sp.oo):
            infinite.add(part)
        elif part.has(sp.oo, -sp.oo):
            raise RuleError(f"the integral {shown(part)} of the piece on {where} is not decided")
        else:
            finite += part
    if len(infinite) > 1:
        raise RuleError(f"{shown(node)} is oo - oo in {case.text()}: it has no value")
    return infinite.pop() if infinite else sp.simplify(finite)


def _opened(expr: Any, unfold: Callable[[Any], Any]) -> Any:
    """expr with every definition opened (for its relations only: its integrals may be folded)."""
    for _ in range(20):
        new = expr.replace(lambda e: isinstance(e, (AppliedUndef, sp.Symbol)) and unfold(e) != e, unfold)
        if new == expr:
            return new
        expr = new
    raise RuleError(f"the definitions in {shown(expr)} do not stop unfolding")


def _inner(lo: Any, hi: Any) -> Any:
    """An exact point inside the interval (lo, hi), whose ends may be infinite."""
    if lo.is_finite and hi.is_finite:
        return (lo + hi) / 2
    if hi.is_finite:
        return hi - 1
    return lo + 1 if lo.is_finite else sp.S.Zero
