"""Integrals over the real line of polynomial times exp(quadratic), in closed form, by
Gaussian moments (exact, and much faster than SymPy's integrator on the random polynomials
that stand for unknown functions on instances)."""

from __future__ import annotations

from typing import Any

import sympy as sp


def gaussian_moment(k: int, var: Any) -> Any:
    """E[(z - m)^k] for z ~ N(m, var): 0 for odd k, var^(k/2) (k-1)!! for even k."""
    return sp.S.Zero if k % 2 else var ** sp.Rational(k, 2) * sp.factorial2(k - 1)


def gaussian_integral(node: sp.Integral) -> Any:
    """An integral over the real line of polynomial x exp(quadratic), in closed form; any other
    integral unchanged.

    Each term c P(z) exp(-a z^2 + b z + k) with a > 0 integrates to
    c sqrt(pi/a) exp(k + b^2/(4a)) E[P(Y)] with Y ~ N(b/(2a), 1/(2a)), and E[P(Y)] is a sum of
    central Gaussian moments. This is exact, and much faster than SymPy's integrator, on the
    polynomials that stand for unknown functions on instances.
    """
    if any(len(lim) != 3 or tuple(lim[1:]) != (-sp.oo, sp.oo) for lim in node.limits):
        return node
    if len(node.limits) > 1:  # a multiple integral: innermost variable first
        inner = gaussian_integral(sp.Integral(node.function, node.limits[0]))
        return node if inner.has(sp.Integral) else gaussian_integral(sp.Integral(inner, *node.limits[1:]))
    z = node.limits[0][0]
    total = sp.S.Zero
    for term in sp.Add.make_args(sp.expand(node.function)):
        exponent, rest = sp.S.Zero, sp.S.One
        for f in sp.Mul.make_args(term):
            if isinstance(f, sp.exp) and f.has(z):
                exponent += f.args[0]
            else:
                rest *= f
        if not (exponent.is_polynomial(z) and rest.is_polynomial(z)):
            return node
        q = sp.Poly(exponent, z)
        if q.degree() != 2:
            return node
        a, b, k = -q.all_coeffs()[0], q.all_coeffs()[1], q.all_coeffs()[2]
        if not a.is_positive:
            return node
        mean, var, u = b / (2 * a), 1 / (2 * a), sp.Dummy("u")
        shifted = sp.Poly(sp.expand(rest.subs(z, u + mean)), u)
        moments = sum((c * gaussian_moment(m, var) for (m,), c in shifted.terms()), sp.S.Zero)
        total += sp.sqrt(sp.pi / a) * sp.exp(k + b**2 / (4 * a)) * moments
    return total
