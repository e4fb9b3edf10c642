"""Matrix expressions: which expressions are matrices, product chains and their orders,
and exact random matrices with declared structure (or a prescribed largest singular value).

A matrix expression is a symbol with a declared shape, or matmul / T / scale of matrix
expressions, or a sum or scalar multiple of matrix expressions. The verifier checks a
matrix step on exact random instances (derive/verify/matrices.py); the
instance generator (derive/instances.py) draws each matrix by its declared `structure`
(derive.model.STRUCTURES) and honours the problem's matrix hypotheses (`construct_factors`).
"""

from __future__ import annotations

import random
from typing import Any

import sympy as sp

from derive.ops import OPS, T, grad, inv, matmul, scale, softmax_rows
from derive.sizes import check_matrix


def is_matrix(expr: Any, shapes: dict) -> bool:
    """Is expr matrix-valued (a shaped symbol, a product, transpose, scaling, inverse, row
    softmax or gradient of matrices, or a sum, scalar multiple, power or entry-by-entry function of such)?"""
    if isinstance(expr, sp.Symbol):
        return expr in shapes
    if isinstance(expr, (matmul, T, scale, inv, softmax_rows, grad)):
        return True
    if isinstance(expr, (sp.Add, sp.Mul)):
        return any(is_matrix(a, shapes) for a in expr.args)
    if isinstance(expr, sp.Pow):
        return is_matrix(expr.base, shapes)
    if isinstance(expr, sp.Function) and type(expr) not in OPS.values():  # entry by entry
        return any(is_matrix(a, shapes) for a in expr.args)
    return False


def product_factors(x: Any) -> list[Any]:
    """The factors of a product chain, left to right: matmul(matmul(A, B), C) -> [A, B, C].
    Anything that is not a matmul (a symbol, a transpose of a product) is one factor."""
    if isinstance(x, matmul):
        return product_factors(x.args[0]) + product_factors(x.args[1])
    return [x]


def parenthesisations(factors: list[Any]) -> list[Any]:
    """Every way of multiplying the factors in their order (Catalan many), as matmul trees;
    the first is left to right."""
    if len(factors) == 1:
        return [factors[0]]
    out = []
    for split in range(len(factors) - 1, 0, -1):
        for left in parenthesisations(factors[:split]):
            for right in parenthesisations(factors[split:]):
                out.append(matmul(left, right))
    return out


SQUARE = ("identity", "permutation", "invertible", "symmetric", "spd")  # structures of square matrices only


def structure_relations(shapes: dict, structure: dict) -> list[Any]:
    """The size relations a structure needs: rows >= columns for orthonormal columns, a square
    identity, symmetric or symmetric positive-definite (spd) matrix. Instances draw their sizes
    so that these hold."""
    out = []
    for sym, kind in sorted(structure.items(), key=lambda kv: str(kv[0])):
        rows, cols = shapes[sym]
        if kind == "orthonormal_columns" and rows != cols:
            out.append(sp.Ge(rows, cols, evaluate=False))
        elif kind in SQUARE and rows != cols:
            out.append(sp.Eq(rows, cols, evaluate=False))
    return out


def random_matrix(rows: int, cols: int, structure: str | None, rng: random.Random, scale: Any = 1,
                  top: Any = None) -> sp.ImmutableMatrix:
    """A random exact matrix of the given structure (None: random rational entries times
    `scale`). With `top`, one whose largest singular value is exactly top: U diag(top, s_2, ...)
    V^T with generic rational orthogonal U, V and rationals s_i in (0, top) (a multiple of an
    orthogonal matrix would meet the product bound with equality, which enclosures cannot decide).
    Refused (LimitError) past the size limit of derive/sizes.py."""
    check_matrix(rows, cols)
    if top is not None:
        k = min(rows, cols)
        sigma = sp.zeros(rows, cols)
        for i in range(k):
            sigma[i, i] = sp.Rational(top) * (1 if i == 0 else sp.Rational(rng.randint(1, 7), 8))
        return sp.ImmutableMatrix(_generic_orthogonal(rows, rng) * sigma * _generic_orthogonal(cols, rng).T)
    if structure == "orthonormal_columns":
        if rows < cols:
            raise ValueError(f"orthonormal columns need rows >= columns, got {rows} x {cols}")
        return sp.ImmutableMatrix(rational_orthogonal(rows, rng)[:, :cols])
    if structure in SQUARE and rows != cols:
        raise ValueError(f"a matrix of structure {structure} is square, got {rows} x {cols}")
    if structure == "identity":
        return sp.ImmutableMatrix(sp.eye(rows))
    if structure == "permutation":
        return sp.ImmutableMatrix(random_permutation(rows, rng))
    if structure == "ones":
        return sp.ImmutableMatrix(sp.ones(rows, cols))
    if structure == "invertible":
        while True:
            m = sp.ImmutableMatrix(rows, cols, lambda i, j: scale * sp.Rational(rng.randint(-9, 9), rng.randint(1, 4)))
            if m.det() != 0:
                return m
    if structure in ("symmetric", "spd"):
        if rows != cols:
            raise ValueError(f"a {structure} matrix is square, got {rows} x {cols}")
        return _symmetric(rows, structure == "spd", rng, scale)
    if structure in ("diagonal", "positive_diagonal"):
        low = 1 if structure == "positive_diagonal" else -9
        out = sp.zeros(rows, cols)
        for i in range(min(rows, cols)):
            value = sp.Integer(0)
            while value == 0:
                value = sp.Rational(rng.randint(low, 9), rng.randint(1, 4))
            out[i, i] = scale * value
        return sp.ImmutableMatrix(out)
    return sp.ImmutableMatrix(rows, cols, lambda i, j: scale * sp.Rational(rng.randint(-9, 9), rng.randint(1, 4)))


def random_permutation(n: int, rng: random.Random) -> sp.Matrix:
    """A random n x n permutation matrix (a 1 in each row and column, 0 elsewhere), not the
    identity when n > 1 (the identity would make every permutation claim trivially true)."""
    order = list(range(n))
    while n > 1 and order == sorted(order):
        rng.shuffle(order)
    out = sp.zeros(n, n)
    for i, j in enumerate(order):
        out[i, j] = 1
    return out
def _symmetric(n: int, definite: bool, rng: random.Random, scale: Any) -> sp.ImmutableMatrix:
    """A random exact symmetric n x n matrix B + B^T times `scale`; with `definite`, a symmetric
    positive-definite one L L^T times |scale|, L lower triangular with a positive diagonal (so
    L is invertible and x^T L L^T x = |L^T x|^2 > 0 for x != 0)."""
    def entry() -> sp.Rational:
        return sp.Rational(rng.randint(-9, 9), rng.randint(1, 4))
    if not definite:
        b = sp.Matrix(n, n, lambda i, j: entry())
        return sp.ImmutableMatrix(scale * (b + b.T))
    low = sp.Matrix(n, n, lambda i, j: sp.Rational(rng.randint(1, 9), rng.randint(1, 4)) if i == j
                    else entry() if i > j else 0)
    return sp.ImmutableMatrix(abs(scale) * low * low.T)


def _generic_orthogonal(n: int, rng: random.Random) -> sp.Matrix:
    """A random rational orthogonal matrix with no zero entry (for n > 1), so that no singular
    direction lies along an axis: equality cases of the bounds are then not met by accident,
    and certified enclosures can separate the two sides of a true inequality."""
    for _ in range(100):
        q = rational_orthogonal(n, rng)
        if n == 1 or all(x != 0 for x in q):
            return q
    raise ValueError(f"no generic orthogonal {n} x {n} matrix found")


def rational_orthogonal(n: int, rng: random.Random) -> sp.Matrix:
    """A random exact orthogonal n x n matrix with rational entries (Cayley transform).

    For a skew-symmetric A, Q = (I - A)(I + A)^-1 is orthogonal (I + A is always invertible,
    as A has only imaginary eigenvalues); small random integer entries keep Q's rationals short.
    """
    a = sp.zeros(n, n)
    for i in range(n):
        for j in range(i + 1, n):
            a[i, j] = sp.Rational(rng.randint(-3, 3), rng.randint(1, 2))
            a[j, i] = -a[i, j]
    eye = sp.eye(n)
    return (eye - a) * (eye + a).inv()


def construct_factors(m: sp.Matrix, inner: int, rng: random.Random) -> tuple[sp.Matrix, sp.Matrix]:
    """Random X, Y with `inner` columns and X Y^T = m exactly.

    From a rank factorisation m = F G (F with r columns): X = F A, Y = G^T B^T with A a random
    r x inner matrix of full row rank and B^T = A^T (A A^T)^-1, so that A B^T = I_r.
    Needs inner >= r = rank m.
    """
    f, g = m.rank_decomposition()
    r = f.shape[1]
    if r > inner:
        raise ValueError(f"a product X Y^T with inner size {inner} cannot have rank {r}")
    if r == 0:
        return sp.zeros(m.rows, inner), sp.zeros(m.cols, inner)
    while True:
        a = random_matrix(r, inner, None, rng)
        if a.rank() == r:
            break
    bt = a.T * (a * a.T).inv()
    return f * a, g.T * bt.T
