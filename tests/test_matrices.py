"""Matrix expressions: recognition, product chains and their orders, structured random matrices."""

from __future__ import annotations

import random

import pytest
import sympy as sp

from derive.matrices import (construct_factors, is_matrix, parenthesisations, product_factors, random_matrix,
                             rational_orthogonal, structure_relations)
from derive.ops import T, cost, matmul, scale

n, k = sp.symbols("n k", integer=True, positive=True)
A, B, C, D, x = sp.symbols("A B C D x")
SHAPES = {A: (n, k), B: (k, k), C: (k, n), D: (n, n)}


def test_is_matrix() -> None:
    assert is_matrix(A, SHAPES) and is_matrix(matmul(A, B), SHAPES) and is_matrix(-T(A), SHAPES)
    assert is_matrix(scale(A, 2) + A, SHAPES)
    assert not is_matrix(x, SHAPES) and not is_matrix(cost(matmul(A, B)) + 1, SHAPES)


def test_product_chains_and_every_order() -> None:
    assert product_factors(matmul(matmul(A, B), matmul(C, T(matmul(A, B))))) == [A, B, C, T(matmul(A, B))]
    assert [len(parenthesisations([A, B, C, D][:m])) for m in range(1, 5)] == [1, 1, 2, 5]
    orders = parenthesisations([A, B, C, D])
    assert orders[0] == matmul(matmul(matmul(A, B), C), D)  # left to right first
    assert len(set(orders)) == 5 and matmul(A, matmul(B, matmul(C, D))) in orders


def test_structured_random_matrices() -> None:
    rng = random.Random(1)
    q = rational_orthogonal(4, rng)
    assert q.T * q == sp.eye(4) and all(e.is_Rational for e in q)
    u = random_matrix(4, 2, "orthonormal_columns", rng)
    assert u.shape == (4, 2) and u.T * u == sp.eye(2)
    s = random_matrix(3, 3, "positive_diagonal", rng)
    assert all((s[i, j] > 0) if i == j else s[i, j] == 0 for i in range(3) for j in range(3))
    assert random_matrix(2, 2, "identity", rng) == sp.eye(2)
    with pytest.raises(ValueError, match="rows >= columns"):
        random_matrix(1, 2, "orthonormal_columns", rng)


def test_construct_factors_of_a_rank_k_matrix() -> None:
    rng = random.Random(2)
    u, r = random_matrix(4, 2, "orthonormal_columns", rng), random_matrix(4, 2, "orthonormal_columns", rng)
    m = u * random_matrix(2, 2, "positive_diagonal", rng) * r.T
    q, kk = construct_factors(m, 3, rng)
    assert q.shape == kk.shape == (4, 3) and q * kk.T == m and m.rank() == 2
    with pytest.raises(ValueError, match="cannot have rank 2"):
        construct_factors(m, 1, rng)


def test_structure_relations() -> None:
    assert structure_relations({A: (n, k), B: (k, k)}, {A: "orthonormal_columns", B: "identity"}) == \
        [sp.Ge(n, k, evaluate=False)]


def test_permutation_ones_and_invertible_structures() -> None:
    rng = random.Random(5)
    for size in (1, 2, 3, 4):
        q = random_matrix(size, size, "permutation", rng)
        assert q.T * q == sp.eye(size) and sorted(q) == [0] * (size * size - size) + [1] * size
        assert size == 1 or q != sp.eye(size)  # never the identity, which would make every claim trivial
        assert random_matrix(size, size, "invertible", rng).det() != 0
    assert random_matrix(2, 3, "ones", rng) == sp.ones(2, 3)
    with pytest.raises(ValueError, match="square"):
        random_matrix(2, 3, "permutation", rng)
    assert structure_relations({A: (n, k)}, {A: "permutation"}) == [sp.Eq(n, k, evaluate=False)]


def test_entrywise_functions_softmax_inverse_and_grad_are_matrices() -> None:
    from derive.ops import grad, inv, softmax_rows
    assert is_matrix(sp.tanh(A), SHAPES) and is_matrix(A**2, SHAPES) and is_matrix(softmax_rows(D), SHAPES)
    assert is_matrix(inv(B), SHAPES) and is_matrix(grad(x, A), SHAPES) and not is_matrix(sp.tanh(x), SHAPES)
