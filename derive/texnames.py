"""The names the TeX allow-list (derive/texguard.py) lets through: math commands by kind,
environments, delimiters, the Unicode math symbols with their commands, text characters.

Rule: only names listed here reach LaTeX from a spec; each is compiled by
tests/test_hostile.py::test_every_allowed_command_and_character_compiles.
"""

from __future__ import annotations

import re

GREEK = (
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa varkappa lambda mu nu xi pi varpi "
    "rho varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon "
    "Phi Psi Omega digamma"
)
SYMBOLS = (
    "le leq ge geq ne neq ll gg approx sim simeq cong equiv propto prec succ preceq succeq subset supset "
    "subseteq supseteq in ni notin mid nmid parallel perp models vdash dashv to gets mapsto leftarrow rightarrow "
    "Leftarrow Rightarrow leftrightarrow Leftrightarrow longrightarrow longleftarrow Longrightarrow Longleftarrow "
    "longmapsto implies iff uparrow downarrow Uparrow Downarrow nearrow searrow hookrightarrow "
    "pm mp times div cdot cdots ldots dots vdots ddots circ bullet star ast oplus ominus otimes oslash odot wedge vee "
    "cap cup setminus sqcup uplus amalg land lor lnot neg forall exists nexists emptyset varnothing infty nabla "
    "partial prime ell hbar imath jmath Re Im aleph wp top bot angle triangle square blacksquare Box diamond "
    "backslash surd dagger ddagger checkmark colon vert Vert lvert rvert lVert rVert langle rangle lfloor rfloor "
    "lceil rceil lbrace rbrace lbrack rbrack coloneqq eqqcolon doteq triangleq leqslant geqslant lesssim gtrsim "
    "sum prod coprod int iint iiint oint bigcup bigcap bigoplus bigotimes bigvee bigwedge bigsqcup"
)
OPERATORS = (
    "log ln exp lg sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh coth max min sup inf lim liminf "
    "limsup arg det dim ker deg gcd hom Pr"
)
SPACING = "quad qquad enspace thinspace negthinspace"
ONE_ARGUMENT = (
    "mathrm mathbf mathit mathsf mathtt mathbb mathcal mathfrak boldsymbol mathnormal operatorname sqrt "
    "bar hat tilde widetilde widehat vec dot ddot dddot ddddot check breve acute grave overline underline overbrace underbrace "
    "overrightarrow overleftarrow boxed phantom hphantom vphantom mathring"
)
TWO_ARGUMENTS = "frac dfrac tfrac cfrac binom dbinom tbinom overset underset stackrel"
SIZED = "big Big bigg Bigg bigl bigr Bigl Bigr biggl biggr Biggl Biggr bigm Bigm"
TEXT_ARGUMENT = "text textrm textit textbf textsf texttt mbox"
MODIFIERS = "mathrel mathbin mathop mathord mathpunct mathopen mathclose"
STYLES = "displaystyle textstyle scriptstyle scriptscriptstyle"

ARITY: dict[str, int] = {n: 1 for n in (ONE_ARGUMENT + " " + MODIFIERS).split()} | {n: 2 for n in TWO_ARGUMENTS.split()}
TEXT_COMMANDS = frozenset(TEXT_ARGUMENT.split())
SIZED_COMMANDS = frozenset(SIZED.split())
ALLOWED_COMMANDS: frozenset[str] = frozenset(
    " ".join((GREEK, SYMBOLS, OPERATORS, SPACING, ONE_ARGUMENT, TWO_ARGUMENTS, SIZED, TEXT_ARGUMENT, MODIFIERS,
              STYLES, "left right middle begin end limits nolimits substack")).split()
) | frozenset({",", ";", ":", "!", " ", "{", "}", "|", "&", "%", "#", "_", "\\"})
ALLOWED_ENVIRONMENTS: frozenset[str] = frozenset(
    "matrix pmatrix bmatrix Bmatrix vmatrix Vmatrix smallmatrix cases dcases aligned gathered array".split()
)
# Most '&' a row may hold (amsmath: cases two columns, matrix at most MaxMatrixCols = 10, gathered
# one); an environment not listed has no limit, an array as many as its column letters less one.
TABS_PER_ROW: dict[str, int] = {"cases": 1, "dcases": 1, "gathered": 0, "substack": 0} | {
    env: 9 for env in "matrix pmatrix bmatrix Bmatrix vmatrix Vmatrix".split()}
# Commands with arguments that TeX takes unbraced after ^ or _ (x_\text{max}, x^\mathrm{T}).
SCRIPT_UNBRACED = frozenset(
    "frac mathrm mathbf mathit mathsf mathtt mathbb mathcal mathfrak mathnormal text textrm textit textbf textsf "
    "texttt".split()
)
LIMITS_AFTER = frozenset(
    "sum prod coprod int iint iiint oint bigcup bigcap bigoplus bigotimes bigvee bigwedge bigsqcup max min sup inf lim "
    "liminf limsup det gcd Pr operatorname* mathop".split()
)
DELIMITERS = frozenset("( ) [ ] . | / < >".split())
DELIMITER_COMMANDS = frozenset(
    "{ } | lvert rvert lVert rVert vert Vert langle rangle lfloor rfloor lceil rceil lbrace rbrace lbrack rbrack "
    "backslash uparrow downarrow Uparrow Downarrow".split()
)
ARRAY_COLUMNS = re.compile(r"^[lcr|]{1,40}$")
ENVIRONMENT_NAME = re.compile(r"^[A-Za-z]+\*?$")

# Unicode symbols common in statements, printed as the LaTeX command in math (and in text).
UNICODE_MATH: dict[str, str] = {
    "∀": r"\forall", "∃": r"\exists", "∄": r"\nexists", "∈": r"\in", "∉": r"\notin", "∋": r"\ni",
    "≤": r"\le", "≥": r"\ge", "≠": r"\ne", "≈": r"\approx", "≡": r"\equiv", "∼": r"\sim", "≃": r"\simeq",
    "≅": r"\cong", "∝": r"\propto", "≪": r"\ll", "≫": r"\gg", "⊂": r"\subset", "⊃": r"\supset",
    "⊆": r"\subseteq", "⊇": r"\supseteq", "∪": r"\cup", "∩": r"\cap", "∖": r"\setminus", "∅": r"\emptyset",
    "→": r"\to", "←": r"\leftarrow", "↔": r"\leftrightarrow", "⇒": r"\Rightarrow", "⇐": r"\Leftarrow",
    "⇔": r"\Leftrightarrow", "↦": r"\mapsto", "×": r"\times", "÷": r"\div", "±": r"\pm", "∓": r"\mp",
    "·": r"\cdot", "⋅": r"\cdot", "∘": r"\circ", "⊗": r"\otimes", "⊕": r"\oplus", "∧": r"\wedge",
    "∨": r"\vee", "¬": r"\neg", "∞": r"\infty", "∂": r"\partial", "∇": r"\nabla", "∑": r"\sum",
    "∏": r"\prod", "∫": r"\int", "√": r"\surd", "′": r"\prime", "ℓ": r"\ell", "⊤": r"\top", "⊥": r"\bot",
    "⟨": r"\langle", "⟩": r"\rangle", "‖": r"\Vert", "∣": r"\mid", "…": r"\dots", "⋯": r"\cdots",
    "ℝ": r"\mathbb{R}", "ℕ": r"\mathbb{N}", "ℤ": r"\mathbb{Z}", "ℚ": r"\mathbb{Q}", "ℂ": r"\mathbb{C}",
    "𝔼": r"\mathbb{E}", "ℙ": r"\mathbb{P}",
    "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ε": r"\varepsilon", "ϵ": r"\epsilon",
    "ζ": r"\zeta", "η": r"\eta", "θ": r"\theta", "ϑ": r"\vartheta", "ι": r"\iota", "κ": r"\kappa",
    "λ": r"\lambda", "μ": r"\mu", "ν": r"\nu", "ξ": r"\xi", "π": r"\pi", "ρ": r"\rho", "σ": r"\sigma",
    "ς": r"\varsigma", "τ": r"\tau", "υ": r"\upsilon", "φ": r"\varphi", "ϕ": r"\phi", "χ": r"\chi",
    "ψ": r"\psi", "ω": r"\omega", "Γ": r"\Gamma", "Δ": r"\Delta", "Θ": r"\Theta", "Λ": r"\Lambda",
    "Ξ": r"\Xi", "Π": r"\Pi", "Σ": r"\Sigma", "Υ": r"\Upsilon", "Φ": r"\Phi", "Ψ": r"\Psi", "Ω": r"\Omega",
    "²": "^{2}", "³": "^{3}", "¹": "^{1}",
}
# Characters T1 + utf8 typeset in text: Latin letters and common punctuation.
TEXT_CHARACTERS: frozenset[str] = frozenset(
    [chr(c) for c in range(0xC0, 0x100) if chr(c) not in "×÷"]
    + [chr(c) for c in range(0x100, 0x17F) if c not in (0x126, 0x127, 0x138, 0x13F, 0x140, 0x149, 0x166, 0x167)]
    + list("\u00a0¡¢£¥§©«®°»¿–—‘’‚“”„†‡•‰‹›€")
)
