"""derive.figures and derive.draw: the figure block's schema, its data and its drawing."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from derive.draw import draw_figures
from derive.engine import derive_problem
from derive.errors import EngineError, SpecError
from derive.model import Figure

ROOT = Path(__file__).resolve().parent.parent
HEAD = """\
    id: "t"
    title: "t"
    statement: "s"
    symbols: {x: real, y: real}
    definitions:
      g: {args: [u], body: "u**2"}
    solution:
"""


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(textwrap.dedent(HEAD + body))
    return path


def test_plot_samples_the_unfolded_definition(tmp_path: Path) -> None:
    path = write(tmp_path, """\
      - figure:
          label: parabola
          caption: "The square $g(x)$."
          plot:
            x: x
            from: -1
            to: 2
            curves:
              - {y: "Derivative(g(x), x)", label: "$g'(x)$"}
              - {y: "1", dashed: true}
    """)
    (fig,) = derive_problem("s", path).blocks
    assert isinstance(fig, Figure) and fig.kind == "plot"
    xs, (label, dashed, ys), (_, dashed2, ones) = fig.data
    assert (xs[0], xs[-1], len(xs)) == (-1.0, 2.0, 201)
    assert label == "$g'(x)$" and not dashed and dashed2
    assert ys[0] == -2.0 and ys[-1] == 4.0 and set(ones) == {1.0}


def test_samples_from_balls_agree_with_evalf_and_the_rest_is_evalf(tmp_path: Path) -> None:
    """A curve Arb encloses is sampled from balls; one with a node Arb does not evaluate (Max)
    from evalf; both agree with evalf at every sample to a double's rounding."""
    import sympy as sp

    from derive.figures import _ball_value

    path = write(tmp_path, """\
      - figure:
          label: f
          caption: "c"
          plot: {x: x, from: -3, to: 3, curves: [{y: "exp(x)/(1 + exp(x))"}, {y: "Max(x, 0)"}]}
    """)
    (fig,) = derive_problem("s", path).blocks
    xs, (_, _, sigmoid), (_, _, relu) = fig.data
    u = sp.Symbol("u", real=True)
    assert _ball_value(sp.exp(u) / (1 + sp.exp(u)), u, 0.25) is not None
    assert _ball_value(sp.Max(u, 0), u, 0.25) is None
    assert all(abs(y - float(sp.exp(sp.Float(v)) / (1 + sp.exp(sp.Float(v))))) <= 1e-15 for v, y in zip(xs, sigmoid))
    assert list(relu) == [max(v, 0.0) for v in xs]


def test_every_figure_key_is_checked_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, """\
      - figure:
          label: bad
          caption: "c"
          colour: red
          plot:
            x: z
            from: 2
            to: 1
            curves: [{y: "1"}]
      - figure:
          label: two
          caption: "c"
          mdp: m
          values: [a]
      - figure:
          label: unsafe
          caption: "$\\\\input{x}$"
          mdp: m
      - figure:
          label: empty
          caption: "c"
          plot: {x: x, from: 0, to: 1, curves: []}
    """)
    with pytest.raises(SpecError) as info:
        derive_problem("s", path)
    issues = [str(i).replace(str(path), "p") for i in info.value.issues]
    assert issues == [
        "p:11: solution[0].figure.colour: unknown key; expected one of: caption, label, mdp, plot, values",
        "p:15: solution[0].figure.plot.to: 'to' (1) must be greater than 'from' (2)",
        "p:17: solution[1].figure: a figure has exactly one of: plot, mdp, values",
        "p:29: solution[3].figure.plot.curves: a plot needs at least one curve",
        "p:24: solution[2].figure.caption: control sequence \\input is not allowed in math: '\\\\input{x}'",
    ]


def test_undeclared_variable_and_missing_mdp(tmp_path: Path) -> None:
    path = write(tmp_path, """\
      - figure:
          label: f
          caption: "c"
          plot: {x: z, from: 0, to: 1, curves: [{y: "x"}]}
    """)
    with pytest.raises(SpecError, match=r"p.yaml:11: solution\[0\].figure.plot.x: 'z' is not a declared symbol"):
        derive_problem("s", path)
    path = write(tmp_path, """\
      - figure: {label: f, caption: "c", mdp: nowhere}
    """)
    with pytest.raises(EngineError, match="no mdp named 'nowhere' before this figure"):
        derive_problem("s", path)


def test_curve_of_another_variable_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, """\
      - figure:
          label: f
          caption: "c"
          plot: {x: x, from: 0, to: 1, curves: [{y: "x*y"}]}
    """)
    with pytest.raises(EngineError, match="the curve depends on y besides x"):
        derive_problem("s", path)


def test_shipped_figures_draw_reproducibly() -> None:
    d = derive_problem("assn5", ROOT / "problems/assn5/chain_mdp.yaml")
    first, second = draw_figures(d), draw_figures(d)
    assert sorted(first) == ["chain_mdp-diagram.pdf", "chain_mdp-diagram.svg", "chain_mdp-values.pdf",
                             "chain_mdp-values.svg"]
    assert first == second
    assert first["chain_mdp-diagram.svg"].startswith(b"<?xml") and b"<script" not in first["chain_mdp-diagram.svg"]
