"""Random exact instances of abstract objects, for checking identities about them.

An instance fixes, with seeded random rationals:
- whole-number parameters (n -> 1, 2 or 3), so sums and products have concrete length;
- finite spaces (sizes from the spec): Int(f, x) becomes a sum over the points of x's space;
  MaxOver / ArgMaxOver become a max / arg max over those points;
- unknown functions on finite spaces: a random table per function; a density's table is
  normalised over its non-conditioning arguments; a function bounded by an inequality
  hypothesis F(x) <= rhs(x) takes rhs's value minus a random non-negative slack (plus, for >=);
  in a tied instance, free functions on the same spaces share one table up to a sign; an
  indexed symbol declared with a space (a data set x[i]) takes random points of that space;
- unknown (non-density) functions of real arguments: a random polynomial plus a random
  exponential per function (evidence for such functions, not a proof for every function; the
  verdict says so); integrals over the real line of polynomial x exp(quadratic) are carried
  out in closed form (derive/gaussian.py);
- random symbols: tables over a finite sample space with random probabilities; E and Var
  become weighted sums; symbols declared mean_zero are centred; in an equality case each is
  made uncorrelated with those drawn before it (a covariance bound is tight there);
- cost(X), min_cost(X): operations counted on matrices of the instance's sizes
  (derive/op_count.py);
- matrix symbols: exact random matrices of their declared structure, with the problem's
  matrix hypotheses honoured (see `matrices`).
Whole-number parameters satisfy the chain's assumptions among them (e.g. k <= n).
Real symbols are left symbolic (the caller samples them). Everything is exact: no floats.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef

from derive.abstract import ABSTRACT_OPS, free_vars, is_abstract, put_free, tie_names, whole_number_params
from derive.gaussian import gaussian_integral, gaussian_moment
from derive.instance_tables import Tables, bounds_concrete, carried_out, grid
from derive.matrices import construct_factors, is_matrix, random_matrix, rational_orthogonal, structure_relations
from derive.matrix_eval import MatrixEval
from derive.op_count import OpCounter, count_cost, least_cost
from derive.ops import ArgMaxOver, E, Int, MaxOver, T, Var, cost, matmul, min_cost
from derive.scope import Scope
from derive.sizes import check_matrix

__all__ = ["Instance", "OpCounter", "carried_out", "free_vars", "gaussian_integral", "gaussian_moment", "is_abstract",
           "rational_orthogonal", "tie_names", "whole_number_params"]

SAMPLE_SPACE = 4
# magnitudes of table values, one per trial in turn, so that a bound which holds only for
# large (or only for small) values meets a counterexample
SCALES = (sp.Integer(1), sp.Rational(1, 1000), sp.Integer(1000))
# every SPREAD_EVERY-th trial gives each object (function, table, indexed symbol, random
# variable, matrix) its own magnitude from SCALES, so that a claim false only when one object is
# large and another small (l(0) + G >= 0 with l(0) = -1000, G = 1/1000) meets a counterexample
SPREAD_EVERY = 4
# free whole numbers, cycled with the trial: small values first (most wrong steps fail there),
# then larger ones (a term that vanishes at 1, 2, 3 does not vanish at 4 or 9)
WHOLE_NUMBERS = (1, 2, 3, 4, 5, 6)
SMALL_WHOLE_NUMBERS = (1, 2, 3)  # for matrix sizes and counts (exact singular values are costly)
CONSTRAINED_MAX = 6  # largest whole number drawn for parameters tied by assumptions (even trials)
CONSTRAINED_WIDE = 12  # ... and in odd trials
POLY_DEGREE = 3


def gaussians(expr: Any) -> Any:
    """expr with each Gaussian integral in closed form (the others left as they are)."""
    return expr.replace(lambda e: isinstance(e, sp.Integral), gaussian_integral)


@dataclass
class Instance(Tables):
    """One random instance; tables are filled lazily so both sides of a step share them."""

    scope: Scope
    rng: random.Random
    values: dict[sp.Symbol, Any] = field(default_factory=dict)
    tables: dict[tuple, Any] = field(default_factory=dict)
    outcome_p: list[Any] = field(default_factory=list)
    outcome_vals: dict[sp.Symbol, list[Any]] = field(default_factory=dict)
    scale: Any = sp.Integer(1)
    spread: bool = False  # each object at its own magnitude (`magnitude`)
    magnitudes: dict[str, Any] = field(default_factory=dict)  # each object's, in a spread instance
    magnitude_used: bool = False  # some object's values were scaled (the verdict names the magnitudes)
    tied: frozenset[str] = frozenset()
    tie_sign: int = 1
    # an equality case (1, 2): every free table constant; in case 1 a density equals a definition on
    # its spaces (q = posterior) where there is one, else (and in case 2) the first density on them
    equal: int = 0
    trial: int = 0
    whole_numbers: tuple[int, ...] = WHOLE_NUMBERS
    assume: tuple[Any, ...] = ()
    matrix_values: dict[sp.Symbol, sp.MatrixBase] | None = None
    polynomials: dict[str, sp.Lambda] = field(default_factory=dict)

    def magnitude(self, name: str) -> Any:
        """The magnitude of object `name`'s values: the instance's scale, or in a spread
        instance one drawn from SCALES for this object alone."""
        self.magnitude_used = True
        if not self.spread:
            return self.scale
        if name not in self.magnitudes:
            self.magnitudes[name] = self.rng.choice(SCALES)
        return self.magnitudes[name]

    def rational(self, lo: int = 1, hi: int = 9) -> sp.Rational:
        """A random positive rational with small numerator and denominator."""
        return sp.Rational(self.rng.randint(lo, hi * 7), self.rng.randint(1, 7))

    def describe(self, symbols: set) -> str:
        """The parameter values of this instance, for a counterexample."""
        parts = [f"{k} = {v}" for k, v in sorted(self.values.items(), key=lambda kv: str(kv[0])) if k in symbols]
        tables = [f"{name}{tuple(args) if len(args) != 1 else '(' + str(args[0]) + ')'} = {v}"
                  for (name, *args), v in sorted(self.tables.items(), key=str)[:12]]
        more = " ..." if len(self.tables) > 12 else ""
        polys = [f"{name}({', '.join(map(str, lam.variables))}) = {sp.sstr(lam.expr)}"
                 for name, lam in sorted(self.polynomials.items())]
        return ", ".join(parts + tables + polys) + more

    # ---- whole numbers, spaces --------------------------------------------------------
    def choose_params(self, expr: Any) -> None:
        """Fix whole-number parameters (see `_draw_whole_numbers`) and space-valued symbols."""
        wanted = [s for s in whole_number_params(expr) if s not in self.values]
        if wanted:
            self._draw_whole_numbers(wanted)
        free = free_vars(expr)
        for s, space in self.scope.symbol_space.items():
            if s in free and s not in self.values:
                self.values[s] = sp.Integer(self.rng.randrange(self.size(space)))

    def _draw_whole_numbers(self, wanted: list[sp.Symbol]) -> None:
        """Fix the wanted whole numbers. A free one takes the values of `whole_numbers` (0 first
        if it may be 0) cycled with the trial number, so that consecutive trials cover small and
        large values. Those that share an assumption (e.g. k <= n) or a size relation of a
        declared structure are drawn together at random up to CONSTRAINED_MAX (CONSTRAINED_WIDE
        in odd trials), again until every such relation holds, so that the allowed region has
        room."""
        group, rels = set(wanted), []
        grew = True
        while grew:
            grew = False
            for rel in (*self.assume, *structure_relations(self.scope.shapes, self.scope.structure)):
                syms = rel.free_symbols
                if syms & group and all(x.is_integer for x in syms):
                    if rel not in rels:
                        rels.append(rel)
                    new = {x for x in syms if x not in self.values} - group
                    grew = grew or bool(new)
                    group |= new
        if not rels:  # free: cycled with the trial
            for s in sorted(group, key=str):
                values = self.whole_numbers if s.is_positive else (0, *self.whole_numbers)
                self.values[s] = sp.Integer(values[(self.trial + len(self.values)) % len(values)])
            return
        small = self.whole_numbers == SMALL_WHOLE_NUMBERS
        top = CONSTRAINED_MAX if self.trial % 2 == 0 or small else CONSTRAINED_WIDE
        for _ in range(200):
            for s in sorted(group, key=str):
                self.values[s] = sp.Integer(self.rng.randint(1 if s.is_positive else 0, top))
            if all(bool(rel.xreplace(self.values)) for rel in rels):
                return
        raise ValueError(f"no whole numbers up to {top} satisfy {', '.join(map(str, rels))}")

    def size(self, space: str) -> int:
        """The number of points of a space: its declared size, or this instance's value of the
        whole-number symbol that sizes it (a space of any size)."""
        size = self.scope.spaces[space]
        if isinstance(size, sp.Symbol):
            if size not in self.values:
                self._draw_whole_numbers([size])
            return int(self.values[size])
        return size

    def space_of(self, var: sp.Symbol) -> range:
        space = self.scope.symbol_space.get(var)
        if space is None:
            raise ValueError(f"{var} has no finite space: declare `space:` for it")
        return range(self.size(space))

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

    def evaluate_pair(self, a: Any, b: Any) -> tuple[Any, Any]:
        """Both sides of a step on this instance. A maximum fixes the real symbols it needs
        (`_max`), so a side evaluated before it gets those values too."""
        x, y = self.evaluate(a), self.evaluate(b)
        late = {k: v for k, v in self.values.items() if k in x.free_symbols | y.free_symbols}
        return x.xreplace(late), y.xreplace(late)

    def _step(self, expr: Any) -> Any:
        free = free_vars(expr)
        expr = put_free(expr, {k: v for k, v in self.values.items() if k in free})
        expr = self.scope.unfold(expr)
        # Gaussian integrals first, in closed form (SymPy's integrator, which a sum or a
        # derivative carried out would call, takes seconds on them), and again once unknown
        # functions have their values, before the derivatives around them are taken
        expr = gaussians(expr)
        expr = expr.replace(lambda e: isinstance(e, (sp.Sum, sp.Product)) and bounds_concrete(e),
                            lambda e: carried_out(e, deep=False))
        # not inside an integral over an unbounded range without a Gaussian weight: it would diverge
        unbounded = [i for i in expr.atoms(sp.Integral)
                     if any(lim.has(sp.oo, -sp.oo) for lim in i.limits) and not i.function.has(sp.exp)]
        expr = gaussians(expr.replace(lambda e: isinstance(e, AppliedUndef) and self.on_reals(self.scope, e)
                                      and not any(i.has(e) for i in unbounded), self._polynomial))
        # a derivative is taken once the abstract objects inside it have values
        expr = expr.replace(lambda e: isinstance(e, (sp.Derivative, sp.Subs)) and not e.expr.has(*ABSTRACT_OPS),
                            lambda e: e.doit())
        expr = gaussians(expr)
        expr = expr.replace(lambda e: isinstance(e, Int), self._integral)
        # a maximum inside another binder waits for that binder's variable (its point is set there)
        expr = expr.replace(lambda e: isinstance(e, (MaxOver, ArgMaxOver))
                            and not free_vars(e) & set(self.scope.symbol_space), self._max)
        expr = expr.replace(lambda e: isinstance(e, Var), lambda e: E(e.args[0] ** 2) - E(e.args[0]) ** 2)
        expr = expr.replace(lambda e: isinstance(e, E), self._expectation)
        expr = expr.replace(lambda e: isinstance(e, cost), self._cost)
        expr = expr.replace(lambda e: isinstance(e, min_cost), self._min_cost)
        expr = expr.replace(lambda e: isinstance(e, sp.Indexed) and e.indices[0].is_Integer, self._indexed)
        return expr.replace(lambda e: isinstance(e, AppliedUndef) and e.func.__name__ in self.scope.functions
                            and all(a.is_Integer for a in e.args), self._table)

    def _integral(self, node: Int) -> Any:
        body, var = node.args
        return sp.Add(*[body.xreplace({var: sp.Integer(i)}) for i in self.space_of(var)])

    def _max(self, node: Any) -> Any:
        """Max (arg max) of the body over every point of the product of its variables' spaces."""
        body, *bound = node.args
        points = grid([len(self.space_of(v)) for v in bound])
        vals = [self.evaluate(body.xreplace({v: sp.Integer(i) for v, i in zip(bound, p)})) for p in points]
        loose = set().union(*(v.free_symbols for v in vals))
        if loose:  # a maximum needs numbers: fix the remaining real symbols of this instance
            for sym in sorted(loose, key=str):
                self.values.setdefault(sym, self.rational() / 10)
            vals = [v.xreplace(self.values) for v in vals]
        best = max(range(len(vals)), key=lambda i: vals[i])
        return vals[best] if isinstance(node, MaxOver) else sp.Integer(points[best][0])

    @staticmethod
    def on_reals(scope: Scope, node: AppliedUndef) -> bool:
        """Is node an unknown function, not a density, whose arguments all range over R?"""
        info = scope.functions.get(node.func.__name__)
        return info is not None and not info.density and all(space == "R" for space in info.spaces)

    def _polynomial(self, node: AppliedUndef) -> Any:
        """An unknown function of real arguments (not a density) becomes a random function, the
        same wherever it occurs: a polynomial with rational coefficients (cubic in one argument,
        of total degree 2 in several) plus c exp(b . u) with random rational c, b (c of either
        sign), all times the function's magnitude. The
        exponential term keeps every derivative alive (no identity true only for cubics passes),
        and products with a Gaussian still integrate in closed form (`gaussian_integral`)."""
        name = node.func.__name__
        if name not in self.polynomials:
            us = sp.symbols(f"u1:{len(node.args) + 1}", real=True)
            terms = sorted(sp.itermonomials(us, POLY_DEGREE if len(us) == 1 else 2), key=sp.default_sort_key)
            size = self.magnitude(name)
            coeffs = [size * sp.Rational(self.rng.randint(-9, 9), self.rng.randint(1, 4)) for _ in terms]
            rates = [sp.Rational(self.rng.choice((-1, 1)) * self.rng.randint(1, 4), 4) for _ in us]
            wave = size * sp.Rational(self.rng.choice((-1, 1)) * self.rng.randint(1, 9), self.rng.randint(1, 4)) \
                * sp.exp(sum(r * u for r, u in zip(rates, us)))
            self.polynomials[name] = sp.Lambda(us, sp.Add(*[c * m for c, m in zip(coeffs, terms)]) + wave)
        return self.polynomials[name](*node.args)

    def _outcomes(self) -> None:
        if not self.outcome_p:
            weights = [self.rng.randint(1, 9) for _ in range(SAMPLE_SPACE)]
            self.outcome_p = [sp.Rational(w, sum(weights)) for w in weights]

    def _random_values(self, sym: sp.Symbol) -> list[Any]:
        if sym not in self.outcome_vals:
            self._outcomes()
            size = self.magnitude(str(sym.base if isinstance(sym, sp.Indexed) else sym))
            vals = [size * sp.Rational(self.rng.randint(-20, 20), self.rng.randint(1, 5))
                    for _ in range(SAMPLE_SPACE)]
            if sym in self.scope.mean_zero or (isinstance(sym, sp.Indexed) and sym.base in self.scope.mean_zero):
                mean = sum(p * v for p, v in zip(self.outcome_p, vals))
                vals = [v - mean for v in vals]
            if self.equal:
                vals = self._uncorrelated(vals)
            self.outcome_vals[sym] = vals
        return self.outcome_vals[sym]

    def _uncorrelated(self, vals: list[Any]) -> list[Any]:
        """In an equality case, `vals` minus its regression on every random variable drawn
        before: Cov(new, old) = 0 exactly for each (Gram-Schmidt under Cov), the mean kept."""
        p = self.outcome_p

        def centred(xs: list[Any]) -> list[Any]:
            mean = sum(w * x for w, x in zip(p, xs))
            return [x - mean for x in xs]

        for old in self.outcome_vals.values():
            c = centred(old)
            var = sum(w * x * x for w, x in zip(p, c))
            if var != 0:
                k = sum(w * x * y for w, x, y in zip(p, c, vals)) / var
                vals = [y - k * x for x, y in zip(c, vals)]
        return vals

    def _expectation(self, node: E) -> Any:
        body = node.args[0]
        rand = sorted((s for s in body.free_symbols & self.scope.random if isinstance(s, sp.Symbol)), key=str)
        entries = sorted((e for e in body.atoms(sp.Indexed) if e.base in self.scope.random), key=str)
        if any(not all(i.is_Integer for i in e.indices) for e in entries):
            return node  # entries of a random indexed symbol are random variables once their index is known
        rand += entries
        if not rand:
            return body
        self._outcomes()
        return sp.Add(*[p * body.xreplace({s: self._random_values(s)[w] for s in rand})
                        for w, p in enumerate(self.outcome_p)])

    def _cost(self, node: cost) -> Any:
        """Count operations by running the algorithm on matrices of the instance's sizes."""
        return sp.Integer(count_cost(node.args[0], self._sizes()))

    def _min_cost(self, node: min_cost) -> Any:
        """The least count over every order of the product chain."""
        return sp.Integer(least_cost(node.args[0], self._sizes()))

    def _sizes(self) -> dict[sp.Symbol, tuple[int, int]]:
        sizes = {s: tuple(int(self._size_value(d)) for d in dims) for s, dims in self.scope.shapes.items()}
        for rows, cols in sizes.values():
            check_matrix(rows, cols)
        return sizes

    def _size_value(self, dim: Any) -> Any:
        """A matrix dimension's value: a whole number, or an expression in whole-number symbols
        (drawn now if they have no value yet)."""
        if not dim.free_symbols <= set(self.values):
            self.choose_params(dim)
        return dim.xreplace(self.values) if dim.free_symbols <= set(self.values) else self.evaluate(dim)

    # ---- matrices ----------------------------------------------------------------------
    def matrix_value(self, expr: Any) -> sp.MatrixBase:
        """The exact value of a matrix expression in this instance (ValueError if it has none,
        e.g. when shapes do not match)."""
        value = MatrixEval(self.matrices(), self.scope.unfold).value(self.evaluate(expr))
        if not isinstance(value, sp.MatrixBase):
            raise ValueError(f"not a matrix expression: {expr}")
        return value

    def matrices(self) -> dict[sp.Symbol, sp.MatrixBase]:
        """Draw every matrix symbol by its structure (entries times the instance's scale; a
        symbol with `sigma_max: c` has largest singular value exactly c), then honour the
        matrix hypotheses: a symbol on the left takes the value of the right side; X T(Y) on
        the left (X, Y without structure) gets random factors of the right side's value
        (construct_factors). Every matrix hypothesis is then checked on the result."""
        if self.matrix_values is not None:
            return self.matrix_values
        sc, sizes = self.scope, self._sizes()
        self.matrix_values = {s: random_matrix(*sizes[s], sc.structure.get(s), self.rng, self.magnitude(str(s)),
                                               sc.sigma_max.get(s))
                              for s in sorted(sc.shapes, key=str)}

        def free(x: Any) -> bool:
            return isinstance(x, sp.Symbol) and x in sc.shapes and x not in sc.structure and x not in sc.sigma_max

        hyps = [(name, sc.unfold(h.lhs), h.body) for name, h in sc.hypotheses.items()
                if h.rel == "=" and not h.params and is_matrix(sc.unfold(h.lhs), sc.shapes)]
        for _, lhs, rhs in hyps:
            if free(lhs):
                self.matrix_values[lhs] = self.matrix_value(rhs)
            elif isinstance(lhs, matmul) and isinstance(lhs.args[1], T) and free(lhs.args[0]) \
                    and free(lhs.args[1].args[0]):
                x, y = lhs.args[0], lhs.args[1].args[0]
                self.matrix_values[x], self.matrix_values[y] = (
                    sp.ImmutableMatrix(m) for m in construct_factors(self.matrix_value(rhs), sizes[x][1], self.rng))
        for name, lhs, rhs in hyps:
            if self.matrix_value(lhs) != self.matrix_value(rhs):
                raise ValueError(f"the instance does not satisfy hypothesis {name}: give its matrices a "
                                 f"structure, or put a symbol or X*T(Y) on its left to construct them")
        return self.matrix_values
