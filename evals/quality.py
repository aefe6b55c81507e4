"""Quality on the golden set: retrieval, citations, refusals and two-turn conversations."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from assistant.answering import verify
from assistant.core.types import Answer

GOLDEN = Path(__file__).resolve().parent / "golden.yaml"
THRESHOLDS = Path(__file__).resolve().parent / "thresholds.yaml"
ROLE = {"manager": "manager", "new_staff": "staff", "auditor": "auditor"}


def load_golden(path: Path = GOLDEN) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@dataclass
class QualityResult:
    metrics: dict[str, float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    # (dense similarity, query coverage) of questions that reached the refusal decision unrouted
    relevance: dict[str, list[tuple[float, float]]] = field(default_factory=dict)


def _doc_ranking(chunks) -> list[str]:
    out: list[str] = []
    for c in chunks:
        if c.source not in out:
            out.append(c.source)
    return out


def _facts_cited(ans: Answer, facts: list[str]) -> tuple[int, list[str]]:
    quotes = " ".join(c.quote for c in ans.citations).lower()
    missing = [f for f in facts if f.lower() not in quotes]
    return len(facts) - len(missing), missing


def _citation_precision(assistant, ans: Answer) -> tuple[int, int]:
    """Citations whose quote supports the statement that cites them (lexical + embedding)."""
    by_n = {c.n: c for c in ans.citations}
    good = total = 0
    for st in ans.statements:
        for n in st.citations:
            c = by_n.get(n)
            if c is None:
                continue
            total += 1
            chunk = next((s for s in ans.sources if s.id == c.chunk_id), None)
            if chunk is None or chunk.text[c.start - chunk.start : c.end - chunk.start] != c.quote:
                continue
            sup = verify.support(st.text, chunk, assistant.embedder)
            if verify.is_supported(sup, with_embeddings=True):
                good += 1
    return good, total


def _signals(ans: Answer) -> tuple[float, float]:
    return ans.timings.get("relevance", 0.0), ans.timings.get("coverage", 0.0)


def evaluate(assistant, golden: dict[str, Any] | None = None) -> QualityResult:
    golden = golden or load_golden()
    res = QualityResult(relevance={"answerable": [], "refuse": []})
    hits1 = hits5 = 0
    mrr = ndcg = 0.0
    cit_good = cit_total = facts_found = facts_total = 0
    false_refusals = 0
    latencies: list[float] = []
    items = golden["answerable"]
    for it in items:
        role = ROLE[it["user"]]
        filters = it.get("filters") or {}
        expected = set(it["expected_sources"])
        ranked = _doc_ranking(assistant.search(it["question"], k=20, filters=filters, role=role))[:10]
        rank = next((i + 1 for i, s in enumerate(ranked) if s in expected), None)
        hits1 += rank == 1
        hits5 += rank is not None and rank <= 5
        mrr += 1.0 / rank if rank else 0.0
        dcg = sum(1 / math.log2(i + 2) for i, s in enumerate(ranked) if s in expected)
        idcg = sum(1 / math.log2(i + 2) for i in range(min(len(expected), 10)))
        ndcg += dcg / idcg
        if rank is None or rank > 5:
            res.failures.append(f"{it['id']} retrieval: expected {sorted(expected)} not in top 5 ({ranked[:5]})")
        ans = assistant.ask(it["question"], filters=filters, role=role)
        latencies.append(ans.timings.get("total_ms", 0.0))
        if not ans.timings.get("routed"):
            res.relevance["answerable"].append(_signals(ans))
        if ans.refused:
            false_refusals += 1
            res.failures.append(f"{it['id']} false refusal ({ans.refusal_reason}): {it['question']}")
            facts_total += len(it["key_facts"])
            continue
        g, t = _citation_precision(assistant, ans)
        cit_good += g
        cit_total += t
        n, missing = _facts_cited(ans, it["key_facts"])
        facts_found += n
        facts_total += len(it["key_facts"])
        if missing:
            res.failures.append(f"{it['id']} key facts not cited: {missing}")
    false_answers = 0
    for it in golden["refuse"]:
        ans = assistant.ask(it["question"], role="admin")
        if ans.refusal_reason not in ("injection", "out_of_scope") and not ans.timings.get("routed"):
            res.relevance["refuse"].append(_signals(ans))
        if not ans.refused:
            false_answers += 1
            res.failures.append(f"{it['id']} answered but must be refused ({it['kind']}): {it['question']}")
    conv_ok = 0
    for cv in golden["conversations"]:
        role = ROLE[cv["user"]]
        first, second = cv["turns"]
        a1 = assistant.ask(first, role=role)
        history = [{"role": "user", "content": first}, {"role": "assistant", "content": a1.text}]
        a2 = assistant.ask(second, history=history, role=role)
        found, missing = _facts_cited(a2, cv["key_facts"])
        cited = {c.source for c in a2.citations}
        ok = not a2.refused and not missing and bool(cited & set(cv["expected_sources"]))
        conv_ok += ok
        if not ok:
            res.failures.append(
                f"{cv['id']} follow-up not resolved: '{second}' -> '{a2.standalone_question}' "
                f"(refused={a2.refused}, missing={missing}, cited={sorted(cited)})"
            )
    n = len(items)
    res.metrics = {
        "questions": n,
        "hit@1": hits1 / n,
        "hit@5": hits5 / n,
        "mrr": mrr / n,
        "ndcg@10": ndcg / n,
        "citation_precision": cit_good / cit_total if cit_total else 0.0,
        "citation_recall": facts_found / facts_total if facts_total else 0.0,
        "answer_rate_on_answerable": 1 - false_refusals / n,
        "refusal_rate_on_refusable": 1 - false_answers / len(golden["refuse"]),
        "conversations_resolved": conv_ok / len(golden["conversations"]),
        "answer_latency_p50_ms": float(np.percentile(latencies, 50)),
        "answer_latency_p95_ms": float(np.percentile(latencies, 95)),
    }
    return res


def calibrate(res: QualityResult) -> dict[str, Any]:
    """Pick the dense-similarity threshold and query-coverage floor that best separate the
    answerable from the unanswerable questions reaching the decision (routed ones bypass it):
    maximise the worse of answer rate and refusal rate; ties go to the stricter setting."""
    pos, neg = res.relevance["answerable"], res.relevance["refuse"]
    dense = sorted({d for d, _ in pos + neg})
    cuts = [dense[0]] + [(a + b) / 2 for a, b in zip(dense, dense[1:])]
    floors = [round(0.05 * i, 2) for i in range(9)]  # 0.00 .. 0.40
    best_key: tuple[float, float, float] | None = None  # (score, threshold, floor): ties -> stricter
    for t in cuts:
        for fl in floors:
            tpr = sum(d >= t and c >= fl for d, c in pos) / max(1, len(pos))
            tnr = sum(d < t or c < fl for d, c in neg) / max(1, len(neg))
            key = (min(tpr, tnr) + 0.001 * (tpr + tnr), t, fl)
            if best_key is None or key > best_key:
                best_key, rates = key, (tpr, tnr)
    _, threshold, floor = best_key
    return {
        "dense_threshold": round(threshold, 4),
        "coverage_floor": floor,
        "answerable": len(pos),
        "unanswerable": len(neg),
        "answer_rate": round(rates[0], 3),
        "refusal_rate": round(rates[1], 3),
        "note": "Chosen by `python -m evals --calibrate` on evals/golden.yaml over the questions that reach the "
        "refusal decision unrouted: maximises the worse of answer rate and refusal rate (ties: the stricter setting).",
    }


def report_markdown(res: QualityResult, thresholds: dict[str, float]) -> str:
    from evals.common import table

    rows = []
    for k, v in res.metrics.items():
        t = thresholds.get(k)
        status = "" if t is None else ("pass" if v >= t else "FAIL")
        rows.append([k, v if isinstance(v, float) else v, "" if t is None else t, status])
    body = table(["metric", "value", "CI threshold", ""], rows)
    body += "\n\nDefinitions: hit@k / MRR / nDCG@10 over the ranked list of distinct documents returned by "
    body += "`Assistant.search` (role of the asking user, golden filters). Citation precision: share of citations "
    body += "whose quote supports the statement citing it (lexical + embedding check of `assistant/verify.py`). "
    body += "Citation recall: share of key facts that appear inside a cited quote. Refusal: refusable questions "
    body += "(out of scope, not in the knowledge base, prompt injection) that were refused, and answerable ones that were answered.\n"
    body += "\n## Failures\n\n" + ("\n".join(f"- {f}" for f in res.failures) if res.failures else "none") + "\n"
    return body


def load_thresholds(section: str = "quality") -> dict[str, float]:
    """The CI gates of one section of evals/thresholds.yaml (quality, load)."""
    return {k: float(v) for k, v in ((yaml.safe_load(THRESHOLDS.read_text()) or {}).get(section) or {}).items()}


def dumps(res: QualityResult) -> str:
    return json.dumps(res.metrics, indent=2)
