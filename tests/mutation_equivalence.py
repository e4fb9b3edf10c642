"""How tests/mutation.py reads a problem's expressions and recognises mutants that are not
wrong steps: equal to the original (SymPy, or six exact instances) or weaker bounds."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from pathlib import Path

import sympy as sp

from derive.instances import SCALES, Instance, is_abstract


def _parser(path: Path):
    from derive.exprs import evaluated, parse
    from derive.scope import build_scope
    from derive.spec import ChainSpec, load_problem

    spec, _ = load_problem(path)
    defined = [(c.defines, c.loc) for c in spec.solution if isinstance(c, ChainSpec) and c.defines]
    scope = build_scope(spec, [], defined)
    from derive.ops import E, scale

    centred = {E(g): sp.S.Zero for g in scope.mean_zero}  # declared property: E[g] = 0
    random = scope.random

    def linear(e):
        """E split over sums with non-random factors pulled out (linearity of expectation)."""
        terms = sp.Add.make_args(sp.expand(e.args[0]))
        out = sp.S.Zero
        for t in terms:
            c = sp.Mul(*(f for f in sp.Mul.make_args(t) if not f.free_symbols & random))
            out += c * E(sp.Mul(*(f for f in sp.Mul.make_args(t) if f.free_symbols & random)))
        return out

    def meaning(text: str):
        expr = scope.unfold(evaluated(parse(text, scope.ns)))
        if centred:
            expr = expr.replace(lambda e: isinstance(e, E), linear)
        expr = expr.xreplace(centred)
        # an operation count does not depend on the value of a scaling factor
        return expr.replace(lambda e: isinstance(e, scale), lambda e: scale(e.args[0], 1))

    return meaning, scope


BUDGET = 4.0  # CPU seconds for deciding one mutant equivalent (or weaker) before running it
RECHECK_BUDGET = 300.0  # CPU seconds for deciding it again after the verifier accepted it


class OutOfBudget(BaseException):  # not an Exception: no `except Exception` on the way may swallow it
    """The decision ran past its budget."""


@contextmanager
def _budget(seconds: float = BUDGET):
    """Raise OutOfBudget in the main thread after `seconds` of this process's CPU time
    (elsewhere: no limit). CPU time, not wall time: a loaded machine must not change which
    mutants are judged."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise OutOfBudget(f"not decided within {seconds} CPU s")

    old = signal.signal(signal.SIGPROF, expire)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, old)


def _equivalent(a, b, scope=None, seconds: float = BUDGET) -> bool | None:
    """Decided within `seconds`; None past it (not known equivalent: the verifier judges the
    mutant, and an accepted one is decided again with RECHECK_BUDGET)."""
    try:
        with _budget(seconds):
            return _decide_equivalent(a, b, scope)
    except OutOfBudget:
        return None


def _decide_equivalent(a, b, scope=None) -> bool:
    """Does SymPy show a = b, or, when abstract objects occur, do they agree exactly on six exact
    instances (e.g. f(m - s e) for f(m + s e) under a symmetric density, or a term that
    vanishes because a density is normalised)?"""
    if a == b:
        return True
    d = a - b
    if _differs_somewhere(d, scope):
        return False
    try:
        if sp.simplify(d) == 0:
            return True
    except (TypeError, ValueError, NotImplementedError):
        return False
    if scope is None or not is_abstract(d, scope):
        return False
    rng = __import__("random").Random(1)
    for trial in range(6):
        try:
            value = Instance(scope, rng, scale=SCALES[trial % len(SCALES)], trial=trial).evaluate(d)
            point = {s: sp.Integer(rng.randint(1, 6)) if s.is_integer else sp.Rational(rng.randint(1, 300), 100)
                     for s in value.free_symbols}
            if sp.simplify(value.xreplace(point)) != 0:
                return False
        except Exception:  # no value (e.g. an argument outside its space): not known equal; the verifier judges it
            return False
    return True


def _differs_somewhere(d, scope=None) -> bool:
    """A quick screen before simplification: is d clearly away from 0 (|d| > 1e-9, a real
    number to 30 digits; integrals by quadrature, never SymPy's integrator) at one of three
    random points, on an exact instance when abstract objects occur? False says nothing (not
    evaluable there, or small)."""
    from derive.matrix_eval import uses_matrix_calculus
    from derive.scope import Scope
    from derive.verify import Context
    from derive.verify.numeric import value_at

    if scope is not None and uses_matrix_calculus(d, scope):
        return False
    rng = __import__("random").Random(2)
    abstract = scope is not None and is_abstract(d, scope)
    for trial in range(3):
        try:
            value = Instance(scope, rng, scale=SCALES[trial % len(SCALES)], trial=trial).evaluate(d) if abstract else d
            point = {s: sp.Integer(rng.randint(1, 6)) if s.is_integer else sp.Rational(rng.randint(1, 300), 100)
                     for s in value.free_symbols}
            value = value_at(value, point, Context(scope or Scope()), 30, quick=True)
        except Exception:  # noqa: BLE001 - not evaluable here: the screen says nothing
            continue
        if value.is_number and value.is_comparable and abs(value) > 1e-9:
            return True
    return False


def _weaker(original, mutated, rel: str, scope=None, assume=(), seconds: float = BUDGET) -> bool | None:
    """Decided within `seconds`; None past it (as for `_equivalent`)."""
    try:
        with _budget(seconds):
            return _decide_weaker(original, mutated, rel, scope, tuple(assume))
    except OutOfBudget:
        return None


def _decide_weaker(original, mutated, rel: str, scope=None, assume: tuple = ()) -> bool:
    """Is the mutated bound a weakening of the original (a true step, not a wrong one)?

    Decided by sampling: mutated - original keeps the loosening sign at every point allowed by
    the chain's assumptions `assume` and the size relations of declared structures (e.g.
    d**2*k for k**2*d in an upper bound under k <= d), whole numbers drawn up to 12. When it
    holds abstract objects (densities, finite-space integrals), they are first replaced by
    exact instances, so that, e.g., adding a conditional entropy (non-negative on finite
    spaces) to an upper bound counts as weakening it. Matrix expressions have no value at a
    sampled point: there the verifier's own exact matrix instances decide whether the
    original bound implies the mutated one.
    """
    if rel == "=":
        return False
    from derive.matrix_eval import uses_matrix_calculus
    if scope is not None and (uses_matrix_calculus(original, scope) or uses_matrix_calculus(mutated, scope)):
        from derive.verify import Context, StepRejected, check
        try:
            check(original, "<=" if rel in ("<=", "<") else ">=", mutated, Context(scope))
        except StepRejected:
            return False
        return True
    d = (mutated - original) if rel in ("<=", "<") else (original - mutated)
    rng = __import__("random").Random(0)
    abstract = scope is not None and is_abstract(d, scope)
    if scope is not None:
        from derive.matrices import structure_relations
        assume = (*assume, *structure_relations(scope.shapes, scope.structure))
    for trial in range(30):
        try:
            value = Instance(scope, rng, scale=SCALES[trial % len(SCALES)], trial=trial,
                             assume=assume).evaluate(d) if abstract else d
        except Exception:  # no value: not known weaker; the verifier judges the mutant
            return False
        point = _allowed_point(value.free_symbols, assume, rng)
        if point is None:
            return False
        value = value.xreplace(point).evalf(30)
        if not value.is_number or not value.is_comparable or value < 0:  # not evaluable here: not known to be weaker
            return False
    return True


def _allowed_point(free: set, assume: tuple, rng) -> dict | None:
    """Random values (whole numbers 1 .. 12, positive rationals) for `free` at which every
    assumption on them holds; None if 200 draws find none."""
    rels = [r for r in assume if r.free_symbols and r.free_symbols <= free]
    for _ in range(200):
        point = {s: sp.Integer(rng.randint(1, 12)) if s.is_integer else sp.Rational(rng.randint(1, 300), 100)
                 for s in free}
        if all(bool(r.xreplace(point)) for r in rels):
            return point
    return None
