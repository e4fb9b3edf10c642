"""Certified enclosures of exact real numbers, as arb balls (python-flint's C library Arb).

Rules:
- `ball(x, prec, known)` is an arb ball that contains the exact real number x, a SymPy
  expression of rationals, pi, E and the functions in FUNCTIONS, computed at `prec` bits;
  `known` gives the balls of placeholder symbols (certified singular values). Every operation
  is Arb's, which rounds outward: the true value is always inside.
- A node outside that vocabulary, or a value that is not a finite real number (the log of a
  ball that reaches 0 or below, a division by a ball holding 0), raises NotEnclosed.
- `enclosure(x, digits, known)` raises the precision (doubling, up to MAX_BITS) until the
  ball is accurate to `digits` decimal digits relative to its size, or is exactly known;
  past MAX_BITS it returns the tightest ball reached (still certified, only wider).
- `excludes_zero(x)` is a cheap screen: True when a ball at 64 bits shows x != 0 (certain);
  False says nothing.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

import sympy as sp
from flint import arb, ctx, fmpq

MAX_BITS = 300_000  # 1 - tanh(a)**2 at a = 10**4 cancels ~29000 bits

FUNCTIONS: dict[Any, Callable[[arb], arb]] = {
    sp.exp: arb.exp, sp.log: arb.log, sp.tanh: arb.tanh, sp.sinh: arb.sinh, sp.cosh: arb.cosh,
    sp.sin: arb.sin, sp.cos: arb.cos, sp.tan: arb.tan, sp.atan: arb.atan, sp.sech: arb.sech,
    sp.erf: arb.erf, sp.Abs: abs,
}


class NotEnclosed(Exception):
    """The number cannot be enclosed in a finite real ball here."""


@contextmanager
def precision(bits: int) -> Iterator[None]:
    """Run Arb at `bits` bits of working precision."""
    old = ctx.prec
    ctx.prec = bits
    try:
        yield
    finally:
        ctx.prec = old


def ball(x: Any, prec: int, known: dict | None = None) -> arb:
    """A ball at `prec` bits holding the exact real number x (see the module rules)."""
    memo: dict[Any, arb] = dict(known or {})
    with precision(prec):
        out = _ball(sp.sympify(x), memo)
    if not out.is_finite():
        raise NotEnclosed(f"{x} is not a finite real number")
    return out


def _ball(x: Any, memo: dict) -> arb:
    if x in memo:
        return memo[x]
    if x.is_Rational:
        out = arb(fmpq(int(x.p), int(x.q)))
    elif x is sp.pi:
        out = arb.pi()
    elif x is sp.E:
        out = arb.const_e()
    elif isinstance(x, (sp.Add, sp.Mul, sp.Pow)) or (x.func in FUNCTIONS and len(x.args) == 1):
        out = apply(x, [_ball(a, memo) for a in x.args])
    else:
        raise NotEnclosed(f"no certified evaluation of {type(x).__name__}")
    if not out.is_finite():
        raise NotEnclosed(f"{x} has no finite real value here")
    memo[x] = out
    return out


def apply(node: Any, args: list[arb]) -> arb:
    """The operation of the SymPy node (+, *, a power, a function of FUNCTIONS) on the balls
    of its arguments."""
    if isinstance(node, sp.Add):
        return sum(args[1:], args[0])
    if isinstance(node, sp.Mul):
        out = args[0]
        for a in args[1:]:
            out = out * a
        return out
    if isinstance(node, sp.Pow):
        return _power(node, *args)
    if node.func in FUNCTIONS and len(args) == 1:
        return FUNCTIONS[node.func](args[0])
    raise NotEnclosed(f"no ball arithmetic for {type(node).__name__}")


def _power(x: sp.Pow, base: arb, exp: arb) -> arb:
    if x.exp.is_Integer:
        if x.exp < 0 and base.contains(0):
            raise NotEnclosed(f"division by a ball holding 0 in {x}")
        return base ** int(x.exp)
    if x.exp == sp.Rational(1, 2):
        if not base >= 0:
            raise NotEnclosed(f"square root of a ball reaching below 0 in {x}")
        return base.sqrt()
    if not base > 0:
        raise NotEnclosed(f"power of a ball reaching 0 or below in {x}")
    return (base.log() * exp).exp()


def enclosure(x: Any, digits: int, known: dict | None = None) -> arb:
    """A ball for x accurate to `digits` decimal digits when MAX_BITS allow (see the rules)."""
    want = int(digits * 3.33) + 8
    prec = want + 32
    while True:
        out = ball(x, prec, known)
        if out.is_exact() or out.rel_accuracy_bits() >= want or prec >= MAX_BITS:
            return out
        prec = min(prec * 2, MAX_BITS)


def excludes_zero(x: Any, known: dict | None = None) -> bool:
    """Does a 64-bit ball show that x is not 0? (False: not shown, either way.)"""
    try:
        return not ball(x, 64, known).contains(0)
    except NotEnclosed:
        return False
