"""derive.plaintext: expressions and errors as plain text for messages."""

from __future__ import annotations

import sympy as sp

from derive.ops import E
from derive.plaintext import failure, plain


def test_plain_is_sympy_str_cut_at_200_characters() -> None:
    x = sp.Symbol("x")
    assert plain(x**2 + 1) == "x**2 + 1"
    long = plain(sum(sp.Symbol(f"a{i}") for i in range(100)))
    assert len(long) == 200 and long.endswith("...")


def test_failure_is_type_and_first_line() -> None:
    assert failure(ValueError("bad\nmore")) == "ValueError: bad"
    assert failure(KeyError()) == "KeyError"


def test_plain_detail_text_does_not_depend_on_term_order() -> None:
    """Terms that print alike up to sign (symbols differing only in assumptions) print in one
    order, so a step's detail is the same bytes under any hash seed (hw4 3.2.1 root.1)."""
    g, r, g_real = sp.Symbol("G"), sp.Symbol("R"), sp.Symbol("G", real=True)
    a, b = -2 * E(g**2 * r), 2 * E(g_real**2 * r)
    assert plain(sp.Add(a, b)) == plain(sp.Add(b, a)) == "-2*E(G**2*R) + 2*E(G**2*R)"
    assert plain(sp.Symbol("x") ** 2 + 3 * sp.Symbol("x") + 1) == "x**2 + 3*x + 1"
