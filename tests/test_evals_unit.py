"""The quality report's arithmetic: confidence intervals of held-out rates (no model, no index)."""

from __future__ import annotations

import pytest

from evals.quality import QualityResult, report_markdown, wilson

pytestmark = pytest.mark.unit


def test_wilson_interval_holds_the_rate_and_narrows_with_more_questions():
    lo, hi = wilson(0.75, 90)
    assert lo < 0.75 < hi
    assert (hi - lo) == pytest.approx(0.18, abs=0.02)  # about +-0.09 on 90 questions
    lo4, hi4 = wilson(0.75, 360)
    assert (hi4 - lo4) < (hi - lo) / 1.8  # four times the questions: about half the width
    # a perfect score is not certain either, and the interval stays within [0, 1]
    lo, hi = wilson(1.0, 20)
    assert hi == pytest.approx(1.0) and 0.8 < lo < 0.9
    assert wilson(0.0, 20)[0] == pytest.approx(0.0)
    assert wilson(0.5, 0) == (0.0, 1.0)


def test_report_shows_an_interval_for_rates_and_none_for_other_figures():
    held = QualityResult("heldout", metrics={"refusal_rate_on_refusable": 0.75, "answer_latency_p95_ms": 70.0},
                         counts={"refusal_rate_on_refusable": 90})
    body = report_markdown(held, {"refusal_rate_on_refusable": 0.72})
    rate_row = next(line for line in body.splitlines() if line.startswith("| refusal_rate_on_refusable"))
    latency_row = next(line for line in body.splitlines() if line.startswith("| answer_latency_p95_ms"))
    lo, hi = wilson(0.75, 90)
    assert f"{lo:.3f}-{hi:.3f}" in rate_row and "pass" in rate_row
    assert "-" not in latency_row.split("|")[3]  # no interval for a latency
