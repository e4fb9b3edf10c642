"""Student notation -> the problem's declared names (for `derive check`).

Rules:
- Every declared symbol, indexed symbol, function and definition is known by the way the
  booklet prints it (its `latex:` form, else SymPy's LaTeX of its name: gamma as \\gamma,
  x1 as x_{1}) and by its spec name when that is one letter.
- A value printed as compound LaTeX (`latex: 'H(z \\mid y)'`) is known by those tokens, as an
  alias is.
- A written name resolves by its whole written form first (x_1, s', \\bar s); then by its
  base: an indexed symbol takes its subscript as the index (b_k is b[k]), a function
  declared with `subscript: true` takes it as its argument (z_k is z(k)), and a prime on a
  function of one argument is its derivative (\\sigma'(u)).
- A written form shared by two declarations is ambiguous: an error, never a guess; unless
  they are functions of different arities (P(z) and P(y | z)), told apart by the count of
  arguments written.
- e is Euler's number and \\pi is pi unless the problem declares them.
- `aliases:` in a problem maps a written form (any LaTeX: `f(x)`, `\\mathrm{KL}(q \\| p)`)
  onto a spec expression; its tokens are replaced wherever they occur (derive/latex_in.py).
- A name that maps onto nothing is an error naming it (the report says "could not read"):
  it is never taken as a fresh symbol, which could make a wrong step look right.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp
from sympy.printing.latex import LatexPrinter

from derive.errors import SpecIssue
from derive.matrices import is_matrix
from derive.latex_in import _Parser
from derive.latex_tokens import Ident, LatexError, Resolved, tokenize
from derive.scope import Scope, parse_text
from derive.spec import ProblemSpec

CONSTANTS = {"e": "exp(1)", "pi": "pi"}


@dataclass
class Names:
    """The written forms of one problem's names (see the module rules)."""

    forms: dict[str, list[Resolved]] = field(default_factory=dict)
    printed: list[tuple[tuple[str, ...], str]] = field(default_factory=list)  # compound forms, as aliases

    def add(self, written: str, meaning: Resolved) -> None:
        """Know `meaning` by the LaTeX `written`: a plain name, or (for a value) any LaTeX,
        such as H(z \\mid y), matched token by token like an alias."""
        try:
            tokens = tokenize(written)
            parser = _Parser(tokens, lambda ident: None)
            ident = parser.identifier(parser.take())
            plain_name = parser.peek() is None
        except (LatexError, IndexError):
            plain_name = False
        if not plain_name:  # a bare run of letters (KL) would turn a product k*l into a name: not kept
            if not meaning.arity and not meaning.indexed and not written.strip().isalnum():
                try:
                    self.printed.append((tuple(tokenize(written)), meaning.text))
                except LatexError:
                    pass
            return
        seen = self.forms.setdefault(ident.key(), [])
        if meaning not in seen:
            seen.append(meaning)

    def resolve(self, ident: Ident) -> Resolved | None:
        """What the written name means (None: nothing); LatexError when ambiguous."""
        for key in (ident.key(), _without(ident, sub=True, primes=False), _without(ident, sub=True, primes=True),
                    _without(ident, sub=False, primes=True)):
            found = self._one(key, ident)
            if found is not None and _fits(found, ident, key):
                return found
        if not ident.decoration and not ident.sub and not ident.primes and ident.base in CONSTANTS:
            return Resolved(CONSTANTS[ident.base])
        return None

    def _one(self, key: str, ident: Ident) -> Resolved | None:
        found = self.forms.get(key, [])
        arities = [r.arity for r in found]
        if len(found) > 1 and all(arities) and len(set(arities)) == len(arities):
            return Resolved(found[0].text, found[0].arity, choices=tuple(found))
        if len(found) > 1:
            raise LatexError(f"{ident.key()} is ambiguous here: it could be {' or '.join(r.text for r in found)}")
        return found[0] if found else None


def _without(ident: Ident, sub: bool, primes: bool) -> str:
    return Ident(ident.base, ident.decoration, () if sub else ident.sub, 0 if primes else ident.primes).key()


def _fits(found: Resolved, ident: Ident, key: str) -> bool:
    """Does a match on a shortened form fit what was dropped? A subscript only for an
    indexed symbol or a subscripted function; primes only for a function."""
    if key == ident.key():
        return True
    if ident.sub and f"_{''.join(ident.sub)}" not in key and not (found.indexed or found.subscript):
        return False
    return not (ident.primes and "'" not in key and not found.arity)


def names_of(scope: Scope) -> Names:
    """The written forms of every name the problem declares."""
    names = Names()
    printer = LatexPrinter()
    for name, sym in scope.ns.symbols.items():
        meaning = Resolved(name, space=sym in scope.symbol_space, matrix=sym in scope.shapes)
        names.add(scope.symbol_latex.get(name) or printer.doprint(sym), meaning)
        names.add(printer.doprint(sp.Symbol(name)), meaning)
    for name in scope.ns.indexed:
        meaning = Resolved(name, indexed=True)
        names.add(scope.symbol_latex.get(name) or printer.doprint(sp.Symbol(name)), meaning)
    for name, (_, arity) in scope.ns.functions.items():
        rewrite = scope.definitions.get(name)
        params = rewrite.params if rewrite is not None else ()
        variable = params[0].name if len(params) == 1 and params[0].name in scope.ns.symbols else ""
        matrix = rewrite is not None and is_matrix(rewrite.body, scope.shapes)
        meaning = Resolved(name, arity, subscript=name in scope.subscript, variable=variable, matrix=matrix)
        names.add(scope.function_latex.get(name) or printer.doprint(sp.Symbol(name)), meaning)
    return names


Aliases = tuple[tuple[tuple[str, ...], str], ...]


def read_aliases(spec: ProblemSpec, scope: Scope, issues: list[SpecIssue]) -> Aliases:
    """A problem's `aliases:` as (the tokens of the written LaTeX, the spec expression), each
    key tokenised and each expression parsed now: an issue at its line otherwise."""
    out = []
    for written, target in spec.aliases:
        try:
            tokens = tuple(tokenize(written.value))
        except LatexError as exc:
            issues.append(SpecIssue(written.loc, f"alias {written.value!r}: {exc}"))
            continue
        if parse_text(target, scope, issues) is not None:
            out.append((tokens, target.value))
    return tuple(out)
