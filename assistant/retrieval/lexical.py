"""BM25 over the same chunks as the vector store, as a sparse matrix (fast at 100k chunks)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import sparse

from assistant.core.text import tokens
from assistant.core.types import Chunk


class BM25Index:
    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75):
        self.vocab: dict[str, int] = {}
        vocab = self.vocab
        parts: list[np.ndarray] = []
        lengths = np.zeros(len(texts), dtype=np.int64)
        for i, t in enumerate(texts):
            ids = [vocab.setdefault(w, len(vocab)) for w in tokens(t)]
            lengths[i] = len(ids)
            parts.append(np.array(ids, dtype=np.int64))
        n_docs = max(1, len(texts))
        rows = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        cols = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        # Repeated (row, col) pairs are summed into term counts when the matrix is built.
        tf = sparse.csr_matrix((np.ones(len(cols), dtype=np.float32), (rows, cols)), shape=(len(texts), len(vocab)))
        tf.sum_duplicates()
        df = np.bincount(tf.indices, minlength=len(vocab)).astype(np.float32)
        lengths = lengths.astype(np.float32)
        self.idf = np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        avgdl = float(lengths.mean()) if len(texts) else 1.0
        norm = k1 * (1 - b + b * lengths / max(avgdl, 1e-6))
        tf = tf.tocoo()
        w = tf.data * (k1 + 1) / (tf.data + norm[tf.row]) * self.idf[tf.col]
        self.matrix = sparse.csc_matrix((w.astype(np.float32), (tf.row, tf.col)), shape=tf.shape)
        self.n = len(texts)

    def query_terms(self, query: str) -> list[int]:
        return sorted({self.vocab[w] for w in tokens(query) if w in self.vocab})

    def scores(self, query: str) -> np.ndarray:
        cols = self.query_terms(query)
        if not cols or self.n == 0:
            return np.zeros(self.n, dtype=np.float32)
        return np.asarray(self.matrix[:, cols].sum(axis=1)).ravel()

    def idf_of(self, word: str) -> float:
        j = self.vocab.get(word)
        return float(self.idf[j]) if j is not None else float(self.idf.max(initial=1.0))


def chunk_search_text(c: Chunk) -> str:
    return f"{c.title} {c.section} {c.text}"
