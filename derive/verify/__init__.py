"""The verifier: every step `previous rel next` gets a verdict or is rejected.

One table, CHECKS, says which checks run on which step: the first row whose condition holds
is used, its methods run in order (strongest first), and the first verdict wins. A step that
no method accepts, or for which a counterexample is found, is rejected with the
counterexample. The rules that produced a step are never trusted.

The methods, one module each:
- symbolic (proof): the difference simplifies to 0 after unfolding definitions and cited
  hypotheses; an inequality gets a sign certificate (certificates.py);
- instances (evidence on exact instances): abstract objects (whole-number parameters,
  finite-space integrals and tables, expectations, operation counts) get random exact values
  (derive/instances.py) and the relation is checked exactly, for several seeds;
- matrix_symbolic (proof): matrix equations proved for symbolic sizes with SymPy's matrix
  expressions and the facts of the declared structures;
- matrices (evidence on exact matrix instances): matrices drawn by their structure, compared
  entry by entry, singular values exact or certified;
- numeric (weakest evidence): the relation holds at many points satisfying the assumptions;
- mdp: values of finite MDPs certified in exact arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import sympy as sp

from derive.errors import LimitError
from derive.instances import is_abstract
from derive.linear_feasibility import decided, decisions
from derive.matrices import is_matrix
from derive.matrix_eval import uses_matrix_calculus
from derive.model import Verdict
from derive.ops import Theta, sg
from derive.scope import BelowBaseCase
from derive.verify.base import Context, StepRejected, cited, prepare
from derive.verify.certificates import order_certificate, sign_certificate
from derive.verify.instances import instances, probe
from derive.verify.matrices import matrix_instances
from derive.verify.matrix_symbolic import matrix_symbolic
from derive.verify.mdp import (check_claim, check_greedy, check_loss, check_optimal_values, check_policy_values,
                               find_improvement)
from derive.verify.numeric import numeric
from derive.verify.symbolic import (check_delta, check_theta, decide_cases, implied, rational_logs_zero, symbolic,
                                    symbolic_zero)

__all__ = ["CHECKS", "Context", "StepRejected", "check", "check_claim", "check_greedy", "check_loss",
           "check_optimal_values", "check_policy_values", "decide_cases", "find_improvement", "implied",
           "order_certificate", "rational_logs_zero", "sign_certificate", "symbolic_zero"]

Method = Callable[[Any, Any, str, Context], "Verdict | None"]


@dataclass(frozen=True)
class Row:
    """Steps whose sides satisfy `when` are checked by `methods`, in order."""

    what: str
    when: Callable[[Any, Any, Context], bool]
    methods: tuple[Method, ...]


def identical(a: Any, b: Any, rel: str, ctx: Context) -> Verdict | None:
    """Identical sides: nothing to probe (sums and instances can be slow). Matrices are only
    compared by equality (left to the matrix check)."""
    if a != b or (rel != "=" and is_matrix(a, ctx.scope.shapes)):
        return None
    if rel == "<":
        raise StepRejected("a strict inequality between identical sides is false", f"both sides are {sp.sstr(a)[:100]}")
    return Verdict("symbolic", "identical after unfolding definitions" + cited(ctx))


def probe_point(a: Any, b: Any, rel: str, ctx: Context) -> None:
    probe(a, b, rel, False, ctx)


def probe_instance(a: Any, b: Any, rel: str, ctx: Context) -> None:
    probe(a, b, rel, True, ctx)


def _decided(a: Any, b: Any, ctx: Context) -> tuple[Any, Any]:
    """Both sides with the cases of Max, Min, Heaviside and Abs the assumptions imply put in."""
    return decided(a, list(ctx.assume)), decided(b, list(ctx.assume))


def _has_decided_cases(a: Any, b: Any, ctx: Context) -> bool:
    return bool(ctx.assume) and any(isinstance(e, sp.Basic) and e.has(sp.Max, sp.Min, sp.Heaviside)
                                    for e in (a, b)) and _decided(a, b, ctx) != (a, b)


def decided_cases(a: Any, b: Any, rel: str, ctx: Context) -> Verdict | None:
    """The step with each case the assumptions imply put in (an exact linear implication: the
    assumptions with its negation are infeasible), checked by the row those sides get."""
    cases = decisions([a, b], list(ctx.assume))
    a, b = _decided(a, b, ctx)
    row = next(r for r in CHECKS if r.when(a, b, ctx))
    for method in row.methods:
        verdict = method(a, b, rel, ctx)
        if verdict:
            return Verdict(verdict.method, f"cases decided by the assumptions (exact linear implication): "
                                           f"{cases}; then {verdict.detail}")
    raise StepRejected(f"no check accepts the step with its decided cases (checked as {row.what})",
                       f"{sp.sstr(a)[:100]} {rel} {sp.sstr(b)[:100]}")


def _either(test: Callable[[Any, Context], bool]) -> Callable[[Any, Any, Context], bool]:
    return lambda a, b, ctx: test(a, ctx) or test(b, ctx)


CHECKS: tuple[Row, ...] = (
    Row("a growth class Theta(f, n)", _either(lambda e, ctx: e.has(Theta)), (check_theta,)),
    Row("sigma_max, diag, jacobian, MatProduct or a sigma_max matrix",
        _either(lambda e, ctx: uses_matrix_calculus(e, ctx.scope)), (identical, symbolic, matrix_symbolic, matrix_instances)),
    Row("a matrix expression", _either(lambda e, ctx: is_matrix(e, ctx.scope.shapes)),
        (identical, matrix_symbolic, matrix_instances)),
    Row("identical sides", lambda a, b, ctx: a == b, (identical,)),
    Row("Max, Min or Heaviside with cases decided by the assumptions", _has_decided_cases, (decided_cases,)),
    Row("a Dirac delta (no instance or point can evaluate one)", _either(lambda e, ctx: e.has(sp.DiracDelta)),
        (check_delta,)),
    Row("abstract objects: sums, spaces, tables, whole numbers, expectations, costs",
        _either(lambda e, ctx: is_abstract(e, ctx.scope)), (probe_instance, symbolic, instances)),
    Row("real expressions", lambda a, b, ctx: True, (probe_point, symbolic, numeric)),
)


def check(prev: Any, rel: str, nxt: Any, ctx: Context) -> Verdict:
    """Verdict for `prev rel nxt`, or StepRejected.

    A cheap probe at one random point (or instance) runs first, so that a wrong step is
    rejected with its counterexample before any costly simplification is tried. The verdict
    says when a stop-gradient was given its value. A step whose evaluation recurses without
    end (a recursive definition called below its base case) is rejected; any other error
    inside a check (SymPy's NotImplementedError, a KeyError, ...) leaves the step undecided,
    which is a rejection naming the error, never a traceback and never a verdict.
    """
    shown = f"{sp.sstr(prev)[:100]} {rel} {sp.sstr(nxt)[:100]}"
    try:
        verdict = _check(prev, rel, nxt, ctx)
    except StepRejected as exc:
        if rel in (">", ">="):  # checked as nxt < prev: the values go back to the sides as written
            exc.counterexample = as_written(exc.counterexample)
        raise
    except BelowBaseCase as exc:
        raise StepRejected(str(exc), shown) from None
    except RecursionError:
        raise StepRejected("evaluation does not terminate (a recursive definition below its base case?)",
                           shown) from None
    except (LimitError, MemoryError):  # a refusal past a limit fails the problem as such
        raise
    except Exception as exc:  # noqa: BLE001 -- a crash in a check decides nothing: undecided
        raise StepRejected(f"undecided: the check failed with {type(exc).__name__}: {str(exc)[:200]}",
                           shown) from None
    if any(isinstance(e, sp.Basic) and e.has(sg) for e in (prev, nxt)):
        return Verdict(verdict.method, f"{verdict.detail}; sg(u) taken as u after differentiating")
    return verdict


def as_written(counterexample: str) -> str:
    """A counterexample of `b < a` given for the step `a > b`: its closing `left = .., right = ..`
    swapped back, so that left is the step's left side."""
    head, sep, values = counterexample.rpartition("left = ")
    left, mid, right = values.partition(", right = ")
    return f"{head}{sep}{right}{mid}{left}" if sep and mid else counterexample


def _check(prev: Any, rel: str, nxt: Any, ctx: Context) -> Verdict:
    a, b = prepare(prev, ctx), prepare(nxt, ctx)
    names = ("left", "right")
    if rel in (">", ">="):
        a, b, names = b, a, ("right", "left")
    rel = {">": "<", ">=": "<="}.get(rel, rel)
    for side, e in zip(names, (a, b)):
        if isinstance(e, sp.Basic) and e.has(sp.zoo, sp.nan):
            raise StepRejected(f"the {side} side is undefined (a division by zero, or 0/0)",
                               f"{side} side = {sp.sstr(e)[:150]}")
    row = next(r for r in CHECKS if r.when(a, b, ctx))
    for method in row.methods:
        verdict = method(a, b, rel, ctx)
        if verdict:
            return verdict
    raise StepRejected(f"no check accepts the step (checked as {row.what})",
                       f"{sp.sstr(a)[:100]} {rel} {sp.sstr(b)[:100]}")
