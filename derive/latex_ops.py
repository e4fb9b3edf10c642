"""The calculus operators of student LaTeX, read for derive/latex_in.py's parser (a mixin).

Rules:
- `\\frac{a}{b}` is a quotient, unless both start with d or \\partial: then it is a
  derivative (`\\frac{d^2 y}{d x^2}`, `\\frac{d}{dx} f`), and a derivative of or by a matrix
  is `jacobian`.
- `\\sum`, `\\prod` take `_{k=1}^{n}` and the product that follows as their body; `\\sum_{z}`
  over a finite space is Int; a `\\prod` of matrices is MatProduct.
- `\\int_a^b body dx`; without limits, over the whole space of x (Int) or the real line.
- `\\mathbb{E}[X]` is E(X); `\\mathbb{E}_{v \\sim D, ...}[X]` integrates D times X over each v.
- A bound variable is one declared symbol (`variable`), never a function or indexed name.
- `f'(u)` of a one-argument function is its derivative at u (`prime_derivative`).
"""

from __future__ import annotations

import re
from typing import Any

from derive.latex_tokens import ALIAS, LatexError, Resolved, split_top


class Operators:
    """Fractions and derivatives, sums, products, integrals, expectations; mixed into the
    parser, whose `sub`, `term`, `power`, `mark` and token methods they use."""

    # provided by the parser (derive/latex_in.py)
    matrices: set[str]
    resolve: Any

    def fraction(self) -> str:
        num, den = self.raw_group(), self.raw_group()
        if num and num[0] in ("d", "\\partial") and den and den[0] in ("d", "\\partial") and _is_derivative(num, den):
            return self.derivative(num, den)
        return f"({self.sub(num).sub_expression(self)})/({self.sub(den).sub_expression(self)})"

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
            for tokens in split_top(self.raw_group(), ","):
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


def _is_derivative(num: list[str], den: list[str]) -> bool:
    return num[0] == den[0] and len(den) >= 2


def prime_derivative(call: str, found: Resolved, primes: int) -> str:
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
