"""The values an instance (derive/instances.py) gives unknown tables: entries of indexed
symbols, tables of declared functions on finite spaces (random; moved by a random slack under
an inequality hypothesis; shared up to sign in a tied instance; constant in an equality case:
positive in the first, one negative constant for all in the second), probability tables of densities (normalised; in
the first equality case equal to a marginal or posterior made of densities), and the chain's
equality constraints on entries
(Sum(t[i], (i, 1, n)) == 1). A mixin of Instance: it uses the instance's fields."""

from __future__ import annotations

import functools
from typing import Any, Callable

import sympy as sp
from sympy.core.function import AppliedUndef

from derive.abstract import tie_leader
from derive.scope import Rewrite, inequality_hypotheses


class Tables:
    """Table values of an Instance (rng, scope, tables, values, scale, trial, equal, tied, assume)."""

    rng: Any
    scope: Any
    tables: dict
    values: dict
    scale: Any
    magnitude: Callable[[str], Any]
    spread: bool
    trial: int
    equal: int
    tied: frozenset
    tie_sign: int
    assume: tuple

    def honour_equalities(self) -> None:
        """Make the instance satisfy each equality among the chain's assumptions that involves
        tables or indexed values (e.g. Sum(t[i], (i, 1, n)) == 1). Its entries are drawn, then
        scaled by one common positive factor when the constraint is linear and homogeneous in
        them plus a constant (a normalised table stays non-negative), else the last entry is
        solved for. ValueError if the constraint cannot be met."""
        for rel in self.assume:
            if not isinstance(rel, sp.Eq):
                continue
            d = rel.lhs - rel.rhs
            self.choose_params(d)
            d = self.scope.unfold(d.xreplace(self.values))
            d = d.replace(lambda e: isinstance(e, (sp.Sum, sp.Product)) and bounds_concrete(e), carried_out)
            entries = sorted((e for e in d.atoms(sp.Indexed, AppliedUndef) if self._entry_key(e)), key=str)
            if not entries:
                continue
            xs = [sp.Dummy(f"e{i}") for i in range(len(entries))]
            expr = d.xreplace(dict(zip(entries, xs)))
            current = {x: self.evaluate(e) for x, e in zip(xs, entries)}
            const = expr.xreplace({x: 0 for x in xs})
            lin = sp.expand(expr - const)
            linear = all(not sp.diff(lin, x).free_symbols for x in xs)
            total = lin.xreplace(current) if linear else sp.S.Zero
            if linear and total != 0 and (-const / total).is_positive:
                new = {x: v * (-const / total) for x, v in current.items()}
            else:
                rest = {x: v for x, v in current.items() if x is not xs[-1]}
                sol = sp.solve(expr.xreplace(rest), xs[-1])
                if len(sol) != 1:
                    raise ValueError(f"the instance cannot satisfy the assumption {rel}")
                new = {**rest, xs[-1]: sol[0]}
            for x, e in zip(xs, entries):
                self.tables[self._entry_key(e)] = new[x]
            if sp.simplify(expr.xreplace(new)) != 0:
                raise ValueError(f"the instance does not satisfy the assumption {rel}")

    def _entry_key(self, e: Any) -> tuple | None:
        """The table key of a concrete table entry (b[3] or F(0, 1)), else None."""
        if isinstance(e, sp.Indexed) and e.indices[0].is_Integer:
            return (str(e.base), int(e.indices[0]))
        if isinstance(e, AppliedUndef) and e.func.__name__ in self.scope.functions \
                and all(a.is_Integer for a in e.args):
            return (e.func.__name__, *map(int, e.args))
        return None


    def _indexed(self, node: sp.Indexed) -> Any:
        """b[k]: a random rational, or a random point of b's space if it has one. Entries are
        parameters (weights, biases, gaps) that often enter a nonlinearity, where 1000 saturates:
        they take magnitude 1, except in a spread instance (their own magnitude)."""
        key = (str(node.base), int(node.indices[0]))
        if key not in self.tables:
            space = self.scope.indexed_space.get(str(node.base))
            low = 1 if node.is_positive else 0 if node.is_nonnegative else -9
            if (between := entry_bounds(self.assume, node.base)) is not None:
                lo, hi = between
                self.tables[key] = lo + (hi - lo) * sp.Rational(self.rng.randint(1, 19), 20)
            elif self.equal and space is None and low < 1:  # an equality case: zero parameters (biases)
                self.tables[key] = sp.Integer(0)
            else:
                size = self.magnitude(str(node.base)) if self.spread else 1
                self.tables[key] = size * sp.Rational(self.rng.randint(low, 9), self.rng.randint(1, 4)) \
                    if space is None else sp.Integer(self.rng.randrange(self.size(space)))
        return self.tables[key]

    def _table(self, node: AppliedUndef) -> Any:
        info = self.scope.functions[node.func.__name__]
        args = tuple(int(a) for a in node.args)
        key = (info.name, *args)
        if key not in self.tables:
            bound = next((h for h in inequality_hypotheses(self.scope) if h.head == info.name), None)
            if info.density:
                self._fill_density(info, args)
            elif bound is not None:
                self.tables[key] = self._bounded(bound, node)
            elif (leader := tie_leader(self.scope, info.name, self.tied)) is not None:
                self.tables[key] = self.tie_sign * self._table(self.scope.ns.functions[leader][0](*node.args))
            elif self.equal:  # one value for every argument: in case 1 positive, its own for each table;
                # in case 2 negative, one for every free table (q1 = q2: where bounds on differences are tight)
                self.tables[key] = self.tables.setdefault((info.name if self.equal == 1 else "", "constant"),
                                                         (-1) ** (self.equal - 1) * self.magnitude(info.name)
                                                         * self.rational())
            else:
                self.tables[key] = self.magnitude(info.name) * sp.Rational(self.rng.randint(-9, 9),
                                                                          self.rng.randint(1, 4))
        return self.tables[key]

    def _bounded(self, hyp: Rewrite, node: AppliedUndef) -> Any:
        """The value of F(args) under the hypothesis F(x) rel rhs(x): the right side's value
        moved by a random slack of the allowed sign (zero allowed unless the bound is strict)."""
        low = 0 if hyp.rel in ("<=", ">=") else 1
        slack = self.magnitude(hyp.head) * sp.Rational(self.rng.randint(low, 9), self.rng.randint(1, 4))
        bound = self.evaluate(hyp.apply(node))
        return bound - slack if hyp.rel in ("<", "<=") else bound + slack

    def _fill_density(self, info: Any, args: tuple[int, ...]) -> None:
        """A random probability table over the free arguments, for these conditioning values.
        In an equality case, a density equals the first declared density on the same spaces."""
        n_free = len(info.spaces) - info.given
        cond = args[n_free:]
        sizes = [self.size(s) for s in info.spaces[:n_free]]
        cells = grid(sizes)
        leader = next(f for f in self.scope.functions.values()
                      if f.density and f.spaces == info.spaces and f.given == info.given)
        tie = self._tied_definition(info) if self.equal == 1 else None
        if tie is not None:  # only if the definition is a probability table there
            values = [self.evaluate(sp.Function(tie)(*map(sp.Integer, (*cell, *cond)))) for cell in cells]
            if all(v.is_nonnegative for v in values) and sp.simplify(sp.Add(*values) - 1) == 0:
                self.tables.update({(info.name, *cell, *cond): v for cell, v in zip(cells, values)})
                return
        if self.equal and leader.name != info.name:
            fn = self.scope.ns.functions[leader.name][0]
            for cell in cells:
                self.tables[(info.name, *cell, *cond)] = self._table(fn(*map(sp.Integer, (*cell, *cond))))
            return
        # odd trials: weights of mixed magnitudes (1 .. 900), so that a density can concentrate
        # where another is large, not only near uniform
        weights = [self.rng.randint(1, 9) * (10 ** self.rng.randint(0, 2) if self.trial % 2 else 1) for _ in cells]
        for cell, w in zip(cells, weights):
            self.tables[(info.name, *cell, *cond)] = sp.Rational(w, sum(weights))

    def _tied_definition(self, info: Any) -> str | None:
        """The first definition on the same argument spaces as the density `info` that is made of
        other densities by products, quotients and integrals (a marginal, a posterior: no log or
        other function): in the first equality case the density equals it (q = posterior, the
        prior = the marginal)."""
        for name, d in self.scope.definitions.items():
            spaces = tuple(self.scope.symbol_space.get(p) for p in d.params)
            if spaces != info.spaces or d.at:
                continue
            body = self.scope.unfold(d.body)
            uses = {f.func.__name__ for f in body.atoms(AppliedUndef)}
            made_of_densities = all(u in self.scope.functions and self.scope.functions[u].density for u in uses)
            if info.name not in uses and made_of_densities and not body.has(sp.log, sp.exp):
                return name
        return None


@functools.lru_cache(maxsize=512)
def carried_out(node: Any, deep: bool = True) -> Any:
    """node.doit(deep=deep), remembered: SymPy's summation of a series takes about a second,
    and the same sums come back in every step, probe and instance of a chain. With deep False
    the terms are left as they are (an instance evaluates them itself: an integral of a
    function not yet given its values would go to SymPy's general integrator)."""
    return node.doit(deep=deep)


def entry_bounds(assume: tuple, base: Any) -> tuple[Any, Any] | None:
    """(lo, hi) when the assumptions bound every entry of `base` on both sides by numbers, as in
    `0 < beta[s] < 1` with s a symbol (an index standing for every index); else None. Entries
    are then drawn strictly inside (lo, hi), which honours strict and non-strict ends alike."""
    lo = hi = None
    for rel in assume:
        if not isinstance(rel, (sp.StrictLessThan, sp.LessThan, sp.StrictGreaterThan, sp.GreaterThan)):
            continue
        small, big = (rel.lhs, rel.rhs) if isinstance(rel, (sp.StrictLessThan, sp.LessThan)) else (rel.rhs, rel.lhs)
        for entry, other, side in ((big, small, "lo"), (small, big, "hi")):
            if isinstance(entry, sp.Indexed) and entry.base == base and entry.indices[0].is_Symbol \
                    and other.is_Rational:
                lo, hi = (other, hi) if side == "lo" else (lo, other)
    return (lo, hi) if lo is not None and hi is not None and lo < hi else None


def bounds_concrete(e: Any) -> bool:
    """Are the bounds of a Sum or Product numbers?"""
    return all(not lim.free_symbols for (_, *lims) in e.limits for lim in lims)


def grid(sizes: list[int]) -> list[tuple[int, ...]]:
    """Every cell of a product of ranges of these sizes, in order."""
    cells: list[tuple[int, ...]] = [()]
    for size in sizes:
        cells = [c + (i,) for c in cells for i in range(size)]
    return cells
