"""The `figure:` solution block: its schema (spec layer), its plan and its data (engine layer).

Rules:
- A figure is drawn from the problem's own objects, never pasted: a `plot` samples
  expressions in the problem's scope with every definition unfolded and every derivative
  carried out; an `mdp` figure is the diagram of an earlier `mdp` block (moves and rewards);
  a `values` figure shows the exact value of every policy of earlier `policies` blocks.
- Every key takes effect or is an error naming file, line and key; captions, labels and
  curve names are prose/math checked like all spec text.
- The data handed to the renderer is plain numbers (model.Figure); drawing is derive.draw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


from derive.errors import EngineError, Loc, SpecIssue
from derive.model import Figure, PolicyTable
from derive.spec import Text, _exact, _flag, _join, _Reader

FIGURE_KINDS = ("plot", "mdp", "values")
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


def figure_block(r: _Reader, value: Any, loc: Loc) -> FigureSpec | None:
    """Read a `figure` block (see docs/spec.md); issues go to `r`."""
    node = r.mapping(value, loc, {"label", "caption", *FIGURE_KINDS}, {"label", "caption"})
    if node is None:
        return None
    label = r.name(node.get("label"), r.loc(node, "label", _join(loc.key, "label")), "figure label") \
        if "label" in node else None
    caption = r.string(node, "caption", loc.key, required=True)
    kinds = [k for k in FIGURE_KINDS if k in node]
    if len(kinds) != 1:
        r.issue(loc, f"a figure has exactly one of: {', '.join(FIGURE_KINDS)}")
        return None
    kind = kinds[0]
    kloc = r.loc(node, kind, _join(loc.key, kind))
    if label is None or caption is None:
        return None
    if kind == "mdp":
        name = r.name(node["mdp"], kloc, "mdp")
        return FigureSpec(label, caption, kind, loc, names=(name,)) if name else None
    if kind == "values":
        items = node["values"] if isinstance(node["values"], list) else [node["values"]]
        names = [r.name(v, kloc, "policies label") for v in items]
        return FigureSpec(label, caption, kind, loc, names=tuple(names)) if all(names) and names else None
    return _plot(r, node["plot"], kloc, label, caption, loc)


def _plot(r: _Reader, value: Any, loc: Loc, label: str, caption: Text, floc: Loc) -> FigureSpec | None:
    """`plot: {x, from, to, xlabel, ylabel, curves: [{y, label, dashed}]}`."""
    p = r.mapping(value, loc, {"x", "from", "to", "xlabel", "ylabel", "curves"}, {"x", "from", "to", "curves"})
    if p is None:
        return None
    x = r.string(p, "x", loc.key, required=True)
    lo, hi = (_exact(r, p[k], r.loc(p, k, _join(loc.key, k)), k) if k in p else None for k in ("from", "to"))
    if lo is not None and hi is not None and not lo < hi:
        r.issue(r.loc(p, "to", _join(loc.key, "to")), f"'to' ({hi}) must be greater than 'from' ({lo})")
        return None
    curves = []
    for item, iloc in r.sequence(p, "curves", loc.key):
        c = r.mapping(item, iloc, {"y", "label", "dashed"}, {"y"})
        if c is not None and (y := r.string(c, "y", iloc.key, required=True)):
            curves.append(CurveSpec(y, r.string(c, "label", iloc.key), _flag(r, c, "dashed", iloc.key)))
    if "curves" in p and not curves:
        r.issue(r.loc(p, "curves", _join(loc.key, "curves")), "a plot needs at least one curve")
    if x is None or lo is None or hi is None or not curves:
        return None
    return FigureSpec(label, caption, "plot", floc, x, lo, hi, r.string(p, "xlabel", loc.key),
                      r.string(p, "ylabel", loc.key), tuple(curves))


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
    """e at x = v as a float; a value that is not real or not finite is an error."""
    y = complex(e.subs(x, v).evalf())
    if abs(y.imag) > 1e-12 or not math.isfinite(y.real) or abs(y.real) > MAX_ABS:
        raise EngineError(loc, f"figure {label}: the curve has no finite real value at {x} = {v:g}")
    return y.real
