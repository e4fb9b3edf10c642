"""Spec text as LaTeX, safely: plain text escaped, math checked by an allow-list of effects.

Rules:
- Spec text reaches LaTeX only through `prose`: plain text is escaped, `$...$` math passes
  through `check_math`, which rejects control sequences that read, write or redefine.
- Expressions print through derive.mathprint; problems and booklets are laid out by
  derive.booklet (LaTeX) and derive.html (the web booklet).
"""

from __future__ import annotations

import re

FORBIDDEN_CONTROL_SEQUENCES: frozenset[str] = frozenset(
    {
        "input", "include", "openin", "openout", "read", "write", "immediate", "catcode",
        "def", "edef", "gdef", "xdef", "let", "csname", "newcommand", "renewcommand",
        "usepackage", "special", "directlua", "lowercase", "uppercase", "jobname",
        "endinput", "loop", "expandafter", "includegraphics", "verbatiminput", "href", "url",
        # same effect under another name
        "futurelet", "providecommand", "DeclareRobustCommand", "NewDocumentCommand",
        "RenewDocumentCommand", "ProvideDocumentCommand", "DeclareDocumentCommand",
        "UseName", "ExpandArgs", "makeatletter", "ExplSyntaxOn", "scantokens",
        "InputIfFileExists", "IfFileExists", "lstinputlisting", "includepdf",
        "filecontents", "endfilecontents", "pdffiledump", "pdfmdfivesum", "pdfobj",
        "pdfximage", "pdfliteral", "pdfprimitive", "pdfextension",
    }
)

METHOD_NAMES: dict[str, str] = {"symbolic": "symbolic", "instance": "exact instance", "numeric": "numeric"}
METHOD_TAGS: dict[str, str] = {"symbolic": "sym", "instance": "inst", "numeric": "num"}

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
    }
)
_MATH_TOKEN = re.compile(r"\\([A-Za-z]+|.)|(.)", re.S)
_BEGIN_FILECONTENTS = re.compile(r"\\begin\s*\{\s*filecontents")


def escape_text(text: str) -> str:
    """Plain text as LaTeX: every character special to TeX prints as itself."""
    return text.translate(_TEXT_ESCAPES)



def check_math(tex: str) -> str:
    """Return `tex` unchanged if it is safe math; else raise ValueError saying why.

    Rejected: a control sequence in FORBIDDEN_CONTROL_SEQUENCES, a filecontents
    environment, `^^` (TeX's hex notation for characters), `$`, an unescaped `%` or `#`,
    and unbalanced braces.
    """
    if "^^" in tex:
        raise ValueError(f"'^^' is not allowed in math: {tex!r}")
    if _BEGIN_FILECONTENTS.search(tex):
        raise ValueError(f"the filecontents environment is not allowed in math: {tex!r}")
    depth = 0
    for m in _MATH_TOKEN.finditer(tex):
        name, char = m.groups()
        if name in FORBIDDEN_CONTROL_SEQUENCES:
            raise ValueError(f"control sequence \\{name} is not allowed in math: {tex!r}")
        if char in ("$", "%", "#"):
            raise ValueError(f"unescaped {char!r} is not allowed in math (write \\{char}): {tex!r}")
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced braces in math: {tex!r}")
    if depth:
        raise ValueError(f"unbalanced braces in math: {tex!r}")
    return tex


def prose(text: str) -> str:
    """Text with `$...$` inline and `$$...$$` display math as LaTeX: text escaped, math
    checked by `check_math`.

    `$$` always opens or closes display math, every other `$` inline math (there is no
    literal dollar sign); unbalanced or empty math raises ValueError.
    """
    pieces = text.split("$$")
    if len(pieces) % 2 == 0:
        raise ValueError(f"unbalanced '$$' in text: {text!r}")
    out = []
    for i, piece in enumerate(pieces):
        if i % 2 == 0:
            out.append(_inline_prose(piece, text))
        elif not piece.strip():
            raise ValueError(f"empty display math '$$$$' in text: {text!r}")
        else:
            out.append(f"\\[{check_math(piece.strip())}\\]")
    return "".join(out)


def _inline_prose(part_text: str, text: str) -> str:
    """Text with `$...$` inline math (a piece of `text` between display maths)."""
    parts = part_text.split("$")
    if len(parts) % 2 == 0:
        raise ValueError(f"unbalanced '$' in text: {text!r}")
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            out.append(escape_text(part))
        elif not part.strip():
            raise ValueError(f"empty math in text: {text!r}")
        else:
            out.append(f"${check_math(part)}$")
    return "".join(out)



def check_tag(method: str) -> str:
    """The short tag naming how a step was checked, e.g. [sym]."""
    return f"\\textsf{{\\scriptsize[{METHOD_TAGS[method]}]}}"
