"""Every corpus case (synthetic and recorded from real models) gives its labelled calls."""

from __future__ import annotations

import pytest

from tests.toolcalls.corpus_runner import load_cases, run_case
from tests.toolcalls.tool_set import build_test_registry

CASES = load_cases()
REGISTRY = build_test_registry()


def test_corpus_has_at_least_100_cases_and_20_real_ones():
    assert len(CASES) >= 100
    assert sum(1 for c in CASES if c.get("source", "").startswith("real:")) >= 20


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_corpus_case(case):
    if case.get("xfail"):
        pytest.xfail(case["xfail"])
    outcome = run_case(case, REGISTRY)
    assert outcome.ok, outcome.detail
