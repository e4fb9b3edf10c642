"""Matrix steps, checked on random exact matrix instances: every matrix symbol drawn by its
declared structure (orthonormal columns, diagonal, identity; `sigma_max: c` gives a largest
singular value of exactly c), the problem's matrix hypotheses honoured, sizes satisfying the
chain's assumptions. Matrices are compared entry by entry; scalars (largest singular values)
by exact values or certified enclosures (derive/matrix_eval.py), never on a float tolerance."""

from __future__ import annotations

import random
from typing import Any

import sympy as sp
from flint import arb_mat

from derive.balls import NotEnclosed, precision
from derive.instances import SMALL_WHOLE_NUMBERS, Instance, whole_number_params
from derive.ball_eval import BallEval, agree_to, ball_decision, show_ball
from derive.matrix_eval import PREC, SCALES, MatrixEval, Undecided, decide, enclose, identically_zero
from derive.model import Verdict
from derive.ops import sigma_max
from derive.verify.base import Context, StepRejected, cited, params_seen, params_text, show, sides_at
from derive.verify.symbolic import symbolic_zero

MATRIX_TRIALS = 6
LARGEST = 3  # every third trial puts every size and count here, where matrices are most generic
# wide instances: sizes and counts far past the exact ones (free ones cycle through these,
# those tied by assumptions are drawn up to CONSTRAINED_WIDE), decided in ball arithmetic
WIDE_TRIALS = 2
WIDE_WHOLE_NUMBERS = (7, 9, 8, 10)
AGREE_BITS = 200  # an equality at a wide size stands only if its sides agree this closely (else: exactly)


def matrix_instances(a: Any, b: Any, rel: str, ctx: Context) -> Verdict:
    """Check on random exact matrix instances. The first trials (cheap, and most wrong steps
    fail there already) cycle through the small sizes; every third takes the largest. An
    inequality then meets its equality cases at the largest sizes (EQUALITY_CASES): random
    instances never make a vector zero or a matrix orthogonal. Last come WIDE_TRIALS
    instances of wide sizes (`_wide`), where a step false only past the small sizes fails."""
    rng = random.Random(ctx.seed)
    params: dict[str, set] = {}
    matrix_valued = False
    cases = [(trial, None) for trial in range(MATRIX_TRIALS)]
    cases += [(2, kind) for kind in EQUALITY_CASES] if rel != "=" else []
    tried = []
    for trial, case in cases:
        inst = Instance(ctx.scope, rng, scale=SCALES[trial % len(SCALES)], trial=trial - trial // 3,
                        assume=ctx.assume, whole_numbers=SMALL_WHOLE_NUMBERS)
        if trial % 3 == 2:
            for s in _sizes(a, b, ctx):
                inst.values[s] = sp.Integer(LARGEST)
        where = ""
        try:
            x, y = inst.evaluate_pair(a, b)
            mats = inst.matrices()
            if case is not None and not _degenerate(mats, ctx, case):
                continue
            where = _where(inst)
            ok, shown, is_matrix, _ = _by_balls(x, y, rel, mats, ctx)
            if ok is None:  # the balls decide nothing: exact values and certified placeholders
                ok, shown, is_matrix = _exactly(x, y, rel, mats, ctx, where)
            matrix_valued = matrix_valued or is_matrix
        except (Undecided, ValueError) as exc:
            raise StepRejected(f"could not decide on an exact instance ({exc})", where or _where(inst)) from None
        params_seen(inst.values, ctx.scope, params)
        if not ok:
            what = "false on a random exact instance" if case is None else f"false on an equality case ({case})"
            raise StepRejected(what, sides_at(where, shown[0], shown[1]))
        if case is not None:
            tried.append(case)
    what = "equal entry by entry" if matrix_valued else "holds"
    sv = "; singular values exact or certified by interval arithmetic" if sp.Tuple(a, b).has(sigma_max) else ""
    ties = f", and on the equality cases: {'; '.join(tried)}" if tried else ""
    return Verdict("instance", f"{what} on {MATRIX_TRIALS} random exact matrix instances ({params_text(params)})"
                               + ties + _wide(a, b, rel, ctx, rng) + sv + cited(ctx))


def _wide(a: Any, b: Any, rel: str, ctx: Context, rng: random.Random) -> str:
    """The step on WIDE_TRIALS instances of wide sizes, in certified ball arithmetic (exact
    arithmetic at these sizes costs minutes). Separated balls decide; where they overlap an
    inequality is decided exactly, and an equality stands as not refuted when every entry of
    the two sides agrees to AGREE_BITS bits (the exact small instances prove equalities),
    else it too is decided exactly.
    Returns the verdict's clause; a failure is a rejection."""
    if not _sizes(a, b, ctx):
        return ""  # every size fixed: nothing wider to try
    params: dict[str, set] = {}
    agreed = 0
    for trial in range(WIDE_TRIALS):
        inst = Instance(ctx.scope, rng, scale=SCALES[trial % len(SCALES)], trial=2 * trial + 1,
                        assume=ctx.assume, whole_numbers=WIDE_WHOLE_NUMBERS)
        where = ""
        try:
            x, y = inst.evaluate_pair(a, b)
            mats = inst.matrices()
            where = _where(inst)
            ok, shown, _, tight = _by_balls(x, y, rel, mats, ctx)
            if ok is None and rel == "=" and tight:
                ok, agreed = True, agreed + 1
            elif ok is None:
                ok, shown, _ = _exactly(x, y, rel, mats, ctx, where)
        except (Undecided, ValueError) as exc:
            raise StepRejected(f"could not decide on a wide instance ({exc})", where or _where(inst)) from None
        if not ok:
            raise StepRejected("false on a wide instance", sides_at(where, shown[0], shown[1]))
        params_seen(inst.values, ctx.scope, params)
    if agreed:
        return (f"; on {WIDE_TRIALS} wide instances ({params_text(params)}) the sides agree to {AGREE_BITS} bits in"
                " ball arithmetic (not shown exactly equal at these sizes)")
    return f"; and on {WIDE_TRIALS} wide instances ({params_text(params)}), decided by certified ball arithmetic"


def _sizes(a: Any, b: Any, ctx: Context) -> Any:
    """The whole numbers of a step: its counts and the symbolic sizes of the matrices declared."""
    return whole_number_params(sp.Tuple(a, b, *[d for ds in ctx.scope.shapes.values() for d in ds]))


def _exactly(x: Any, y: Any, rel: str, mats: dict, ctx: Context, where: str) -> tuple[bool, tuple[str, str], bool]:
    """The relation decided on exact values and certified placeholders: the verdict, the two
    sides as text when it fails, and whether they are matrices. First with every function of
    numbers named by a placeholder (a polynomial identity in the placeholders holds whatever
    their values; a rejection is certified by their balls), which keeps the arithmetic small;
    what that leaves undecided is decided on the exact values themselves."""
    try:
        return _exact_values(x, y, rel, MatrixEval(mats, ctx.scope.unfold, named={}), ctx, where)
    except Undecided:
        return _exact_values(x, y, rel, MatrixEval(mats, ctx.scope.unfold), ctx, where)


def _exact_values(x: Any, y: Any, rel: str, me: MatrixEval, ctx: Context,
                  where: str) -> tuple[bool, tuple[str, str], bool]:
    x, y = me.value(x), me.value(y)
    ok = _matrix_holds(x, y, rel, me, ctx, where)
    return ok, ((_show_value(x, me), _show_value(y, me)) if not ok else ("", "")), isinstance(x, sp.MatrixBase)


# equality cases of a matrix inequality: every free vector zero, and each matrix with a prescribed
# largest singular value c either c times the identity (every product bound tight) or c times the
# shift e_1 e_d^T (nilpotent: products of two or more of its factors vanish)
EQUALITY_CASES = ("vectors zero, matrices with sigma_max c equal to c I",
                  "vectors zero, matrices with sigma_max c equal to c e_1 e_d^T (nilpotent)")


def _degenerate(mats: dict, ctx: Context, case: str) -> bool:
    """Turn an instance's matrices into the equality case `case` (in place); False when it
    changes nothing (no free vector and no square matrix with sigma_max outside hypotheses)."""
    sc = ctx.scope
    held = set().union(*[h.lhs.free_symbols | h.body.free_symbols for h in sc.hypotheses.values()
                         if h.lhs is not None])
    changed = False
    for sym, m in mats.items():
        if sym in held:
            continue
        if m.shape[1] == 1 and sym not in sc.structure and sym not in sc.sigma_max:
            mats[sym], changed = sp.ImmutableMatrix(sp.zeros(*m.shape)), True
        elif sym in sc.sigma_max and m.shape[0] == m.shape[1]:
            c, d = sc.sigma_max[sym], m.shape[0]
            tie = sp.eye(d) if case == EQUALITY_CASES[0] else sp.zeros(d, d)
            if case != EQUALITY_CASES[0]:
                tie[0, d - 1] = 1
            mats[sym], changed = sp.ImmutableMatrix(c * tie), True
    return changed


def _by_balls(x: Any, y: Any, rel: str, mats: dict, ctx: Context) -> tuple[bool | None, tuple[str, str], bool, bool]:
    """The relation decided in certified ball arithmetic (fast, in C): the verdict (None when
    the balls do not decide it: they overlap, or a value has no ball, and the exact
    evaluation decides), the two sides as text, whether they are matrices, and whether
    overlapping balls agree to AGREE_BITS bits."""
    try:
        with precision(PREC):
            be = BallEval(mats, ctx.scope.unfold)
            bx, by = be.value(x), be.value(y)
            ok = ball_decision(bx, by, rel)
            tight = ok is None and agree_to(bx, by, AGREE_BITS)
    except (NotEnclosed, Undecided, ValueError, TypeError):
        return None, ("", ""), False, False
    return ok, (show_ball(bx), show_ball(by)), isinstance(bx, arb_mat), tight


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
        shown_zero = ((lambda d: identically_zero(d, me.enclosures)) if me.named is not None
                      else (lambda d: symbolic_zero(d, ctx)))
        return all(d == 0 or shown_zero(d) or decide(sp.S.Zero, d, "=", me.enclosures) for d in (x - y))
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
