"""The induction rule: a claim `lhs(n) = rhs(n)` for every whole number n >= n0 about
recursively defined objects, proved by its base case and its step, both symbolically.

The recursively defined objects are applications of recursive definitions (`at:` base
cases) and sums and products whose upper limit grows with n. The proof:
- base: the claim at n = n0 (sums and products carried out, definitions unfolded down to
  their base cases) simplifies to an identity;
- step: for a fresh m >= n0, the claim at m + 1 is rewritten by the recursion into objects
  at level m (a recursive definition at m + 1 is unfolded once; Sum(f, (i, a, m + 1)) is
  Sum(f, (i, a, m)) + f(a..m + 1), a product likewise), every recursive object at a symbolic
  argument becomes an unknown function of everything it can depend on, the claim at m (the
  induction hypothesis) is used as a rewrite (either side put for the other, or subtracted),
  and the difference simplifies to 0 with those objects unknown.
An identity shown for unknown objects holds for the actual ones, so nothing is taken on
evidence. Equal outer functions are stripped first (|a| = |b| is proved as a = b, which is
stronger). When base or step fails, the claim is put to the verifier for a counterexample
(its exact instances); if none is found the step is rejected as not shown.
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef

from derive.exprs import evaluated
from derive.instances import free_vars
from derive.model import Verdict
from derive.rules import Param, RuleError, rule
from derive.verify import Context, StepRejected, check, symbolic_zero

PROOF_METHODS = ("symbolic", "certificate", "proof")  # verdict methods that are proofs, not evidence
MAX_ROUNDS = 16


def _is_recursive(e: Any, scope: Any) -> bool:
    """Is e an application of a recursive definition (one with base cases) at a symbolic argument?"""
    return isinstance(e, AppliedUndef) and e.func.__name__ in scope.definitions \
        and bool(scope.definitions[e.func.__name__].at) and not e.args[0].is_Integer


def _recursive(expr: Any, scope: Any) -> set[Any]:
    """The recursive objects at symbolic arguments in expr."""
    return {e for e in expr.atoms(AppliedUndef) if _is_recursive(e, scope)}


def _ground(expr: Any, scope: Any) -> Any:
    """Definitions unfolded and sums/products with numeric limits carried out, until nothing
    changes (a product over k = 1..2 of h(k - 1) unfolds h(0), h(1) after it is carried out)."""
    for _ in range(MAX_ROUNDS):
        new = scope.unfold(expr)
        new = new.replace(lambda e: isinstance(e, (sp.Sum, sp.Product))
                          and all(lim.is_Integer for _, *lims in e.limits for lim in lims), lambda e: e.doit())
        if new == expr:
            return new
        expr = new
    return expr


def _peel(expr: Any, t: Any) -> Any:
    """Sum(f, (i, a, U)) as Sum(f, (i, a, U - 1)) + f(U) (a product: times f(U)) wherever the
    upper limit U grows with t and the lower limit does not depend on t (valid for every U
    under SymPy's convention for empty and reversed ranges)."""
    def peel(node: Any) -> Any:
        (i, a, top), = node.limits
        last = node.function.xreplace({i: top})
        rest = node.func(node.function, (i, a, top - 1))
        return rest + last if isinstance(node, sp.Sum) else rest * last

    def grows(e: Any) -> bool:
        if not isinstance(e, (sp.Sum, sp.Product)) or len(e.limits) != 1:
            return False
        (_, a, top), = e.limits
        return top.has(t) and not a.has(t) and sp.expand(top - top.xreplace({t: t - 1})) == 1
    return expr.replace(grows, peel)


def _unfold_next(expr: Any, level: set[Any], scope: Any, t: Any) -> Any:
    """Unfold once each recursive application one above an argument of `level` (the
    arguments the hypothesis holds at), then the other definitions."""
    def above(e: Any) -> bool:
        return _is_recursive(e, scope) and e.args[0].has(t) and e.func(e.args[0].xreplace({t: t - 1})) in level
    for _ in range(MAX_ROUNDS):
        new = scope.unfold(expr.replace(above, lambda e: scope.definitions[e.func.__name__].apply(e)))
        if new == expr:
            return new
        expr = new
    return expr


def _stand_ins(expr: Any, scope: Any) -> Any:
    """Every recursive object at a symbolic argument as an unknown function of its argument
    and of every symbol its definition can depend on (so that d/dx of h(m) is not taken to
    be 0 when h(0) = x). A derivative in an indexed symbol of such an object is refused: the
    object may depend on every b[k]."""
    for node in expr.atoms(sp.Derivative):
        if any(isinstance(v, sp.Indexed) for v in node.variables) and _recursive(node.expr, scope):
            raise RuleError(f"cannot differentiate a recursive object in an indexed symbol: {sp.sstr(node)}")

    def hidden(name: str, seen: frozenset = frozenset()) -> set[Any]:
        """The symbols a recursive definition can depend on, through the other recursive
        definitions it uses too."""
        d = scope.definitions[name]
        parts = [scope.unfold(d.body), *(base for _, base in d.at)]
        labels = {i.base.label for p in parts for i in p.atoms(sp.Indexed)}
        found = {s for s in set().union(*(free_vars(p) for p in parts)) - set(d.params) - labels
                 if isinstance(s, sp.Symbol)}
        for other in {e.func.__name__ for p in parts for e in _recursive(p, scope)} - seen - {name}:
            found |= hidden(other, seen | {name})
        return found

    return expr.replace(lambda e: _is_recursive(e, scope),
                        lambda e: sp.Function(f"{e.func.__name__}_", real=True)(
                            e.args[0], *sorted(hidden(e.func.__name__), key=str)))


def _combine_sums(expr: Any) -> Any:
    """c1 Sum(f1, L) + c2 Sum(f2, L) as Sum(c1 f1 + c2 f2, L) for factors c free of the index,
    the summand simplified (a sum of a summand that simplifies to 0 is 0)."""
    groups: dict[Any, Any] = {}
    rest = sp.S.Zero
    for term in sp.Add.make_args(sp.expand(expr)):
        sums = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.Sum) and len(f.limits) == 1]
        if len(sums) != 1:
            rest += term
            continue
        s = sums[0]
        coeff = term / s
        (i, a, top), = s.limits
        j = sp.Dummy("j", integer=True)
        if coeff.has(i):
            rest += term
            continue
        key = (a, top)
        groups[key] = groups.get(key, (j, sp.S.Zero))
        j = groups[key][0]
        groups[key] = (j, groups[key][1] + coeff * s.function.xreplace({i: j}))
    for (a, top), (j, body) in groups.items():
        if sp.expand(_split_powers(body)) != 0 and sp.simplify(body) != 0:
            rest += sp.Sum(body, (j, a, top))
    return rest


def _split_powers(expr: Any) -> Any:
    """Each power b**(r + c), c a whole number and r symbolic, as b**c times one unknown W for
    b**r (the same W wherever b**r occurs): (1 - x)**(m + 1 - j) - (1 - x)*(1 - x)**(m - j)
    becomes (1 - x) W - (1 - x) W, which expands to 0."""
    names: dict[Any, Any] = {}

    def split(p: Any) -> Any:
        c, r = p.exp.as_coeff_Add()
        return p.base**c * names.setdefault((p.base, r), sp.Dummy("W"))

    return expr.replace(lambda e: isinstance(e, sp.Pow) and isinstance(e.exp, sp.Add)
                        and e.exp.as_coeff_Add()[0].is_Integer, split)


def _zero(d: Any, ctx: Context) -> bool:
    """Does d simplify to 0, with the objects at level m unknown?"""
    d = _combine_sums(d)
    if d == 0:
        return True
    atoms = sorted(d.atoms(sp.Sum, sp.Product), key=sp.default_sort_key)
    outer = [a for a in atoms if not any(b != a and b.has(a) for b in atoms)]
    plain = d.xreplace({a: sp.Dummy("P") for a in outer})
    try:
        if sp.simplify(plain) == 0:
            return True
    except (TypeError, ValueError, NotImplementedError, ZeroDivisionError):
        pass
    return symbolic_zero(d, ctx)


def _with_hypothesis(goal: Any, hyp_l: Any, hyp_r: Any) -> list[Any]:
    """The goal difference rewritten by the hypothesis hyp_l = hyp_r, in each sound way: one
    side put for the other where it occurs, or the hypothesis' difference subtracted."""
    out = []
    for old, new in ((hyp_l, hyp_r), (hyp_r, hyp_l)):
        if not old.is_number and goal.has(old):
            out.append(goal.xreplace({old: new}))
    out.append(goal - (hyp_l - hyp_r))
    return out


def _strip(lhs: Any, rhs: Any) -> tuple[Any, Any, str]:
    """Strip equal outer one-argument functions: f(a) = f(b) follows from a = b. Also the
    names of the functions stripped."""
    stripped = []
    while isinstance(lhs, sp.Function) and type(lhs) is type(rhs) and len(lhs.args) == len(rhs.args) == 1:
        stripped.append(type(lhs).__name__)
        lhs, rhs = lhs.args[0], rhs.args[0]
    return lhs, rhs, ", ".join(stripped)


def _counterexample(prev: Any, nxt: Any, n: Any, ctx: Context, what: str) -> StepRejected:
    """The rejection of an unproved claim: the verifier's own counterexample when it finds one
    (on its exact instances), else a rejection saying what was not shown."""
    try:
        verdict = check(prev, "=", nxt, ctx)
    except StepRejected as exc:
        return StepRejected(f"induction on {n}: {what}, and the claim is false", exc.counterexample)
    return StepRejected(f"induction on {n}: {what}",
                        f"none found ({verdict.detail}), but the claim is not proved: the step from {n} to "
                        f"{n} + 1 does not reduce to an identity with the objects at {n} unknown")


def induction_claim(prev: Any, rel: str, nxt: Any, args: dict, ctx: Any) -> Verdict:
    """Prove `prev = nxt` for every whole number n >= base (see the module docstring)."""
    n, scope = args["on"], ctx.scope
    if rel != "=":
        raise RuleError("induction proves equations only (rel '=')")
    if not n.is_integer:
        raise RuleError(f"{n} is not declared integer")
    least = 1 if n.is_positive else 0 if n.is_nonnegative else None
    n0 = args.get("base", least)
    if n0 is None:
        raise RuleError(f"{n} has no least value: declare it positive or nonnegative, or give base")
    if least is not None and n0 > least:
        raise RuleError(f"base {n} = {n0} leaves {n} = {least}..{n0 - 1} unproved")
    if any(r.has(n) for r in ctx.assume):
        raise RuleError(f"the chain's assumptions mention {n}: induction proves the claim for every {n} >= {n0}")
    vctx = Context(scope, ctx.assume)
    lhs, rhs = (scope.unfold(evaluated(e)) for e in (prev, nxt))
    if any(n in lim.variables for e in (lhs, rhs) for lim in e.atoms(sp.Sum, sp.Product, sp.Integral)):
        raise RuleError(f"{n} is also a bound variable in the claim")
    lhs, rhs, stripped = _strip(lhs, rhs)
    if not (lhs - rhs).has(n):
        raise RuleError(f"the claim does not depend on {n}")

    base_l, base_r = (_ground(e.xreplace({n: n0}), scope) for e in (lhs, rhs))
    if not (base_l == base_r or symbolic_zero(base_l - base_r, vctx)):
        raise _counterexample(prev, nxt, n, vctx, f"the base case {n} = {n0} is not shown symbolically")

    t = sp.Dummy(f"{n}", integer=True, nonnegative=True)
    m = t + n0
    hyp_l, hyp_r = (e.xreplace({n: m}) for e in (lhs, rhs))
    level = _recursive(hyp_l, scope) | _recursive(hyp_r, scope)
    goal = [_unfold_next(_peel(e.xreplace({n: m + 1}), t), level, scope, t) for e in (lhs, rhs)]
    hyp_l, hyp_r = (_derivatives(_stand_ins(e, scope)) for e in (hyp_l, hyp_r))
    goal_d = _derivatives(_stand_ins(goal[0], scope)) - _derivatives(_stand_ins(goal[1], scope))
    if not any(_zero(d, vctx) for d in _with_hypothesis(goal_d, hyp_l, hyp_r)):
        raise _counterexample(prev, nxt, n, vctx, f"the step from {n} to {n} + 1 is not shown symbolically")
    stronger = f" (the stronger claim without the outer {stripped} proved)" if stripped else ""
    return Verdict("symbolic", f"induction: base {n}={n0} and step checked symbolically{stronger}")


def _derivatives(expr: Any) -> Any:
    """Every derivative carried out (the chain rule through the unknown objects)."""
    return expr.replace(lambda e: isinstance(e, sp.Derivative), lambda e: e.doit())


@rule("induction", "by induction: base case and step checked", Param("on", "symbol"),
      Param("base", "int", required=False), prove=induction_claim)
def induction(expr: Any, args: dict, ctx: Any) -> Any:
    """Induction proves the claim of its step (`to`); it computes nothing."""
    raise RuleError("induction proves the claimed `to` of its step; give `to`")
