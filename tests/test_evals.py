"""CI quality gate: the golden set must stay above the thresholds stored in evals/thresholds.yaml."""

from __future__ import annotations

import pytest

from evals.quality import evaluate, load_golden, load_thresholds
from ingest.loaders import load
from tests.conftest import KNOWLEDGE

pytestmark = pytest.mark.integration


def test_golden_set_shape_and_key_facts_exist():
    g = load_golden()
    assert len(g["answerable"]) >= 60 and len(g["refuse"]) >= 20 and len(g["conversations"]) >= 10
    assert {it["user"] for it in g["answerable"]} == {"manager", "new_staff", "auditor"}
    for it in g["answerable"]:
        texts = [load(KNOWLEDGE / s, s).text.lower() for s in it["expected_sources"]]
        for fact in it["key_facts"]:
            assert any(fact.lower() in t for t in texts), (it["id"], fact)


def test_quality_above_thresholds(kb):
    res = evaluate(kb)
    thresholds = load_thresholds()
    low = {k: round(res.metrics[k], 3) for k, t in thresholds.items() if res.metrics[k] < t}
    assert not low, f"quality below threshold: {low}; failures: {res.failures[:10]}"
