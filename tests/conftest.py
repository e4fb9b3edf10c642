"""Test order for the parallel run (pyproject's addopts: pytest-xdist, one file per worker at a
time): the file with the longest test, the mutation sample, is handed out first, so that the
other worker runs every other file meanwhile."""

from __future__ import annotations

import pytest

FIRST = ("test_mutation.py",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Move the tests of FIRST to the front, keeping every other order."""
    items.sort(key=lambda item: item.path.name not in FIRST)
