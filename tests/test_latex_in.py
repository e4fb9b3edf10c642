"""The LaTeX translator: student formulas into the spec language, by allow-list."""

from __future__ import annotations

import pytest

from derive.latex_in import translate
from derive.latex_tokens import Ident, LatexError, Resolved, tokenize

NAMES = {"x": Resolved("x"), "u": Resolved("u"), "n": Resolved("n"), "k": Resolved("k"), "s": Resolved("s"),
         "x_1": Resolved("x1"), "s'": Resolved("s2"), "gamma": Resolved("gamma"), "sigma": Resolved("sigma", 1),
         "h": Resolved("h", 1, subscript=True), "b": Resolved("b", indexed=True), "p": Resolved("p", 2),
         "bar(x)": Resolved("xbar"), "z": Resolved("z", space=True), "q": Resolved("q", 1),
         "W": Resolved("W", matrix=True), "y": Resolved("y", matrix=True), "X": Resolved("X", 1, True, matrix=True),
         "T": Resolved("T")}


def resolve(ident: Ident) -> Resolved | None:
    for key in (ident.key(), Ident(ident.base, ident.decoration).key()):
        if key in NAMES and (key == ident.key() or NAMES[key].arity or NAMES[key].indexed):
            return NAMES[key]
    return None


def terms(text: str) -> list[str]:
    return translate(text, resolve).terms


@pytest.mark.parametrize("tex, spec", [
    (r"\frac{1}{4}", "(((1))/((4)))"),
    (r"\frac12", "(((1))/((2)))"),
    (r"2x", "(2*x)"),
    (r"x^{2} + \gamma", "(x**2 + gamma)"),
    (r"\sqrt{x}", "(sqrt((x)))"),
    (r"\left| x \right|", "(Abs((x)))"),
    (r"\sigma(u)\,(1-\sigma(u))", "(sigma((u))*(1 - sigma((u))))"),
    (r"\sigma'(u)", "(Derivative(sigma((u)), u))"),
    (r"\tanh'(u)", "(Derivative(tanh((u)), u))"),
    (r"h_{k-1} + b_k", "(h((k - 1)) + b[(k)])"),
    (r"x_1 + s' + \bar{x}", "(x1 + s2 + xbar)"),
    (r"p(x \mid u)", "(p((x), (u)))"),
    (r"\frac{\partial h_n}{\partial x}", "(Derivative((h((n))), x))"),
    (r"\frac{d}{du} \sigma(u)", "(Derivative(sigma((u)), u))"),
    (r"\frac{\mathrm{d}^2 x}{\mathrm{d} u^2}", "(Derivative((x), (u, 2)))"),
    (r"\sum_{k=1}^{n} b_k", "(Sum(b[(k)], (k, (1), (n))))"),
    (r"\prod_{k=1}^{n} \sigma(b_k)", "(Product(sigma((b[(k)])), (k, (1), (n))))"),
    (r"\int_0^1 x^2 \, dx", "(Integral(x**2, (x, (0), (1))))"),
    (r"\int x \, \mathrm{d}u", "(Integral(x, (u, -oo, oo)))"),
    (r"\int x \, dz", "(Int(x, z))"),
    (r"\sum_{z} x", "(Int(x, z))"),
    (r"\mathbb{E}_{z \sim q}[x]", "(Int((q(z))*((x)), z))"),
    (r"\mathbb{E}_{z \sim p(z \mid x)}[x]", "(Int(((p((z), (x))))*((x)), z))"),
    (r"\mathbb{E}_{u \sim q}[x]", "(Integral((q(u))*((x)), (u, -oo, oo)))"),
    (r"\exp(-u) \cdot \log x", "(exp((-u))*log(x))"),
    (r"\mathbb{E}[x]", "(E((x)))"),
    (r"\operatorname{tanh}(u)", "(tanh((u)))"),
    (r"\underbrace{x + 1}_{\text{shift}}", "((x + 1))"),
    (r"W y", "(matmul(W, y))"),
    (r"2 W y", "(matmul(2*W, y))"),
    (r"y^T W y", "(matmul(matmul(T(y), W), y))"),
    (r"y^{\top} y + x^T", "(matmul(T(y), y) + x**T)"),
    (r"\tanh(W y)", "(tanh((matmul(W, y))))"),
    (r"\operatorname{diag}(1 - y^2) W", "(matmul(diag((1 - y**2)), W))"),
    (r"\sigma_{\max}(W)", "(sigma_max((W)))"),
    (r"\frac{\partial X_{n+1}}{\partial y}", "(jacobian((X((n + 1))), y))"),
    (r"\prod_{k=1}^{n} W", "(MatProduct(W, (k, (1), (n))))"),
])
def test_formulas_translate(tex: str, spec: str) -> None:
    assert terms(tex) == [spec]


def test_relations_chains_boxes_and_decimals() -> None:
    f = translate(r"x \le \boxed{0.25} < 1", resolve)
    assert f.rels == ["<=", "<"] and f.decimals == ["0.25"] and f.boxed == ["((0.25))"]
    assert f.sources == ["x", r"\boxed{0.25}", "1"]
    g = translate(r"= \frac{1}{2} \approx 0.5", resolve, continues=True)
    assert g.rels == ["=", "~"] and g.terms == ["(((1))/((2)))", "((0.5))"]


@pytest.mark.parametrize("tex, message", [
    (r"\input{/etc/passwd}", r"unknown command \input"),
    (r"\write18{rm -rf /}", r"unknown command \write"),
    (r"\csname x\endcsname", r"unknown command \csname"),
    (r"\def\x{1}", r"unknown command \def"),
    (r"__import__('os')", "unexpected _"),
    (r"\operatorname{__import__}(x)", "cannot map the name rm(__import__)"),
    (r"v + 1", "cannot map the name v"),
    (r"\frac{1}{", "expected more but found the end"),
    (r"(x + 1", "expected ) but found the end"),
    (r"\sigma + 1", "sigma is a function: write its arguments"),
    (r"\sum_k b_k", "a sum over k needs limits _{k=1}^{n} or a finite space"),
    (r"\sum b_k", r"\sum needs limits"),
    (r"\mathbb{E}_{q}[x]", "an expectation's subscript is written v \\sim D"),
    (r"x" * 5000, "longer than 4000"),
])
def test_what_cannot_be_read_is_refused_with_the_reason(tex: str, message: str) -> None:
    with pytest.raises(LatexError) as info:
        translate(tex, resolve)
    assert message in str(info.value)


def test_spacing_and_sizing_commands_are_dropped() -> None:
    assert tokenize(r"\left( x \right)\,\quad \big( y \big)") == ["(", "x", ")", "(", "y", ")"]
