"""Student LaTeX -> spec-language text, by an allow-list translator (nothing is evaluated).

Rules:
- The input is tokenised (commands, letters, numbers, brackets, operators); only the
  commands in COMMANDS, SPACING, IGNORED_WRAPPERS, FUNCTIONS, GREEK and RELATIONS are
  known; any other command, a stray brace or an unclosed bracket is a `LatexError` naming it.
- The output is text in the spec language (docs/spec.md) that `derive.exprs.parse` turns
  into SymPy through its own allow-list: names come only from the `Names` table of the
  problem (derive/notation.py), so every name in the output is declared.
- Juxtaposition is multiplication; a name followed by `(` is a call only if the problem
  declares it a function; `\\frac{\\partial f}{\\partial x}`, `\\frac{d}{dx} f` and `f'(u)`
  are derivatives; `\\sum`, `\\prod` with `_{k=1}^{n}` and `\\int_a^b ... dx` take the
  product that follows as their body; `|x|`, `\\lvert x \\rvert` is Abs; `\\mathbb{E}[X]` is E.
- Matrices: a name the problem declares with a `shape` (or a definition with a matrix body)
  is a matrix; two matrices side by side are `matmul` (left to right), `A^T`/`A^\\top` is
  `T(A)`, `\\operatorname{diag}(v)`, `\\sigma_{\\max}(A)`, a derivative of or by a vector is
  `jacobian`, and `\\prod` of matrices is `MatProduct` (the last index on the left).
- `\\boxed{...}` marks the boxed expression (a stated result), `\\underbrace{X}_{note}` is X.
- Decimals are kept as written (`0.301`) and listed in `Formula.decimals`, so that a result
  can be compared at the precision written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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


@dataclass
class Formula:
    """One translated formula: spec-language terms joined by relations, and what was seen."""

    terms: list[str]
    rels: list[str]
    boxed: list[str] = field(default_factory=list)
    decimals: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # each term's LaTeX as written


Resolver = Callable[[Ident], "Resolved | None"]

_TOKEN = re.compile(r"\\[a-zA-Z]+\*?|\\.|\d+\.\d+|\.\d+|\d+|[a-zA-Z]|\S")


def tokenize(text: str) -> list[str]:
    """The tokens of a LaTeX formula (spacing commands dropped)."""
    return _lex(text)[0]


def _lex(text: str) -> tuple[list[str], list[tuple[int, int]]]:
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


class _Parser:
    """Recursive descent over the tokens; each method returns spec-language text."""

    def __init__(self, tokens: list[str], resolve: Resolver, aliases: tuple[str, ...] = (),
                 matrices: set[str] | None = None):
        self.toks, self.i, self.resolve, self.aliases = tokens, 0, resolve, aliases
        self.matrices = matrices if matrices is not None else set()  # output texts that are matrices
        self.boxed: list[str] = []
        self.decimals: list[str] = []
        self.stops: list[set[str]] = [set()]

    # ---- helpers ------------------------------------------------------------------------
    def sub(self, tokens: list[str]) -> "_Parser":
        """A parser of some of this formula's tokens (a fraction's numerator, limits, ...)."""
        return _Parser(tokens, self.resolve, self.aliases, self.matrices)

    def mark(self, text: str, matrix: bool) -> str:
        """Record whether the output `text` is a matrix (juxtaposed matrices are matmul)."""
        if matrix:
            self.matrices.add(text)
        return text

    def peek(self, k: int = 0) -> str | None:
        return self.toks[self.i + k] if self.i + k < len(self.toks) else None

    def take(self, want: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (want is not None and tok != want):
            raise LatexError(f"expected {want or 'more'} but found {tok or 'the end'}")
        self.i += 1
        return tok

    def group(self) -> str:
        """A TeX argument: {...} parsed as an expression, or one token's primary."""
        if self.peek() == "{":
            self.take("{")
            with_stop = self._with_stops({"}"}, self.expression)
            self.take("}")
            return with_stop
        return self.primary()

    def raw_group(self) -> list[str]:
        """The tokens of a TeX argument, unparsed."""
        if self.peek() != "{":
            return [self.take()]
        self.take("{")
        depth, out = 1, []
        while True:
            tok = self.take()
            depth += (tok == "{") - (tok == "}")
            if depth == 0:
                return out
            out.append(tok)

    def _with_stops(self, stops: set[str], parse: Callable[[], str]) -> str:
        self.stops.append(stops)
        try:
            return parse()
        finally:
            self.stops.pop()

    def at_stop(self) -> bool:
        tok = self.peek()
        return tok is None or tok in self.stops[-1] or tok in RELATION_TOKENS or tok in ("&", "\\\\", ",")

    # ---- grammar ------------------------------------------------------------------------
    def formula(self, text: str = "", spans: list[tuple[int, int]] | None = None, continues: bool = False) -> Formula:
        """Terms joined by relations; `continues`: the text starts with a relation (its
        left side is the end of the chain before)."""
        terms, rels, bounds = [], [], []
        if not continues:
            start = self.i
            terms.append(self.expression())
            bounds.append((start, self.i))
        elif self.peek() not in RELATION_TOKENS:
            raise LatexError("expected a relation at the start")
        while self.peek() in RELATION_TOKENS:
            rels.append(RELATION_TOKENS[self.take()])
            start = self.i
            terms.append(self.expression())
            bounds.append((start, self.i))
        if self.peek() is not None:
            raise LatexError(f"unexpected {self.peek()}")
        sources = [_balanced(text[spans[a][0]:spans[b - 1][1]].strip()) if spans and b > a else "" for a, b in bounds]
        return Formula(terms, rels, self.boxed, self.decimals, sources)

    def expression(self) -> str:
        out = ""
        if self.peek() in ("+", "-"):
            out = "-" if self.take() == "-" else ""
        first = self.term()
        out += first
        matrix = first in self.matrices
        while self.peek() in ("+", "-"):
            op = self.take()
            term = self.term()
            matrix = matrix or term in self.matrices
            out += f" {op} {term}"
        return self.mark(f"({out})", matrix)

    def term(self) -> str:
        factors = [self.power()]
        while not self.at_stop() and self.peek() not in ("+", "-"):
            tok = self.peek()
            if tok in ("\\cdot", "\\times", "*"):
                self.take()
                factors.append(self.power())
            elif tok == "/":
                self.take()
                factors[-1] = f"{factors[-1]}/{self.power()}"
            elif tok in (")", "]", "\\}", "\\Rightarrow", "\\implies", "\\to"):
                break
            else:
                factors.append(self.power())
        out = factors[0]
        for f in factors[1:]:  # left to right: two matrices side by side are a matrix product
            both = out in self.matrices and f in self.matrices
            out = self.mark(f"matmul({out}, {f})" if both else f"{out}*{f}",
                            out in self.matrices or f in self.matrices)
        return out

    def power(self) -> str:
        base = self.primary()
        while self.peek() in ("^", "'", "!"):
            tok = self.take()
            if tok == "^":
                if base in self.matrices and self._transpose_mark():
                    base = self.mark(f"T({base})", True)
                    continue
                matrix = base in self.matrices
                base = self.mark(f"{base}**{self.group()}", matrix)  # a matrix to a number: entry by entry
            else:
                raise LatexError("a prime or ! after an expression that is not a function name")
        return base

    def _transpose_mark(self) -> bool:
        """After ^ on a matrix: T, \\top, \\intercal (braced or not), consumed; else False."""
        marks = ("T", "\\top", "\\intercal", "\\mathsf")
        if self.peek() in marks[:3]:
            self.take()
            return True
        if self.peek() == "{" and self.peek(1) in marks[:3] and self.peek(2) == "}":
            self.i += 3
            return True
        return False

    def primary(self) -> str:
        tok = self.take()
        if tok == "\\sigma" and self.peek() == "_" and self.peek(1) in ("\\max", "{") and \
                (self.peek(1) == "\\max" or self.toks[self.i + 2:self.i + 4] == ["\\max", "}"]):
            self.take("_")
            self.raw_group()
            return self.call_arguments("sigma_max", 1)
        if tok.startswith(ALIAS):
            return f"({self.aliases[int(tok[1:])]})"
        if re.fullmatch(r"\d+\.\d+|\.\d+", tok):
            self.decimals.append(tok)
            return f"({tok})"
        if tok.isdigit():
            return tok
        if tok in ("(", "[", "\\{"):
            close = {"(": ")", "[": "]", "\\{": "\\}"}[tok]
            inner = self._with_stops({close}, self.expression)
            self.take(close)
            return inner
        if tok == "{":
            inner = self._with_stops({"}"}, self.expression)
            self.take("}")
            return inner
        if tok in ("|", "\\lvert", "\\vert"):
            close = "|" if tok in ("|", "\\vert") else "\\rvert"
            inner = self._with_stops({close}, self.expression)
            self.take(close)
            return f"Abs({inner})"
        if tok in ("\\frac", "\\dfrac", "\\tfrac"):
            return self.fraction()
        if tok == "\\sqrt":
            return f"sqrt({self.group()})"
        if tok == "\\boxed":
            inner = self.group()
            self.boxed.append(inner)
            return inner
        if tok[1:] in IGNORED_WRAPPERS:
            inner = self.group()
            if self.peek() in ("_", "^"):  # the brace's note
                self.take()
                self.raw_group()
            return inner
        if tok in ("\\sum", "\\prod"):
            return self.big_operator("Sum" if tok == "\\sum" else "Product")
        if tok == "\\int":
            return self.integral()
        if tok == "\\infty":
            return "oo"
        if tok in ("\\max", "\\min"):
            return self.max_min("Max" if tok == "\\max" else "Min")
        if tok[1:] in FUNCTIONS:
            return self.function_call(FUNCTIONS[tok[1:]], 1)
        if tok == "\\mathbb" and self.peek(1) == "E":
            self.raw_group()
            return self.expectation()
        if tok[1:] in ("operatorname", "mathrm", "text", "mathsf"):
            return self.named_operator(tok)
        return self.name(tok)

    def named_operator(self, tok: str) -> str:
        """\\operatorname{tanh}(x) as tanh, \\operatorname{Var}[X] as Var, \\mathrm{E}[X] as E;
        any other name is an identifier written upright."""
        start = self.i
        word = "".join(self.raw_group())
        if word in FUNCTIONS:
            return self.function_call(FUNCTIONS[word], 1)
        if word == "diag" and self.peek() in ("(", "["):
            return self.mark(self.call_arguments("diag", 1), True)
        if word in ("E", "Var") and self.peek() == "[":
            self.take("[")
            inner = self._with_stops({"]"}, self.expression)
            self.take("]")
            return f"{word}({inner})"
        self.i = start
        return self.name(tok)

    def fraction(self) -> str:
        num, den = self.raw_group(), self.raw_group()
        if num and num[0] in ("d", "\\partial") and den and den[0] in ("d", "\\partial") and _is_derivative(num, den):
            return self.derivative(num, den)
        return f"({self.sub(num).sub_expression(self)})/({self.sub(den).sub_expression(self)})"

    def sub_expression(self, parent: "_Parser") -> str:
        """The whole token list as one expression, its boxes and decimals given to `parent`."""
        out = self.expression()
        if self.peek() is not None:
            raise LatexError(f"unexpected {self.peek()}")
        parent.boxed += self.boxed
        parent.decimals += self.decimals
        return out

    def derivative(self, num: list[str], den: list[str]) -> str:
        """d^k f / d x^k (num holds `d^k f` or just `d`; den holds `d x^k`)."""
        order = 1
        rest = num[1:]
        if rest[:1] == ["^"]:
            order, rest = int(rest[1]), rest[2:]
        var = self.sub(den[1:])
        name = var.primary()
        if var.peek() == "^":
            var.take()
            var.primary()
        if var.peek() is not None:
            raise LatexError("a derivative's denominator is d x or d x^k")
        body = self.sub(rest).sub_expression(self) if rest else self.power()
        if body in self.matrices or name in self.matrices:  # a vector by a vector: the Jacobian
            if order != 1:
                raise LatexError("a second derivative of a vector is not read")
            return self.mark(f"jacobian({body}, {name})", True)
        return f"Derivative({body}, {name})" if order == 1 else f"Derivative({body}, ({name}, {order}))"

    def big_operator(self, kind: str) -> str:
        """\\sum_{k=1}^{n} body, \\prod likewise; \\sum_{z} body over the finite space of z is Int."""
        low, high = self._limit_tokens()
        if kind == "Sum" and low is not None and high is None and "=" not in low:
            var = self.variable(low)
            if not var.space:
                raise LatexError(f"a sum over {var.text} needs limits _{{k=1}}^{{n}} or a finite space")
            return f"Int({self.term()}, {var.text})"
        if low is None or high is None or "=" not in low:
            raise LatexError(f"\\{kind.lower()} needs limits written _{{k=1}}^{{n}}")
        at = low.index("=")
        var = self.variable(low[:at])
        lo = self.sub(low[at + 1:]).sub_expression(self)
        hi = self.sub(high).sub_expression(self)
        body = self.term()
        if kind == "Product" and body in self.matrices:  # the factor of the last index stands on the left
            return self.mark(f"MatProduct({body}, ({var.text}, {lo}, {hi}))", True)
        return f"{kind}({body}, ({var.text}, {lo}, {hi}))"

    def variable(self, tokens: list[str]) -> Resolved:
        """A bound variable: one declared symbol (not a function or an indexed symbol)."""
        sub = self.sub(tokens)
        ident = sub.identifier(sub.take()) if tokens else None
        found = self.resolve(ident) if ident is not None else None
        if found is None or found.arity or found.indexed or sub.peek() is not None:
            raise LatexError(f"{' '.join(tokens) or 'nothing'} is not a declared variable")
        return found

    def _limit_tokens(self) -> tuple[list[str] | None, list[str] | None]:
        low = high = None
        while self.peek() in ("_", "^"):
            if self.take() == "_":
                low = self.raw_group()
            else:
                high = self.raw_group()
        return low, high

    def integral(self) -> str:
        """\\int_a^b body dx; without limits, over the whole space of x (Int) or the real line."""
        low, high = self._limit_tokens()
        body = self._with_stops({"d"}, self.term)
        self.take("d")
        var = self.variable([self.take()])
        if low is None and high is None:
            return f"Int({body}, {var.text})" if var.space else f"Integral({body}, ({var.text}, -oo, oo))"
        lo = self.sub(low or []).sub_expression(self)
        hi = self.sub(high or []).sub_expression(self)
        return f"Integral({body}, ({var.text}, {lo}, {hi}))"

    def max_min(self, kind: str) -> str:
        if self.peek() == "_":
            raise LatexError(f"\\{kind.lower()} over a set is not read yet; write {kind.lower()}(a, b)")
        return self.call_arguments(kind, None)

    def expectation(self) -> str:
        """\\mathbb{E}[X] is E(X); \\mathbb{E}_{v \\sim D}[X] is the integral of D times X over v
        (D a density named alone, taken at v, or written with its arguments)."""
        over: list[tuple[Resolved, str]] = []
        if self.peek() == "_":
            self.take("_")
            for tokens in _split_top(self.raw_group(), ","):
                if "\\sim" not in tokens:
                    raise LatexError("an expectation's subscript is written v \\sim D (or declare an alias)")
                at = tokens.index("\\sim")
                over.append(self._distributed(self.variable(tokens[:at]), tokens[at + 1:]))
        if self.peek() != "[":
            raise LatexError("\\mathbb{E} is followed by [...]")
        self.take("[")
        inner = self._with_stops({"]"}, self.expression)
        self.take("]")
        if not over:
            return f"E({inner})"
        out = "*".join(f"({w})" for _, w in over) + f"*({inner})"
        for var, _ in reversed(over):
            out = f"Int({out}, {var.text})" if var.space else f"Integral({out}, ({var.text}, -oo, oo))"
        return out

    def _distributed(self, var: Resolved, dist: list[str]) -> tuple[Resolved, str]:
        """v ~ D: the variable and D's density at v (D named alone, or written with arguments)."""
        named = self.sub(dist)
        ident = named.identifier(named.take()) if dist and not dist[0].startswith(ALIAS) else None
        found = self.resolve(ident) if ident is not None and named.peek() is None else None
        if found is not None and found.arity == 1:
            return var, f"{found.text}({var.text})"
        return var, self.sub(dist).sub_expression(self)

    def function_call(self, name: str, arity: int) -> str:
        primes = 0
        while self.peek() == "'" or (self.peek() == "^" and self._marked_superscript()):
            if self.take() == "^":
                self.raw_group()
            primes += 1
        power = ""
        if self.peek() == "^":  # \tanh^2 x is (\tanh x)^2
            self.take("^")
            power = self.group()
            if power.replace(" ", "") in ("(-1)", "-1", "((-1))"):
                raise LatexError(f"\\{name}^{{-1}} (an inverse function) is not read")
        if self.peek() in ("(", "["):
            args = self.arguments(name)
            if len(args) != arity:
                raise LatexError(f"{name} takes {arity} argument(s), got {len(args)}")
            matrix, call = args[0] in self.matrices, f"{name}({', '.join(args)})"
        else:
            arg = self.power()
            matrix, call = arg in self.matrices, f"{name}({arg})"
        call = _prime_derivative(call, Resolved(name, arity), primes) if primes else call
        return self.mark(f"({call})**{power}" if power else call, matrix)  # on a matrix: entry by entry

    def call_arguments(self, name: str, arity: int | None) -> str:
        args = self.arguments(name)
        if arity is not None and len(args) != arity:
            raise LatexError(f"{name} takes {arity} argument(s), got {len(args)}")
        return f"{name}({', '.join(args)})"

    def arguments(self, name: str) -> list[str]:
        """The arguments in (...) or [...], separated by `,` or a conditional bar."""
        open_ = self.take()
        close = ")" if open_ == "(" else "]"
        args = []
        while True:
            args.append(self._with_stops({close, "\\mid", "|"}, self.expression))
            tok = self.take()
            if tok == close:
                return args
            if tok not in (",", "\\mid", "|"):
                raise LatexError(f"expected , or {close} in the arguments of {name}, found {tok}")

    def name(self, tok: str) -> str:
        ident = self.identifier(tok)
        found = self.resolve(ident)
        if found is None:
            raise LatexError(f"cannot map the name {ident.key()} onto the problem")
        if found.indexed or (found.arity and found.subscript and ident.sub):
            index = self.sub(list(ident.sub)).sub_expression(self) if ident.sub else ""
            if not index:
                raise LatexError(f"{ident.key()} needs its index as a subscript")
            return self.mark(f"{found.text}[{index}]" if found.indexed else f"{found.text}({index})", found.matrix)
        if found.choices:  # one written form, functions of different arities: the count decides
            if self.peek() not in ("(", "["):
                raise LatexError(f"{ident.key()} is a function: write its arguments")
            args = self.arguments(ident.key())
            pick = [c for c in found.choices if c.arity == len(args)]
            if not pick:
                raise LatexError(f"{ident.key()} takes {' or '.join(str(c.arity) for c in found.choices)} "
                                 f"argument(s), got {len(args)}")
            return f"{pick[0].text}({', '.join(args)})"
        if found.arity:
            if self.peek() not in ("(", "["):
                raise LatexError(f"{ident.key()} is a function: write its arguments")
            call = self.call_arguments(found.text, found.arity)
            if ident.primes:
                return _prime_derivative(call, found, ident.primes)
            return self.mark(call, found.matrix)
        return self.mark(found.text, found.matrix)

    def identifier(self, tok: str) -> Ident:
        decoration = ""
        if tok[1:] in DECORATIONS:
            decoration = DECORATIONS[tok[1:]]
            inner = self.raw_group()
            base = "".join(t.lstrip("\\") for t in inner)
            if decoration == "rm" and base == "d":
                raise LatexError("a stray d (differential) outside an integral or derivative")
        elif tok[1:] in GREEK:
            base = GREEK[tok[1:]]
        elif _is_letter(tok):
            base = tok
        else:
            raise LatexError(f"unexpected {tok}")
        sub: tuple[str, ...] = ()
        primes, star = 0, False
        while self.peek() in ("_", "'") or (self.peek() == "^" and self._marked_superscript()):
            tok = self.take()
            if tok == "_":
                sub = tuple(self.raw_group())
            elif tok == "'":
                primes += 1
            elif self.raw_group() == ["\\prime"]:
                primes += 1
            else:
                star = True
        return Ident(base, decoration, sub, primes, star)

    def _marked_superscript(self) -> bool:
        """Is the ^ ahead a prime (^\\prime) or a star (^*, ^\\star, ^\\ast), part of a name?"""
        marks = ("\\prime", "*", "\\star", "\\ast")
        return self.peek(1) in marks or (self.peek(1) == "{" and self.peek(2) in marks and self.peek(3) == "}")


RELATION_TOKENS = {"=": "=", "<": "<", ">": ">", **{f"\\{k}": v for k, v in RELATIONS.items()}}


def _balanced(tex: str) -> str:
    """A term's source without the closing braces of a group it stands at the end of
    (`\\boxed{a \\le b}` leaves `b}`)."""
    while tex.endswith("}") and tex.count("}") > tex.count("{"):
        tex = tex[:-1].rstrip()
    return tex


def _split_top(tokens: list[str], sep: str) -> list[list[str]]:
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


def _is_letter(tok: str | None) -> bool:
    return tok is not None and len(tok) == 1 and tok.isalpha()


def _is_derivative(num: list[str], den: list[str]) -> bool:
    return num[0] == den[0] and len(den) >= 2


def _prime_derivative(call: str, found: Resolved, primes: int) -> str:
    """f'(u) for a one-argument function: the derivative at u (a symbol, else via Subs)."""
    if found.arity != 1:
        raise LatexError(f"a prime on {found.text}, a function of {found.arity} arguments")
    arg = call[len(found.text) + 1:-1]
    order = "" if primes == 1 else f", {primes}"
    if re.fullmatch(r"\(?[A-Za-z]\w*\)?", arg):
        var = arg.strip("()")
        return f"Derivative({call}, {var})" if primes == 1 else f"Derivative({call}, ({var}{order}))"
    if found.variable:
        v = found.variable
        inner = f"Derivative({found.text}({v}), {v})" if primes == 1 else f"Derivative({found.text}({v}), ({v}{order}))"
        return f"Subs({inner}, {v}, {arg})"
    raise LatexError(f"write the derivative of {found.text} at {arg} with a named variable")


def translate(text: str, resolve: Resolver, continues: bool = False,
              aliases: tuple[tuple[tuple[str, ...], str], ...] = ()) -> Formula:
    """The formula `text` (one line of math, relations allowed) in the spec language; with
    `continues`, it starts with a relation whose left side is the chain's last term. Each
    alias (the tokens of a written form, the spec text it means) replaces its tokens
    wherever they occur, longest first."""
    toks, spans = _lex(text)
    toks, spans = _with_aliases(toks, spans, aliases)
    return _Parser(toks, resolve, tuple(target for _, target in aliases)).formula(text, spans, continues)


ALIAS = "\x00"  # the token standing for alias k is ALIAS + str(k)


def _with_aliases(toks: list[str], spans: Spans, aliases: tuple[tuple[tuple[str, ...], str], ...]
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
