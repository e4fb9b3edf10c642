"""Operation counts: matrix expressions run with the textbook algorithms on matrices of given
sizes, counting scalar operations (cost), and the least count over every order of a product
chain (min_cost)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import sympy as sp

from derive.matrices import parenthesisations, product_factors
from derive.ops import T, matmul, scale, softmax_rows


def count_cost(x: Any, sizes: dict[sp.Symbol, tuple[int, int]]) -> int:
    """The scalar operations of x, run on matrices of the given sizes."""
    counter = OpCounter()
    counter.run(x, {s: [[Fraction(1)] * c for _ in range(r)] for s, (r, c) in sizes.items()})
    return counter.count


def least_cost(x: Any, sizes: dict[sp.Symbol, tuple[int, int]]) -> int:
    """The least count over every order of the product chain x, each counted by running it."""
    return min(count_cost(order, sizes) for order in parenthesisations(product_factors(x)))


class OpCounter:
    """Runs matrix expressions with the textbook algorithms, counting scalar operations."""

    def __init__(self) -> None:
        self.count = 0

    def run(self, x: Any, env: dict) -> list[list[Fraction]]:
        """The value of matrix expression x, adding its scalar operations to `count`."""
        if isinstance(x, sp.Symbol):
            return env[x]
        if isinstance(x, T):
            a = self.run(x.args[0], env)
            return [list(col) for col in zip(*a)]
        if isinstance(x, matmul):
            a, b = self.run(x.args[0], env), self.run(x.args[1], env)
            out = []
            for row in a:
                out_row = []
                for col in zip(*b):
                    acc = row[0] * col[0]
                    self.count += 1
                    for u, v in zip(row[1:], col[1:]):
                        acc = acc + u * v
                        self.count += 2
                    out_row.append(acc)
                out.append(out_row)
            return out
        if isinstance(x, scale):
            a = self.run(x.args[0], env)
            self.count += sum(len(r) for r in a)
            return a
        if isinstance(x, softmax_rows):
            a = self.run(x.args[0], env)
            out = []
            for row in a:
                exps = [Fraction(1) for _ in row]  # exp of each entry (values do not matter here)
                self.count += len(row)
                total = exps[0]
                for e in exps[1:]:
                    total += e
                    self.count += 1
                out.append([e / total for e in exps])
                self.count += len(row)
            return out
        raise ValueError(f"cannot run {x}")
