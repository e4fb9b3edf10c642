"""Student LaTeX -> spec-language text, by an allow-list translator (nothing is evaluated).

Rules:
- The text is tokenised by derive/latex_tokens.py (an allow-list of commands; anything else
  is a `LatexError` naming it) and parsed here by recursive descent; the calculus operators
  (fractions and derivatives, sums, products, integrals, expectations) are in
  derive/latex_ops.py.
- The output is text in the spec language (docs/spec.md) that `derive.exprs.parse` turns
  into SymPy through its own allow-list: names come only from the problem's table (the
  `Resolver`, derive/notation.py), so every name in the output is declared.
- Juxtaposition is multiplication; a name followed by `(` is a call only if the problem
  declares it a function; `f'(u)` is a derivative; `|x|`, `\\lvert x \\rvert` is Abs.
- Matrices: a name the problem declares with a `shape` (or a definition with a matrix body)
  is a matrix; two matrices side by side are `matmul` (left to right), `A^T`/`A^\\top` is
  `T(A)`, `\\operatorname{diag}(v)` and `\\sigma_{\\max}(A)` are read.
- `\\boxed{...}` marks the boxed expression (a stated result), `\\underbrace{X}_{note}` is X.
- Decimals are kept as written (`0.301`) and listed in `Formula.decimals`, so that a result
  can be compared at the precision written.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from derive.latex_ops import Operators, prime_derivative
from derive.latex_tokens import (ALIAS, DECORATIONS, FUNCTIONS, GREEK, IGNORED_WRAPPERS, RELATION_TOKENS, Ident,
                                 LatexError, Resolved, balanced, lex, with_aliases)

@dataclass
class Formula:
    """One translated formula: spec-language terms joined by relations, and what was seen."""

    terms: list[str]
    rels: list[str]
    boxed: list[str] = field(default_factory=list)
    decimals: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # each term's LaTeX as written


Resolver = Callable[[Ident], "Resolved | None"]

class _Parser(Operators):
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
        sources = [balanced(text[spans[a][0]:spans[b - 1][1]].strip()) if spans and b > a else "" for a, b in bounds]
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

    def sub_expression(self, parent: "_Parser") -> str:
        """The whole token list as one expression, its boxes and decimals given to `parent`."""
        out = self.expression()
        if self.peek() is not None:
            raise LatexError(f"unexpected {self.peek()}")
        parent.boxed += self.boxed
        parent.decimals += self.decimals
        return out

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
        call = prime_derivative(call, Resolved(name, arity), primes) if primes else call
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
                return prime_derivative(call, found, ident.primes)
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


def _is_letter(tok: str | None) -> bool:
    return tok is not None and len(tok) == 1 and tok.isalpha()


def translate(text: str, resolve: Resolver, continues: bool = False,
              aliases: tuple[tuple[tuple[str, ...], str], ...] = ()) -> Formula:
    """The formula `text` (one line of math, relations allowed) in the spec language; with
    `continues`, it starts with a relation whose left side is the chain's last term. Each
    alias (the tokens of a written form, the spec text it means) replaces its tokens
    wherever they occur, longest first."""
    toks, spans = lex(text)
    toks, spans = with_aliases(toks, spans, aliases)
    return _Parser(toks, resolve, tuple(target for _, target in aliases)).formula(text, spans, continues)


