"""Figures (model.Figure) drawn by matplotlib: one drawing, saved as PDF (booklet) and SVG (web).

Rules:
- Text is typeset by matplotlib's mathtext (its own TeX subset; no TeX run) and stored as
  paths in the SVG, so no spec text reaches the page as markup.
- Output is reproducible: no dates in the metadata, a fixed SVG id salt.
- A label mathtext cannot parse raises ValueError naming the figure.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend
from matplotlib.patches import Circle, FancyArrowPatch  # noqa: E402

from derive import model  # noqa: E402

STYLE = {"svg.hashsalt": "derive", "svg.fonttype": "path", "font.size": 9, "mathtext.fontset": "cm",
         "font.family": "serif", "axes.spines.top": False, "axes.spines.right": False}
COLOURS = ("#1f4e9c", "#b03a2e", "#1e8449", "#7d3c98")
WIDTH = 5.2  # inches


def draw(fig: model.Figure, stem: str) -> dict[str, bytes]:
    """`{stem}.pdf` and `{stem}.svg` of figure `fig`."""
    with plt.rc_context(STYLE):
        figure = {"plot": _plot, "mdp": _mdp, "values": _values}[fig.kind](fig)
        out = {}
        try:
            for ext, meta in (("pdf", {"CreationDate": None, "Producer": None}), ("svg", {"Date": None})):
                buf = io.BytesIO()
                figure.savefig(buf, format=ext, metadata=meta, bbox_inches="tight")
                out[f"{stem}.{ext}"] = buf.getvalue()
        except ValueError as e:
            raise ValueError(f"figure {fig.label}: {e}") from None
        finally:
            plt.close(figure)
    return out


def _plot(fig: model.Figure):
    """Curves sampled from the problem's expressions."""
    xs, *curves = fig.data
    figure, ax = plt.subplots(figsize=(WIDTH, 2.6))
    for i, (label, dashed, ys) in enumerate(curves):
        ax.plot(xs, ys, linestyle="--" if dashed else "-", color=COLOURS[i % len(COLOURS)], linewidth=1.4,
                label=label or None)
    ax.set_xlim(xs[0], xs[-1])
    ax.set_xlabel(fig.text["xlabel"])
    ax.set_ylabel(fig.text["ylabel"])
    ax.grid(alpha=0.25)
    if any(label for label, _, _ in curves):
        ax.legend(frameon=False)
    return figure


def _mdp(fig: model.Figure):
    """States in a row; an arrow per state and action to each next state, labelled with the
    action, its reward when not 0 and its probability when below 1. Moves to the right arc
    above the row, moves to the left below it; moves between the same two states on the same
    side arc ever higher."""
    m = fig.mdp
    index = {s: i for i, s in enumerate(m.states)}
    figure, ax = plt.subplots(figsize=(WIDTH, 2.2))
    for s, i in index.items():
        ax.add_patch(Circle((2.0 * i, 0), 0.42, fill=False, linewidth=1.3))
        ax.text(2.0 * i, 0, f"${s}$", ha="center", va="center", fontsize=12)
    seen: dict[tuple[int, int, int], int] = {}
    top = 1.0
    for k, a in enumerate(m.actions):
        for s in m.states:
            for s2, p in m.transitions[s, a]:
                i, j = index[s], index[s2]
                side = 1 if j >= i else -1
                slot = seen[min(i, j), max(i, j), side] = seen.get((min(i, j), max(i, j), side), -1) + 1
                label = f"${a}$" + (f", $r={m.reward(s, a)}$" if m.reward(s, a) else "") + (f" ({p})" if p != 1 else "")
                top = max(top, _arrow(ax, i, j, side, slot, label, COLOURS[k % len(COLOURS)], bool(m.reward(s, a))))
    ax.set_xlim(-1, 2.0 * len(m.states) - 1)
    ax.set_ylim(-top - 0.3, top + 0.3)
    ax.set_aspect("equal")
    ax.axis("off")
    return figure


def _arrow(ax, i: int, j: int, side: int, slot: int, label: str, colour: str, bold: bool) -> float:
    """An arc from state i to state j on `side` (1 above, -1 below), the `slot`-th on that pair
    and side (higher each time), or a loop when i == j; returns the height its label needs."""
    x1, x2 = 2.0 * i, 2.0 * j
    if i == j:
        start, end, height = (x1 - 0.3, 0.3), (x1 + 0.3, 0.3), 1.1 + 0.4 * slot
        ax.add_patch(FancyArrowPatch(start, end, connectionstyle=f"arc3,rad={1.8 + 0.4 * slot}", arrowstyle="-|>",
                                     mutation_scale=10, color=colour))
        ax.text(x1, height, label, ha="center", va="center", color=colour, fontsize=8)
        return height + 0.2
    span = abs(x2 - x1)
    rad = 0.3 + 0.45 * slot + (0.1 if span > 2 else 0)
    dx = 0.3 if x2 > x1 else -0.3
    ax.add_patch(FancyArrowPatch((x1 + dx, 0.3 * side), (x2 - dx, 0.3 * side),
                                 connectionstyle=f"arc3,rad={rad if x2 < x1 else -rad}" if side == 1 else
                                 f"arc3,rad={-rad if x2 < x1 else rad}", arrowstyle="-|>", mutation_scale=10,
                                 color=colour, linewidth=1.6 if bold else 1.0))
    height = 0.3 + (span - 0.6) * rad / 2 + 0.18
    ax.text((x1 + x2) / 2, side * height, label, ha="center", va="center", color=colour, fontsize=8,
            fontweight="bold" if bold else "normal")
    return height + 0.2


def _values(fig: model.Figure):
    """Per table (one discount), the value of every policy in every state; the optimal
    policy drawn bold, the others thin."""
    tables = fig.tables
    figure, axes = plt.subplots(1, len(tables), figsize=(WIDTH, 2.6), squeeze=False)
    for ax, t in zip(axes[0], tables):
        states = range(len(t.mdp.states))
        for row in t.rows:
            values = [float(v) for v in row.values]
            if row.optimal:
                ax.plot(states, values, color=COLOURS[1], linewidth=2.2, marker="o", markersize=3, zorder=3,
                        label=r"optimal $\pi_*$")
            else:
                ax.plot(states, values, color="#888888", linewidth=0.7, alpha=0.7)
        ax.set_xticks(list(states), [f"${s}$" for s in t.mdp.states])
        ax.set_xlabel(r"state $s$")
        ax.set_title(rf"$\gamma = {float(t.gamma):g}$", fontsize=9)
        ax.grid(alpha=0.25)
    axes[0][0].set_ylabel(fig.text["ylabel"] or r"$v_\pi(s)$")
    axes[0][0].legend(frameon=False, fontsize=8)
    return figure


def figure_file(d: model.Derivation, fig: model.Figure) -> str:
    """The file stem of a figure inside the build's `figures/` folder."""
    return f"{d.stem}-{fig.label}"


def draw_figures(d: model.Derivation) -> dict[str, bytes]:
    """Every figure of problem `d` as `{file name: bytes}` (PDF and SVG)."""
    out: dict[str, bytes] = {}
    for block in d.blocks:
        if isinstance(block, model.Figure):
            out.update(draw(block, figure_file(d, block)))
    return out
