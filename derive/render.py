"""Spec text as LaTeX, safely: plain text escaped, math checked by an allow-list.

Rules:
- Spec text reaches LaTeX only through `prose`: plain text is escaped, `$...$` math passes
  through `texguard.check_math`, an allow-list of the commands and environments math needs;
  Unicode math symbols print as their commands.
- Expressions print through derive.mathprint; problems and booklets are laid out by
  derive.booklet (LaTeX) and derive.html (the web booklet).
"""

from __future__ import annotations

from derive.texguard import check_math, prose_parts, text_char_tex
from derive.texnames import UNICODE_MATH

__all__ = ["METHOD_LEGEND", "METHOD_NAMES", "METHOD_TAGS", "check_math", "check_tag", "escape_text", "prose"]

METHOD_NAMES: dict[str, str] = {"symbolic": "symbolic", "instance": "exact instance", "numeric": "numeric"}
METHOD_TAGS: dict[str, str] = {"symbolic": "sym", "instance": "inst", "numeric": "num"}
# What each verdict means, for the booklet's legend (PDF and HTML): plain text, no TeX specials.
METHOD_LEGEND: dict[str, str] = {
    "symbolic": "the difference of the two sides simplifies to zero (for an inequality, its sign is certified; "
                "a claim for every n is proved by induction). This is a proof.",
    "instance": "the abstract objects (functions, distributions, matrices, whole numbers) are replaced by random "
                "exact instances and the relation is checked in rational arithmetic. This is evidence, not a "
                "proof: the closing table says which whole numbers and sizes were tried (small values exhaustively "
                "where cheap), how many instances (at magnitudes 1, 1/1000 and 1000, some with each object at "
                "its own), and, for an inequality, the equality cases tried (tables constant, random variables "
                "uncorrelated, densities equal; for "
                "matrices, vectors zero and matrices at their bound). Matrix steps are also tried at wide sizes "
                "(7 to 12) in certified ball arithmetic, where an equality can only be refuted, not shown. "
                "Singular values of matrices with irrational entries are certified enclosures, not rational.",
    "numeric": "the relation is checked at sample points in floating point, near every end of the assumed ranges "
               "and at magnitudes of both signs; a strict inequality must also survive a search for its equality "
               "cases. This is the weakest check, used only when no certificate is found and no abstract object "
               "calls for instances; the closing table says why.",
}

_TEXT_ESCAPES = str.maketrans(
    {
        "\\": r"\textbackslash{}",
        "{": r"\{",
        "}": r"\}",
        "$": r"\$",
        "&": r"\&",
        "#": r"\#",
        "^": r"\textasciicircum{}",
        "_": r"\_",
        "%": r"\%",
        "~": r"\textasciitilde{}",
        "<": r"\textless{}",
        ">": r"\textgreater{}",
        "|": r"\textbar{}",
        **{ch: text_char_tex(ch) for ch in UNICODE_MATH},
    }
)


def escape_text(text: str) -> str:
    """Plain text as LaTeX: every character special to TeX prints as itself."""
    return text.translate(_TEXT_ESCAPES)



def prose(text: str) -> str:
    """Text with `$...$` inline and `$$...$$` display math as LaTeX: text escaped, math
    checked by the allow-list (`texguard.prose_parts`, which raises ValueError)."""
    wrap = {"text": escape_text, "inline": lambda m: f"${m}$", "display": lambda m: f"\\[{m}\\]"}
    return "".join(wrap[kind](piece) for kind, piece in prose_parts(text))


def check_tag(method: str) -> str:
    """The short tag naming how a step was checked, e.g. [sym]."""
    return f"\\textsf{{\\scriptsize[{METHOD_TAGS[method]}]}}"
