"""The operators of derive.ops: stop-gradient has the value of its argument and no gradient."""

from __future__ import annotations

import sympy as sp

from derive.ops import forward_values, sg

x, y = sp.symbols("x y", real=True)
f = sp.Function("f", real=True)


def test_stop_gradient_passes_no_gradient() -> None:
    assert sp.Derivative(x + sg(y - x), x).doit() == 1
    assert sp.Derivative(sg(x**2), x).doit() == 0


def test_forward_values_after_derivatives() -> None:
    assert forward_values(x + sg(y - x)) == y
    assert forward_values(sp.Derivative(x * sg(x), x)) == x  # sg(x) + x * 0, then the value of sg(x)
    assert forward_values(sp.Derivative(f(x + sg(y - x)), x)).doit() == sp.Derivative(f(y), y)
    assert forward_values(x**2) == x**2
