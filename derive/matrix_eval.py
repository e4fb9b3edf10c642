"""Exact matrix instances: matrix expressions evaluated exactly, and certified decisions
about largest singular values. (The random matrices themselves come from
derive/matrices.py's `random_matrix`.)

Matrix expressions: matmul, T, scale, diag, jacobian, MatProduct; +, -, * by a scalar, ** by a
number and scalar functions (tanh, exp, ...) act entry by entry, a scalar standing for the
matrix of that constant. The product of two matrices must be written matmul.

sigma_max(M): for a rational M the exact value sqrt(largest root of the characteristic
polynomial of M^T M); otherwise a certified enclosure (interval arithmetic, mpmath.iv):
the upper end is certified by c I - M^T M being positive definite (leading principal minors
with positive lower ends), the lower end by a Rayleigh quotient. Relations are decided on
these enclosures; when they cannot separate the two sides the step is undecided, never
accepted on a float tolerance.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

import mpmath
import sympy as sp

from derive.ops import MATRIX_OPS, MatProduct, T, diag, jacobian, matmul, scale, sigma_max

DIGITS = 60
# magnitudes of the random inputs, one per trial in turn: entries of ordinary size, small
# (the linear regime, where the bounds are nearly tight) and moderate; inputs of size 1000
# saturate tanh so far that 1 - tanh**2 needs tens of thousands of bits and says nothing new
SCALES = (sp.Integer(1), sp.Rational(1, 1000), sp.Rational(1, 10))
MAX_BITS = 300_000  # precision evalf may use: 1 - tanh(a)**2 at a = 10**4 cancels ~29000 bits
iv = mpmath.iv


@contextmanager
def iv_digits(digits: int) -> Iterator[None]:
    """Run interval arithmetic with `digits` decimal digits."""
    old = iv.dps
    iv.dps = digits
    try:
        yield
    finally:
        iv.dps = old


class Undecided(Exception):
    """The enclosures cannot decide the relation on this instance."""


def uses_matrix_calculus(expr: Any, scope: Any) -> bool:
    """Does expr use the operators evaluated here (sigma_max, diag, jacobian, MatProduct) or a
    matrix declared with `sigma_max`? (Symbolic checks are tried first for these.)"""
    return bool(expr.atoms(*MATRIX_OPS)) or bool(expr.free_symbols & set(scope.sigma_max))


@dataclass
class MatrixEval:
    """Evaluates matrix expressions of one instance; `enclosures` holds the certified
    intervals of the singular values met (as placeholder symbols)."""

    env: dict[sp.Symbol, sp.ImmutableMatrix]
    unfold: Any
    enclosures: dict[sp.Dummy, Any] = field(default_factory=dict)
    seen: list[tuple[sp.Dummy, sp.MatrixBase]] = field(default_factory=list)

    def value(self, e: Any) -> Any:
        """The exact value of e: an ImmutableMatrix, or a scalar (possibly with placeholders)."""
        if isinstance(e, sp.Symbol):
            return self.env.get(e, e)
        if not isinstance(e, sp.Basic) or not e.args or e.is_Number:
            return e
        if isinstance(e, matmul):
            a, b = self._matrix(e.args[0]), self._matrix(e.args[1])
            if a.cols != b.rows:
                raise ValueError(f"shapes do not match in {e}: {a.rows}x{a.cols} times {b.rows}x{b.cols}")
            return sp.ImmutableMatrix(a * b)
        if isinstance(e, scale):
            return sp.ImmutableMatrix(self.value(e.args[1]) * self._matrix(e.args[0]))
        if isinstance(e, T):
            return self._matrix(e.args[0]).T
        if isinstance(e, diag):
            v = self._matrix(e.args[0])
            return sp.ImmutableMatrix(sp.diag(*list(v)))
        if isinstance(e, jacobian):
            return self._jacobian(*e.args)
        if isinstance(e, MatProduct):
            return self._product(*e.args)
        if isinstance(e, sigma_max):
            return self.sigma_max(self._matrix(e.args[0]))
        args = [self.value(a) for a in e.args]
        mats = [a for a in args if isinstance(a, sp.MatrixBase)]
        if not mats:
            return e.func(*args)
        if isinstance(e, sp.Mul) and len(mats) > 1:
            raise ValueError(f"product of two matrices in {e}: write matmul(A, B)")
        shape = mats[0].shape
        if any(m.shape != shape for m in mats):
            raise ValueError(f"matrices of different shapes in {e}")
        return sp.ImmutableMatrix(*shape, lambda i, j: e.func(*[a[i, j] if isinstance(a, sp.MatrixBase) else a
                                                               for a in args]))

    def _matrix(self, e: Any) -> sp.ImmutableMatrix:
        v = self.value(e)
        if not isinstance(v, sp.MatrixBase):
            raise ValueError(f"{e} is not a matrix")
        return v

    def _jacobian(self, f: Any, var: Any) -> sp.ImmutableMatrix:
        point = self.env.get(var)
        if point is None or point.shape[1] != 1:
            raise ValueError(f"jacobian(..., {var}): {var} must be a vector symbol (shape [d, 1])")
        xs = [sp.Dummy(f"{var}_{i}", real=True) for i in range(point.shape[0])]
        inner = MatrixEval({**self.env, var: sp.ImmutableMatrix(xs)}, self.unfold, self.enclosures, self.seen)
        fv = inner._matrix(f)
        return sp.ImmutableMatrix(fv.jacobian(xs).xreplace(dict(zip(xs, point))))

    def _product(self, body: Any, limits: Any) -> sp.ImmutableMatrix:
        t, lo, hi = limits
        if not (lo.is_Integer and hi.is_Integer) or hi < lo:
            raise ValueError(f"MatProduct needs whole-number limits with low <= high, got {lo}, {hi}")
        out = None
        for k in range(int(hi), int(lo) - 1, -1):
            m = self._matrix(self.unfold(body.xreplace({t: sp.Integer(k)})))
            out = m if out is None else out * m
        return sp.ImmutableMatrix(out)

    def sigma_max(self, m: sp.MatrixBase) -> Any:
        """Exact for a rational matrix or a vector (its length); otherwise a placeholder with
        a certified enclosure, the same placeholder for matrices shown equal entry by entry."""
        if 1 in m.shape:
            return sp.sqrt(sum(x**2 for x in m)) if len(m) > 1 else sp.Abs(m[0])
        g = m.T * m
        if all(x.is_Rational for x in g):
            lam = sp.Symbol("lam")
            roots = sp.Poly(g.charpoly(lam).as_expr(), lam).real_roots()
            return sp.sqrt(max(roots))
        for box, seen in self.seen:
            if seen.shape == m.shape and all(_is_zero(d) for d in seen - m):
                return box
        box = sp.Dummy("sigma_max")
        self.enclosures[box] = iv.sqrt(largest_eigenvalue(g))
        self.seen.append((box, m))
        return box


def _is_zero(x: Any) -> bool:
    """Is the exact number x shown to be 0? A value clearly away from 0 skips the costly
    simplification (the screen can only say no, never yes)."""
    if x == 0 or sp.expand(x) == 0:
        return True
    try:
        if abs(sp.N(x, 15)) > 1e-9:
            return False
    except (TypeError, ValueError):
        pass
    return sp.simplify(x) == 0


def enclose(x: Any, encl: dict | None = None) -> Any:
    """A certified mpmath.iv interval holding the exact number x (placeholders from `encl`)."""
    encl = encl or {}
    if x in encl:
        return encl[x]
    if x.is_Rational:
        return iv.mpf(x.p) / iv.mpf(x.q)
    if isinstance(x, sp.Add):
        return _sum([enclose(a, encl) for a in x.args])
    if isinstance(x, sp.Mul):
        out = iv.mpf(1)
        for a in x.args:
            out = out * enclose(a, encl)
        return out
    if isinstance(x, sp.Pow) and x.exp.is_Integer and x.base.has(*encl):
        return enclose(x.base, encl) ** int(x.exp)
    if x.free_symbols & set(encl):
        raise Undecided(f"cannot enclose {x}")
    try:
        v = sp.N(x, DIGITS, strict=True, maxn=MAX_BITS)
    except (sp.core.evalf.PrecisionExhausted, ValueError, TypeError):
        raise Undecided(f"cannot evaluate {x} to {DIGITS} digits") from None
    if not v.is_Float:
        raise Undecided(f"{x} is not a real number")
    mid = mpmath.mpf(v)
    rad = abs(mid) * mpmath.mpf(10) ** (5 - DIGITS)
    return iv.mpf([mid - rad, mid + rad])


def _sum(items: list) -> Any:
    out = iv.mpf(0)
    for a in items:
        out = out + a
    return out


def largest_eigenvalue(g: sp.MatrixBase) -> Any:
    """A certified enclosure of the largest eigenvalue of the symmetric positive
    semidefinite matrix g (exact entries)."""
    n = g.shape[0]
    with iv_digits(DIGITS), mpmath.workdps(DIGITS):
        gi = [[enclose(g[i, j]) for j in range(n)] for i in range(n)]
        mid = mpmath.matrix([[x.mid for x in row] for row in gi])
        vals, vecs = mpmath.eigsy(mid)
        top = max(range(n), key=lambda i: vals[i])
        est, vec = vals[top], [vecs[i, top] for i in range(n)]
        margin = max([abs(est)] + [abs(x) for x in mid]) * mpmath.mpf(10) ** (10 - DIGITS)
        for _ in range(6):
            upper = iv.mpf(est + margin)
            shifted = [[(upper if i == j else 0) - gi[i][j] for j in range(n)] for i in range(n)]
            if all(_det([row[:k] for row in shifted[:k]]).a > 0 for k in range(1, n + 1)):
                break
            margin *= 10 ** 4
        else:
            raise Undecided("could not certify the largest singular value")
        v = [iv.mpf(x) for x in vec]
        num = _sum([v[i] * gi[i][j] * v[j] for i in range(n) for j in range(n)])
        lower = num / _sum([x * x for x in v])
        return iv.mpf([max(lower.a, 0), upper.b])


def _det(m: list[list[Any]]) -> Any:
    """Determinant by cofactor expansion (sizes up to 3 or so), in interval arithmetic."""
    if len(m) == 1:
        return m[0][0]
    return _sum([(-1) ** j * m[0][j] * _det([row[:j] + row[j + 1:] for row in m[1:]]) for j in range(len(m))])


def decide(lo: Any, hi: Any, rel: str, encl: dict) -> bool:
    """Does `lo rel hi` hold for these exact numbers? Exact when no enclosure is involved
    and the difference is rational; otherwise by certified intervals; Undecided if neither."""
    diff = sp.expand(hi - lo)
    if not diff.is_Rational and not diff.free_symbols & set(encl):
        diff = sp.simplify(diff)
    if diff.is_Rational:
        return bool(diff == 0) if rel == "=" else bool(diff > 0) if rel == "<" else bool(diff >= 0)
    with iv_digits(DIGITS):
        d = enclose(diff, encl)
    if rel == "=":
        if d.a > 0 or d.b < 0:
            return False
        raise Undecided("the two sides agree to the working precision but are not shown equal")
    if d.a > 0 or (rel == "<=" and d.a >= 0):
        return True
    if d.b < 0 or (rel == "<" and d.b <= 0):
        return False
    raise Undecided("the enclosures of the two sides overlap")
