"""derive.mathprint and derive.simplest: golden tests of printing the way a careful author writes."""

from __future__ import annotations

import textwrap
from pathlib import Path

import sympy as sp

from derive import model, ops
from derive.booklet import render_problem
from derive.engine import derive_problem
from derive.mathprint import Printer
from derive.scope import Scope
from derive.simplest import SIMPLIFIED_NOTE, simplest
from derive.verify import Context

x, y, p, z, s, u = sp.symbols("x y p z s u")
mu, beta, t = sp.symbols("mu beta t", positive=True)
q, f = sp.Function("q"), sp.Function("f")
P = Printer(model.Notation())
M = lambda *a: sp.Mul(*a, evaluate=False)  # noqa: E731 - an unevaluated product


def test_partial_for_a_function_of_several_variables() -> None:
    z1, z2 = sp.symbols("z_1 z_2")
    assert P.doprint(sp.Derivative(f(z1, z2), z1)) == r"\frac{\partial}{\partial z_{1}} f\left(z_{1}, z_{2}\right)"


def test_partial_for_a_definition_that_hides_its_variable() -> None:
    h = sp.Function("h")  # h(n) is defined through x and the biases b_k
    assert P.doprint(sp.Derivative(h(sp.Symbol("n")), x)) == r"\frac{\partial}{\partial x} h\left(n\right)"


def test_ordinary_d_for_a_function_of_one_variable() -> None:
    assert P.doprint(sp.Derivative(f(u), u)) == r"\frac{d}{d u} f\left(u\right)"


def test_leading_minus_one_is_a_unary_minus() -> None:
    assert P.doprint(M(-1, 2, x)) == "- 2 x"
    assert P.doprint(M(-1, sp.Rational(1, 2))) == r"- \frac{1}{2}"
    assert P.doprint(M(-1, sp.Add(x, 1))) == r"- \left(1 + x\right)"
    assert P.doprint(M(x, -1)) == r"x \cdot \left(-1\right)"


def test_a_one_between_factors_is_shown_with_dots() -> None:
    assert P.doprint(M(p, 1, x)) == r"p \cdot 1 \cdot x"


def test_a_power_of_a_number_after_a_number_gets_a_dot() -> None:
    power = sp.Pow(11, 2, evaluate=False)  # 3*96*11**2 must never print as 3 96 11^2 (read 9611^2)
    assert P.doprint(M(3, 96, power)) == r"3 \cdot 96 \cdot 11^{2}"
    assert P.doprint(M(x, 96, power)) == r"x \cdot 96 \cdot 11^{2}"


def test_exp_of_one_is_e() -> None:
    assert P.doprint(sp.exp(1, evaluate=False)) == "e"


def test_integral_over_a_number_is_its_coefficient_times_the_integral() -> None:
    integral = sp.Integral(z**2 * q(z), (z, -sp.oo, sp.oo))
    body = r"\int\limits_{-\infty}^{\infty} z^{2} q\left(z\right)\, dz"
    assert P.doprint(integral / 2) == rf"\frac{{1}}{{2}} {body}"
    assert P.doprint(-integral / (2 * s**2)) == rf"- \frac{{1}}{{2 s^{{2}}}} {body}"
    assert P.doprint(ops.Int(q(z), z) / 2) == r"\frac{1}{2} \int q\left(z\right) \, \mathrm{d}z"


def test_evaluated_product_prints_in_author_order() -> None:
    assert P.doprint(sp.log(q(z)) * q(z)) == r"q\left(z\right) \log{\left(q\left(z\right) \right)}"
    assert P.doprint(-sp.log(q(z)) * q(z)) == r"- q\left(z\right) \log{\left(q\left(z\right) \right)}"


def test_author_order_of_an_unevaluated_product_is_kept() -> None:
    assert P.doprint(M(q(x), x)) == r"q\left(x\right) x"  # canonical order is x q(x)


def test_simplest_form_of_a_raw_result() -> None:
    raw = mu * beta**t * (1 - beta) * (1 / beta - beta ** (-1 - t)) / (1 - 1 / beta)
    assert simplest(raw, Context(Scope())) == mu * (1 - beta**t)


def test_simplest_keeps_a_form_that_is_not_much_shorter() -> None:
    raw = sp.diff(1 / (1 + sp.exp(-u)), u)  # simplify would bring in cosh(u/2)
    assert simplest(raw, Context(Scope())) is None


def test_rule_step_without_to_prints_the_simplest_form_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(textwrap.dedent("""\
        id: "t"
        title: "t"
        statement: "s"
        symbols: {mu: positive, beta: positive, t: positive integer, k: positive integer}
        solution:
          - chain:
              label: c
              assume: ["0 < beta", "beta < 1"]
              start: "mu*(1 - beta)*beta**t*Sum(beta**(-k), (k, 1, t))"
              steps:
                - {by: evaluate_sums}
        """))
    d = derive_problem("s", path)
    step = d.blocks[0].steps[0]
    # raw: beta**t*mu*(1 - beta)*(-beta**(-t - 1) + 1/beta)/(1 - 1/beta)
    assert sp.sstr(step.expr) == "mu*(1 - beta**t)"
    assert step.why == "summing (convergence and ranges decided by the assumptions)" + SIMPLIFIED_NOTE
    fragment, _ = render_problem(d)
    assert r"&= \mu \left(1 - \beta^{t}\right) \tag*" in fragment


def test_partial_derivative_of_an_integral_keeps_its_d() -> None:
    mu_, sig = sp.symbols("mu sigma")
    integral = sp.Integral(f(z) * q(z), (z, -sp.oo, sp.oo))
    assert P.doprint(sp.Derivative(integral, mu_)) == \
        r"\frac{\partial}{\partial \mu} \int\limits_{-\infty}^{\infty} f\left(z\right) q\left(z\right)\, dz"
    assert P.doprint(sp.Derivative(f(x, y), x, 2)) == \
        r"\frac{\partial^{2}}{\partial x^{2}} f\left(x, y\right)"


def test_inverse_and_grad_of_matrices() -> None:
    assert P.doprint(ops.inv(x)) == "x^{-1}"
    assert P.doprint(ops.inv(ops.matmul(x, y))) == "\\left(x y\\right)^{-1}"
    assert P.doprint(ops.grad(ops.matmul(ops.T(y), x), x)) == "\\frac{\\partial y^{\\top} x}{\\partial x}"

def test_heaviside_prints_as_h_not_theta() -> None:
    assert P.doprint(2 * x * sp.Heaviside(x)) == r"2 x \operatorname{H}\left(x\right)"
