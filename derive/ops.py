"""Abstract operators the spec language adds to SymPy.

Each is an unevaluated SymPy function: the engine's rules rewrite them, the verifier
gives them meaning on random exact instances (see derive/instances.py), and the render
layer prints them. They never evaluate by themselves.
"""

from __future__ import annotations

import sympy as sp


class Op(sp.Function):
    """Base of the spec operators: never auto-evaluates."""

    @classmethod
    def eval(cls, *args):  # noqa: D102 - SymPy hook: returning None keeps it unevaluated
        return None


class Int(Op):
    """Int(f, x): integral of f over the whole space of x (a finite space on instances)."""

    nargs = 2


class E(Op):
    """E(f): expectation of the random expression f."""

    nargs = 1


class Var(Op):
    """Var(f): variance of the random expression f."""

    nargs = 1


class MaxOver(Op):
    """MaxOver(f, a[, b[, c]]): maximum of f over the spaces of a (and b, c) jointly;
    MaxOver(Abs(g), s, a) is the sup norm of g over S x A."""

    nargs = (2, 3, 4)


class ArgMaxOver(Op):
    """ArgMaxOver(f, a): the a that maximises f."""

    nargs = 2


class Theta(Op):
    """Theta(g, n): the asymptotic class of g as n grows."""

    nargs = 2


class cost(Op):
    """cost(X): number of primitive scalar operations needed to evaluate matrix expression X."""

    nargs = 1


class min_cost(Op):
    """min_cost(X): fewest operations over every parenthesisation of the product chain X."""

    nargs = 1


class matmul(Op):
    """matmul(A, B): the matrix product A B."""

    nargs = 2


class T(Op):
    """T(A): the transpose of A."""

    nargs = 1


class scale(Op):
    """scale(A, c): every entry of A multiplied by the scalar c."""

    nargs = 2


class inv(Op):
    """inv(A): the inverse of the square matrix A (an instance where A is singular is
    undecided)."""

    nargs = 1


class softmax_rows(Op):
    """softmax_rows(A): softmax applied to each row of A."""

    nargs = 1


class sg(Op):
    """sg(u): stop-gradient (detach). Its value is u; its derivative in anything is 0.

    Derivatives see it through `fdiff`; `forward_values` gives its value once the
    derivatives around it have been carried out."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        """d sg(u) / du = 0: no gradient flows through a stop-gradient."""
        return sp.S.Zero


def forward_values(expr: sp.Basic) -> sp.Basic:
    """expr with the derivatives that contain sg carried out, then every sg(u) replaced by u."""
    if not expr.has(sg):
        return expr
    expr = expr.replace(lambda e: isinstance(e, sp.Derivative) and e.has(sg), lambda e: e.doit())
    return expr.replace(lambda e: isinstance(e, sg), lambda e: e.args[0])


# ---- matrix calculus (evaluated on exact matrix instances by derive/matrix_eval.py) --------
class sigma_max(Op):
    """sigma_max(A): the largest singular value of the matrix A (never negative)."""

    nargs = 1

    def _eval_is_nonnegative(self) -> bool:
        return True

    def _eval_is_real(self) -> bool:
        return True


class diag(Op):
    """diag(v): the square diagonal matrix with the entries of the vector v on its diagonal."""

    nargs = 1


class jacobian(Op):
    """jacobian(F, v): the matrix of partial derivatives dF_i/dv_j of the vector expression F
    with respect to the vector symbol v, at the point v."""

    nargs = 2


class grad(Op):
    """grad(s, M): the matrix of partial derivatives ds/dM_ij of the scalar (or 1 x 1 matrix)
    expression s by the entries of the matrix symbol M, at M: entry (i, j) is ds/dM_ij, so
    the result has the shape of M."""

    nargs = 2


class MatProduct(Op):
    """MatProduct(A, (t, lo, hi)): the ordered matrix product A(hi) A(hi-1) ... A(lo), later
    factors on the left as in a chain rule; t is bound."""

    nargs = 2

    @property
    def free_symbols(self) -> set:
        body, (t, lo, hi) = self.args
        return (body.free_symbols - {t}) | lo.free_symbols | hi.free_symbols


class det(Op):
    """det(A): the determinant of the square matrix A."""

    nargs = 1

    def _eval_is_real(self) -> bool:
        return True


class tr(Op):
    """tr(A): the trace of the square matrix A, the sum of its diagonal entries."""

    nargs = 1

    def _eval_is_real(self) -> bool:
        return True


MATRIX_OPS = (sigma_max, diag, jacobian, grad, MatProduct, inv, det, tr)

OPS: dict[str, type[Op]] = {
    c.__name__: c for c in (Int, E, Var, MaxOver, ArgMaxOver, Theta, cost, min_cost, matmul, T, scale, inv, softmax_rows,
                            sg, *MATRIX_OPS)
}
