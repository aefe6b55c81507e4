"""Evidence spans sized to the question: statement units scored inside the top chunks.

A chunk is the unit the index embeds (~900 characters); the evidence for a question is often
one clause or two sentences of it. ``find_spans`` takes the ranked chunks of a search, cuts
them into statement units (``core.units``: whole clauses and list items, prose sentences, with
exact offsets; text no unit covers is a unit of its own), scores every unit, keeps the units
worth their share of the caller's character budget and merges adjacent ones into ``Span``s with
exact document offsets.

A unit's score is a logistic model over signals that cost no model call at query time:

* the chunk's own rank, dense similarity and BM25 score (the prior);
* the idf-weighted share of the question's terms in the unit, with idf over the whole corpus
  and over the candidate units (a party name that occurs in every clause of the routed
  contract tells none of them apart), and the terms its section heading adds;
* expansion terms: words frequent in the chunks nearest to the question across the caller's
  whole view (pseudo-relevance feedback), so "audit rights" finds "inspect the books";
* a semantic similarity per unit from *term vectors*: each term's vector is the mean of the
  (centred) embeddings of the chunks it occurs in, weighted by BM25, so a unit's vector is the
  idf-weighted mean of its terms' vectors, compared with the (centred) question embedding;
* the strength of its neighbours (evidence runs over consecutive sentences) and its length.

Units come from the snapshot's unit table when there is one (split at ingest, memory-mapped);
a corpus built in memory splits each chunk on first use and caches it.

The weights were fitted on two thirds of the CUAD contracts (``python -m evals.legalbench
--fit-spans``); the other third is held out for the report.
"""

from __future__ import annotations

import re
import threading
import weakref
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from scipy import sparse

from assistant.core.text import tokens, trim
from assistant.core.types import Chunk
from assistant.core.units import last_section, sectioned_units
from assistant.retrieval.span_select import (  # noqa: F401 (Span, within_budget... are this module's API too)
    DEFAULT_BUDGET,
    MAX_GAP,
    RECALL_WEIGHT,
    Span,
    _Piece,
    cut_point,
    merge_pieces,
    select,
    within_budget,
)

CANDIDATE_CHUNKS = 64  # the chunks whose units are scored (a routed contract is ~60 chunks)
EXPANSION_CHUNKS = 30  # nearest chunks across the caller's view that supply expansion terms
EXPANSION_MIN_SHARE = 0.2  # a term must occur in this share of them
_UNIT_CACHE_MAX = 50_000  # chunks whose units are kept tokenised
_WORD = re.compile(r"\w")

FEATURES = (
    "prior", "log_rank", "dense_rel", "no_dense", "lexical",
    "cover", "local", "local_gap", "heading", "neighbour",
    "expansion", "expansion_gap", "semantic", "semantic_gap", "log_len",
)
# Fitted on the CUAD tuning contracts (``python -m evals.legalbench --fit-spans``); a logit.
WEIGHTS: dict[str, float] = {
    "prior": 0.1231,
    "log_rank": -0.3964,
    "dense_rel": 0.0617,
    "no_dense": -0.6319,
    "lexical": 1.0199,
    "cover": 0.5010,
    "local": 1.8956,
    "local_gap": 1.5012,
    "heading": 0.8450,
    "neighbour": 1.3514,
    "expansion": 3.5979,
    "expansion_gap": 4.7363,
    "semantic": 1.1973,
    "semantic_gap": 3.7485,
    "log_len": 0.1535,
}
BIAS = -3.7041


@dataclass
class _Units:
    """The candidate units of one question, as parallel arrays."""

    source: list[str]
    start: np.ndarray  # document offsets
    end: np.ndarray
    chunk: list[Chunk]  # the best-ranked chunk holding the unit
    rank: np.ndarray  # that chunk's rank
    terms: sparse.csr_matrix  # unit x vocabulary, 1 where the unit has the term
    heading_terms: list[frozenset[int]]


class SpanIndex:
    """What span scoring needs from one corpus, built once on first use: the term vectors, the
    term matrix by row, and each chunk's units tokenised (cached)."""

    def __init__(self, corpus: Any):
        self.corpus = corpus
        bm25 = corpus.bm25
        self.vocab: dict[str, int] = bm25.vocab
        self.idf = np.asarray(bm25.idf, dtype=np.float32)
        self.rows = bm25.matrix.tocsr()  # chunk -> its terms, for expansion
        self.mean: np.ndarray | None = None
        self.term_vectors: np.ndarray | None = None
        if corpus.vectors is not None and len(corpus.vectors):
            vectors = np.asarray(corpus.vectors, dtype=np.float32)
            self.mean = vectors.mean(axis=0)
            # X^T (V - mean) without a centred copy of V: X^T V - (X^T 1) mean^T.
            tv = np.asarray(self.rows.T @ vectors, dtype=np.float32)
            tv -= np.asarray(self.rows.sum(axis=0), dtype=np.float32).reshape(-1, 1) * self.mean
            tv /= np.linalg.norm(tv, axis=1, keepdims=True) + 1e-9
            self.term_vectors = tv
        self._units: dict[str, list[tuple[int, int, np.ndarray, frozenset[int]]]] = {}
        self._headings: dict[str, frozenset[int]] = {}  # title + section + heading -> term ids
        self._stored_heads: dict[int, frozenset[int]] = {}  # the same, by the unit table's context number
        self._lock = threading.Lock()

    def term_ids(self, text: str) -> np.ndarray:
        return _term_ids(self.vocab, text)

    def units(self, chunk: Chunk) -> list[tuple[int, int, np.ndarray, frozenset[int]]]:
        """(start, end, term ids, heading term ids) of each candidate unit (``unit_spans``), offsets in the chunk."""
        table = self.corpus.unit_table
        row = self.corpus.by_id.get(chunk.id) if table is not None else None
        if row is not None:  # split when the snapshot was written: no text work at query time
            a, b = (int(x) for x in table["chunk_ptr"][row:row + 2])
            if a == b:
                return []
            ptr = np.asarray(table["terms_ptr"][a:b + 1])  # whole slices: indexing a mapped array per item is slow
            ids = np.asarray(table["terms"][ptr[0]:ptr[-1]], dtype=np.int64)
            parts = np.split(ids, (ptr[1:-1] - ptr[0]).tolist())
            return [(s, e, t, self._stored_heading(h)) for s, e, t, h in zip(
                np.asarray(table["start"][a:b]).tolist(), np.asarray(table["end"][a:b]).tolist(), parts,
                np.asarray(table["head"][a:b]).tolist())]
        got = self._units.get(chunk.id)
        if got is None:
            got = []
            for start, end, heading in unit_spans(chunk.text, chunk.section):
                context = f"{chunk.title} {chunk.section} {heading}"
                head = self._headings.get(context)
                if head is None:
                    head = self._headings[context] = frozenset(self.term_ids(context).tolist())
                got.append((start, end, self.term_ids(chunk.text[start:end]), head))
            with self._lock:
                if len(self._units) >= _UNIT_CACHE_MAX:
                    self._units.clear()
                    self._headings.clear()
                self._units[chunk.id] = got
        return got

    def _stored_heading(self, h: int) -> frozenset[int]:
        got = self._stored_heads.get(h)
        if got is None:
            table = self.corpus.unit_table
            ptr = table["head_ptr"]
            got = self._stored_heads[h] = frozenset(np.asarray(table["head_terms"][ptr[h]:ptr[h + 1]]).tolist())
        return got


def _term_ids(vocab: dict[str, int], text: str) -> np.ndarray:
    return np.array(sorted({vocab[t] for t in tokens(text) if t in vocab}), dtype=np.int64)


UNIT_ARRAYS = ("chunk_ptr", "start", "end", "terms_ptr", "terms", "head", "head_ptr", "head_terms")


def unit_table(corpus: Any) -> dict[str, np.ndarray]:
    """Every chunk's candidate units (``unit_spans``) and their term ids as flat arrays, in
    ``UNIT_ARRAYS`` order: what a snapshot stores so that span search splits no text at query time.
    Units of chunk ``i`` are rows ``chunk_ptr[i]:chunk_ptr[i + 1]``; offsets are within the chunk;
    ``head`` indexes the distinct title + section + heading contexts, whose term ids are ``head_terms``."""
    vocab = corpus.bm25.vocab
    chunk_ptr, start, end, terms_ptr, head, head_ptr = [0], [], [], [0], [], [0]
    terms: list[np.ndarray] = []
    head_terms: list[np.ndarray] = []
    contexts: dict[str, int] = {}
    n_terms = 0
    for c in corpus.chunks:
        for s, e, heading in unit_spans(c.text, c.section):
            context = f"{c.title} {c.section} {heading}"
            h = contexts.get(context)
            if h is None:
                h = contexts[context] = len(contexts)
                head_terms.append(_term_ids(vocab, context))
                head_ptr.append(head_ptr[-1] + len(head_terms[-1]))
            ids = _term_ids(vocab, c.text[s:e])
            terms.append(ids)
            n_terms += len(ids)
            terms_ptr.append(n_terms)
            start.append(s)
            end.append(e)
            head.append(h)
        chunk_ptr.append(len(start))

    def flat(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts).astype(np.int32) if parts else np.zeros(0, dtype=np.int32)

    return {"chunk_ptr": np.array(chunk_ptr, dtype=np.int64), "start": np.array(start, dtype=np.int32),
            "end": np.array(end, dtype=np.int32), "terms_ptr": np.array(terms_ptr, dtype=np.int64), "terms": flat(terms),
            "head": np.array(head, dtype=np.int32), "head_ptr": np.array(head_ptr, dtype=np.int64),
            "head_terms": flat(head_terms)}


def unit_spans(text: str, section: str) -> list[tuple[int, int, str]]:
    """(start, end, heading) of a chunk's candidate units, in order: its statement units except
    headings (a heading is never evidence on its own), and every stretch of words no unit covers.

    ``statement_units`` drops a sentence that starts inside a heading or an item, such as the
    lead-in "This Agreement does not apply to Confidential Information:" after a heading line;
    without the gaps that text could never be returned (5% of ContractNLI's gold characters).
    """
    out: list[tuple[int, int, str]] = []
    pos, current = 0, last_section(section)

    def gap(start: int, end: int) -> None:
        s, e = trim(text, start, end)
        if e > s and _WORD.search(text, s, e):
            out.append((s, e, current))

    for u, heading in sectioned_units(text, section):
        if u.start > pos:
            gap(pos, u.start)
        if not u.heading:
            out.append((u.start, u.end, heading))
        current, pos = heading, max(pos, u.end)
    if pos < len(text):
        gap(pos, len(text))
    return out


_INDEXES: "weakref.WeakKeyDictionary[Any, SpanIndex]" = weakref.WeakKeyDictionary()
_INDEX_LOCK = threading.Lock()


def span_index(corpus: Any) -> SpanIndex:
    """The corpus's ``SpanIndex`` (a new corpus, after an ingest, gets a new one)."""
    with _INDEX_LOCK:
        index = _INDEXES.get(corpus)
        if index is None:
            index = _INDEXES[corpus] = SpanIndex(corpus)
        return index


def candidate_units(index: SpanIndex, chunks: Sequence[Chunk]) -> _Units:
    """Every non-heading unit of the chunks, once (overlapping chunks repeat units), best chunk first."""
    seen: set[tuple[str, int, int]] = set()
    source, start, end, holder, rank, heads = [], [], [], [], [], []
    ids: list[np.ndarray] = []
    for r, c in enumerate(chunks):
        for s, e, term_ids, head in index.units(c):
            key = (c.source, c.start + s, c.start + e)
            if key in seen:
                continue
            seen.add(key)
            source.append(c.source)
            start.append(c.start + s)
            end.append(c.start + e)
            holder.append(c)
            rank.append(r)
            ids.append(term_ids)
            heads.append(head)
    n = len(source)
    lengths = np.array([len(x) for x in ids], dtype=np.int64)
    cols = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
    terms = sparse.csr_matrix((np.ones(len(cols), dtype=np.float32), (np.repeat(np.arange(n), lengths), cols)),
                              shape=(n, len(index.vocab)))
    return _Units(source, np.array(start, dtype=np.int64), np.array(end, dtype=np.int64), holder,
                  np.array(rank, dtype=np.int64), terms, heads)


def expansion_weights(index: SpanIndex, qvec: np.ndarray | None, visible: np.ndarray | None,
                      query_ids: set[int]) -> np.ndarray | None:
    """Per vocabulary term: its share of the chunks nearest the question (those over
    ``EXPANSION_MIN_SHARE``) times its idf; None without vectors."""
    vectors = index.corpus.vectors
    if qvec is None or vectors is None or not len(vectors):
        return None
    rows = np.flatnonzero(visible) if visible is not None and not visible.all() else None
    sims = (vectors[rows] if rows is not None else vectors) @ qvec.astype(np.float32)
    m = min(EXPANSION_CHUNKS, len(sims))
    if m == 0:
        return None
    top = np.argpartition(-sims, m - 1)[:m] if len(sims) > m else np.arange(len(sims))
    if rows is not None:
        top = rows[top]
    sub = index.rows[top]
    share = np.bincount(sub.indices, minlength=len(index.vocab)).astype(np.float32) / m
    share[share < EXPANSION_MIN_SHARE] = 0.0
    if query_ids:
        share[list(query_ids)] = 0.0  # the question's own terms are scored by ``cover``
    return share * index.idf


def features(index: SpanIndex, query: str, qvec: np.ndarray | None, chunks: Sequence[Chunk],
             visible: np.ndarray | None = None) -> tuple[_Units, np.ndarray]:
    """The candidate units of ``chunks`` and their feature matrix (columns in ``FEATURES`` order)."""
    units = candidate_units(index, chunks)
    n = len(units.source)
    if n == 0:
        return units, np.zeros((0, len(FEATURES)), dtype=np.float32)
    q_ids = sorted({index.vocab[t] for t in tokens(query) if t in index.vocab})
    f: dict[str, np.ndarray] = {}
    rank = units.rank.astype(np.float32)
    f["prior"] = 1.0 / np.sqrt(1.0 + rank)
    f["log_rank"] = np.log1p(rank)
    dense = np.array([units.chunk[i].signals.get("dense", np.nan) for i in range(n)], dtype=np.float32)
    dense_max = np.nanmax(dense) if np.isfinite(dense).any() else np.nan
    f["dense_rel"] = np.nan_to_num(dense / dense_max) if dense_max and dense_max > 0 else np.zeros(n, np.float32)
    f["no_dense"] = (~np.isfinite(dense)).astype(np.float32)
    f["lexical"] = np.array([units.chunk[i].signals.get("lexical", 0.0) for i in range(n)], dtype=np.float32)
    if q_ids:
        hits = units.terms[:, q_ids].toarray()  # unit x query term, 0/1
        w = index.idf[q_ids]
        f["cover"] = hits @ w / (w.sum() or 1.0)
        # Local idf: a query term in most candidate units (the routed contract's party name,
        # "agreement") does not tell them apart.
        local_w = w * np.log1p(n / (1.0 + hits.sum(axis=0)))
        f["local"] = hits @ local_w / (local_w.sum() or 1.0)
        qset = set(q_ids)
        heading = np.zeros(n, dtype=np.float32)
        wmap = dict(zip(q_ids, w.tolist()))
        for i, head in enumerate(units.heading_terms):
            extra = (qset & head) - set(np.asarray(q_ids)[hits[i] > 0].tolist())
            if extra:
                heading[i] = sum(wmap[t] for t in extra)
        f["heading"] = heading / (w.sum() or 1.0)
    else:
        f["cover"] = f["local"] = f["heading"] = np.zeros(n, dtype=np.float32)
    f["local_gap"] = f["local"] - f["local"].max()
    # Neighbours: the best local cover of the unit just before or after it in the document.
    order = np.lexsort((units.start, np.array([hash(s) for s in units.source])))
    neighbour = np.zeros(n, dtype=np.float32)
    for a, b in zip(order[:-1], order[1:]):
        if units.source[a] == units.source[b] and units.start[b] - units.end[a] <= 4:
            neighbour[a] = max(neighbour[a], f["local"][b])
            neighbour[b] = max(neighbour[b], f["local"][a])
    f["neighbour"] = neighbour
    ex = expansion_weights(index, qvec, visible, set(q_ids))
    if ex is not None and ex.any():
        f["expansion"] = np.asarray(units.terms @ ex).ravel() / float(ex.sum())
    else:
        f["expansion"] = np.zeros(n, dtype=np.float32)
    f["expansion_gap"] = f["expansion"] - f["expansion"].max()
    if index.term_vectors is not None and qvec is not None:
        weighted = units.terms @ sparse.diags(index.idf)
        vecs = np.asarray(weighted @ index.term_vectors, dtype=np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True) + 1e-9
        qc = qvec.astype(np.float32) - index.mean
        qc /= np.linalg.norm(qc) + 1e-9
        f["semantic"] = vecs @ qc
    else:
        f["semantic"] = np.zeros(n, dtype=np.float32)
    f["semantic_gap"] = f["semantic"] - f["semantic"].max()
    f["log_len"] = np.log(np.maximum(units.end - units.start, 10)).astype(np.float32)
    return units, np.stack([np.asarray(f[name], dtype=np.float32) for name in FEATURES], axis=1)


def probabilities(x: np.ndarray, weights: dict[str, float] | None = None, bias: float | None = None) -> np.ndarray:
    """The fitted model's probability that each unit is evidence."""
    weights = WEIGHTS if weights is None else weights
    w = np.array([weights.get(name, 0.0) for name in FEATURES], dtype=np.float32)
    z = x @ w + (BIAS if bias is None else bias)
    return 1.0 / (1.0 + np.exp(-z))


def find_spans(corpus: Any, query: str, qvec: np.ndarray | None, chunks: Sequence[Chunk],
               visible: np.ndarray | None = None, k: int | None = None, budget_chars: int | None = None) -> list[Span]:
    """Spans for a question from its ranked chunks (``Retriever.search_spans`` calls this)."""
    if not chunks:
        return []
    index = span_index(corpus)
    units, x = features(index, query, qvec, chunks[:CANDIDATE_CHUNKS], visible)
    if not len(units.source):
        return []
    return select(units, probabilities(x), chunks, k, budget_chars)
