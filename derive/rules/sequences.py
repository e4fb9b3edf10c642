"""Sequence rules: sums and products with symbolic bounds (index shifts, splitting off end
terms, telescoping), and the normal form the verifier uses to compare them.

Every rewrite here is an identity for every value of the bounds under SymPy's (Karr's)
convention for empty and reversed ranges (Sum(f, (i, a, a - 1)) = 0, Sum(f, (i, a, b)) =
-Sum(f, (i, b + 1, a - 1)) for b < a - 1; products likewise with 1 and 1/...), so nothing
needs a range condition:
- shift: Sum(f(i), (i, a, b)) = Sum(f(i - c), (i, a + c, b + c)) for an integer c;
- peel: Sum(f, (i, a, b)) = f(a) + Sum(f, (i, a + 1, b)) = Sum(f, (i, a, b - 1)) + f(b);
- linearity: a sum of a sum of terms is the sum of their sums, a constant factor comes out;
  a product of a product of factors is the product of their products, an integer power
  comes out.
`aligned(expr)` applies them so that sums (products) of one summand over ranges that differ
by whole numbers are written over one common range, which makes telescoping cancel: the
product of g(s + 1)/g(s) over s = a..b becomes g(b + 1)/g(a).
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from derive.exprs import evaluated
from derive.rules import Param, RuleError, rule, shown

MAX_PEEL = 8  # end terms peeled off to align two ranges (limits differing by more stay apart)


def _single(node: Any) -> bool:
    return isinstance(node, (sp.Sum, sp.Product)) and len(node.limits) == 1 and len(node.limits[0]) == 3


def _whole(d: Any) -> int | None:
    """d as a Python int when it is a whole number, else None."""
    d = sp.expand(d)
    return int(d) if d.is_Integer else None


def shifted(node: Any, c: Any) -> Any:
    """Sum(f(i), (i, a, b)) as Sum(f(i - c), (i, a + c, b + c)) (a product likewise)."""
    (i, a, b), = node.limits
    return node.func(node.function.xreplace({i: i - c}), (i, a + c, b + c))


def peeled(node: Any, lo: Any, hi: Any) -> Any:
    """node over (lo, hi) times / plus its end terms, for lo - a and b - hi whole numbers."""
    (i, a, b), = node.limits
    front, back = _whole(lo - a), _whole(b - hi)
    if front is None or back is None or not (0 <= front <= MAX_PEEL and 0 <= back <= MAX_PEEL):
        raise ValueError("ranges too far apart")
    ends = [node.function.xreplace({i: a + k}) for k in range(front)] + \
           [node.function.xreplace({i: b - k}) for k in range(back)]
    core = node.func(node.function, (i, lo, hi))
    return sp.Add(core, *ends) if isinstance(node, sp.Sum) else sp.Mul(core, *ends)


def canonical_indices(expr: Any) -> Any:
    """expr with the indices of its indexed symbols evaluated: the spec parser builds `b[s + 1]`
    unevaluated, and derive.exprs.evaluated leaves an Indexed (an atom) as it is, so b[s + 1]
    and the b[1 + s] of a substitution would differ as expressions."""
    return expr.replace(lambda e: isinstance(e, sp.Indexed),
                        lambda e: e.base[tuple(evaluated(k) for k in e.indices)])


def split_linear(expr: Any) -> Any:
    """Sums of sums of terms split into sums of terms, constant factors pulled out; products of
    products of factors split, integer powers pulled out (bottom up)."""
    def split(node: Any) -> Any:
        if not _single(node):
            return node
        (i, a, b), = node.limits
        f = sp.expand(node.function) if isinstance(node, sp.Sum) else node.function
        if isinstance(node, sp.Sum):
            out = []
            for term in sp.Add.make_args(f):
                const, dep = term.as_independent(i, as_Add=False)
                out.append(const * sp.Sum(dep, (i, a, b)) if dep != 1 else const * (b - a + 1))
            return sp.Add(*out)
        out = []
        for factor in sp.Mul.make_args(sp.powsimp(f)):
            base, k = factor.as_base_exp()
            if k.is_Integer and k != 1 and base.has(i):
                out.append(sp.Product(base, (i, a, b)) ** k)
            elif not factor.has(i):
                out.append(factor ** (b - a + 1))
            else:
                out.append(sp.Product(factor, (i, a, b)))
        return sp.Mul(*out)

    return expr.replace(_single, split)


def _candidate_shifts(f: Any, i: Any, g: Any, j: Any) -> list[Any]:
    """Shifts c (free of the index) with a chance that f(i + c) = g(j): 0 and the differences
    of the arguments of the same indexed symbols and functions in both."""
    def args(e: Any, k: Any) -> dict[Any, list[Any]]:
        found: dict[Any, list[Any]] = {}
        for n in sp.preorder_traversal(e):
            if isinstance(n, sp.Indexed):
                key, inner = n.base, n.indices
            elif isinstance(n, sp.Function) and n.args:
                key, inner = n.func, n.args
            elif isinstance(n, sp.Pow):
                key, inner = ("power", n.exp), (n.base,)
            else:
                continue
            found.setdefault(key, []).extend(arg for arg in inner if arg.has(k))
        return found

    fa, ga = args(f, i), args(g, j)
    out = {sp.S.Zero}
    for key in fa.keys() & ga.keys():
        for x in fa[key]:
            for y in ga[key]:
                c = sp.expand(y.xreplace({j: i}) - x)
                if not c.has(i) and c.is_integer:
                    out.add(c)
    return sorted(out, key=sp.default_sort_key)


def aligned(expr: Any) -> Any:
    """expr with its sums and products split by linearity, each one whose summand is another's
    shifted (by an expression free of the index) re-indexed to that summand, and those of one summand over ranges
    whose ends differ by whole numbers written over their common range plus end terms."""
    expr = split_linear(canonical_indices(expr))
    nodes = sorted({n for n in sp.preorder_traversal(expr) if _single(n)}, key=sp.default_sort_key)
    leaders: list[Any] = []
    renamed: dict[Any, Any] = {}
    for node in nodes:
        (i, a, b), = node.limits
        for lead in leaders:
            (j, _, _), = lead.limits
            if lead.func is not node.func or i in lead.function.free_symbols - {j}:
                continue  # another kind, or renaming j to i would capture a free i
            g = lead.function.xreplace({j: i})
            c = next((c for c in _candidate_shifts(g, i, node.function, i)
                      if sp.expand(g.xreplace({i: i + c}) - node.function) == 0), None)
            if c is not None:
                renamed[node] = node.func(g, (i, a + c, b + c))
                break
        else:
            leaders.append(node)
            renamed[node] = node
    out: dict[Any, Any] = {}
    for members in _by_summand(renamed):
        news = [new for _, new in members]
        los = [n.limits[0][1] for n in news]
        his = [n.limits[0][2] for n in news]
        lo = max(los, key=lambda x: _whole(x - los[0]) or 0) if all(_whole(x - los[0]) is not None for x in los) else None
        hi = min(his, key=lambda x: _whole(x - his[0]) or 0) if all(_whole(x - his[0]) is not None for x in his) else None
        for node, new in members:
            try:
                out[node] = peeled(new, lo if lo is not None else new.limits[0][1],
                                   hi if hi is not None else new.limits[0][2])
            except ValueError:
                out[node] = new
    return expr.xreplace(out)


def _by_summand(renamed: dict[Any, Any]) -> list[list[tuple[Any, Any]]]:
    """The (node, re-indexed node) pairs grouped by kind and summand; a member is written with
    its group's first index, so that equal ranges give equal nodes."""
    groups: list[list[tuple[Any, Any]]] = []
    for node, new in renamed.items():
        (i, a, b), = new.limits
        for group in groups:
            first = group[0][1]
            (j, _, _), = first.limits
            if first.func is new.func and j not in new.function.free_symbols - {i} \
                    and sp.expand(new.function.xreplace({i: j}) - first.function) == 0:
                group.append((node, new.func(first.function, (j, a, b))))
                break
        else:
            groups.append([(node, new)])
    return groups


@rule("shift_index", "shifting the index of summation", Param("shift", "expr"))
def shift_index(expr: Any, args: dict, ctx: Any) -> Any:
    """Sum(f(i), (i, a, b)) = Sum(f(i - c), (i, a + c, b + c)) for every sum and product of one
    index in the expression (c = `shift`, an integer expression)."""
    c = args["shift"]
    if c.is_integer is not True:
        raise RuleError(f"the shift {shown(c)} is not declared an integer")
    out = expr.replace(_single, lambda n: shifted(n, c))
    if out == expr:
        raise RuleError(f"no sum or product of one index occurs in {shown(expr)}")
    return out


@rule("split_last", "splitting off the last term", Param("at", "expr", required=False))
def split_last(expr: Any, args: dict, ctx: Any) -> Any:
    """Sum(f, (i, a, b)) = Sum(f, (i, a, b - 1)) + f(b), Product(f, (i, a, b)) =
    Product(f, (i, a, b - 1)) f(b), for every sum and product of one index in the expression
    (with `at`: only those whose upper limit is `at`)."""
    def split(node: Any) -> Any:
        (_, a, b), = node.limits
        return peeled(node, a, b - 1)

    def chosen(node: Any) -> bool:
        return _single(node) and ("at" not in args or sp.expand(node.limits[0][2] - args["at"]) == 0)

    out = expr.replace(chosen, split)
    if out == expr:
        raise RuleError(f"no sum or product of one index{' up to ' + shown(args['at']) if 'at' in args else ''} "
                        f"occurs in {shown(expr)}")
    return out


@rule("telescope", "telescoping: the terms of shifted ranges cancel")
def telescope(expr: Any, args: dict, ctx: Any) -> Any:
    """Split sums and products by linearity, re-index those that are shifts of one another,
    bring those of one summand to a common range (end terms split off), and cancel:
    Product(g(s + 1)/g(s), (s, a, b)) = g(b + 1)/g(a), Sum(g(s + 1) - g(s), (s, a, b)) =
    g(b + 1) - g(a)."""
    out = aligned(expr)
    if out == expr:
        raise RuleError(f"nothing telescopes in {shown(expr)}")
    return out


@rule("split_sums", "a sum of terms is the sum of their sums; constants come out")
def split_sums(expr: Any, args: dict, ctx: Any) -> Any:
    """Sum(a f + b g, (i, lo, hi)) = a Sum(f) + b Sum(g) for a, b free of i, and Sum(c) =
    (hi - lo + 1) c; Product(f g) = Product(f) Product(g), Product(f^k) = Product(f)^k for an
    integer k, Product(c) = c^(hi - lo + 1) (every sum and product of one index)."""
    out = split_linear(expr)
    if out == expr:
        raise RuleError(f"no sum or product in {shown(expr)} splits")
    return out
