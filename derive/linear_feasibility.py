"""Exact linear feasibility of a finite system of strict and non-strict inequalities.

A system `e_i > 0` / `e_i >= 0` (e_i affine, rational coefficients) is decided by
Fourier-Motzkin elimination in exact rational arithmetic (fractions.Fraction), strict
inequalities kept strict. Every derived inequality carries its multipliers over the original
ones, so the answer is checkable on its own:

- infeasible: Farkas multipliers l_i >= 0 with sum l_i e_i identically a constant c, and c < 0,
  or c = 0 with some strict row of positive multiplier (so the system implies 0 > 0 or 0 >= c);
- feasible: a rational witness point at which every inequality holds, found by back-substitution.

Both are re-checked from the original system before they are returned (`check_certificate`,
`check_witness`). From SymPy, `linear_system` reads relations as affine forms over atoms: each
monomial of degree > 1 (or any non-polynomial term) is one more unknown. That relaxation is
sound for infeasibility (a system without a solution in the atoms has none in the symbols);
a witness of the relaxation is a point of the symbols only when every atom is a symbol.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy as sp

from derive.errors import DeriveError

MAX_ROWS = 4000  # Fourier-Motzkin can grow quadratically per elimination; refuse past this


class NotLinear(DeriveError):
    """A relation that is not an inequality between affine forms with rational coefficients."""


@dataclass(frozen=True)
class Row:
    """sum coeffs[v] v + const  (> 0 if strict else >= 0); mult: multipliers of the originals."""

    coeffs: tuple[tuple[int, Fraction], ...]
    const: Fraction
    strict: bool
    mult: tuple[tuple[int, Fraction], ...]

    def coeff(self, v: int) -> Fraction:
        return dict(self.coeffs).get(v, Fraction(0))


@dataclass(frozen=True)
class Infeasible:
    """Farkas multipliers (original row -> multiplier > 0) and the constant their sum leaves."""

    multipliers: dict[int, Fraction]
    constant: Fraction


@dataclass(frozen=True)
class Feasible:
    """A witness point: variable index -> rational value."""

    point: dict[int, Fraction]


def _combine(a: Row, la: Fraction, b: Row, lb: Fraction) -> Row:
    """la a + lb b (la, lb > 0), zero coefficients dropped."""
    def add(x: tuple, y: tuple) -> tuple:
        out: dict[int, Fraction] = {}
        for k, v in x:
            out[k] = out.get(k, Fraction(0)) + la * v
        for k, v in y:
            out[k] = out.get(k, Fraction(0)) + lb * v
        return tuple(sorted((k, v) for k, v in out.items() if v))
    return Row(add(a.coeffs, b.coeffs), la * a.const + lb * b.const, a.strict or b.strict, add(a.mult, b.mult))


def _normal(row: Row) -> Row:
    """The row scaled so that its first coefficient (else its constant) has absolute value 1."""
    lead = abs(row.coeffs[0][1]) if row.coeffs else abs(row.const) or Fraction(1)
    s = 1 / lead
    return Row(tuple((k, v * s) for k, v in row.coeffs), row.const * s, row.strict,
               tuple((k, v * s) for k, v in row.mult))


def _dedupe(rows: list[Row]) -> list[Row]:
    """Drop repeated rows (same normalised inequality; a strict one beats a non-strict twin)."""
    seen: dict[tuple, Row] = {}
    for r in map(_normal, rows):
        key = (r.coeffs, r.const)
        if key not in seen or (r.strict and not seen[key].strict):
            seen[key] = r
    return list(seen.values())


def decide(rows: list[tuple[dict[int, Fraction], Fraction, bool]], nvars: int) -> Infeasible | Feasible:
    """Feasibility of `sum c_v x_v + const (> or >=) 0` for each (c, const, strict) in rows."""
    system = [Row(tuple(sorted((k, Fraction(v)) for k, v in c.items() if v)), Fraction(k0), s, ((i, Fraction(1)),))
              for i, (c, k0, s) in enumerate(rows)]
    stages: list[tuple[int, list[Row]]] = []
    current = _dedupe(system)
    for v in range(nvars):
        pos = [r for r in current if r.coeff(v) > 0]
        neg = [r for r in current if r.coeff(v) < 0]
        rest = [r for r in current if not r.coeff(v)]
        stages.append((v, current))
        current = _dedupe(rest + [_combine(p, -n.coeff(v), n, p.coeff(v)) for p in pos for n in neg])
        if len(current) > MAX_ROWS:
            raise NotLinear(f"Fourier-Motzkin elimination grows past {MAX_ROWS} inequalities")
    for r in current:
        if r.const < 0 or (r.const == 0 and r.strict):
            cert = Infeasible({k: m for k, m in r.mult if m}, r.const)
            check_certificate(rows, cert)
            return cert
    witness = _back_substitute(stages)
    check_witness(rows, witness)
    return witness


def _back_substitute(stages: list[tuple[int, list[Row]]]) -> Feasible:
    """Values for the variables, last eliminated first: each strictly inside (or at a closed
    end of) the interval its stage's inequalities leave, given the values already chosen."""
    point: dict[int, Fraction] = {}
    for v, rows in reversed(stages):
        lo: tuple[Fraction, bool] | None = None
        hi: tuple[Fraction, bool] | None = None
        for r in rows:
            c = r.coeff(v)
            if not c:
                continue
            rest = r.const + sum(x * point.get(k, Fraction(0)) for k, x in r.coeffs if k != v)
            bound = -rest / c
            if c > 0 and (lo is None or bound > lo[0] or (bound == lo[0] and r.strict)):
                lo = (bound, r.strict)
            if c < 0 and (hi is None or bound < hi[0] or (bound == hi[0] and r.strict)):
                hi = (bound, r.strict)
        if lo and hi:
            point[v] = lo[0] if lo[0] == hi[0] else (lo[0] + hi[0]) / 2
        elif lo:
            point[v] = lo[0] + 1 if lo[1] or lo[0] < 0 else max(lo[0], Fraction(0))
        elif hi:
            point[v] = hi[0] - 1 if hi[1] or hi[0] > 0 else min(hi[0], Fraction(0))
        else:
            point[v] = Fraction(0)
    return Feasible(point)


def check_certificate(rows: list[tuple[dict[int, Fraction], Fraction, bool]], cert: Infeasible) -> None:
    """The multipliers are positive, cancel every variable and leave c < 0 (or c = 0 with a
    strict row): then the rows imply `c > 0` or `c >= 0`, which is false."""
    total: dict[int, Fraction] = {}
    const, strict = Fraction(0), False
    for i, m in cert.multipliers.items():
        if m <= 0:
            raise AssertionError(f"Farkas multiplier {m} of row {i} is not positive")
        c, k0, s = rows[i]
        for k, v in c.items():
            total[k] = total.get(k, Fraction(0)) + m * Fraction(v)
        const += m * Fraction(k0)
        strict = strict or s
    if any(total.values()) or const != cert.constant or not (const < 0 or (const == 0 and strict)):
        raise AssertionError("the Farkas multipliers do not combine to a false constant inequality")


def check_witness(rows: list[tuple[dict[int, Fraction], Fraction, bool]], w: Feasible) -> None:
    """Every row holds at the witness point, exactly."""
    for i, (c, k0, s) in enumerate(rows):
        value = Fraction(k0) + sum(Fraction(v) * w.point.get(k, Fraction(0)) for k, v in c.items())
        if value < 0 or (s and value == 0):
            raise AssertionError(f"the witness violates row {i}")


@dataclass(frozen=True)
class System:
    """Relations read as rows over atoms; `relations[i]` is the source of row i."""

    relations: tuple[Any, ...]
    atoms: tuple[Any, ...]
    rows: list[tuple[dict[int, Fraction], Fraction, bool]]


def _affine(expr: Any, atoms: list[Any]) -> tuple[dict[int, Fraction], Fraction]:
    """expr as sum c_i atom_i + const with rational c_i (atoms appended as met)."""
    coeffs: dict[int, Fraction] = {}
    const = Fraction(0)
    for term, c in sp.expand(expr).as_coefficients_dict().items():
        if not c.is_Rational:
            raise NotLinear(f"the coefficient {c} of {term} is not rational")
        if term == 1:
            const += Fraction(int(c.p), int(c.q))
            continue
        if term not in atoms:
            atoms.append(term)
        i = atoms.index(term)
        coeffs[i] = coeffs.get(i, Fraction(0)) + Fraction(int(c.p), int(c.q))
    return coeffs, const


def linear_system(relations: list[Any]) -> System:
    """Rows `e > 0` / `e >= 0` for relations a < b, a <= b, a > b, a >= b, a == b (two rows)."""
    atoms: list[Any] = []
    rows: list[tuple[dict[int, Fraction], Fraction, bool]] = []
    sources: list[Any] = []
    for rel in relations:
        if rel is sp.true:  # a relation SymPy already decided from the symbols' signs
            continue
        if rel is sp.false:
            diffs = [(sp.Integer(0), True)]  # the row 0 > 0
        elif isinstance(rel, (sp.StrictLessThan, sp.LessThan)):
            diffs = [(rel.rhs - rel.lhs, isinstance(rel, sp.StrictLessThan))]
        elif isinstance(rel, (sp.StrictGreaterThan, sp.GreaterThan)):
            diffs = [(rel.lhs - rel.rhs, isinstance(rel, sp.StrictGreaterThan))]
        elif isinstance(rel, sp.Eq):
            diffs = [(rel.lhs - rel.rhs, False), (rel.rhs - rel.lhs, False)]
        else:
            raise NotLinear(f"{sp.sstr(rel)} is not an inequality or an equation")
        for d, strict in diffs:
            c, k0 = _affine(d, atoms)
            rows.append((c, k0, strict))
            sources.append(rel)
    return System(tuple(sources), tuple(atoms), rows)


def feasibility(relations: list[Any]) -> tuple[System, Infeasible | Feasible]:
    """Decide the relations jointly (over their atoms); the answer is checked before return."""
    system = linear_system(relations)
    return system, decide(system.rows, len(system.atoms))


def implies(assumptions: list[Any], cond: Any) -> bool:
    """Do the assumptions imply the inequality `cond`? (assumptions and not-cond infeasible)."""
    if cond in (sp.true, sp.false):  # SymPy decided it from the symbols' signs
        return cond is sp.true
    negation = {sp.StrictLessThan: sp.GreaterThan, sp.LessThan: sp.StrictGreaterThan,
                sp.StrictGreaterThan: sp.LessThan, sp.GreaterThan: sp.StrictLessThan}[type(cond)]
    try:
        _, answer = feasibility([*assumptions, negation(cond.lhs, cond.rhs)])
    except NotLinear:
        return False
    return isinstance(answer, Infeasible)


def describe(system: System, answer: Infeasible | Feasible) -> str:
    """The certificate or the witness in words, for a verdict or a counterexample."""
    if isinstance(answer, Infeasible):
        parts = [f"{m} * ({sp.sstr(system.relations[i])})" for i, m in sorted(answer.multipliers.items())]
        rel = ">" if answer.constant == 0 else ">="
        return f"infeasible: {' + '.join(parts)} is identically {answer.constant}, so the system would give " \
               f"{answer.constant} {rel} 0 (Farkas multipliers, checked)"
    shown = ", ".join(f"{sp.sstr(a)} = {answer.point.get(i, Fraction(0))}" for i, a in enumerate(system.atoms))
    return f"feasible: every inequality holds at {shown or 'any point'} (witness, checked exactly)"


PIECES = (sp.Max, sp.Min, sp.Abs, sp.Heaviside)
BINDINGS = (sp.Derivative, sp.Integral, sp.Sum, sp.Product, sp.Subs, sp.Lambda)


def sign_facts(exprs: list[Any]) -> list[Any]:
    """The declared signs of the symbols of exprs as relations (x > 0 for a positive x, ...)."""
    facts: list[Any] = []
    for s in sorted(set().union(*(e.free_symbols for e in exprs if isinstance(e, sp.Basic))), key=str):
        if s.is_positive:
            facts.append(sp.StrictGreaterThan(s, 0))
        elif s.is_nonnegative:
            facts.append(sp.GreaterThan(s, 0))
        elif s.is_negative:
            facts.append(sp.StrictLessThan(s, 0))
        elif s.is_nonpositive:
            facts.append(sp.LessThan(s, 0))
    return facts


def sign(u: Any, facts: list[Any]) -> int | None:
    """1 if the facts imply u > 0, -1 if they imply u < 0 (0 if u is 0), else None. Implied:
    the facts with the negation are infeasible, or u factors into a product of factors each of
    an implied sign."""
    if u.is_zero:
        return 0
    if u.is_Rational:
        return 1 if u > 0 else -1
    if implies(facts, sp.StrictGreaterThan(u, 0)):
        return 1
    if implies(facts, sp.StrictLessThan(u, 0)):
        return -1
    factors = sp.factor(u).as_ordered_factors() if u.free_symbols else []
    if len(factors) < 2:
        return None
    signs = [sign(f, facts) for f in factors]
    return None if None in signs else int(sp.prod(signs))


def decided(expr: Any, assumptions: list[Any]) -> Any:
    """expr with every Max, Min, Abs and Heaviside whose case the assumptions imply replaced by
    that case, innermost first: Max(a, b, ...) by the argument implied >= all others (Min: <=),
    Abs(u) by u or -u, Heaviside(u) by 1 or 0 as u > 0 or u < 0 is implied (`sign`). A
    difference whose sign `sign` cannot settle is also tried as `a - b >= 0` directly.
    Derivatives of pieces are carried out first (d/du Max(0, u) = Heaviside(u): a case holding
    only on a closed set, u >= 0, says nothing about the derivative at its edge), and nothing
    under a binding (Sum, Integral, Subs, a derivative left) is decided: its variable is not the
    free symbol the assumptions are about."""
    if not isinstance(expr, sp.Basic) or not expr.has(*PIECES):
        return expr
    expr = expr.replace(lambda e: isinstance(e, sp.Derivative) and e.expr.has(*PIECES), lambda e: e.doit())
    facts = [*assumptions, *sign_facts([expr, *assumptions])]

    def at_least(a: Any, b: Any) -> bool:
        return sign(a - b, facts) in (0, 1) or implies(facts, sp.GreaterThan(a, b))

    def pick(node: Any) -> Any:
        if isinstance(node, (sp.Max, sp.Min)):
            for m in node.args:
                if all(at_least(m, o) if isinstance(node, sp.Max) else at_least(o, m) for o in node.args if o != m):
                    return m
            return node
        u = node.args[0]
        if isinstance(node, sp.Abs):
            return u if at_least(u, 0) else -u if at_least(0, u) else node
        s = sign(u, facts)
        return {1: sp.Integer(1), -1: sp.Integer(0)}.get(s, node) if s != 0 else node

    def walk(e: Any) -> Any:
        if not isinstance(e, sp.Basic) or not e.args or isinstance(e, BINDINGS) or not e.has(*PIECES):
            return e
        new = e.func(*map(walk, e.args))
        return pick(new) if isinstance(new, PIECES) else new
    return walk(expr)


def decisions(exprs: list[Any], assumptions: list[Any], limit: int = 4) -> str:
    """The cases `decided` puts in, as `Max(0, u) = u; Heaviside(u) = 1` (at most `limit`)."""
    nodes = sorted(set().union(*(e.atoms(*PIECES) for e in exprs if isinstance(e, sp.Basic))), key=sp.default_sort_key)
    done = [f"{sp.sstr(n)} = {sp.sstr(v)}" for n in nodes if (v := decided(n, assumptions)) != n]
    return "; ".join(done[:limit]) + ("; ..." if len(done) > limit else "")
