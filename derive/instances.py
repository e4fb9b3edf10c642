"""Random exact instances of abstract objects, for checking identities about them.

An instance fixes, with seeded random rationals:
- whole-number parameters (n -> 1, 2 or 3), so sums and products have concrete length;
- finite spaces (sizes from the spec): Int(f, x) becomes a sum over the points of x's space;
  MaxOver / ArgMaxOver become a max / arg max over those points;
- unknown functions on finite spaces: a random table per function; a density's table is
  normalised over its non-conditioning arguments;
- random symbols: tables over a finite sample space with random probabilities; E and Var
  become weighted sums; symbols declared mean_zero are centred;
- cost(X): the number of scalar operations counted by running the textbook algorithm on
  matrices of the instance's sizes.
Real symbols are left symbolic (the caller samples them). Everything is exact: no floats.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef

from derive.ops import ArgMaxOver, E, Int, MatProduct, MaxOver, T, Var, cost, matmul, scale, softmax_rows
from derive.scope import Scope

SAMPLE_SPACE = 4
# magnitudes of table values, one per trial in turn, so that a bound which holds only for
# large (or only for small) values meets a counterexample
SCALES = (sp.Integer(1), sp.Rational(1, 1000), sp.Integer(1000))
ABSTRACT_OPS = (Int, E, Var, MaxOver, ArgMaxOver, cost)


def is_abstract(expr: Any, scope: Scope) -> bool:
    """Does expr involve objects only an instance can give meaning to?"""
    if expr.atoms(*ABSTRACT_OPS) or expr.atoms(sp.Sum, sp.Product) or whole_number_params(expr):
        return True
    if any(f.func.__name__ in scope.functions for f in expr.atoms(AppliedUndef)):
        return True
    return bool(expr.free_symbols & (scope.random | set(scope.symbol_space)))


BINDING_OPS = (Int, MaxOver, ArgMaxOver)


def free_vars(expr: Any) -> set:
    """Free symbols of expr, where Int, MaxOver and ArgMaxOver bind their variable (and the
    binders of SymPy and MatProduct theirs)."""
    if isinstance(expr, BINDING_OPS):
        return free_vars(expr.args[0]) - {expr.args[1]}
    if not isinstance(expr, sp.Basic) or not expr.args or isinstance(expr, (sp.Sum, sp.Product, sp.Integral, sp.Limit,
                                                                            sp.Subs, MatProduct)):
        return set(expr.free_symbols) if isinstance(expr, sp.Basic) else set()
    return set().union(*(free_vars(a) for a in expr.args))


def whole_number_params(expr: Any) -> list[sp.Symbol]:
    """Integer symbols that are not bound inside expr."""
    return sorted((s for s in free_vars(expr) if s.is_integer), key=str)


@dataclass
class Instance:
    """One random instance; tables are filled lazily so both sides of a step share them."""

    scope: Scope
    rng: random.Random
    values: dict[sp.Symbol, Any] = field(default_factory=dict)
    tables: dict[tuple, Any] = field(default_factory=dict)
    outcome_p: list[Any] = field(default_factory=list)
    outcome_vals: dict[sp.Symbol, list[Any]] = field(default_factory=dict)
    scale: Any = sp.Integer(1)

    def rational(self, lo: int = 1, hi: int = 9) -> sp.Rational:
        """A random positive rational with small numerator and denominator."""
        return sp.Rational(self.rng.randint(lo, hi * 7), self.rng.randint(1, 7))

    def describe(self, symbols: set) -> str:
        """The parameter values of this instance, for a counterexample."""
        parts = [f"{k} = {v}" for k, v in sorted(self.values.items(), key=lambda kv: str(kv[0])) if k in symbols]
        tables = [f"{name}{tuple(args) if len(args) != 1 else '(' + str(args[0]) + ')'} = {v}"
                  for (name, *args), v in sorted(self.tables.items(), key=str)[:12]]
        more = " ..." if len(self.tables) > 12 else ""
        return ", ".join(parts + tables) + more

    # ---- whole numbers, spaces --------------------------------------------------------
    def choose_params(self, expr: Any) -> None:
        """Fix whole-number parameters (1..3; shapes 1..3) and space-valued symbols."""
        for s in whole_number_params(expr):
            if s not in self.values:
                low = 1 if s.is_positive else 0
                self.values[s] = sp.Integer(self.rng.randint(low, 3))
        free = free_vars(expr)
        for s, space in self.scope.symbol_space.items():
            if s in free and s not in self.values:
                self.values[s] = sp.Integer(self.rng.randrange(self.scope.spaces[space]))

    def space_of(self, var: sp.Symbol) -> range:
        space = self.scope.symbol_space.get(var)
        if space is None:
            raise ValueError(f"{var} has no finite space: declare `space:` for it")
        return range(self.scope.spaces[space])

    # ---- the instance's value of an expression ------------------------------------------
    def evaluate(self, expr: Any) -> Any:
        """expr with every abstract object replaced by its value in this instance."""
        self.choose_params(expr)
        for _ in range(8):
            new = self._step(expr)
            if new == expr:
                break
            expr = new
        return expr

    def _step(self, expr: Any) -> Any:
        free = free_vars(expr)
        expr = expr.xreplace({k: v for k, v in self.values.items() if k in free})
        expr = self.scope.unfold(expr)
        expr = expr.replace(lambda e: isinstance(e, (sp.Sum, sp.Product)) and _bounds_concrete(e),
                            lambda e: e.doit())
        expr = expr.replace(lambda e: isinstance(e, sp.Derivative), lambda e: e.doit())
        expr = expr.replace(lambda e: isinstance(e, sp.Subs) and self._concrete(e.expr), lambda e: e.doit())
        expr = expr.replace(lambda e: isinstance(e, Int), self._integral)
        expr = expr.replace(lambda e: isinstance(e, (MaxOver, ArgMaxOver)), self._max)
        expr = expr.replace(lambda e: isinstance(e, Var), lambda e: E(e.args[0] ** 2) - E(e.args[0]) ** 2)
        expr = expr.replace(lambda e: isinstance(e, E), self._expectation)
        expr = expr.replace(lambda e: isinstance(e, cost), self._cost)
        expr = expr.replace(lambda e: isinstance(e, sp.Indexed) and e.indices[0].is_Integer, self._indexed)
        return expr.replace(lambda e: isinstance(e, AppliedUndef) and e.func.__name__ in self.scope.functions
                            and all(a.is_Integer for a in e.args), self._table)

    def _concrete(self, expr: Any) -> bool:
        """No sum, product or definition left to expand (a substitution waits for them)."""
        return not expr.has(sp.Sum, sp.Product) and self.scope.unfold(expr) == expr

    def _integral(self, node: Int) -> Any:
        body, var = node.args
        return sp.Add(*[body.xreplace({var: sp.Integer(i)}) for i in self.space_of(var)])

    def _max(self, node: Any) -> Any:
        body, var = node.args
        points = list(self.space_of(var))
        vals = [self.evaluate(body.xreplace({var: sp.Integer(i)})) for i in points]
        loose = set().union(*(v.free_symbols for v in vals))
        if loose:  # a maximum needs numbers: fix the remaining real symbols of this instance
            for sym in sorted(loose, key=str):
                self.values.setdefault(sym, self.rational() / 10)
            vals = [v.xreplace(self.values) for v in vals]
        best = max(range(len(vals)), key=lambda i: vals[i])
        return vals[best] if isinstance(node, MaxOver) else sp.Integer(points[best])

    def _outcomes(self) -> None:
        if not self.outcome_p:
            weights = [self.rng.randint(1, 9) for _ in range(SAMPLE_SPACE)]
            self.outcome_p = [sp.Rational(w, sum(weights)) for w in weights]

    def _random_values(self, sym: sp.Symbol) -> list[Any]:
        if sym not in self.outcome_vals:
            self._outcomes()
            vals = [self.scale * sp.Rational(self.rng.randint(-20, 20), self.rng.randint(1, 5))
                    for _ in range(SAMPLE_SPACE)]
            if sym in self.scope.mean_zero:
                mean = sum(p * v for p, v in zip(self.outcome_p, vals))
                vals = [v - mean for v in vals]
            self.outcome_vals[sym] = vals
        return self.outcome_vals[sym]

    def _expectation(self, node: E) -> Any:
        body = node.args[0]
        rand = sorted(body.free_symbols & self.scope.random, key=str)
        if not rand:
            return body
        self._outcomes()
        return sp.Add(*[p * body.xreplace({s: self._random_values(s)[w] for s in rand})
                        for w, p in enumerate(self.outcome_p)])

    def _indexed(self, node: sp.Indexed) -> Any:
        key = (str(node.base), int(node.indices[0]))
        if key not in self.tables:
            self.tables[key] = sp.Rational(self.rng.randint(-9, 9), self.rng.randint(1, 4))
        return self.tables[key]

    def _table(self, node: AppliedUndef) -> Any:
        info = self.scope.functions[node.func.__name__]
        args = tuple(int(a) for a in node.args)
        key = (info.name, *args)
        if key not in self.tables:
            if info.density:
                self._fill_density(info, args)
            else:
                self.tables[key] = self.scale * sp.Rational(self.rng.randint(-9, 9), self.rng.randint(1, 4))
        return self.tables[key]

    def _fill_density(self, info: Any, args: tuple[int, ...]) -> None:
        """A random probability table over the free arguments, for these conditioning values."""
        n_free = len(info.spaces) - info.given
        cond = args[n_free:]
        sizes = [self.scope.spaces[s] for s in info.spaces[:n_free]]
        cells = _grid(sizes)
        weights = [self.rng.randint(1, 9) for _ in cells]
        for cell, w in zip(cells, weights):
            self.tables[(info.name, *cell, *cond)] = sp.Rational(w, sum(weights))

    def _cost(self, node: cost) -> Any:
        """Count operations by running the algorithm on matrices of the instance's sizes."""
        shapes = {s: tuple(int(self.evaluate(d)) for d in dims) for s, dims in self.scope.shapes.items()}
        counter = OpCounter()
        counter.run(node.args[0], {s: [[Fraction(1)] * c for _ in range(r)] for s, (r, c) in shapes.items()})
        return sp.Integer(counter.count)


def _bounds_concrete(e: Any) -> bool:
    return all(not lim.free_symbols for (_, *lims) in e.limits for lim in lims)


def _grid(sizes: list[int]) -> list[tuple[int, ...]]:
    cells: list[tuple[int, ...]] = [()]
    for size in sizes:
        cells = [c + (i,) for c in cells for i in range(size)]
    return cells


class OpCounter:
    """Runs matrix expressions with the textbook algorithms, counting scalar operations."""

    def __init__(self) -> None:
        self.count = 0

    def run(self, x: Any, env: dict) -> list[list[Fraction]]:
        """The value of matrix expression x, adding its scalar operations to `count`."""
        if isinstance(x, sp.Symbol):
            return env[x]
        if isinstance(x, T):
            a = self.run(x.args[0], env)
            return [list(col) for col in zip(*a)]
        if isinstance(x, matmul):
            a, b = self.run(x.args[0], env), self.run(x.args[1], env)
            out = []
            for row in a:
                out_row = []
                for col in zip(*b):
                    acc = row[0] * col[0]
                    self.count += 1
                    for u, v in zip(row[1:], col[1:]):
                        acc = acc + u * v
                        self.count += 2
                    out_row.append(acc)
                out.append(out_row)
            return out
        if isinstance(x, scale):
            a = self.run(x.args[0], env)
            self.count += sum(len(r) for r in a)
            return a
        if isinstance(x, softmax_rows):
            a = self.run(x.args[0], env)
            out = []
            for row in a:
                exps = [Fraction(1) for _ in row]  # exp of each entry (values do not matter here)
                self.count += len(row)
                total = exps[0]
                for e in exps[1:]:
                    total += e
                    self.count += 1
                out.append([e / total for e in exps])
                self.count += len(row)
            return out
        raise ValueError(f"cannot run {x}")


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
