"""Quality on the golden set: retrieval, answers, citations, refusals and two-turn conversations.

Every item is assigned to a split by a stable hash of its id: 60% ``calibration`` (the refusal
model is fitted there) and 40% ``heldout`` (every reported figure and the CI gate come from it).
"""

from __future__ import annotations

import hashlib
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
PROBES = Path(__file__).resolve().parent / "probes"
ROLE = {"manager": "manager", "new_staff": "staff", "auditor": "auditor"}
USERS = ("manager", "new_staff", "auditor")
CALIBRATION_SHARE = 60  # percent of items in the calibration split
GUARDED = ("injection", "personal_data", "empty", "too_long")  # refused before any evidence is looked at


def split_of(item_id: str) -> str:
    """``calibration`` or ``heldout``, from a stable hash of the id (never from the content)."""
    bucket = int(hashlib.sha256(item_id.encode()).hexdigest()[:8], 16) % 100
    return "calibration" if bucket < CALIBRATION_SHARE else "heldout"


def load_golden(path: Path = GOLDEN) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_probes(folder: Path = PROBES) -> dict[str, Any]:
    """The blind probe sets (``evals/probes``, see its README) as one golden-format set: for the threshold only."""
    out: dict[str, Any] = {"answerable": [], "refuse": [], "conversations": []}
    for path in sorted(folder.glob("set*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for key in ("answerable", "refuse"):
            out[key] += data.get(key) or []
    return out


def select(golden: dict[str, Any], split: str | None) -> dict[str, list[dict[str, Any]]]:
    """The items of one split (None: all of them)."""
    return {key: [it for it in golden.get(key) or [] if split is None or split_of(it["id"]) == split]
            for key in ("answerable", "refuse", "conversations")}


@dataclass
class QualityResult:
    split: str | None
    metrics: dict[str, float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    # (answerability signals, 1 = answerable / 0 = must be refused) of every question that reached the decision
    decisions: list[tuple[dict[str, float], int]] = field(default_factory=list)
    # how many questions each rate is a share of, for its confidence interval (``wilson``)
    counts: dict[str, int] = field(default_factory=dict)


def wilson(rate: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a share ``rate`` of ``n`` questions: how far the rate may lie from what the
    same system would score on another sample of the same size."""
    if n <= 0:
        return 0.0, 1.0
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _doc_ranking(chunks) -> list[str]:
    out: list[str] = []
    for c in chunks:
        if c.source not in out:
            out.append(c.source)
    return out


def _facts_in(text: str, facts: list[str]) -> list[str]:
    low = text.lower()
    return [f for f in facts if f.lower() not in low]


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


def _answer_precision(ans: Answer, expected: set[str]) -> tuple[int, int]:
    """Statements whose citations all come from an expected document."""
    by_n = {c.n: c for c in ans.citations}
    cited = [st for st in ans.statements if st.citations]
    good = sum(1 for st in cited if all(by_n[n].source in expected for n in st.citations if n in by_n))
    return good, len(cited)


@dataclass
class _Tally:
    n: int = 0
    answered: int = 0
    facts: int = 0
    facts_found: int = 0
    prec_good: int = 0
    prec_total: int = 0

    def rates(self) -> tuple[float, float, float]:
        return (self.answered / self.n if self.n else 0.0, self.facts_found / self.facts if self.facts else 0.0,
                self.prec_good / self.prec_total if self.prec_total else 0.0)


def _retrieval(assistant, it: dict[str, Any], role: str) -> tuple[int | None, float]:
    expected = set(it["expected_sources"])
    ranked = _doc_ranking(assistant.search(it["question"], k=20, filters=it.get("filters") or {}, role=role))[:10]
    rank = next((i + 1 for i, s in enumerate(ranked) if s in expected), None)
    dcg = sum(1 / math.log2(i + 2) for i, s in enumerate(ranked) if s in expected)
    idcg = sum(1 / math.log2(i + 2) for i in range(min(len(expected), 10)))
    return rank, dcg / idcg


def evaluate(assistant, golden: dict[str, Any] | None = None, split: str | None = "heldout") -> QualityResult:
    """Ask every item of ``split`` (None: all) and score retrieval, answers and refusals."""
    items = select(golden or load_golden(), split)
    res = QualityResult(split)
    hits1 = hits5 = 0
    mrr = ndcg = 0.0
    cit_good = cit_total = cited_facts = 0
    latencies: list[float] = []
    per_user = {u: _Tally() for u in USERS}
    answerable = items["answerable"]
    for it in answerable:
        role = ROLE[it["user"]]
        rank, nd = _retrieval(assistant, it, role)
        hits1 += rank == 1
        hits5 += rank is not None and rank <= 5
        mrr += 1.0 / rank if rank else 0.0
        ndcg += nd
        if rank is None or rank > 5:
            res.failures.append(f"{it['id']} retrieval: expected {sorted(it['expected_sources'])} not in the top 5")
        ans = assistant.ask(it["question"], filters=it.get("filters") or {}, role=role)
        latencies.append(ans.timings.get("total_ms", 0.0))
        if ans.signals:
            res.decisions.append((ans.signals, 1))
        t = per_user[it["user"]]
        t.n += 1
        t.facts += len(it["key_facts"])
        if ans.refused:
            res.failures.append(f"{it['id']} false refusal ({ans.refusal_reason}): {it['question']}")
            continue
        t.answered += 1
        g, tot = _citation_precision(assistant, ans)
        cit_good, cit_total = cit_good + g, cit_total + tot
        missing = _facts_in(ans.text, it["key_facts"])
        t.facts_found += len(it["key_facts"]) - len(missing)
        cited_facts += len(it["key_facts"]) - len(_facts_in(" ".join(c.quote for c in ans.citations), it["key_facts"]))
        pg, pt = _answer_precision(ans, set(it["expected_sources"]))
        t.prec_good, t.prec_total = t.prec_good + pg, t.prec_total + pt
        if missing:
            res.failures.append(f"{it['id']} key facts missing from the answer: {missing}")
    refused_by_kind: dict[str, list[int]] = {}
    for it in items["refuse"]:
        ans = assistant.ask(it["question"], role=ROLE.get(it.get("user", ""), "admin"))
        if ans.signals and ans.refusal_reason not in GUARDED:
            res.decisions.append((ans.signals, 0))
        refused_by_kind.setdefault(it["kind"], []).append(int(ans.refused))
        if not ans.refused:
            res.failures.append(f"{it['id']} answered but must be refused ({it['kind']}): {it['question']}")
    conv_ok = 0
    for cv in items["conversations"]:
        role = ROLE[cv["user"]]
        first, second = cv["turns"]
        a1 = assistant.ask(first, role=role)
        history = [{"role": "user", "content": first}, {"role": "assistant", "content": a1.text}]
        a2 = assistant.ask(second, history=history, role=role)
        missing = _facts_in(a2.text, cv["key_facts"])
        cited = {c.source for c in a2.citations}
        ok = not a2.refused and not missing and bool(cited & set(cv["expected_sources"]))
        conv_ok += ok
        if not ok:
            res.failures.append(f"{cv['id']} follow-up not resolved: '{second}' -> '{a2.standalone_question}' "
                                f"(refused={a2.refused}, missing={missing}, cited={sorted(cited)})")
    res.metrics = _metrics(len(answerable), hits1, hits5, mrr, ndcg, cit_good, cit_total, cited_facts, per_user,
                           refused_by_kind, conv_ok, len(items["conversations"]), latencies)
    n_refusable = sum(len(xs) for xs in refused_by_kind.values())
    res.counts = {"hit@1": len(answerable), "hit@5": len(answerable), "answer_rate_on_answerable": len(answerable),
                  "refusal_rate_on_refusable": n_refusable,
                  "refusal_rate_domain_adjacent": len(refused_by_kind.get("domain_adjacent", [])),
                  **{f"{u}: answer_rate": per_user[u].n for u in USERS},
                  **{f"refusal_rate: {kind}": len(xs) for kind, xs in refused_by_kind.items()}}
    return res


def _metrics(n: int, hits1: int, hits5: int, mrr: float, ndcg: float, cit_good: int, cit_total: int, cited_facts: int,
             per_user: dict[str, _Tally], refused_by_kind: dict[str, list[int]], conv_ok: int, n_conv: int,
             latencies: list[float]) -> dict[str, float]:
    total = _Tally()
    for t in per_user.values():
        for k in vars(total):
            setattr(total, k, getattr(total, k) + getattr(t, k))
    answer_rate, fact_recall, precision = total.rates()
    refused = [x for xs in refused_by_kind.values() for x in xs]
    adjacent = refused_by_kind.get("domain_adjacent", [])
    m: dict[str, float] = {
        "questions": n,
        "refusable": len(refused),
        "hit@1": hits1 / n if n else 0.0,
        "hit@5": hits5 / n if n else 0.0,
        "mrr": mrr / n if n else 0.0,
        "ndcg@10": ndcg / n if n else 0.0,
        "answer_rate_on_answerable": answer_rate,
        "refusal_rate_on_refusable": sum(refused) / len(refused) if refused else 0.0,
        "refusal_rate_domain_adjacent": sum(adjacent) / len(adjacent) if adjacent else 0.0,
        "key_fact_recall": fact_recall,
        "answer_precision": precision,
        "citation_precision": cit_good / cit_total if cit_total else 0.0,
        "key_facts_in_citations": cited_facts / total.facts if total.facts else 0.0,
        "conversations_resolved": conv_ok / n_conv if n_conv else 0.0,
        "answer_latency_p50_ms": float(np.percentile(latencies, 50)) if latencies else 0.0,
        "answer_latency_p95_ms": float(np.percentile(latencies, 95)) if latencies else 0.0,
    }
    for u, t in per_user.items():
        a, f, p = t.rates()
        m[f"{u}: answer_rate"], m[f"{u}: key_fact_recall"], m[f"{u}: answer_precision"] = a, f, p
    for kind, xs in sorted(refused_by_kind.items()):
        m[f"refusal_rate: {kind}"] = sum(xs) / len(xs)
    return m


def report_markdown(held: QualityResult, thresholds: dict[str, float], calibration: QualityResult | None = None,
                    model_note: str = "") -> str:
    from evals.common import table

    rows = []
    for k, v in held.metrics.items():
        t = thresholds.get(k)
        status = "" if t is None else ("pass" if v >= t else "FAIL")
        cal = calibration.metrics.get(k, "") if calibration else ""
        n = held.counts.get(k)
        interval = "" if n is None else "{:.3f}-{:.3f}".format(*wilson(v, n))
        rows.append([k, v, interval, cal, "" if t is None else t, status])
    body = ("Figures are from the **held-out split** (40% of the golden set by a stable hash of each id, never used "
            "to fit anything). The calibration split (60%) is where the answerability model was fitted; its figures are "
            "**in-sample** and shown only for comparison.\n\n")
    body += table(["metric", "held-out", "held-out 95% interval", "calibration (in-sample)", "CI threshold", ""], rows)
    body += ("\n\nDefinitions: hit@k / MRR / nDCG@10 over the ranked list of distinct documents returned by "
             "`Assistant.search` (role of the asking user, golden filters). Key-fact recall: share of an answerable "
             "question's key facts that appear in the answer text (a refused answer finds none). Answer precision: share "
             "of cited statements whose citations all come from an expected document. Citation precision: share of "
             "citations whose quote supports the statement citing it (lexical + embedding check of "
             "`assistant/answering/verify.py`). Refusal rate: refusable questions (domain-adjacent, not in the knowledge "
             "base, out of scope, prompt injection) that were refused; answer rate: answerable ones that were answered. "
             "Per-user rows split the answerable questions by who asks (manager, new staff, auditor). The 95% interval "
             "of a rate (Wilson score interval over the number of held-out questions it counts) shows how much of a "
             "difference between two reports, or from a target, the sample size alone can explain.\n")
    if model_note:
        body += f"\nAnswerability model: {model_note}\n"
    body += "\n## Held-out failures\n\n" + ("\n".join(f"- {f}" for f in held.failures) if held.failures else "none") + "\n"
    return body


def load_thresholds(section: str = "quality") -> dict[str, float]:
    """The CI gates of one section of evals/thresholds.yaml (quality, load)."""
    return {k: float(v) for k, v in ((yaml.safe_load(THRESHOLDS.read_text()) or {}).get(section) or {}).items()}
