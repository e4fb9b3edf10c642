"""Exact matrix instances: matrix expressions evaluated exactly, and certified decisions
about largest singular values. (The random matrices themselves come from
derive/matrices.py's `random_matrix`.)

Matrix expressions: matmul, T, scale, inv, softmax_rows, diag, jacobian, grad, MatProduct; det and tr of a
square matrix are scalars; +, -, * by a scalar, ** by a
number and scalar functions (tanh, exp, ...) act entry by entry, a scalar standing for the
matrix of that constant. The product of two matrices must be written matmul.

sigma_max(M): for a rational M the exact value sqrt(largest root of the characteristic
polynomial of M^T M); otherwise a certified ball (derive/balls.py: Arb, through
python-flint) from Arb's certified eigenvalue enclosures of M^T M. Relations are decided on
these balls; when they cannot separate the two sides the step is undecided, never accepted
on a float tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy as sp
from flint import acb_mat, arb, arb_mat

from derive.balls import NotEnclosed, enclosure, excludes_zero, precision
from derive.ops import (MATRIX_OPS, MatProduct, T, det, diag, grad, inv, jacobian, matmul, scale, sigma_max, softmax_rows,
                        tr)

DIGITS = 60
PREC = int(DIGITS * 3.33) + 40  # bits of working precision for ball arithmetic
# magnitudes of the random inputs, one per trial in turn: entries of ordinary size, small
# (the linear regime, where the bounds are nearly tight) and moderate; inputs of size 1000
# saturate tanh so far that 1 - tanh**2 needs tens of thousands of bits and says nothing new
SCALES = (sp.Integer(1), sp.Rational(1, 1000), sp.Rational(1, 10))


class Undecided(Exception):
    """The enclosures cannot decide the relation on this instance."""


def uses_matrix_calculus(expr: Any, scope: Any) -> bool:
    """Does expr use the operators evaluated here (sigma_max, diag, jacobian, MatProduct) or a
    matrix declared with `sigma_max`? (Symbolic checks are tried first for these.)"""
    return bool(expr.atoms(*MATRIX_OPS)) or bool(expr.free_symbols & set(scope.sigma_max))


@dataclass
class MatrixEval:
    """Evaluates matrix expressions of one instance exactly; `enclosures` holds the certified
    balls of the singular values met (as placeholder symbols). The arithmetic is in the
    methods `_symbol` .. `_entrywise`, which BallEval (derive/ball_eval.py) replaces by ball arithmetic."""

    env: dict[sp.Symbol, sp.ImmutableMatrix]
    unfold: Any
    enclosures: dict[sp.Dummy, Any] = field(default_factory=dict)
    seen: list[tuple[sp.Dummy, sp.MatrixBase]] = field(default_factory=list)
    # naming on (a dict, else None): each function of numbers met (tanh(3/7), tanh of a named
    # number, ...) becomes a placeholder with a certified ball in `enclosures`; `named` maps
    # the placeholder to its exact value
    named: dict[sp.Dummy, Any] | None = None

    def value(self, e: Any) -> Any:
        """The value of e: a matrix, or a scalar (exactly: possibly with placeholders)."""
        if isinstance(e, sp.Symbol):
            return self._symbol(e)
        if not isinstance(e, sp.Basic) or not e.args or e.is_Number:
            return self._atom(e)
        if isinstance(e, matmul):
            a, b = self._matrix(e.args[0]), self._matrix(e.args[1])
            (ar, ac), (br, bc) = self._shape(a), self._shape(b)
            if ac != br:
                raise ValueError(f"shapes do not match in {e}: {ar}x{ac} times {br}x{bc}")
            return self._matmul(a, b)
        if isinstance(e, scale):
            return self._scale(self.value(e.args[1]), self._matrix(e.args[0]))
        if isinstance(e, T):
            return self._transpose(self._matrix(e.args[0]))
        if isinstance(e, diag):
            return self._diag(self._matrix(e.args[0]))
        if isinstance(e, inv):
            return self._inverse(self._matrix(e.args[0]))
        if isinstance(e, softmax_rows):
            return self._softmax_rows(self._matrix(e.args[0]))
        if isinstance(e, jacobian):
            return self._jacobian(*e.args)
        if isinstance(e, grad):
            return self._grad(*e.args)
        if isinstance(e, MatProduct):
            return self._product(*e.args)
        if isinstance(e, sigma_max):
            return self.sigma_max(self._matrix(e.args[0]))
        if isinstance(e, (det, tr)):
            m = self._matrix(e.args[0])
            rows, cols = self._shape(m)
            if rows != cols:
                raise ValueError(f"{type(e).__name__}({e.args[0]}) needs a square matrix, got {rows}x{cols}")
            return self._det(m) if isinstance(e, det) else self._trace(m)
        args = [self.value(a) for a in e.args]
        mats = [a for a in args if self._is_matrix(a)]
        if not mats:
            return self._apply(e, args)
        if isinstance(e, sp.Mul) and len(mats) > 1:
            raise ValueError(f"product of two matrices in {e}: write matmul(A, B)")
        shape = self._shape(mats[0])
        if any(self._shape(m) != shape for m in mats):
            raise ValueError(f"matrices of different shapes in {e}")
        return self._entrywise(e, args, shape)

    def _matrix(self, e: Any) -> Any:
        v = self.value(e)
        if not self._is_matrix(v):
            raise ValueError(f"{e} is not a matrix")
        return v

    def _exact_jacobian(self, f: Any, var: Any) -> sp.ImmutableMatrix:
        point = self.env.get(var)
        if point is None or point.shape[1] != 1:
            raise ValueError(f"jacobian(..., {var}): {var} must be a vector symbol (shape [d, 1])")
        xs = [sp.Dummy(f"{var}_{i}", real=True) for i in range(point.shape[0])]
        inner = MatrixEval({**self.env, var: sp.ImmutableMatrix(xs)}, self.unfold, self.enclosures, self.seen,
                           self.named)
        fv = inner._matrix(f)
        return self._name_all(sp.ImmutableMatrix(fv.jacobian(xs).xreplace(dict(zip(xs, point)))))

    def _exact_grad(self, f: Any, var: Any) -> sp.ImmutableMatrix:
        point = self.env.get(var)
        if point is None:
            raise ValueError(f"grad(..., {var}): {var} must be a matrix symbol")
        xs = sp.ImmutableMatrix(*point.shape, lambda i, j: sp.Dummy(f"{var}_{i}{j}", real=True))
        inner = MatrixEval({**self.env, var: xs}, self.unfold, self.enclosures, self.seen, self.named)
        fv = inner.value(f)
        if isinstance(fv, sp.MatrixBase):
            if fv.shape != (1, 1):
                raise ValueError(f"grad({f}, {var}): {f} must be a scalar or a 1 x 1 matrix")
            fv = fv[0, 0]
        at = dict(zip(xs, point))
        return self._name_all(sp.ImmutableMatrix(*point.shape, lambda i, j: sp.diff(fv, xs[i, j]).xreplace(at)))

    def _product(self, body: Any, limits: Any) -> Any:
        t, lo, hi = limits
        if not (lo.is_Integer and hi.is_Integer) or hi < lo:
            raise ValueError(f"MatProduct needs whole-number limits with low <= high, got {lo}, {hi}")
        out = None
        for k in range(int(hi), int(lo) - 1, -1):
            m = self._matrix(self.unfold(body.xreplace({t: sp.Integer(k)})))
            out = m if out is None else self._matmul(out, m)
        return out

    # exact arithmetic (SymPy)
    def _symbol(self, e: sp.Symbol) -> Any:
        return self.env.get(e, e)

    def _atom(self, e: Any) -> Any:
        return e

    def _is_matrix(self, v: Any) -> bool:
        return isinstance(v, sp.MatrixBase)

    def _shape(self, v: Any) -> tuple[int, int]:
        return v.shape

    def _matmul(self, a: Any, b: Any) -> Any:
        return sp.ImmutableMatrix(a * b)

    def _scale(self, c: Any, m: Any) -> Any:
        return sp.ImmutableMatrix(c * m)

    def _transpose(self, m: Any) -> Any:
        return m.T

    def _diag(self, v: Any) -> Any:
        return sp.ImmutableMatrix(sp.diag(*list(v)))

    def _jacobian(self, f: Any, var: Any) -> Any:
        return self._exact_jacobian(f, var)

    def _grad(self, f: Any, var: Any) -> Any:
        return self._exact_grad(f, var)

    def _inverse(self, m: Any) -> Any:
        if m.rows != m.cols or m.det() == 0:
            raise ValueError(f"inv of a singular or non-square {m.rows}x{m.cols} matrix")
        return sp.ImmutableMatrix(m.inv())

    def _softmax_rows(self, m: Any) -> Any:
        """Each row of exp(m), divided by its sum."""
        e = m.applyfunc(lambda x: self._name(sp.exp(x)))
        return sp.ImmutableMatrix(m.rows, m.cols, lambda i, j: e[i, j] / sum(e.row(i)))

    def _det(self, m: Any) -> Any:
        return m.det()

    def _trace(self, m: Any) -> Any:
        return m.trace()

    def _apply(self, e: Any, args: list) -> Any:
        return self._name(e.func(*args))

    def _entrywise(self, e: Any, args: list, shape: tuple[int, int]) -> Any:
        return sp.ImmutableMatrix(*shape, lambda i, j: self._name(e.func(*[a[i, j] if isinstance(a, sp.MatrixBase)
                                                                          else a for a in args])))

    def _name(self, x: Any) -> Any:
        """x with each function of numbers in it named by a placeholder (innermost first), when
        naming is on and x is a number (its only symbols placeholders)."""
        if self.named is None or not isinstance(x, sp.Basic):
            return x
        if x.free_symbols - self.enclosures.keys():
            return x  # a function of a variable (inside a jacobian): not a number yet
        return x.replace(lambda n: isinstance(n, sp.Function) and not n.free_symbols - self.enclosures.keys(),
                         self._placeholder)

    def _name_all(self, m: sp.ImmutableMatrix) -> sp.ImmutableMatrix:
        return m.applyfunc(self._name) if self.named is not None else m

    def _placeholder(self, n: sp.Function) -> Any:
        """The placeholder of the number n (one per distinct number), its ball enclosed now;
        Abs(u) is u or -u when u's ball has a sign."""
        if isinstance(n, sp.Abs):
            sign = enclose(n.args[0], self.enclosures)
            if sign > 0 or sign < 0:
                return n.args[0] if sign > 0 else -n.args[0]
        exact = n.xreplace(self.named)
        for box, value in self.named.items():
            if value == exact:
                return box
        box = sp.Dummy("c")
        self.enclosures[box] = enclose(exact, self.enclosures)
        self.named[box] = exact
        return box

    def sigma_max(self, m: sp.MatrixBase) -> Any:
        """Exact for a rational matrix or a vector (its length); otherwise a placeholder with
        a certified enclosure, the same placeholder for matrices shown equal entry by entry."""
        if 1 in m.shape:
            return sp.sqrt(sum(x**2 for x in m)) if len(m) > 1 else self._name(sp.Abs(m[0]))
        g = m.T * m
        if all(x.is_Rational for x in g):
            lam = sp.Symbol("lam")
            roots = sp.Poly(g.charpoly(lam).as_expr(), lam).real_roots()
            return sp.sqrt(max(roots))
        for box, seen in self.seen:
            if seen.shape == m.shape and all(self.is_zero(d) for d in seen - m):
                return box
        box = sp.Dummy("sigma_max")
        with precision(PREC):
            self.enclosures[box] = largest_eigenvalue(g, self.enclosures).sqrt()
        self.seen.append((box, m))
        return box


    def is_zero(self, x: Any) -> bool:
        """Is the exact number x shown to be 0? A ball that excludes 0 says no at once (the
        screen can only say no, never yes); then, with naming on, `identically_zero`, else
        SymPy's expansion and simplification."""
        if x == 0 or excludes_zero(x, self.enclosures):
            return x == 0
        if self.named is not None:
            return identically_zero(x, self.enclosures)
        return sp.expand(x) == 0 or sp.simplify(x) == 0


def identically_zero(d: Any, encl: dict) -> bool:
    """Is d, a rational function of placeholders, 0 whatever their values: its numerator
    expands to 0, and its denominator is shown non-zero at their values (by its ball)?"""
    num, den = sp.together(d).as_numer_denom()
    if sp.expand(num) != 0:
        return False
    return den != 0 if den.is_Rational else not enclose(den, encl).contains(0)


def enclose(x: Any, encl: dict | None = None) -> arb:
    """A certified ball holding the exact number x (placeholders' balls from `encl`)."""
    try:
        return enclosure(x, DIGITS, encl)
    except NotEnclosed as exc:
        raise Undecided(f"cannot enclose {x}: {exc}") from None


def enclose_or_raise(x: Any) -> arb:
    """A certified ball holding the exact number x (NotEnclosed if there is none)."""
    return enclosure(x, DIGITS)


def largest_eigenvalue(g: sp.MatrixBase, encl: dict | None = None) -> arb:
    """A certified ball holding the largest eigenvalue of the symmetric positive semidefinite
    matrix g (exact entries, placeholders' balls from `encl`)."""
    n = g.shape[0]
    return top_eigenvalue(arb_mat([[enclose(g[i, j], encl) for j in range(n)] for i in range(n)]))


def top_eigenvalue(g: arb_mat) -> arb:
    """A certified ball holding the largest eigenvalue of every symmetric positive
    semidefinite matrix in the matrix of balls g: Arb's certified enclosures of all the
    eigenvalues (Rump's method, clusters of equal eigenvalues allowed); the largest lies
    between the largest lower end and the largest upper end, and is at least 0."""
    prec = PREC
    for _ in range(4):
        with precision(prec):
            try:
                values = acb_mat(g).eig(multiple=True)
            except ValueError:  # eigenvalues not isolated at this precision
                prec *= 2
                continue
            reals = [v.real for v in values]
            lower = max(arb(r.lower()) for r in reals)
            upper = max(arb(r.upper()) for r in reals)
            return arb(0).union(upper) if not lower > 0 else lower.union(upper)
    raise Undecided("could not certify the largest singular value")


def decide(lo: Any, hi: Any, rel: str, encl: dict) -> bool:
    """Does `lo rel hi` hold for these exact numbers? Exact when no enclosure is involved
    and the difference is rational; otherwise by certified intervals; Undecided if neither."""
    diff = sp.expand(hi - lo)
    if not diff.is_Rational and not diff.free_symbols & set(encl):
        diff = sp.simplify(diff)
    if diff.is_Rational:
        return bool(diff == 0) if rel == "=" else bool(diff > 0) if rel == "<" else bool(diff >= 0)
    d = enclose(diff, encl)
    if rel == "=":
        if d > 0 or d < 0:
            return False
        raise Undecided("the two sides agree to the working precision but are not shown equal")
    if d > 0 or (rel == "<=" and d >= 0):
        return True
    if d < 0 or (rel == "<" and d <= 0):
        return False
    raise Undecided("the enclosures of the two sides overlap")
