"""In-memory fakes for fast unit tests: a store with Chroma's read API and ``where`` semantics."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from assistant.core.embeddings import FakeEmbedder
from assistant.core.store import chunk_from, chunk_metadata
from assistant.core.types import Chunk
from ingest.split import approx_tokens, split


def matches(meta: dict[str, Any], where: dict[str, Any] | None) -> bool:
    """Chroma's ``where`` semantics for the operators the assistant uses."""
    if not where:
        return True
    if "$and" in where:
        return all(matches(meta, w) for w in where["$and"])
    if "$or" in where:
        return any(matches(meta, w) for w in where["$or"])
    (key, cond), = where.items()
    value = meta.get(key)
    (op, arg), = cond.items()
    if op == "$in":
        return value in arg
    if op == "$contains":
        return isinstance(value, list) and arg in value
    if value is None:
        return False
    return value >= arg if op == "$gte" else value <= arg


class MemoryStore:
    """What ``Retriever`` needs from ``ChromaStore``, in memory (metadata stored the way Chroma stores it)."""

    def __init__(self, chunks: Sequence[Chunk], embedder: FakeEmbedder):
        self.rows = [(c.id, c.text, chunk_metadata(c)) for c in chunks]
        self.vectors = embedder.embed([f"{c.title} > {c.section}\n{c.text}" for c in chunks]) if chunks else np.zeros((0, embedder.dimension), np.float32)
        self.queries = 0

    def get_with_vectors(self) -> tuple[list[Chunk], np.ndarray]:
        return [chunk_from(cid, text, meta) for cid, text, meta in self.rows], self.vectors

    def query(self, vector: np.ndarray, n: int, where: dict[str, Any] | None = None) -> list[Chunk]:
        self.queries += 1
        sims = self.vectors @ vector
        order = [i for i in np.argsort(-sims, kind="stable") if matches(self.rows[i][2], where)][:n]
        return [chunk_from(*self.rows[i], score=float(sims[i])) for i in order]


def chunks_of(docs: Sequence[Any], chunk_size: int = 120) -> list[Chunk]:
    """Split ``Document``s with the real splitter and a character-based token count."""
    from assistant.core.findings import tag_chunks

    out: list[Chunk] = []
    for d in docs:
        cs = split(d, approx_tokens, chunk_size, 16)
        tag_chunks(d.metadata.get("findings") or [], cs)
        out += cs
    return out


def fake_answerability():
    """A fixed answerability model for the fakes: answer when the selected units cover the
    question's words and the knowledge base knows them (the hashing embedder's similarities are
    not on the real model's scale, so the fitted model does not apply), or when the finding register
    holds the findings a question asks for."""
    from assistant.answering.answerability import Answerability

    return Answerability(weights={"focus_sent": 6.0, "unknown": -6.0, "findings_matched": 2.0}, bias=-1.0, threshold=0.5)


def fake_assistant(tmp: Path):
    """An ``Assistant`` over the unit corpus with the hashing embedder and the in-memory store."""
    from assistant.api import Assistant
    from assistant.core.settings import Settings
    from tests.unit_corpus import documents

    emb = FakeEmbedder(dimension=256)
    settings = Settings(knowledge_root=tmp, index_dir=tmp / "index", feedback_db=tmp / "fb.sqlite3")
    return Assistant(settings, emb, MemoryStore(chunks_of(documents()), emb), answerability=fake_answerability())
