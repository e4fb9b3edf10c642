"""Matrix steps, checked on random exact matrix instances: every matrix symbol drawn by its
declared structure (orthonormal columns, diagonal, identity; `sigma_max: c` gives a largest
singular value of exactly c), the problem's matrix hypotheses honoured, sizes satisfying the
chain's assumptions. Matrices are compared entry by entry; scalars (largest singular values)
by exact values or certified enclosures (derive/matrix_eval.py), never on a float tolerance."""

from __future__ import annotations

import random
from typing import Any

import sympy as sp

from derive.instances import SMALL_WHOLE_NUMBERS, Instance, whole_number_params
from derive.balls import NotEnclosed, precision
from derive.matrix_eval import PREC, SCALES, BallEval, MatrixEval, Undecided, ball_decision, decide, enclose, show_ball
from derive.model import Verdict
from derive.ops import sigma_max
from derive.verify.base import Context, StepRejected, cited, params_seen, params_text, show
from derive.verify.symbolic import symbolic_zero

MATRIX_TRIALS = 6
LARGEST = 3  # every third trial puts every size and count here, where matrices are most generic


def matrix_instances(a: Any, b: Any, rel: str, ctx: Context) -> Verdict:
    """Check on random exact matrix instances. The first trials (cheap, and most wrong steps
    fail there already) cycle through the small sizes; every third takes the largest."""
    rng = random.Random(ctx.seed)
    params: dict[str, set] = {}
    matrix_valued = False
    for trial in range(MATRIX_TRIALS):
        inst = Instance(ctx.scope, rng, scale=SCALES[trial % len(SCALES)], trial=trial - trial // 3,
                        assume=ctx.assume, whole_numbers=SMALL_WHOLE_NUMBERS)
        if trial % 3 == 2:
            dims = [d for ds in ctx.scope.shapes.values() for d in ds]
            for s in whole_number_params(sp.Tuple(a, b, *dims)):
                inst.values[s] = sp.Integer(LARGEST)
        where = ""
        try:
            x, y = inst.evaluate(a), inst.evaluate(b)
            mats = inst.matrices()
            where = _where(inst)
            ok, shown, is_matrix = _by_balls(x, y, rel, mats, ctx)
            if ok is None:  # the balls decide nothing: exact values and certified placeholders
                me = MatrixEval(mats, ctx.scope.unfold)
                x, y = me.value(x), me.value(y)
                ok = _matrix_holds(x, y, rel, me, ctx, where)
                is_matrix = isinstance(x, sp.MatrixBase)
                shown = (_show_value(x, me), _show_value(y, me)) if not ok else ("", "")
            matrix_valued = matrix_valued or is_matrix
        except (Undecided, ValueError) as exc:
            raise StepRejected(f"could not decide on an exact instance ({exc})", where or _where(inst)) from None
        params_seen(inst.values, ctx.scope, params)
        if not ok:
            raise StepRejected("false on a random exact instance", f"{where}: left = {shown[0]}, right = {shown[1]}")
    what = "equal entry by entry" if matrix_valued else "holds"
    sv = "; singular values exact or certified by interval arithmetic" if sp.Tuple(a, b).has(sigma_max) else ""
    return Verdict("instance", f"{what} on {MATRIX_TRIALS} random exact matrix instances ({params_text(params)})"
                               + sv + cited(ctx))


def _by_balls(x: Any, y: Any, rel: str, mats: dict, ctx: Context) -> tuple[bool | None, tuple[str, str], bool]:
    """The relation decided in certified ball arithmetic (fast, in C): the verdict (None when
    the balls do not decide it: they overlap, or a value has no ball, and the exact
    evaluation decides), the two sides as text, and whether they are matrices."""
    try:
        with precision(PREC):
            be = BallEval(mats, ctx.scope.unfold)
            bx, by = be.value(x), be.value(y)
            ok = ball_decision(bx, by, rel)
    except (NotEnclosed, ValueError, TypeError):
        return None, ("", ""), False
    return ok, (show_ball(bx), show_ball(by)), be._is_matrix(bx)


def _where(inst: Instance) -> str:
    mats = ", ".join(f"{k} = {sp.sstr(v.tolist())}" for k, v in sorted((inst.matrix_values or {}).items(),
                                                                          key=lambda kv: str(kv[0])))
    return "; ".join(p for p in (inst.describe(set(inst.values)), mats) if p)


def _matrix_holds(x: Any, y: Any, rel: str, me: MatrixEval, ctx: Context, where: str) -> bool:
    if isinstance(x, sp.MatrixBase) or isinstance(y, sp.MatrixBase):
        if rel != "=":
            raise StepRejected("matrices are only compared by equality", where)
        if not (isinstance(x, sp.MatrixBase) and isinstance(y, sp.MatrixBase)) or x.shape != y.shape:
            shapes = " vs ".join(str(v.shape) if isinstance(v, sp.MatrixBase) else "a scalar" for v in (x, y))
            raise StepRejected("the two sides have different shapes", f"{where}: {shapes}")
        return all(d == 0 or symbolic_zero(d, ctx) or decide(sp.S.Zero, d, "=", me.enclosures)
                   for d in (x - y))
    if (x.free_symbols | y.free_symbols) - set(me.enclosures):
        raise ValueError(f"symbols left after the instance: {(x.free_symbols | y.free_symbols) - set(me.enclosures)}")
    return decide(x, y, rel, me.enclosures)


def _show_value(x: Any, me: MatrixEval) -> str:
    if isinstance(x, sp.MatrixBase):
        text = sp.sstr(sp.ImmutableMatrix(x).evalf(12).tolist())
        return text if len(text) < 300 else text[:297] + "..."
    if x.free_symbols & set(me.enclosures):
        return str(enclose(x, me.enclosures))
    return show(x)
