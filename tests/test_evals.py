"""CI quality gate: the golden set's held-out split must stay above evals/thresholds.yaml (quality)."""

from __future__ import annotations

import pytest

from evals.quality import evaluate, load_golden, load_thresholds, select, split_of
from ingest.loaders import load
from tests.conftest import KNOWLEDGE

pytestmark = pytest.mark.integration


def test_golden_set_shape_and_key_facts_exist():
    g = load_golden()
    assert len(g["answerable"]) >= 200 and len(g["refuse"]) >= 100 and len(g["conversations"]) >= 10
    assert sum(it["kind"] == "domain_adjacent" for it in g["refuse"]) >= 60
    assert {it["user"] for it in g["answerable"]} == {"manager", "new_staff", "auditor"}
    ids = [it["id"] for key in ("answerable", "refuse", "conversations") for it in g[key]]
    assert len(ids) == len(set(ids))
    for it in g["answerable"]:
        texts = [load(KNOWLEDGE / s, s).text.lower() for s in it["expected_sources"]]
        for fact in it["key_facts"]:
            assert any(fact.lower() in t for t in texts), (it["id"], fact)


def test_the_split_is_stable_and_about_sixty_forty():
    g = load_golden()
    assert split_of("ga-001") == split_of("ga-001")
    held = select(g, "heldout")
    share = len(held["answerable"]) / len(g["answerable"])
    assert 0.3 < share < 0.5


def test_quality_above_thresholds(kb):
    res = evaluate(kb, split="heldout")
    thresholds = load_thresholds()
    low = {k: round(res.metrics[k], 3) for k, t in thresholds.items() if res.metrics[k] < t}
    assert not low, f"held-out quality below threshold: {low}; failures: {res.failures[:10]}"
