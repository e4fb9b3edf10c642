"""Student LaTeX as tokens, by an allow-list (the first layer of derive/latex_in.py).

Rules:
- The text is cut into commands, letters, numbers, brackets and operators; only the
  commands in COMMANDS, SPACING, IGNORED_WRAPPERS, FUNCTIONS, GREEK, DECORATIONS and
  RELATIONS are known: any other command, and any control character, is a `LatexError`
  naming it. Spacing and sizing commands (`\\,`, `\\quad`, `\\left`, `\\big`) are dropped.
- Each token keeps where it stands in the text (its span), so a term can be shown as written.
- What OCR or habit writes in several ways is read as one: `0 . 5` is 0.5, `\\mathrm{d}` is
  d, `_ { q }` is `_ q`, `\\frac12` is `\\frac 1 2`; `\\boxed{A \\le B}` is `A \\le \\boxed{B}`.
- A name as written is an `Ident` (base, decoration, subscript tokens, primes, star); what it
  means in a problem is a `Resolved` (derive/notation.py finds it).
- `with_aliases` replaces each run of tokens that writes an alias (bars and upright commands
  compared as one) by one ALIAS token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

MAX_LATEX = 4000

GREEK = {name: name for name in (
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda",
    "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
    "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega")}
GREEK.update({"varepsilon": "epsilon", "vartheta": "theta", "varphi": "phi", "varrho": "rho", "varsigma": "sigma"})
# functions written as commands -> spec name (one argument)
FUNCTIONS = {"exp": "exp", "log": "log", "ln": "log", "sin": "sin", "cos": "cos", "tanh": "tanh",
             "cosh": "cosh", "sech": "sech"}
RELATIONS = {"=": "=", "<": "<", ">": ">", "le": "<=", "leq": "<=", "leqslant": "<=", "ge": ">=", "geq": ">=",
             "geqslant": ">=", "lt": "<", "gt": ">", "ne": "!=", "neq": "!=", "approx": "~"}
SPACING = {",", ";", ":", "!", " ", "quad", "qquad", "enspace", "thinspace", "displaystyle", "textstyle",
           "left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr", "nonumber"}
# \wrapper{X} -> X
IGNORED_WRAPPERS = {"underbrace", "overbrace", "mathbf", "boldsymbol", "bm", "mathit", "vec"}
DECORATIONS = {"bar": "bar", "tilde": "tilde", "hat": "hat", "overline": "bar", "widetilde": "tilde",
               "widehat": "hat", "mathcal": "cal", "mathbb": "bb", "mathrm": "rm", "operatorname": "rm",
               "text": "rm", "mathsf": "rm"}
COMMANDS = {"star", "ast", "top", "intercal", "frac", "dfrac", "tfrac", "sqrt", "sum", "prod", "int", "partial", "cdot", "times", "boxed",
            "lvert", "rvert", "vert", "mid", "max", "min", "infty", "Rightarrow", "implies", "Longrightarrow",
            "to", "sim", "prime", "lbrace", "rbrace", "{", "}", "|", "cdots", "ldots", "dots"}


class LatexError(ValueError):
    """The LaTeX cannot be read; the message names what."""


@dataclass(frozen=True)
class Ident:
    """A name as written: base letter or Greek name, decoration, subscript tokens, primes."""

    base: str
    decoration: str = ""
    sub: tuple[str, ...] = ()
    primes: int = 0
    star: bool = False  # b^* (also b^\star, b^\ast)

    def key(self) -> str:
        """The canonical written form, e.g. `bar(x)_1''`, `x_t-1` or `b^*`."""
        base = f"{self.decoration}({self.base})" if self.decoration else self.base
        return base + (f"_{''.join(self.sub)}" if self.sub else "") + "'" * self.primes + ("^*" if self.star else "")


@dataclass(frozen=True)
class Resolved:
    """What a written name means in the problem: a value (spec text), a function of `arity`
    arguments (written with them as a subscript when `subscript`), or an indexed symbol."""

    text: str
    arity: int = 0
    subscript: bool = False
    indexed: bool = False
    variable: str = ""  # a function's parameter (a declared symbol): f'(0) is its derivative there
    space: bool = False  # a point of a finite space (sums and integrals over it are Int)
    choices: tuple["Resolved", ...] = ()  # functions of different arities sharing this written form
    matrix: bool = False  # a matrix or vector (a declared shape; a definition with a matrix body)


_TOKEN = re.compile(r"\\[a-zA-Z]+\*?|\\.|\d+\.\d+|\.\d+|\d+|[a-zA-Z]|\S")


def tokenize(text: str) -> list[str]:
    """The tokens of a LaTeX formula (spacing commands dropped)."""
    return lex(text)[0]


def lex(text: str) -> tuple[list[str], list[tuple[int, int]]]:
    """The tokens and where each stands in `text` (start, end)."""
    if len(text) > MAX_LATEX:
        raise LatexError(f"formula longer than {MAX_LATEX} characters")
    if any(ord(c) < 32 and c not in "\t\n\r" for c in text):
        raise LatexError("a control character in the formula")
    toks: list[str] = []
    spans: list[tuple[int, int]] = []
    opened = None  # where a dropped \\left (or \\big...) before the next token starts
    for m in _TOKEN.finditer(text):
        tok = m.group()
        name = tok[1:].rstrip("*") if tok.startswith("\\") else None
        if name is not None and name in SPACING or tok == "~":
            if name is not None and (name == "left" or name.startswith(("big", "Big"))) and opened is None:
                opened = m.start()
            continue
        if name is not None and name not in COMMANDS | set(GREEK) | set(FUNCTIONS) | set(RELATIONS) \
                | IGNORED_WRAPPERS | set(DECORATIONS) and tok != "\\\\":
            raise LatexError(f"unknown command {tok}")
        if toks and toks[-1] in ("\\frac", "\\dfrac", "\\tfrac") and tok.isdigit() and len(tok) > 1:  # \frac12
            toks += [tok[0], tok[1:]]
            spans += [(m.start(), m.start() + 1), (m.start() + 1, m.end())]
            opened = None
            continue
        toks.append(tok)
        spans.append((m.start() if opened is None else opened, m.end()))
        opened = None
    return _boxed_relations(*_single_groups(*_merged(*_merged(toks, spans, _spaced_decimal), _differential)))


def _single_groups(toks: list[str], spans: Spans) -> tuple[list[str], Spans]:
    """`_ { q }` read as `_ q` (a one-token group after _ or ^; OCR writes the braces)."""
    out: list[str] = []
    where: Spans = []
    i = 0
    while i < len(toks):
        if toks[i] in ("_", "^") and toks[i + 1:i + 2] == ["{"] and toks[i + 3:i + 4] == ["}"] and \
                toks[i + 2] not in ("{", "}"):
            out += [toks[i], toks[i + 2]]
            where += [spans[i], (spans[i + 1][0], spans[i + 3][1])]
            i += 4
        else:
            out.append(toks[i])
            where.append(spans[i])
            i += 1
    return out, where


Spans = list[tuple[int, int]]


def _merged(toks: list[str], spans: Spans, match: Callable[[list[str], int], "tuple[str, int] | None"]
            ) -> tuple[list[str], Spans]:
    """The tokens with each run that `match` recognises at its start (returning the token
    that replaces it and the run's length) replaced by that one token."""
    out: list[str] = []
    where: Spans = []
    i = 0
    while i < len(toks):
        found = match(toks, i)
        token, n = found if found is not None else (toks[i], 1)
        out.append(token)
        where.append((spans[i][0], spans[i + n - 1][1]))
        i += n
    return out, where


def _spaced_decimal(toks: list[str], i: int) -> tuple[str, int] | None:
    """`0 . 5` (OCR spacing) read as the decimal 0.5."""
    if toks[i].isdigit() and toks[i + 1:i + 2] == ["."] and i + 2 < len(toks) and toks[i + 2].isdigit():
        return f"{toks[i]}.{toks[i + 2]}", 3
    return None


def _differential(toks: list[str], i: int) -> tuple[str, int] | None:
    """`\\mathrm{d}` (and \\operatorname, \\text) as the plain token d."""
    if toks[i][1:] in ("mathrm", "operatorname", "text") and toks[i + 1:i + 4] == ["{", "d", "}"]:
        return "d", 4
    return None


def _boxed_relations(toks: list[str], spans: Spans) -> tuple[list[str], Spans]:
    """`\\boxed{A \\le B}` read as `A \\le \\boxed{B}`: the stated result is the last side."""
    i = 0
    while i < len(toks):
        if toks[i] == "\\boxed" and toks[i + 1:i + 2] == ["{"]:
            depth, j, last = 0, i + 1, None
            while j < len(toks):
                depth += (toks[j] == "{") - (toks[j] == "}")
                if depth == 0:
                    break
                if depth == 1 and toks[j] in RELATION_TOKENS:
                    last = j
                j += 1
            if last is not None and j < len(toks):
                toks = toks[:i] + toks[i + 2:last + 1] + ["\\boxed", "{"] + toks[last + 1:]
                at = (spans[last + 1][0], spans[last + 1][0]) if last + 1 < len(spans) else spans[i]
                spans = spans[:i] + spans[i + 2:last + 1] + [at, at] + spans[last + 1:]
                continue
        i += 1
    return toks, spans


RELATION_TOKENS = {"=": "=", "<": "<", ">": ">", **{f"\\{k}": v for k, v in RELATIONS.items()}}


def balanced(tex: str) -> str:
    """A term's source without the closing braces of a group it stands at the end of
    (`\\boxed{a \\le b}` leaves `b}`)."""
    while tex.endswith("}") and tex.count("}") > tex.count("{"):
        tex = tex[:-1].rstrip()
    return tex


def split_top(tokens: list[str], sep: str) -> list[list[str]]:
    """The tokens split at `sep` outside brackets and braces."""
    parts: list[list[str]] = [[]]
    depth = 0
    for tok in tokens:
        depth += (tok in ("(", "[", "{")) - (tok in (")", "]", "}"))
        if tok == sep and depth == 0:
            parts.append([])
        else:
            parts[-1].append(tok)
    return parts


ALIAS = "\x00"  # the token standing for alias k is ALIAS + str(k)


def with_aliases(toks: list[str], spans: Spans, aliases: tuple[tuple[tuple[str, ...], str], ...]
                  ) -> tuple[list[str], Spans]:
    order = sorted(range(len(aliases)), key=lambda k: -len(aliases[k][0]))

    keys = [tuple(_canonical(t) for t in written) for written, _ in aliases]

    def match(toks: list[str], i: int) -> tuple[str, int] | None:
        k = next((k for k in order if keys[k] and tuple(_canonical(t) for t in toks[i:i + len(keys[k])]) == keys[k]),
                 None)
        return None if k is None else (f"{ALIAS}{k}", len(keys[k]))
    return _merged(toks, spans, match)


def _canonical(tok: str) -> str:
    """Tokens that write the same thing compared as one: the bars (|, \\mid, \\vert, ...) and
    the upright commands (\\mathrm, \\operatorname, \\text, \\mathsf)."""
    if tok in ("|", "\\mid", "\\vert", "\\lvert", "\\rvert"):
        return "|"
    return "\\mathrm" if tok in ("\\operatorname", "\\text", "\\mathsf") else tok
