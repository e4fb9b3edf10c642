"""Matrix expressions of one instance evaluated in certified ball arithmetic (Arb, in C).

Rules:
- `BallEval` evaluates what `MatrixEval` (derive/matrix_eval.py) evaluates, with matrices as
  arb_mat and scalars as arb balls that hold the exact values. A value it cannot enclose
  raises NotEnclosed (the exact evaluation then decides).
- jacobian(f, x) is taken in forward mode: x is seeded as a `Jet` (its value and one partial
  derivative per coordinate), every operation carries the partials (the product rule for
  matmul and *, the chain rule for functions, whose derivatives SymPy writes down once per
  function), so a Jacobian through n layers costs n matrix products per coordinate, never a
  symbolic expression of depth n.
- `ball_decision` decides a relation on two balls when they separate; overlapping balls
  decide nothing (None), and matrices can only be shown different this way; `agree_to` says
  whether overlapping balls are also tight (the two sides equal to so many bits).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import sympy as sp
from flint import arb, arb_mat, ctx

from derive.balls import NotEnclosed, apply, ball
from derive.matrix_eval import MatrixEval, enclose_or_raise, top_eigenvalue


@dataclass(frozen=True)
class Jet:
    """A value (arb or arb_mat) and its partial derivatives (same kind), one per coordinate
    of the vector being differentiated by."""

    value: Any
    partials: tuple[Any, ...]


class BallEval(MatrixEval):
    """MatrixEval in ball arithmetic (see the module rules). Run under `precision(PREC)`."""

    def _symbol(self, e: sp.Symbol) -> Any:
        if e not in self.env:
            raise NotEnclosed(f"{e} has no value on this instance")
        return self._enclosed(self.env[e])

    def _atom(self, e: Any) -> Any:
        return enclose_or_raise(e)

    def _is_matrix(self, v: Any) -> bool:
        return isinstance(v.value if isinstance(v, Jet) else v, arb_mat)

    def _shape(self, v: Any) -> tuple[int, int]:
        v = v.value if isinstance(v, Jet) else v
        return v.nrows(), v.ncols()

    def _matmul(self, a: Any, b: Any) -> Any:
        return _product_rule(a, b)

    def _scale(self, c: Any, m: Any) -> Any:
        if self._is_matrix(c):
            raise ValueError("scale(A, c) needs a scalar c")
        return _product_rule(c, m)

    def _transpose(self, m: Any) -> Any:
        return _linear(m, lambda x: x.transpose())

    def _diag(self, v: Any) -> Any:
        return _linear(v, _diagonal)

    def _inverse(self, m: Any) -> Any:
        if isinstance(m, Jet):
            raise NotEnclosed("inv inside a jacobian has no derivative here")
        try:
            return m.inv()
        except ZeroDivisionError:
            raise NotEnclosed("the ball matrix is not shown invertible") from None

    def _softmax_rows(self, m: Any) -> Any:
        if isinstance(m, Jet):
            raise NotEnclosed("softmax_rows inside a jacobian has no derivative here")
        e = [[m[i, j].exp() for j in range(m.ncols())] for i in range(m.nrows())]
        return arb_mat([[x / sum(row, arb(0)) for x in row] for row in e])

    def _jacobian(self, f: Any, var: Any) -> Any:
        """Forward mode: var seeded with the unit partials; the columns are f's partials."""
        point = self.env.get(var)
        if point is None or point.shape[1] != 1:
            raise ValueError(f"jacobian(..., {var}): {var} must be a vector symbol (shape [d, 1])")
        n = point.shape[0]
        fv = self._seeded(f, var, [_unit(n, 1, k, 0) for k in range(n)])
        if not self._is_matrix(fv):
            raise ValueError(f"{f} is not a matrix")
        if not isinstance(fv, Jet):
            return arb_mat(self._shape(fv)[0], n)
        if fv.value.ncols() != 1:
            raise ValueError(f"jacobian({f}, {var}): {f} must be a vector")
        return arb_mat([[p[i, 0] for p in fv.partials] for i in range(fv.value.nrows())])

    def _grad(self, f: Any, var: Any) -> Any:
        """Forward mode: var seeded with one unit matrix per entry; entry (i, j) is the
        partial of the scalar f by var_ij."""
        point = self.env.get(var)
        if point is None:
            raise ValueError(f"grad(..., {var}): {var} must be a matrix symbol")
        rows, cols = point.shape
        fv = self._seeded(f, var, [_unit(rows, cols, i, j) for i in range(rows) for j in range(cols)])
        if not isinstance(fv, Jet):
            return arb_mat(rows, cols)
        if self._is_matrix(fv) and self._shape(fv) != (1, 1):
            raise ValueError(f"grad({f}, {var}): {f} must be a scalar or a 1 x 1 matrix")
        parts = [p[0, 0] if isinstance(p, arb_mat) else p for p in fv.partials]
        return arb_mat([[parts[i * cols + j] for j in range(cols)] for i in range(rows)])

    def _seeded(self, f: Any, var: Any, units: list) -> Any:
        """f evaluated with var a Jet carrying the given unit partials."""
        seed = Jet(self._enclosed(self.env[var]), tuple(units))
        return _Seeded(self.env, self.unfold, self.enclosures, self.seen, seeds={var: seed}).value(f)

    def _det(self, m: Any) -> Any:
        if isinstance(m, Jet):
            raise NotEnclosed("det inside a jacobian has no derivative here")
        return m.det()

    def _trace(self, m: Any) -> Any:
        if isinstance(m, Jet):
            raise NotEnclosed("tr inside a jacobian has no derivative here")
        return sum((m[i, i] for i in range(m.nrows())), arb(0))

    def _apply(self, e: Any, args: list) -> Any:
        if not any(isinstance(a, Jet) for a in args):
            return apply(e, args)
        values = [a.value if isinstance(a, Jet) else a for a in args]
        n = next(len(a.partials) for a in args if isinstance(a, Jet))
        partials = [arb(0)] * n
        for k, a in enumerate(args):
            if isinstance(a, Jet):
                slope = _derivative_ball(e, k, values)
                partials = [p + slope * q for p, q in zip(partials, a.partials)]
        return Jet(apply(e, values), tuple(partials))

    def _entrywise(self, e: Any, args: list, shape: tuple[int, int]) -> Any:
        rows, cols = shape
        entries = [[self._apply(e, [_entry(a, i, j) for a in args]) for j in range(cols)] for i in range(rows)]
        flat = [x for row in entries for x in row]
        if not any(isinstance(x, Jet) for x in flat):
            return arb_mat(entries)
        n = next(len(x.partials) for x in flat if isinstance(x, Jet))
        part = [[[x.partials[k] if isinstance(x, Jet) else arb(0) for x in row] for row in entries]
                for k in range(n)]
        return Jet(arb_mat([[x.value if isinstance(x, Jet) else x for x in row] for row in entries]),
                   tuple(arb_mat(p) for p in part))

    def sigma_max(self, m: Any) -> Any:
        """A certified ball: the length of a vector, else the square root of the largest
        eigenvalue of m^T m."""
        if isinstance(m, Jet):
            raise NotEnclosed("sigma_max inside a jacobian has no derivative here")
        if 1 in self._shape(m):
            return sum((x * x for x in m.entries()), arb(0)).sqrt()
        return top_eigenvalue(m.transpose() * m).sqrt()

    def _enclosed(self, m: sp.MatrixBase) -> arb_mat:
        return arb_mat([[enclose_or_raise(m[i, j]) for j in range(m.cols)] for i in range(m.rows)])


@dataclass
class _Seeded(BallEval):
    """BallEval inside one jacobian: the symbol differentiated by is its seed Jet."""

    seeds: dict[sp.Symbol, Jet] = field(default_factory=dict)

    def _symbol(self, e: sp.Symbol) -> Any:
        return self.seeds[e] if e in self.seeds else super()._symbol(e)

    def _jacobian(self, f: Any, var: Any) -> Any:
        raise NotEnclosed("a jacobian inside a jacobian")

    def _grad(self, f: Any, var: Any) -> Any:
        raise NotEnclosed("a grad inside a derivative")


def _product_rule(a: Any, b: Any) -> Any:
    """a * b (balls or ball matrices) with the partials of a Jet factor carried along."""
    if not isinstance(a, Jet) and not isinstance(b, Jet):
        return a * b
    av, bv = (x.value if isinstance(x, Jet) else x for x in (a, b))
    n = len((a if isinstance(a, Jet) else b).partials)
    parts = []
    for k in range(n):
        terms = ([a.partials[k] * bv] if isinstance(a, Jet) else []) + ([av * b.partials[k]] if isinstance(b, Jet) else [])
        parts.append(terms[0] if len(terms) == 1 else terms[0] + terms[1])
    return Jet(av * bv, tuple(parts))


def _linear(m: Any, op: Any) -> Any:
    """A linear operation applied to a value and to each of its partials."""
    return Jet(op(m.value), tuple(op(p) for p in m.partials)) if isinstance(m, Jet) else op(m)


def _diagonal(v: arb_mat) -> arb_mat:
    entries = v.entries()
    out = arb_mat(len(entries), len(entries))
    for i, x in enumerate(entries):
        out[i, i] = x
    return out


def _unit(rows: int, cols: int, i: int, j: int) -> arb_mat:
    out = arb_mat(rows, cols)
    out[i, j] = 1
    return out


def _entry(a: Any, i: int, j: int) -> Any:
    if isinstance(a, Jet) and isinstance(a.value, arb_mat):
        return Jet(a.value[i, j], tuple(p[i, j] for p in a.partials))
    return a[i, j] if isinstance(a, arb_mat) else a


def _derivative_ball(e: Any, k: int, values: list) -> arb:
    """The partial derivative of the node e's operation in its k-th argument, at the balls
    `values`."""
    template, slots = _derivative(e.func, tuple(a if a.is_Number else None for a in e.args), k)
    return ball(template, ctx.prec, {u: values[i] for i, u in slots})


@lru_cache(maxsize=512)
def _derivative(func: Any, numbers: tuple, k: int) -> tuple[Any, tuple]:
    """d func(u_0, ..., u_m) / d u_k, numbers kept where the node has them; with the slots
    (argument position, placeholder) to fill."""
    slots = tuple((i, sp.Dummy(f"u{i}", real=True)) for i, c in enumerate(numbers) if c is None)
    places = dict(slots)
    args = [places.get(i, c) for i, c in enumerate(numbers)]
    return sp.diff(func(*args, evaluate=False), places[k]), slots


def ball_decision(x: Any, y: Any, rel: str) -> bool | None:
    """Do the balls x, y (arb or arb_mat, from BallEval) decide `x rel y`? True or False when
    they do; None when they overlap (the exact path decides). Matrices can only be shown
    different (an entry of x - y excludes 0)."""
    if isinstance(x, arb_mat) or isinstance(y, arb_mat):
        if rel != "=" or not (isinstance(x, arb_mat) and isinstance(y, arb_mat)) or \
                (x.nrows(), x.ncols()) != (y.nrows(), y.ncols()):
            return None
        return False if any(not d.contains(0) for d in (x - y).entries()) else None
    if rel in (">", ">="):
        x, y, rel = y, x, rel.replace(">", "<")
    d = y - x
    if rel == "=":
        return False if (d > 0 or d < 0) else None
    if d > 0 or (rel == "<=" and d >= 0):
        return True
    if d < 0 or (rel == "<" and d <= 0):
        return False
    return None


def show_ball(v: Any) -> str:
    """A ball or a matrix of balls as text: midpoints to 12 digits."""
    if isinstance(v, arb_mat):
        rows = [[v[i, j].str(12, radius=False) for j in range(v.ncols())] for i in range(v.nrows())]
        text = "[" + ", ".join("[" + ", ".join(r) + "]" for r in rows) + "]"
        return text if len(text) < 300 else text[:297] + "..."
    return v.str(12, radius=False)


def agree_to(x: Any, y: Any, bits: int) -> bool:
    """Do the balls x, y (arb or arb_mat of one shape) agree to `bits` bits: every entry of
    x - y within 2^-bits of 0, relative to 1 + |x|? (Overlapping balls that are wide say
    nothing, so they do not agree.)"""
    d = x - y
    pairs = zip(d.entries(), x.entries()) if isinstance(d, arb_mat) else [(d, x)]
    return all(abs(e) < arb(2) ** -bits * (1 + abs(v.mid())) for e, v in pairs)
