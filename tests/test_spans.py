"""Evidence spans: budget cutting, merging with exact offsets, and ``search_spans`` over the
fakes (hashing embedder, in-memory store) and over the real knowledge base."""

from __future__ import annotations

import re

import numpy as np
import pytest

from assistant.core.embeddings import FakeEmbedder
from assistant.core.types import Chunk
from assistant.retrieval import spans
from assistant.retrieval.filters import Filters
from assistant.retrieval.search import Retriever
from evals.legalbench import cut, held_out
from tests.fakes import MemoryStore, chunks_of
from tests.unit_corpus import documents

unit = pytest.mark.unit


@pytest.fixture(scope="module")
def retriever() -> Retriever:
    emb = FakeEmbedder(dimension=256)
    return Retriever(MemoryStore(chunks_of(documents()), emb), emb)


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    return {d.source: d.text for d in documents()}


def _chunk(text: str, start: int, source: str = "doc.md", cid: str = "c") -> Chunk:
    return Chunk(id=cid, text=text, source=source, title="T", doc_type="guidance", section="S",
                 start=start, end=start + len(text), line=1)


def _piece(doc: str, s: int, e: int, chunk: Chunk, score: float = 0.5) -> spans._Piece:
    return spans._Piece(chunk.source, s, e, doc[s:e], score, chunk)


@unit
def test_budget_cut_truncates_the_item_that_crosses_it():
    items = [("a", 0, 600), ("b", 100, 500), ("a", 1000, 1900)]
    assert cut(items, 800) == [("a", 0, 600), ("b", 100, 300)]
    assert cut(items, 600) == [("a", 0, 600)]
    assert sum(e - s for _, s, e in cut(items, 10_000)) == 600 + 400 + 900
    assert cut([], 100) == []
    doc = "First sentence here. Second one follows."
    sp = spans.Span("doc.md", 0, len(doc), doc, 0.9, "c", "S")
    cut_spans = spans.within_budget([sp, sp], 25)
    assert len(cut_spans) == 1 and cut_spans[0].text == doc[:25] and cut_spans[0].end == 25


@unit
def test_held_out_split_is_stable_and_about_a_third():
    names = [f"cuad/contract_{i}.txt" for i in range(600)]
    share = sum(map(held_out, names)) / len(names)
    assert 0.25 < share < 0.42
    assert [held_out(n) for n in names[:50]] == [held_out(n) for n in names[:50]]
    assert held_out("cuad/x.txt") == held_out("other/x.txt")  # the file name decides, not the folder


@unit
def test_merging_keeps_exact_document_offsets():
    doc = "Alpha clause one.  Beta clause two.\n\nGamma clause three. Delta four."
    a = doc.index("Alpha")
    b = doc.index("Beta")
    g = doc.index("Gamma")
    d = doc.index("Delta")
    c1 = _chunk(doc[:g + 5], 0, cid="c1")  # two chunks that overlap on "Gamma"
    c2 = _chunk(doc[g:], g, cid="c2")
    chunks = [c1, c2]
    pieces = [
        _piece(doc, b, doc.index("two.") + 4, c1, 0.8),  # Beta: touches Alpha over white space
        _piece(doc, a, doc.index("one.") + 4, c1, 0.3),
        _piece(doc, d, len(doc), c2, 0.6),  # Delta: separate unless Gamma is chosen
    ]
    merged = spans.merge_pieces(pieces, chunks)
    assert [(p.start, p.end) for p in merged] == [(a, doc.index("two.") + 4), (d, len(doc))]
    for p in merged:
        assert doc[p.start:p.end] == p.text
    assert merged[0].score == 0.8  # a span scores as its best unit
    # Gamma (from chunk 2, overlapping chunk 1's copy of its start) fills the gap: across the blank
    # line (white space, read from chunk 1) everything joins into one exact span.
    pieces.append(_piece(doc, g, doc.index("three.") + 6, c2, 0.5))
    pieces.append(_piece(doc, g, g + 5, c1, 0.2))
    merged = spans.merge_pieces(pieces, chunks)
    assert [(p.start, p.end, p.text) for p in merged] == [(a, len(doc), doc)]
    assert merged[0].chunk is c1  # the chunk holding the span's start (for its line number)
    # Text between that is not white space keeps spans apart.
    doc2 = "One rule here. (x) Another rule."
    c = _chunk(doc2, 0)
    apart = spans.merge_pieces([_piece(doc2, 0, 14, c), _piece(doc2, 19, len(doc2), c)], [c])
    assert len(apart) == 2


@unit
def test_cut_point_stops_early_when_the_evidence_is_clear():
    lengths = np.array([200] * 20)
    clear = np.array([0.9] + [0.01] * 19)
    assert spans.cut_point(clear, lengths, 4000) <= 3
    flat = np.full(20, 0.2)
    assert spans.cut_point(flat, lengths, 4000) == 20  # nothing stands out: fill the budget
    assert spans.cut_point(clear, lengths, 64_000) == 20  # a big budget asks for recall
    assert spans.cut_point(np.zeros(0), np.zeros(0, dtype=int), 4000) == 0


@unit
def test_search_spans_are_exact_within_budget_and_tighter_than_chunks(retriever, texts):
    q = "How quickly must a vendor notify us of a security incident?"
    got = retriever.search_spans(q, budget_chars=300)
    assert got and sum(len(s) for s in got) <= 300
    for s in got:
        assert texts[s.source][s.start:s.end] == s.text
        assert s.chunk_id in retriever.corpus.by_id and 0 <= s.score <= 1
    assert "hours" in got[0].text
    assert got == sorted(got, key=lambda s: -s.score)
    chunks = retriever.search(q, k=1)
    assert len(got[0]) < len(chunks[0].text)
    # The line of a span is the line its start sits on in the file.
    top = got[0]
    c = retriever.corpus.chunks[retriever.corpus.by_id[top.chunk_id]]
    assert top.line == c.line + c.text.count("\n", 0, top.start - c.start)


@unit
def test_search_spans_k_filters_and_document(retriever):
    q = "agents overtime hours week"
    assert len(retriever.search_spans(q, k=1, budget_chars=10_000)) == 1
    staff = retriever.search_spans(q, budget_chars=2000, filters=Filters.from_dict({}, role="staff"))
    assert all(s.source != "contracts/bluepeak.md" for s in staff)  # managers only
    manager = retriever.search_spans(q, budget_chars=2000, filters=Filters.from_dict({}, role="manager"))
    assert manager and manager[0].source == "contracts/bluepeak.md"
    routed = retriever.search_spans("What does it say about incidents?", budget_chars=2000, document="contracts/northwind.md")
    assert routed and {s.source for s in routed} == {"contracts/northwind.md"}
    assert retriever.search_spans("zzzz qqqq", budget_chars=100, filters=Filters(source=["nope.md"])) == []


@unit
def test_features_have_one_column_per_name(retriever):
    chunks = retriever.search("encryption at rest AES-256", k=4, route=False)
    index = spans.span_index(retriever.corpus)
    assert spans.span_index(retriever.corpus) is index  # built once per corpus
    units, x = spans.features(index, "encryption at rest", retriever.embedder.embed(["encryption at rest"])[0], chunks)
    assert x.shape == (len(units.source), len(spans.FEATURES)) and np.isfinite(x).all()
    p = spans.probabilities(x)
    assert ((0 < p) & (p < 1)).all()


@pytest.mark.integration
def test_spans_on_the_knowledge_base_are_exact_and_tighter(kb):
    from ingest.loaders import load

    for q in ("What must our contract say about data encryption?",
              "How quickly must Northwind notify us of a security incident?",
              "What are the audit rights in the subcontracting model clauses?"):
        got = kb.search_spans(q, budget_chars=4000, role="manager")
        chunks = kb.search(q, k=8, role="manager")
        assert got and chunks
        for s in got:
            assert load(kb.settings.knowledge_root / s.source, s.source).text[s.start:s.end] == s.text
        assert sum(len(s) for s in got) <= 4000
        assert sum(len(s) for s in got) < sum(len(c.text) for c in chunks)
        assert len(got[0]) < max(len(c.text) for c in chunks)
        # The best span comes from the retrieved chunks.
        assert any(c.source == got[0].source and c.start <= got[0].start < c.end for c in chunks) or got[0].source in {c.source for c in chunks}


@pytest.mark.unit
def test_unit_spans_cover_every_word_and_never_return_a_heading_alone():
    text = ("5. Exclusions\nThis Agreement does not apply to Confidential Information:\n"
            "(a) already public; or\n(b) independently developed.\n\nThe Recipient shall keep records.")
    got = spans.unit_spans(text, "Agreement")
    covered = set()
    for s, e, _ in got:
        assert text[s:e] == text[s:e].strip() and text[s:e]  # trimmed, non-empty, exact offsets
        covered.update(range(s, e))
    assert all(text[s:e] != "5. Exclusions" for s, e, _ in got)  # the heading is not a candidate
    lead_in = text.index("This Agreement does not apply")
    assert lead_in in covered  # the lead-in after a heading can be returned
    words = [m.start() for m in re.finditer(r"\w", text) if m.start() >= len("5. Exclusions")]
    assert all(i in covered for i in words)  # every word after the heading is in some candidate
