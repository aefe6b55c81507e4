"""Unit embeddings kept across questions (answering/extractive.py): embedded once, reused, bounded, per model."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.answering.extractive import UnitVectors, rank
from assistant.core.types import Chunk

pytestmark = pytest.mark.unit


class CountingEmbedder:
    name = "counting"

    def __init__(self, dimension: int = 2) -> None:
        self.dimension = dimension
        self.calls: list[list[str]] = []

    def embed(self, texts):
        self.calls.append(list(texts))
        return np.array([[float(len(t))] + [1.0] * (self.dimension - 1) for t in texts])


def test_unit_vectors_are_embedded_once_then_reused_and_the_oldest_leave_first():
    cache, emb = UnitVectors(size=3), CountingEmbedder()
    first = cache.embed(emb, ["a", "bb", "a"])
    assert emb.calls == [["a", "bb"]]  # a repeated text is embedded once
    assert first.tolist() == [[1.0, 1.0], [2.0, 1.0], [1.0, 1.0]]
    again = cache.embed(emb, ["bb", "ccc"])
    assert emb.calls[-1] == ["ccc"] and again.tolist() == [[2.0, 1.0], [3.0, 1.0]]
    cache.embed(emb, ["dddd"])  # over the size: the least recently used ("a") goes
    cache.embed(emb, ["a", "bb"])
    assert emb.calls[-1] == ["a"]
    other = CountingEmbedder()
    other.name = "another-model"
    cache.embed(other, ["bb"])  # never reused across models
    assert other.calls == [["bb"]]
    wider = CountingEmbedder(dimension=3)  # same name, another vector length
    assert cache.embed(wider, ["bb"]).shape == (1, 3) and wider.calls == [["bb"]]
    assert (cache.hits, cache.misses) == (3, 7)


def test_ranking_a_passage_again_embeds_none_of_its_units_and_ranks_them_the_same(monkeypatch):
    import assistant.answering.extractive as ex
    from assistant.core.embeddings import FakeEmbedder

    monkeypatch.setattr(ex, "UNIT_VECTORS", UnitVectors())
    text = ("Suppliers report a personal data breach within 24 hours of becoming aware of it. "
            "Invoices are paid within 30 days of receipt. Audits take place once a year on 30 days' notice.")
    chunk = Chunk(id="c1", text=text, source="a.md", title="Terms", doc_type="contract", section="Terms", start=0, end=len(text))
    emb = FakeEmbedder()
    calls: list[int] = []
    real = emb.embed
    emb.embed = lambda texts, batch_size=64: (calls.append(len(texts)), real(texts))[1]
    question = "How soon must a supplier report a data breach?"
    qvec = real([question])[0]
    first = [(x.start, x.end, round(x.score, 6)) for x in rank(question, [chunk], lambda t: 1.0, emb, qvec)]
    assert calls and first
    calls.clear()
    second = [(x.start, x.end, round(x.score, 6)) for x in rank(question, [chunk], lambda t: 1.0, emb, qvec)]
    assert calls == [] and second == first
