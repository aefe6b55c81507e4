"""BM25 over the same chunks as the vector store, as a sparse matrix (fast at 100k chunks)."""

from __future__ import annotations

from collections import Counter
from typing import Sequence

import numpy as np
from scipy import sparse

from assistant.text import tokens
from assistant.types import Chunk


class BM25Index:
    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75):
        self.vocab: dict[str, int] = {}
        rows, cols, vals = [], [], []
        lengths = np.zeros(len(texts), dtype=np.float32)
        for i, t in enumerate(texts):
            counts = Counter(tokens(t))
            lengths[i] = sum(counts.values())
            for w, n in counts.items():
                j = self.vocab.setdefault(w, len(self.vocab))
                rows.append(i)
                cols.append(j)
                vals.append(n)
        n_docs = max(1, len(texts))
        tf = sparse.csr_matrix((np.array(vals, dtype=np.float32), (rows, cols)), shape=(len(texts), len(self.vocab)))
        df = np.bincount(np.array(cols, dtype=np.int64), minlength=len(self.vocab)).astype(np.float32)
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
