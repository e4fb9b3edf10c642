"""Rules for Gaussian densities in matrices: scaled identities of symbolic size, and completing
the square in a vector variable.

- `scaled_identity`: for an identity matrix I of symbolic size n (a symbol declared with
  `structure: identity` and shape [n, n]) and a scalar c: inv(c I) = I / c, (c I) M = c M,
  M (c I) = c M, (c I)^T = c I, tr(c I) = c n, det(c I) = c^n; a scalar factor of a product
  or a trace moves out of it, (c M) N = c (M N), tr(c M) = c tr(M).
- `complete_square_matrix`: in a sum that holds the quadratic form k x^T A x and terms linear
  in the vector x, with A symmetric, k x^T A x - 2 k b^T x = k (x - A^-1 b)^T A (x - A^-1 b)
  - k b^T A^-1 b.

Neither rule is trusted: the verifier checks each result on exact matrix instances (the sizes
varied, wide sizes in ball arithmetic), like any claim.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from derive.matrices import is_matrix
from derive.ops import T, det, inv, matmul, scale, tr
from derive.rules import Param, RuleError, rule, shown


def _scaled_identity(e: Any, ctx: Any) -> tuple[Any, Any] | None:
    """(c, I) when e is c times an identity-structured matrix symbol I (c a scalar), else None."""
    sc = ctx.scope
    if isinstance(e, sp.Symbol):
        return (sp.S.One, e) if sc.structure.get(e) == "identity" else None
    if isinstance(e, scale):
        inner = _scaled_identity(e.args[0], ctx)
        return (inner[0] * e.args[1], inner[1]) if inner and not is_matrix(e.args[1], sc.shapes) else None
    if isinstance(e, sp.Mul):
        mats = [a for a in e.args if is_matrix(a, sc.shapes)]
        if len(mats) == 1:
            inner = _scaled_identity(mats[0], ctx)
            if inner:
                rest = sp.Mul(*[a for a in e.args if a is not mats[0]])
                return rest * inner[0], inner[1]
    return None


def _identity_step(e: Any, ctx: Any) -> Any:
    """One application of the scaled-identity facts at the node e (e itself if none applies)."""
    if isinstance(e, (inv, T, tr, det)):
        found = _scaled_identity(e.args[0], ctx)
        if found:
            c, eye = found
            size = ctx.scope.shapes[eye][0]
            return {inv: lambda: eye / c, T: lambda: c * eye, tr: lambda: c * size,
                    det: lambda: c**size}[type(e)]()
    if isinstance(e, (matmul, tr)):
        for k, arg in enumerate(e.args):
            found = _scaled_identity(arg, ctx) if isinstance(e, matmul) else None
            if found:
                return found[0] * e.args[1 - k]
            c, m = _split(arg, ctx.scope.shapes)
            if c != 1 and m != 1:  # a scalar factor moves out of a product or a trace
                return c * e.func(*[m if j == k else a for j, a in enumerate(e.args)])
    return e


def _bottom_up(e: Any, step: Any) -> Any:
    if isinstance(e, sp.Basic) and e.args and not e.is_Atom:
        e = e.func(*[_bottom_up(a, step) for a in e.args])
    return step(e)


@rule("scaled_identity", "multiples of the identity worked out: inverse, product, trace, determinant")
def scaled_identity(expr: Any, args: dict, ctx: Any) -> Any:
    """Every inverse, transpose, trace, determinant and product of a scalar multiple of an
    identity matrix (declared `structure: identity`, of any size) worked out, and scalar
    factors moved out of products and traces, repeatedly."""
    out = expr
    while True:
        nxt = _bottom_up(out, lambda e: _identity_step(e, ctx))
        if nxt == out:
            break
        out = nxt
    if out == expr:
        raise RuleError(f"no multiple of an identity matrix under inv, T, tr, det or matmul in {shown(expr)}")
    return out


def _split(term: Any, shapes: dict) -> tuple[Any, Any]:
    """A term of a sum as (scalar coefficient, matrix factor); the factor is 1 when there is none."""
    coeff, mats = [], []
    for f in sp.Mul.make_args(term):
        (mats if is_matrix(f, shapes) else coeff).append(f)
    if len(mats) > 1:
        raise RuleError(f"{shown(term)} multiplies two matrices with *: write matmul")
    return sp.Mul(*coeff), (mats[0] if mats else sp.S.One)


def _form(m: Any, x: Any) -> tuple[str, Any] | None:
    """('quadratic', A) for x^T A x, ('linear', u) for x^T u or u^T x (that is, a row L x with
    u = L^T), None if m does not have one of these forms."""
    if not isinstance(m, matmul):
        return None
    left, right = m.args
    if right == x and isinstance(left, matmul) and left.args[0] == T(x) and x not in left.args[1].free_symbols:
        return "quadratic", left.args[1]
    if left == T(x) and isinstance(right, matmul) and right.args[1] == x and x not in right.args[0].free_symbols:
        return "quadratic", right.args[0]
    if left == T(x) and x not in right.free_symbols:
        return "linear", right
    if right == x and x not in left.free_symbols:
        return "linear", left.args[0] if isinstance(left, T) else T(left)
    return None


def _complete(add: sp.Add, x: Any, b_given: Any, shapes: dict) -> Any:
    """The sum `add` with its quadratic and linear terms in x replaced by the completed square."""
    quads, lins, rest = [], [], []
    for term in add.args:
        if x not in term.free_symbols:
            rest.append(term)
            continue
        k, m = _split(term, shapes)
        form = _form(m, x) if x not in k.free_symbols else None
        if form is None:
            raise RuleError(f"{shown(term)} is neither k x^T A x nor linear in {x}")
        (quads if form[0] == "quadratic" else lins).append((k, form[1]))
    k1 = quads[0][0]
    a = quads[0][1] if len(quads) == 1 else sp.Add(*[(k / k1) * m for k, m in quads])
    b = b_given if b_given is not None else sp.Add(*[-(k / (2 * k1)) * u for k, u in lins])
    if b == 0:
        raise RuleError(f"no term linear in {x}: the quadratic form is a square already")
    shift = x - matmul(inv(a), b)
    square = k1 * matmul(matmul(T(shift), a), shift)
    return sp.Add(square, -k1 * matmul(matmul(T(b), inv(a)), b), *rest)


def _has_quadratic(e: Any, x: Any, shapes: dict) -> bool:
    return isinstance(e, sp.Add) and any(
        x not in _split(t, shapes)[0].free_symbols and (_form(_split(t, shapes)[1], x) or ("", None))[0] == "quadratic"
        for t in e.args if x in t.free_symbols)


@rule("complete_square_matrix", "completing the square in a vector (symmetric matrix)",
      Param("var", "symbol"), Param("b", "expr", required=False))
def complete_square_matrix(expr: Any, args: dict, ctx: Any) -> Any:
    """In the first sum (outermost first) that holds a quadratic form k x^T A x in the vector
    `var` (several are added up), that form and the terms linear in x (x^T u, u^T x, or a row
    times x) become k (x - A^-1 b)^T A (x - A^-1 b) - k b^T A^-1 b; `b` defaults to minus the
    linear terms' vectors over 2k, and may be given to write it another way (the verifier checks
    the result either way). The terms without x are kept."""
    x, shapes = args["var"], ctx.scope.shapes
    if x not in shapes or shapes[x][1] != 1:
        raise RuleError(f"{x} is not a vector symbol (declare its shape [n, 1])")
    done = False

    def visit(e: Any) -> Any:
        nonlocal done
        if done or not isinstance(e, sp.Basic) or e.is_Atom:
            return e
        if _has_quadratic(e, x, shapes):
            done = True
            return _complete(e, x, args.get("b"), shapes)
        return e.func(*[visit(a) for a in e.args])

    out = visit(expr)
    if not done:
        raise RuleError(f"no sum with a quadratic form x^T A x in {x} in {shown(expr)}")
    return out
