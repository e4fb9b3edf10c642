"""Combinatorics: binomial coefficients decided by the assumptions, sums of binomial
coefficients in closed form, floor and ceiling bounded for the sign certificate.

`binomial(n, k)` of whole numbers is 0 when k < 0 or k > n >= 0. SymPy knows this only for
numbers; at symbolic arguments the chain's `assume` decides it (sign certificates, as for
the cases of a sum). The verifier uses `vanishing_binomials` after carrying out sums, so
that a closed form SymPy gives with such a coefficient in it (its partial sums of binomial
rows carry a term binomial(n, m + 1) * hyper(...)) is recognised where the assumptions make
that coefficient 0. The sign certificate uses `rounding_slack`: floor(u) and ceiling(u) are
within 1 of u, on the right side.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from derive.rules import RuleError, rule, shown
from derive.verify import Context
from derive.verify.symbolic import implied

MAX_TERMS = 64  # a row sum with a numeric upper limit is written out up to this many terms


def vanishing_binomials(expr: Any, ctx: Context) -> Any:
    """expr with each binomial(n, k) of whole numbers put to 0 where the assumptions certify
    k < 0, or k > n with n >= 0 (every other coefficient stays as it is)."""
    def zero(node: sp.binomial) -> Any:
        n, k = node.args
        if not (n.is_integer and k.is_integer):
            return node
        if implied(sp.Lt(k, 0), ctx) is True:
            return sp.Integer(0)
        if implied(sp.Ge(n, 0), ctx) is True and implied(sp.Gt(k, n), ctx) is True:
            return sp.Integer(0)
        return node
    return expr.replace(lambda e: isinstance(e, sp.binomial), zero)


def rounding_slack(expr: Any) -> Any:
    """expr with each floor(u) put as u - t/(1 + t) and each ceiling(u) as u + t/(1 + t), a
    fresh t >= 0 for each node: u - floor(u) and ceiling(u) - u lie in [0, 1), which t/(1 + t)
    covers, so a sign certified for every such t holds for the true values (a proof of
    floor(u) <= u, floor(u) > u - 1, ceiling(u) < u + 1, not of anything that needs the
    values to be whole numbers)."""
    def slack() -> Any:
        t = sp.Dummy("t", nonnegative=True)
        return t / (1 + t)
    return expr.replace(lambda e: isinstance(e, sp.floor), lambda e: e.args[0] - slack()).replace(
        lambda e: isinstance(e, sp.ceiling), lambda e: e.args[0] + slack())


def _row_sum(node: sp.Sum, ctx: Context) -> Any:
    """The closed form of c * Sum(binomial(n, j), (j, 0, m)), c free of j, n >= 0 certified:
    at a number m its m + 1 terms written out as polynomials in n (n (n - 1) ... / j!, which
    is 0 at every whole n < j, so this holds for every n); at a symbolic m, c * 2**n when the
    assumptions certify m >= n; the sum itself when it is not a row sum. Refused when the
    assumptions do not decide m >= n, or decide m < n (a partial row sum has no closed form)."""
    if len(node.limits) != 1:
        return node
    (j, lo, hi), = node.limits
    coeff, rest = node.function.as_independent(j, as_Add=False)
    if not (isinstance(rest, sp.binomial) and rest.args[1] == j and not rest.args[0].has(j) and lo == 0):
        return node
    n = rest.args[0]
    if not (n.is_integer and hi.is_integer and implied(sp.Ge(n, 0), ctx) is True):
        raise RuleError(f"in {shown(node)} the row {shown(n)} and the upper limit must be whole numbers, "
                        f"the row certified >= 0 (declare them integer, add it under assume)")
    if hi.is_Integer:
        if hi + 1 > MAX_TERMS:
            raise RuleError(f"{shown(node)} has {hi + 1} terms, more than the {MAX_TERMS} written out")
        return coeff * sp.Add(*[sp.expand_func(sp.binomial(n, i)) for i in range(int(hi) + 1)])
    full = implied(sp.Ge(hi, n), ctx)
    if full is None:
        raise RuleError(f"the assumptions do not decide {sp.sstr(hi)} >= {sp.sstr(n)} in {shown(node)} "
                        f"(add it under assume)")
    if full is False:
        raise RuleError(f"{shown(node)} is a partial row sum ({sp.sstr(hi)} < {sp.sstr(n)}): it has no closed form")
    return coeff * 2**n


@rule("binomial_sums", "a row of binomial coefficients sums to a power of two")
def binomial_sums(expr: Any, args: dict, ctx: Any) -> Any:
    """Every sum c * Sum(binomial(n, j), (j, 0, m)) (c free of j) in closed form: 2**n times c
    at a symbolic m when the chain's assumptions certify m >= n >= 0 (the terms past j = n
    vanish, and a whole row sums to 2**n); at a number m its m + 1 terms written out as
    polynomials in n. Refused naming the sum when the assumptions do not decide m >= n, or
    decide m < n at a symbolic m (a partial row sum has no closed form)."""
    c = Context(ctx.scope, ctx.assume)
    done = {s: _row_sum(s, c) for s in sorted(expr.atoms(sp.Sum), key=sp.default_sort_key)}
    done = {s: v for s, v in done.items() if v is not s}
    if not done:
        raise RuleError(f"no sum Sum(binomial(n, j), (j, 0, m)) in {shown(expr)}")
    return expr.xreplace(done)
