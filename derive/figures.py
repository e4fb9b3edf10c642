"""The `figure:` solution block: its schema (spec layer), its plan and its data (engine layer).

Rules:
- A figure is drawn from the problem's own objects, never pasted: a `plot` samples
  expressions in the problem's scope with every definition unfolded and every derivative
  carried out; an `mdp` figure is the diagram of an earlier `mdp` block (moves and rewards);
  a `values` figure shows the exact value of every policy of earlier `policies` blocks.
- Every key takes effect or is an error naming file, line and key (its keys and types are
  declared in derive/schema.py); captions, labels and curve names are prose/math checked
  like all spec text.
- The data handed to the renderer is plain numbers (model.Figure); drawing is derive.draw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from derive.errors import EngineError, Loc, SpecIssue
from derive.model import Figure, PolicyTable
from derive.spec import Text
from derive.validate import Reader

SAMPLES = 201  # points per curve
MAX_ABS = 1e6  # a sampled value beyond this (or not real) is an error


@dataclass(frozen=True)
class CurveSpec:
    """One curve of a plot: the expression sampled, its legend label, dashed or solid."""

    y: Text
    label: Text | None
    dashed: bool


@dataclass(frozen=True)
class FigureSpec:
    """A `figure` block: `label` names its files; exactly one of plot / mdp / values."""

    label: str
    caption: Text
    kind: str
    loc: Loc
    x: Text | None = None
    lo: Any = None
    hi: Any = None
    xlabel: Text | None = None
    ylabel: Text | None = None
    curves: tuple[CurveSpec, ...] = ()
    names: tuple[str, ...] = ()  # the mdp block (one) or the policies blocks (values)


def figure_block(r: Reader, v: Any, path: tuple) -> FigureSpec | None:
    """The FigureSpec of a validated `figure` block (see docs/spec.md); issues go to `r`."""
    loc, caption = r.loc(*path), r.text(v.caption, *path, "caption")
    if v.mdp is not None:
        return FigureSpec(v.label, caption, "mdp", loc, names=(v.mdp,))
    if v.values is not None:
        names = (v.values,) if isinstance(v.values, str) else tuple(v.values)
        return FigureSpec(v.label, caption, "values", loc, names=names)
    p, ppath = v.plot, (*path, "plot")
    if not p.from_ < p.to:
        r.issue(r.loc(*ppath, "to"), f"'to' ({p.to}) must be greater than 'from' ({p.from_})")
        return None
    curves = tuple(CurveSpec(r.text(c.y, *cp, "y"), r.text(c.label, *cp, "label"), c.dashed)
                   for c, cp in r.items(p.curves, *ppath, "curves"))
    return FigureSpec(v.label, caption, "plot", loc, r.text(p.x, *ppath, "x"), p.from_, p.to,
                      r.text(p.xlabel, *ppath, "xlabel"), r.text(p.ylabel, *ppath, "ylabel"), curves)


def plan_figures(figures: list[FigureSpec], scope, issues: list[SpecIssue]) -> dict[str, list[Any]]:
    """Each plot's curves parsed in the problem's scope (definitions unfolded, derivatives done);
    an undeclared variable or a bad expression is an issue."""
    from derive.exprs import evaluated
    from derive.render import prose
    from derive.scope import parse_text

    parsed: dict[str, list[Any]] = {}
    labels: set[str] = set()
    for f in figures:
        if f.label in labels:
            issues.append(SpecIssue(f.loc, f"figure label '{f.label}' used twice"))
        labels.add(f.label)
        texts = [f.caption, f.xlabel, f.ylabel, *(c.label for c in f.curves)]
        for t in filter(None, texts):
            try:
                prose(t.value)
            except ValueError as e:
                issues.append(SpecIssue(t.loc, str(e)))
        if f.kind != "plot":
            continue
        x = scope.ns.symbols.get(f.x.value)
        if x is None:
            issues.append(SpecIssue(f.x.loc, f"'{f.x.value}' is not a declared symbol"))
        exprs = [parse_text(c.y, scope, issues) for c in f.curves]
        if x is not None and all(e is not None for e in exprs):
            parsed[f.label] = [x, *(evaluated(scope.unfold(e)).doit() for e in exprs)]
    return parsed


def make_figure(f: FigureSpec, parsed: dict[str, list[Any]], models: dict, tasks: dict) -> Figure:
    """The figure's data: sampled curves, an MDP, or the values of every policy."""
    text = {"caption": f.caption.value, "xlabel": f.xlabel.value if f.xlabel else "",
            "ylabel": f.ylabel.value if f.ylabel else ""}
    if f.kind == "mdp":
        if f.names[0] not in models:
            raise EngineError(f.loc, f"figure {f.label}: no mdp named '{f.names[0]}' before this figure")
        return Figure(f.label, "mdp", text, (), models[f.names[0]], ())
    if f.kind == "values":
        tables = []
        for name in f.names:
            if not isinstance(tasks.get(name), PolicyTable):
                raise EngineError(f.loc, f"figure {f.label}: no policies block labelled '{name}' before this figure")
            tables.append(tasks[name])
        return Figure(f.label, "values", text, (), tables[0].mdp, tuple(tables))
    x, *exprs = parsed[f.label]
    lo, hi = float(f.lo), float(f.hi)
    xs = tuple(lo + (hi - lo) * i / (SAMPLES - 1) for i in range(SAMPLES))
    curves = []
    for c, e in zip(f.curves, exprs):
        leftover = e.free_symbols - {x}
        if leftover:
            raise EngineError(c.y.loc, f"figure {f.label}: the curve depends on {', '.join(sorted(map(str, leftover)))} "
                                       f"besides {x}; plot an expression of {x} alone")
        ys = tuple(_value(e, x, v, c.y.loc, f.label) for v in xs)
        curves.append((c.label.value if c.label else "", c.dashed, ys))
    return Figure(f.label, "plot", text, (xs, *curves), None, ())


def _value(e: Any, x: Any, v: float, loc: Loc, label: str) -> float:
    """e at x = v as a float; a value that is not real or not finite is an error. An Arb ball
    (x the exact binary value of v) accurate to a double gives its midpoint; anything else
    (a node Arb does not evaluate, no finite real value) is SymPy's evalf, as before."""
    y = _ball_value(e, x, v)
    if y is None:
        y = complex(e.subs(x, v).evalf())
    if abs(y.imag) > 1e-12 or not math.isfinite(y.real) or abs(y.real) > MAX_ABS:
        raise EngineError(loc, f"figure {label}: the curve has no finite real value at {x} = {v:g}")
    return y.real


def _ball_value(e: Any, x: Any, v: float) -> complex | None:
    """e at x = v from an Arb ball at 96 bits when it is accurate to a double, else None."""
    from flint import arb  # the engine layer only: a cached build imports no SymPy

    from derive.balls import NotEnclosed, ball

    try:
        b = ball(e, 96, {x: arb(v)})
    except NotEnclosed:
        return None
    return complex(float(b.mid())) if b.is_exact() or b.rel_accuracy_bits() >= 53 else None
