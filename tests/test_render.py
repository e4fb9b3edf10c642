"""derive.render, derive.mathprint, derive.booklet: prose escaping and checks, the printer, problem
fragments and the booklet."""

from __future__ import annotations

import jinja2
import pytest
import sympy as sp

from derive import model, ops
from derive.errors import Loc
from derive.booklet import ENV, chapter_starts, question, render_booklet, render_problem, render_questions
from derive.mathprint import Printer, latex
from derive.render import check_math, prose

a, s, s2, x, y, n, c = sp.symbols("a s s2 x y n c")
A, B = sp.symbols("A B")
f, pi, P, Q = (sp.Function(k) for k in ("f", "pi", "P", "Q"))
RL = model.Notation(function_latex={"pi": r"\pi"}, given={"pi": 1, "P": 2})
PLAIN = model.Notation()


def square() -> sp.Expr:
    """1/4 - (s - 1/2)**2, unevaluated."""
    inner = sp.Add(s, -sp.Rational(1, 2), evaluate=False)
    return sp.Add(sp.Rational(1, 4), sp.Mul(-1, sp.Pow(inner, 2, evaluate=False), evaluate=False), evaluate=False)


# --- Printer -------------------------------------------------------------------------------


def test_symbols_default_and_override():
    assert latex(sp.Symbol("mu_q"), PLAIN) == r"\mu_{q}"
    assert latex(s2, model.Notation(symbol_latex={"s2": "s'"})) == "s'"
    assert latex(s2, PLAIN) == r"s_{2}"


def test_conditional_functions():
    assert latex(pi(a, s), RL) == r"\pi\left(a \mid s\right)"
    assert latex(P(s2, s, a), RL) == r"P\left(s_{2} \mid s, a\right)"
    assert latex(f(x, y), RL) == r"f\left(x, y\right)"
    assert latex(pi(a, s) ** 2, RL) == r"\pi\left(a \mid s\right)^{2}"


def test_function_latex_override():
    assert latex(f(x), model.Notation(function_latex={"f": r"\hat{f}"})) == r"\hat{f}\left(x\right)"


def test_given_must_leave_an_argument():
    with pytest.raises(ValueError, match="given"):
        latex(pi(s), RL)


@pytest.mark.parametrize(
    ("expr", "tex"),
    [
        (ops.Int(f(x), x), r"\int f\left(x\right) \, \mathrm{d}x"),
        (ops.Int(sp.Add(x, 1, evaluate=False), x), r"\int \left(x + 1\right) \, \mathrm{d}x"),
        (ops.Int(ops.Int(f(x, y), y), x), r"\int \int f\left(x, y\right) \, \mathrm{d}y \, \mathrm{d}x"),
        (ops.E(x), r"\mathbb{E}\left[x\right]"),
        (ops.Var(x), r"\operatorname{Var}\left[x\right]"),
        (ops.MaxOver(Q(s, a), a), r"\max_{a} Q\left(s, a\right)"),
        (ops.MaxOver(sp.Add(Q(s, a), 1, evaluate=False), a), r"\max_{a} \left(Q\left(s, a\right) + 1\right)"),
        (ops.ArgMaxOver(Q(s, a), a), r"\operatorname*{arg\,max}_{a} Q\left(s, a\right)"),
        (ops.MaxOver(Q(s, a), s, a), r"\max_{s, a} Q\left(s, a\right)"),
        (ops.MaxOver(sp.Abs(Q(s, a)), s, a), r"\left\| Q \right\|_\infty"),
        (ops.MaxOver(sp.Abs(sp.Add(Q(s, a), sp.Mul(-1, f(s, a), evaluate=False), evaluate=False)), s, a),
         r"\left\| Q - f \right\|_\infty"),
        (ops.MaxOver(sp.Abs(s * Q(s, a)), s, a), r"\max_{s, a} \left|{s Q\left(s, a\right)}\right|"),
        (sp.Mul(ops.MaxOver(sp.Abs(Q(s, a)), s, a), y, evaluate=False), r"\left\| Q \right\|_\infty y"),
        (ops.Theta(n**2, n), r"\Theta\left(n^{2}\right)"),
        (ops.cost(ops.matmul(A, B)), r"\operatorname{cost}\left(A B\right)"),
        (ops.matmul(sp.Add(A, B, evaluate=False), B), r"\left(A + B\right) B"),
        (ops.matmul(ops.matmul(A, B), A), r"A B A"),
        (ops.matmul(A, ops.matmul(B, A)), r"A \left(B A\right)"),
        (ops.min_cost(ops.matmul(A, B)), r"\min_{\text{order}} \operatorname{cost}\left(A B\right)"),
        (ops.T(A), r"A^{\top}"),
        (ops.T(ops.matmul(A, B)), r"\left(A B\right)^{\top}"),
        (ops.scale(A, c), r"c\, A"),
        (ops.softmax_rows(A), r"\operatorname{softmax}\left(A\right)"),
        (ops.sg(sp.Add(x, -y, evaluate=False)), r"\operatorname{sg}\left(x - y\right)"),
        (ops.E(x) ** 2, r"\mathbb{E}\left[x\right]^{2}"),
        (ops.Int(x, x) ** 2, r"\left(\int x \, \mathrm{d}x\right)^{2}"),
        (sp.Mul(ops.MaxOver(x, a), y, evaluate=False), r"\left(\max_{a} x\right) y"),
        (sp.Derivative(f(x), x), r"\frac{d}{d x} f\left(x\right)"),
        (sp.Abs(x), r"\left|{x}\right|"),
        (ops.sigma_max(A), r"\sigma_{\max}\left(A\right)"),
        (ops.diag(x), r"\operatorname{diag}\left(x\right)"),
        (ops.jacobian(f(x), y), r"\frac{\partial f\left(x\right)}{\partial y}"),
        (ops.MatProduct(ops.matmul(A, B), sp.Tuple(n, 1, c)), r"\prod_{n=c}^{1} A B"),
    ],
)
def test_operators(expr, tex):
    assert latex(expr, PLAIN) == tex


def test_term_order_is_kept():
    assert latex(square(), PLAIN) == r"\frac{1}{4} - \left(s - \frac{1}{2}\right)^{2}"


def test_long_sum_breaks_into_lines():
    terms = [sp.Mul(k, f(x), ops.Int(P(s2, s, a) * f(s2), s2), evaluate=False) for k in range(2, 9)]
    lines = Printer(RL).lines(sp.Add(*terms, evaluate=False))
    assert len(lines) > 1
    assert all(line.startswith("+ ") for line in lines[1:])
    assert " ".join(lines) == latex(sp.Add(*terms, evaluate=False), RL)
    assert Printer(RL).lines(x + 1) == [latex(x + 1, RL)]


def test_unsafe_notation_is_rejected():
    with pytest.raises(ValueError, match=r"symbol 'x'.*\\input"):
        Printer(model.Notation(symbol_latex={"x": r"\input{/etc/passwd}"}))


# --- prose and check_math --------------------------------------------------------------------


def test_prose_escapes_text_and_keeps_math():
    assert prose("50% & $x_1$ #") == r"50\% \& $x_1$ \#"
    assert prose("a\\b{c}^_~<>|") == (
        r"a\textbackslash{}b\{c\}\textasciicircum{}\_\textasciitilde{}\textless{}\textgreater{}\textbar{}"
    )
    assert prose(r"let $\frac{a}{b} \le \sqrt{2}$ hold") == r"let $\frac{a}{b} \le \sqrt{2}$ hold"


def test_prose_rejects_forbidden_math():
    with pytest.raises(ValueError, match=r"\\input"):
        prose(r"see $\input{/etc/passwd}$")


def test_prose_display_math():
    assert prose("so $a$ is $$x^2 \\le 1$$ then $b$.") == r"so $a$ is \[x^2 \le 1\] then $b$."
    with pytest.raises(ValueError, match=r"\\write"):
        prose(r"$$\write18{x}$$")


@pytest.mark.parametrize("text", ["costs $5", "$a$ and $b", "empty $$ math", "empty $$ $$ display", "$ $"])
def test_prose_rejects_bad_dollars(text):
    with pytest.raises(ValueError, match=r"'\$'|\$\$|empty math"):
        prose(text)


NOT_ALLOWED = ("input include openin openout read write immediate catcode def edef gdef xdef let csname newcommand "
               "renewcommand usepackage special directlua expandafter href url pdfobj pdfximage pdfliteral "
               "pdfcatalog pdfstartlink global everypar inputvalue scantokens").split()


@pytest.mark.parametrize("name", NOT_ALLOWED)
def test_check_math_rejects_each_forbidden_sequence(name):
    with pytest.raises(ValueError, match="not allowed"):
        check_math(f"x + \\{name}{{y}}")


@pytest.mark.parametrize(
    "tex",
    ["^^5cinput{/etc/passwd}", "x % comment", "#1", "a$b", "{x", "x}", r"\begin{filecontents}{a.tex}"],
)
def test_check_math_rejects_tricks(tex):
    with pytest.raises(ValueError):
        check_math(tex)


def test_check_math_accepts_ordinary_math():
    tex = r"\left\{ x \in \mathbb{R} : x \ge 0 \right\} \begin{aligned} a &= b \\ c \end{aligned} \% 100"
    assert check_math(tex) == tex


# --- render_problem and render_booklet -------------------------------------------------------


def step(rel, expr, why, method, line) -> model.Step:
    return model.Step(rel, expr, f"rule{line}", why, Loc("p1.yaml", line, "solution"),
                      model.Verdict(method, f"detail {line}"))


def derivation(*, points: float | None = 0.25, statement: str = "Bound $s(1-s)$ for $0 < s < 1$.",
               steps: tuple[model.Step, ...] | None = None) -> model.Derivation:
    if steps is None:
        steps = (
            step("=", square(), "complete the square", "symbolic", 7),
            step("<=", sp.Rational(1, 4), "a square is $\\ge 0$", "instance", 9),
        )
    chain = model.Chain("bound", s * (1 - s), steps, assume=(sp.Lt(0, s), sp.Lt(s, 1)))
    return model.Derivation(
        set_name="hw4", stem="p1", id="p1", title="Quadratic bound", points=points,
        statement=statement,
        blocks=(model.Say("First we complete the square: 100% safe."), chain, model.Answer(chain, "So $s(1-s)$ is small.")),
        notation=PLAIN,
    )


def test_render_problem_fragment_and_records():
    fragment, records = render_problem(derivation())
    assert records == [
        {"problem": "p1", "title": "Quadratic bound", "chain": "bound", "step": 1, "relation": "=",
         "rule": "rule7", "why": "complete the square", "method": "symbolic", "detail": "detail 7",
         "file": "p1.yaml", "line": 7},
        {"problem": "p1", "title": "Quadratic bound", "chain": "bound", "step": 2, "relation": "<=",
         "rule": "rule9", "why": "a square is $\\ge 0$", "method": "instance", "detail": "detail 9",
         "file": "p1.yaml", "line": 9},
    ]
    expected = [
        r"\section*{p1\quad Quadratic bound\hfill{\normalsize\normalfont[0.25 pt]}}",
        r"\textsf{\bfseries Problem.}\enspace Bound $s(1-s)$ for $0 < s < 1$.",
        "First we complete the square: 100\\% safe.",
        "Assume: $0 < s < 1$.",
        "\\begin{align*}\n" r"s \left(1 - s\right)",
        "\n" r" &= \frac{1}{4} - \left(s - \frac{1}{2}\right)^{2} "
        r"\tag*{\stepnote{complete the square}{\textsf{\scriptsize[sym]}}}",
        r"\\ &\le \frac{1}{4} \tag*{\stepnote{a square is $\ge 0$}{\textsf{\scriptsize[inst]}}}",
        r"\boxed{s \left(1 - s\right) \le \frac{1}{4}}",
        "So $s(1-s)$ is small.",
    ]
    for piece in expected:
        assert piece in fragment
    assert fragment.index(expected[2]) < fragment.index(expected[4]) < fragment.index(expected[7])


def test_render_problem_without_points():
    fragment, _ = render_problem(derivation(points=None))
    assert r"\section*{p1\quad Quadratic bound}" in fragment


def test_unverified_step_is_an_error():
    unverified = model.Step("=", s, "r", "why", Loc("p1.yaml", 3, "solution"))
    with pytest.raises(ValueError, match="p1.yaml:3: solution: step 1 of chain 'bound' was never verified"):
        render_problem(derivation(steps=(unverified,)))


def test_unsafe_statement_names_the_problem():
    with pytest.raises(ValueError, match=r"p1: statement: .*\\write"):
        render_problem(derivation(statement=r"$\write18{rm -rf /}$"))


def test_templates_are_strict():
    with pytest.raises(jinja2.UndefinedError):
        ENV.get_template("problem.tex.j2").render(heading="p1", title="t", points="", statement="s")


def test_render_booklet():
    fragment, records = render_problem(derivation())
    tex = render_booklet("Homework 4", "CS 101 & more", "hw4", [fragment], records, [])
    assert r"{\Huge\bfseries Homework 4\par}" in tex
    assert r"{\Large CS 101 \& more\par}" in tex
    assert "Every step was checked by the derive engine: 2 steps in 1 problem " \
           "(1 symbolic, 1 exact instance, 0 numeric)." in tex
    assert r"p1 & 2 & 1 & 1 & 0 & all pass \\" in tex
    assert r"Total & 2 & 1 & 1 & 0 & \\" in tex
    assert fragment in tex
    assert "Partial booklet" not in tex
    assert tex.index(r"\section*{How to read this booklet}") < tex.index(fragment)


def test_partial_booklet_lists_failed_problems():
    tex = render_booklet("T", "C", "hw4", [], [], ["p_2", "p3"])
    assert r"These problems failed and are not included: p\_2, p3." in tex
    assert "0 steps in 0 problems" in tex


def test_chapter_headings_stand_before_the_first_problem_of_each_chapter():
    assert chapter_starts(["A", "A", "B", "", "B"]) == ["A", "", "B", "", "B"]
    fragment, records = render_problem(derivation())
    tex = render_booklet("T", "C", "s", [fragment, fragment], records, [], chapters=["Deep $f$", "Deep $f$"])
    heading = "\\part*{Deep $f$}\n\\addcontentsline{toc}{section}{Deep $f$}\n"
    assert tex.count(heading) == 1 and tex.index(heading) < tex.index(fragment)
    sheet = render_questions("T", "C", "s", [question(derivation())], [], chapters=["Deep $f$"])
    assert sheet.count(heading) == 1
    assert "\\part*" not in render_booklet("T", "C", "s", [fragment], records, [])


def test_printed_names_are_checked():
    with pytest.raises(ValueError, match=r"\\input"):
        latex(sp.Symbol(r"\input{/etc/passwd}"), PLAIN)


def test_question_is_the_problem_without_its_solution():
    d = derivation()
    assert question(d) == {"heading": "p1", "title": "Quadratic bound", "points": "0.25 pt",
                           "statement": "Bound $s(1-s)$ for $0 < s < 1$."}
    tex = render_questions("Homework 4", "CS 101 & more", "hw4", [question(d)], [])
    assert r"{\LARGE\bfseries Homework 4\par}" in tex and r"{\Large Questions\par}" in tex
    assert r"\section*{p1\quad Quadratic bound\hfill{\normalsize\normalfont[0.25 pt]}}" + "\n" \
        "Bound $s(1-s)$ for $0 < s < 1$." in tex
    assert "Solution" not in tex and "Partial" not in tex and r"\boxed" not in tex


def test_partial_question_sheet_lists_failed_problems():
    tex = render_questions("T", "C", "hw4", [], ["p_2"])
    assert r"\textbf{Partial question sheet.} These problems failed to build and are not included: p\_2." in tex


# --- finite MDPs ---------------------------------------------------------------------------
def test_exact_and_decimal_numbers():
    from derive.mdp_tex import decimal_tex, exact_tex
    assert exact_tex(sp.Rational(100, 99)) == r"\frac{100}{99}"
    assert exact_tex(sp.Rational(-3, 4)) == r"-\frac{3}{4}" and exact_tex(sp.Integer(3)) == "3"
    assert decimal_tex(sp.Rational(100, 99)) == "1.0101"
    assert decimal_tex(sp.Rational(1, 8), 2) == "0.13" and decimal_tex(sp.Rational(-1, 8), 2) == "-0.13"
    assert decimal_tex(sp.Rational(-1, 100000)) == "0.0000" and decimal_tex(sp.Integer(3)) == "3.0000"


def test_mdp_problem_fragment_records_and_citations():
    from pathlib import Path

    from derive.engine import derive_problem
    root = Path(__file__).resolve().parent.parent
    fragment, records = render_problem(derive_problem("assn5", root / "problems/assn5/chain_mdp.yaml"))
    assert len(records) == 2 * (16 + 4) + 4 + 4 + 1
    assert [r["step"] for r in records[16:20]] == ["v*(-1)", "v*(0)", "v*(1)", "v*(2)"]
    assert records[0]["step"] == "policy(+,+,+,+)" and records[0]["rule"] == "evaluate_policy"
    assert records[-1]["rule"] == "greedy_step" and records[-1]["step"] == "q(0,+)"
    assert {r["method"] for r in records} == {"symbolic"}
    for piece in (
        r"$\star$ & $\mathrm{-}$ & $\mathrm{-}$ & $\mathrm{+}$ & $\mathrm{+}$ & $\mathbf{1.0101}$",
        r"\mathrm{0} & \mathrm{-} & \frac{10}{99} & 0.1010 & \text{\textsf{\scriptsize[sym]}}",
        r"$q_*(0, -) = \frac{10}{99} \approx 0.1010$",
        r"\mathrm{0} & \mathrm{-} & \frac{9900}{199} & 49.7487 & \frac{2940300}{29701} & 98.9967 & "
        r"\frac{291079800}{5910499} & 49.2479",
        r"$\mathrm{-1}$ & $\mathrm{0},\ 0$ & $\mathrm{0},\ 1$ \\",
    ):
        assert piece in fragment, piece
    assert "@{a." not in fragment and "@{c." not in fragment


def test_long_chain_start_stands_on_its_own_line():
    """A start wider than INLINE_START glyphs is set with \\MoveEqLeft and the first step below."""
    long_start = sum(sp.Symbol(f"x{i}") for i in range(1, 6))
    chain = model.Chain("c", long_start, (step("=", sp.Integer(0), "why", "symbolic", 3),))
    d = derivation()
    fragment, _ = render_problem(model.Derivation(
        set_name="hw4", stem="p1", id="p1", title="T", points=None, statement="S", blocks=(chain,),
        notation=d.notation))
    assert "\\MoveEqLeft x_{1} + x_{2} + x_{3} + x_{4} + x_{5}\n\\\\* &= 0 " in fragment
