"""Exact in-memory dense search against Chroma's HNSW, the refusal signals and their calibration.

Uses the real knowledge-base index (real model, real embedded Chroma) from conftest's ``kb``.
"""

from __future__ import annotations

import numpy as np
import pytest

from assistant.retrieval import search as retrieve
from assistant.api import Assistant
from assistant.retrieval.filters import Filters
from evals.bench import slice_sources
from assistant.answering.answerability import Answerability

QUERIES = [
    ("What must our contract say about data encryption?", {}),
    ("right to audit subcontractors", {"doc_type": ["contract"]}),
    ("overtime findings", {"vendor": ["Bluepeak"]}),
    ("How quickly must a vendor tell us about a data breach?", {}),
]


@pytest.mark.integration
def test_corpus_keeps_the_stored_vectors(kb):
    corpus = kb.retriever.corpus
    assert corpus.vectors is not None and corpus.vectors.shape == (len(corpus.chunks), kb.embedder.dimension)
    np.testing.assert_allclose(np.linalg.norm(corpus.vectors, axis=1), 1.0, atol=1e-3)
    some = corpus.chunks[len(corpus.chunks) // 2]
    stored = kb.store.col.get(ids=[some.id], include=["embeddings"])["embeddings"][0]
    np.testing.assert_allclose(corpus.vectors[corpus.by_id[some.id]], stored, atol=1e-6)


@pytest.mark.integration
@pytest.mark.parametrize("query,filters", QUERIES)
def test_exact_dense_search_agrees_with_chroma(kb, monkeypatch, query, filters):
    """The in-memory path returns what Chroma's (filtered) HNSW search returns on this small index."""
    f = Filters.from_dict(filters, "admin")
    routing = kb.retriever.route(query, f)
    exact = kb.retriever.search_routed(routing, 8)
    monkeypatch.setattr(retrieve, "EXACT_MAX", -1)  # every search goes to Chroma
    via_chroma = kb.retriever.search_routed(kb.retriever.route(query, f), 8)
    assert [c.id for c in exact] == [c.id for c in via_chroma]
    assert exact[0].signals["dense_max"] == pytest.approx(via_chroma[0].signals["dense_max"], abs=1e-4)


@pytest.mark.integration
def test_answer_embeds_the_question_once(kb):
    calls: list[list[str]] = []
    real = kb.embedder

    class Counting:
        name, dimension = real.name, real.dimension

        def embed(self, texts, batch_size=64):
            calls.append(list(texts))
            return real.embed(texts, batch_size)

    a = Assistant(kb.settings, Counting(), kb.store, kb.manifest)
    q = "What must our contract say about data encryption?"
    ans = a.ask(q)
    assert not ans.refused and ans.citations
    assert calls[0] == [q]
    assert all(q not in batch for batch in calls[1:]), "the question was embedded again for sentence scoring"


@pytest.mark.integration
def test_the_gate_applies_to_routed_questions_too(kb):
    """Naming a vendor narrows the search; it never bypasses the answerability decision."""
    strict = Assistant(kb.settings, kb.embedder, kb.store, kb.manifest,
                       answerability=Answerability(weights={"focus_sent": 1.0}, bias=0.0, threshold=1.01))
    lenient = Assistant(kb.settings, kb.embedder, kb.store, kb.manifest, answerability=Answerability(threshold=0.0))
    q = "What did the Bluepeak audits find about overtime?"
    refused = strict.ask(q)
    assert refused.refused and refused.filters.get("vendor") == "Bluepeak" and refused.signals["routed"] == 1.0
    assert not lenient.ask(q).refused


@pytest.mark.integration
def test_a_document_picked_by_its_place_in_time_is_searched_and_cited(kb):
    """"The first Bluepeak audit", "the latest Meridian follow-up": the vendor's oldest audit report or newest
    follow-up note of the real knowledge base is searched, and the answer quotes it."""
    auditor = Filters.from_dict({}, "auditor")
    first = kb.retriever.route("What did the first Bluepeak audit find about overtime?", auditor)
    assert first.filters.source == ["audits/bluepeak-audit-2023-12-05.md"]
    latest = kb.retriever.route("What did the latest Meridian follow-up conclude?", auditor)
    assert latest.filters.source == ["audits/meridian-follow-up-2026-01-20.md"]
    ans = kb.ask("What did the most recent Northwind follow-up note say about leavers keeping access?", role="auditor")
    assert not ans.refused
    assert {c.source for c in ans.citations} == {"audits/northwind-follow-up-2026-03-12.md"}


@pytest.mark.unit
def test_bench_slices_whole_documents():
    docs = [("a.txt", 5), ("b.txt", 7), ("c.txt", 3)]
    assert slice_sources(docs, 1) == ["a.txt"]
    assert slice_sources(docs, 6) == ["a.txt", "b.txt"]
    assert slice_sources(docs, 100) == ["a.txt", "b.txt", "c.txt"]


@pytest.mark.unit
def test_an_assistant_gives_numpy_blas_one_thread(tmp_path):
    """numpy's BLAS threads starve the embedding model's on a small machine (assistant/core/threads.py)."""
    from threadpoolctl import threadpool_info

    from tests.fakes import fake_assistant

    fake_assistant(tmp_path)
    blas = [p for p in threadpool_info() if p["user_api"] == "blas"]
    assert blas and all(p["num_threads"] == 1 for p in blas)


@pytest.mark.unit
def test_a_blas_library_loaded_after_the_assistant_gets_one_thread_too(tmp_path):
    import os

    from tests.fakes import fake_assistant

    fake_assistant(tmp_path)
    assert os.environ.get("OPENBLAS_NUM_THREADS") == "1"  # read by any OpenBLAS loaded from now on
