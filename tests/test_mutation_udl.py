"""The udl set's wrong steps (see tests/mutation.py) are rejected or known true steps, on a
sample: every 40th mutant of each problem (the set has about 4000; the full run is
`python -m tests.mutation udl`, recorded in docs/performance.md). A module of its own, so that
pytest-xdist runs it beside the sample of the other sets."""

from __future__ import annotations

import pytest

from tests.mutation import NOT_WRONG, PROVED, describe, run_all
from tests.test_mutation import KNOWN

UDL_SAMPLE = 40


@pytest.mark.slow
def test_a_sample_of_the_udl_mutants_is_rejected_or_a_known_survivor() -> None:
    """Rejected, equivalent (accepted with proof), or a listed true step
    (tests/mutation_survivors.txt)."""
    results = run_all(["udl"], every=UDL_SAMPLE)
    survivors = {describe(m) for m, ok, msg in results if not ok and not msg.startswith((PROVED, NOT_WRONG))}
    known = {line for line in KNOWN.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")}
    assert len({m.stem for m, _, _ in results}) == 49
    assert len(results) >= 80
    assert sorted(survivors - known) == []
