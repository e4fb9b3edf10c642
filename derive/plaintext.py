"""Expressions and errors as plain text, for step details and messages.

Rules:
- `plain(expr)` is SymPy's str form, the same bytes under any hash seed (a sum whose terms
  print alike up to their sign is put in one fixed order), cut at 200 characters.
- `failure(exc)` is `Type: first line of the message` of an error raised inside SymPy.
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.printing.str import StrPrinter


def failure(exc: BaseException) -> str:
    """`Type: first line of the message` of an error raised inside SymPy (no traceback)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class StableStr(StrPrinter):
    """SymPy's str printer; a sum with two terms that print alike up to their sign (e.g. -2*E(X)
    and 2*E(X) over symbols that differ only in assumptions), whose order SymPy leaves to the
    hash seed, is printed in one fixed order."""

    def _as_ordered_terms(self, expr: Any, order: Any = None) -> list[Any]:
        terms = super()._as_ordered_terms(expr, order=order)
        alike = [sp.sstr(term).lstrip("-") for term in terms]
        if len(set(alike)) == len(alike):
            return terms
        return sorted(terms, key=lambda term: (sp.sstr(term).lstrip("-"), sp.sstr(term), sp.srepr(term)))


def plain(expr: Any) -> str:
    """An expression as plain text for a step's detail (the same bytes under any hash seed)."""
    text = StableStr().doprint(expr)
    return text if len(text) < 200 else text[:197] + "..."
