"""Retrieval with fakes (hashing embedder, in-memory store): hybrid ranking, filters in both
searches, current finding status, routing and coverage. Fast; the same paths run on the real
model and Chroma in test_assistant.py and test_retrieval_paths.py."""

from __future__ import annotations

import itertools

import pytest

from assistant.core.embeddings import FakeEmbedder
from assistant.retrieval import search as search_mod
from assistant.retrieval.filters import Filters, where
from assistant.retrieval.search import Retriever, balanced, rrf
from tests.fakes import MemoryStore, chunks_of, matches
from tests.unit_corpus import documents

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def retriever() -> Retriever:
    emb = FakeEmbedder(dimension=256)
    return Retriever(MemoryStore(chunks_of(documents()), emb), emb)


def test_hybrid_search_ranks_the_chunk_that_answers_first(retriever):
    hits = retriever.search("notify security incident hours", k=3, route=False)
    assert hits[0].source in ("guidance/security.md", "contracts/northwind.md")
    assert all("fused" in h.signals for h in hits)
    assert hits[0].signals["dense_max"] > 0
    top = retriever.search("AES-256 encryption at rest", k=1, route=False)[0]
    assert "AES-256" in top.text


def test_filters_hold_in_both_searches(retriever):
    f = Filters.from_dict({"doc_type": "contract"}, role="staff")
    hits = retriever.search("agents overtime hours week", k=10, filters=f, route=False)
    assert hits and all(h.doc_type == "contract" for h in hits)
    assert all(h.metadata.get("audience", "all") == "all" for h in hits)  # Bluepeak's agreement is managers-only
    manager = retriever.search("agents overtime hours week", k=3, filters=Filters.from_dict({}, role="manager"), route=False)
    assert manager[0].source == "contracts/bluepeak.md"


def test_date_and_tag_filters(retriever):
    f = Filters.from_dict({"date_from": "2024-06-01", "tags": ["audit"]}, role="admin")
    hits = retriever.search("finding", k=10, filters=f, route=False)
    assert hits and {h.source for h in hits} <= {"audits/northwind-2024.md", "audits/northwind-2025.md"}


def test_mask_and_chroma_where_select_the_same_rows(retriever):
    """One filter spec: the in-memory mask and the compiled Chroma ``where`` agree on every row."""
    corpus = retriever.corpus
    store_rows = retriever.store.rows
    specs = [
        {"doc_type": "contract"}, {"vendor": ["Northwind", "Bluepeak"]}, {"date_from": "2024-01-01"},
        {"date_to": "2024-12-31"}, {"tags": ["audit", "payroll"]}, {"source": "contracts/clauses.md"},
        {"severity": "critical"}, {"status": "open"},
    ]
    for a, b in itertools.combinations_with_replacement(specs, 2):
        for role in ("staff", "auditor"):
            f = Filters.from_dict({**a, **b}, role=role)
            clauses = f.clauses(retriever.finding_ids(f))
            mask = corpus.mask(clauses)
            w = where(clauses)
            by_id = {cid: matches(meta, w) for cid, _, meta in store_rows}
            assert [by_id[c.id] for c in corpus.chunks] == list(mask), (a, b, role)


def test_status_filter_uses_the_latest_audit(retriever):
    current = retriever.corpus.findings
    assert current["ZZ-1"]["status"] == "closed" and current["ZZ-1"]["source"] == "audits/northwind-2025.md"
    assert current["ZZ-2"]["status"] == "open" and current["ZZ-2"]["first_source"] == "audits/northwind-2024.md"
    hits = retriever.search("leavers access payroll", k=10, filters=Filters.from_dict({"status": "open"}, role="auditor"), route=False)
    assert hits and {h.metadata["finding_id"] for h in hits} == {"ZZ-2"}


def test_vendor_and_document_routing(retriever):
    r = retriever.route("What does the Northwind contract say about incidents?", Filters())
    assert r.filters.vendor == ["Northwind"] and r.notes
    r = retriever.route("Consider the Payroll agreement with Northwind; how fast must they notify us?", Filters())
    assert r.filters.source == ["contracts/northwind.md"] and r.query == "how fast must they notify us?"
    assert retriever.route("How do we encrypt data?", Filters()).notes == []


def test_a_document_picked_by_its_place_in_time(retriever):
    auditor = Filters.from_dict({}, "auditor")
    first = retriever.route("What did the first Northwind audit find about leavers?", auditor)
    assert first.filters.source == ["audits/northwind-2024.md"] and first.reference == "first Northwind audit"
    latest = retriever.route("What did the latest follow-up say about the late breach notice?", auditor)
    assert latest.filters.source == ["audits/northwind-2025.md"]
    assert latest.query == "What did the latest follow-up say about the late breach notice?"  # the question is kept whole
    # a follow-up note is not an audit report, and a document the role may not see is never picked
    assert retriever.route("What did the latest Northwind audit find?", auditor).filters.source == ["audits/northwind-2024.md"]
    assert retriever.route("What did the latest follow-up say?", Filters.from_dict({}, "staff")).filters.source == []
    # "last"/"first" that do not pick a document: a clause, a time, a document of no such kind
    for q in ("Does the last audit right clause survive termination?", "When was Northwind last audited?",
              "What did the first thing the audit found say?", "What did the latest audits find?",
              "The first Northwind audit flagged leavers keeping access. Has that been fixed since?", "What recovery time did the latest Northwind continuity test show?"):
        r = retriever.route(q, auditor)
        assert r.filters.source == [] and r.reference == "", q
    assert retriever.route("What did the first Bluepeak audit find?", auditor).filters.source == []  # Bluepeak has none



def test_a_document_picked_by_the_month_it_is_dated_in(retriever):
    auditor = Filters.from_dict({}, "auditor")
    r = retriever.route("As of the October 2024 check-in, why was the leavers finding still open?", auditor)
    assert r.filters.source == ["audits/northwind-2024.md"] and r.reference == "October 2024 check-in"
    assert retriever.route("In the September 2025 Northwind review, what was closed?", auditor).filters.source == [
        "audits/northwind-2025.md"]
    for q in ("What changed between the October 2024 audit and the September 2025 follow-up?",  # two documents
              "Has the leavers finding been fixed since the October 2024 audit?",  # what came after it
              "What did the March 2025 audit find?",  # no document of that month
              "Which vendors were late with their October 2024 monthly KPI reports?",  # not an audit document
              "Did the Northwind contract already forbid what the October 2024 audit found?"):  # a contract asked too
        assert retriever.route(q, auditor).filters.source == [], q


def test_a_status_asked_of_findings_already_picked_is_not_a_filter(retriever):
    auditor = Filters.from_dict({}, "auditor")
    assert retriever.route("Which findings are still open at Northwind?", auditor).filters.status == ["open"]
    assert retriever.route("Which findings have been closed?", auditor).filters.status == ["closed"]
    for q in ("What problems did the 2024 Northwind audit find, and are either of them still open?",
              "Which audit findings were rated critical, and are any of them still unresolved?",
              "What did the auditors flag about leavers, and has it been closed?"):
        assert retriever.route(q, auditor).filters.status == [], q


def test_a_severity_filters_findings_picked_not_the_rule_for_them(retriever):
    auditor = Filters.from_dict({}, "auditor")
    assert retriever.route("Which critical findings are still open?", auditor).filters.severity == ["critical"]
    assert retriever.route("Which high findings must Northwind still fix?", auditor).filters.severity == ["high"]
    # the rule for findings of a severity is the standard's to give, not the findings'
    assert retriever.route("How quickly must critical findings be fixed?", auditor).filters.severity == []
    assert retriever.route("What should a vendor do about high findings after an audit?", auditor).filters.severity == []


def test_exact_dense_search_matches_the_store_query(retriever, monkeypatch):
    f = Filters.from_dict({"doc_type": "contract"}, role="admin")
    exact = retriever.search("subcontract approval", k=4, filters=f, route=False)
    monkeypatch.setattr(search_mod, "EXACT_MAX", -1)  # every search goes to the store's query
    before = retriever.store.queries
    via_store = retriever.search("subcontract approval", k=4, filters=f, route=False)
    assert retriever.store.queries == before + 1
    assert [c.id for c in exact] == [c.id for c in via_store]


def test_coverage_and_fusion(retriever):
    hits = retriever.search("encrypt data at rest", k=3, route=False)
    assert retriever.coverage("encrypt data at rest", hits) == 1.0
    assert retriever.coverage("xylophone franchise", hits) == 0.0
    assert rrf([[1, 2], [2, 3]]) == pytest.approx({1: 1 / 61, 2: 1 / 62 + 1 / 61, 3: 1 / 62})


def test_a_question_naming_two_vendors_sees_both():
    # vendor B's only chunk is ranked 5th: with k=4 it still gets a place, the rest go by rank, in rank order
    assert balanced([10, 11, 12, 13, 14, 15], 4, ["A", "A", "A", "A", "B", "A"]) == [10, 11, 12, 14]
    assert balanced([10, 11, 12], 4, ["A", "B", "A"]) == [10, 11, 12]  # fewer than k: all of them
    assert balanced([10, 11, 12, 13], 2, ["A", "A", "B", "B"]) == [10, 12]


def test_only_the_groups_kept_have_places_set_aside():
    # the contract's chunks (True) are guaranteed half the places; the others take what is left by rank
    assert balanced([10, 11, 12, 13, 14, 15], 4, [False, False, False, True, False, True], reserved=bool) == [10, 11, 13, 15]
    assert balanced([10, 11, 12, 13], 2, [True, False, False, False], reserved=bool) == [10, 11]


def test_a_question_asking_which_vendors_sees_each_vendors_best_chunk(retriever):
    r = retriever.route("Which of our vendors must notify a security incident within 24 hours?", Filters())
    assert r.across and not r.filters.vendor
    # one place is kept for each vendor's best chunk, however the guidance ranks
    assert {"Northwind", "Bluepeak"} <= {h.metadata.get("vendor") for h in retriever.search_routed(r, 3)}
    assert not retriever.route("What must the Northwind contract say, and which vendors does it cover?", Filters()).across
    assert not retriever.route("Which vendors does Northwind use?", Filters()).across  # a vendor named: its documents


def test_a_question_about_a_vendors_contract_keeps_places_for_the_contract(retriever):
    r = retriever.route("What does the Northwind contract say about notifying a security incident?", Filters())
    assert r.terms and r.vendor_named
    assert "contract" in [h.doc_type for h in retriever.search_routed(r, 4)]
    # a question about its audits or findings, or one naming no vendor, is ranked as before
    assert not retriever.route("Which Northwind audit findings concern the contract?", Filters()).terms
    assert not retriever.route("What must our contracts say about incidents?", Filters()).terms
    # what two vendors it compares must do is their contracts' to say ("how long does each one get to report ...?")
    assert retriever.route("Northwind vs Bluepeak: how long does each one get to report an incident?", Filters()).terms
    assert not retriever.route("Northwind vs Bluepeak: how quickly did each report the incident?", Filters()).terms
    assert not retriever.route("How long does Northwind have to report a security incident?", Filters()).terms  # one


def test_routed_search_embeds_the_question_once(retriever, monkeypatch):
    calls = []
    real = retriever.embedder.embed
    monkeypatch.setattr(retriever.embedder, "embed", lambda texts: calls.append(list(texts)) or real(texts))
    r = retriever.route("What do the Northwind and Bluepeak contracts say about incidents?", Filters())
    assert sorted(r.filters.vendor) == ["Bluepeak", "Northwind"]
    first = retriever.search_routed(r, 4)
    again = retriever.search_routed(r, 4)
    assert calls == [[r.query]] and [c.id for c in first] == [c.id for c in again]
    assert {c.metadata.get("vendor") for c in first} == {"Bluepeak", "Northwind"}


def test_a_question_naming_one_vendor_also_sees_the_rules(retriever):
    """A named vendor narrows the search to its documents, and a third as many chunks again come from documents of
    no vendor (standards, guidance): what the rules say often answers a question about one vendor."""
    r = retriever.route("What does Northwind have to do when a security incident happens?", Filters())
    assert r.vendor_named and r.filters.vendor == ["Northwind"]
    vendors = [h.metadata.get("vendor") for h in retriever.search_routed(r, 3)]
    assert vendors == ["Northwind"] * 3 + [None]
    # a vendor filter the caller sets is kept strictly
    strict = retriever.search("security incident", k=6, filters=Filters.from_dict({"vendor": "Northwind"}, "admin"))
    assert strict and {h.metadata.get("vendor") for h in strict} == {"Northwind"}
    # ... and so is a reference to one document
    doc = retriever.route("Consider contracts/northwind.md; what happens after a security incident?", Filters())
    assert doc.filters.source == ["contracts/northwind.md"]
    assert not doc.vendor_named
