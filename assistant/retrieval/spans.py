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

The weights were fitted on two thirds of the CUAD contracts (``python -m evals.legalbench
--fit-spans``); the other third is held out for the report.
"""

from __future__ import annotations

import re
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
from scipy import sparse

from assistant.core.text import tokens, trim
from assistant.core.types import Chunk
from assistant.core.units import last_section, sectioned_units

CANDIDATE_CHUNKS = 64  # the chunks whose units are scored (a routed contract is ~60 chunks)
EXPANSION_CHUNKS = 30  # nearest chunks across the caller's view that supply expansion terms
EXPANSION_MIN_SHARE = 0.2  # a term must occur in this share of them
DEFAULT_BUDGET = 4000  # characters, when the caller sets no budget
# Where to stop inside the budget: the cut that maximises expected precision + RECALL_WEIGHT *
# (budget / DEFAULT_BUDGET) * expected recall (expectations from the units' probabilities). A
# bigger budget says the caller will read more, so recall weighs more and the budget fills up;
# a small one keeps only the likely evidence. Chosen on the CUAD tuning contracts: the most
# recall that keeps precision at 4,000 characters at twice the chunks'.
RECALL_WEIGHT = 2.25
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
class Span:
    """A passage of one document: ``text == document_text[start:end]``."""

    source: str
    start: int
    end: int
    text: str
    score: float  # the probability that the span's best unit is evidence (0-1)
    chunk_id: str  # the chunk the span starts in
    section: str
    line: int = 0  # 1-based line of ``start`` in the original file (0 when unknown)
    title: str = ""
    signals: dict[str, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return self.end - self.start


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
        self._lock = threading.Lock()

    def term_ids(self, text: str) -> np.ndarray:
        vocab = self.vocab
        return np.array(sorted({vocab[t] for t in tokens(text) if t in vocab}), dtype=np.int64)

    def units(self, chunk: Chunk) -> list[tuple[int, int, np.ndarray, frozenset[int]]]:
        """(start, end, term ids, heading term ids) of each candidate unit (``unit_spans``), offsets in the chunk."""
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


def _text_between(chunks: Sequence[Chunk], source: str, start: int, end: int) -> str | None:
    """The document's text ``[start:end)`` from any chunk that covers it (None when none does)."""
    for c in chunks:
        if c.source == source and c.start <= start and end <= c.end:
            return c.text[start - c.start:end - c.start]
    return None


def cut_point(probs: np.ndarray, lengths: np.ndarray, budget: int, recall_weight: float = RECALL_WEIGHT) -> int:
    """How many of the units (best first) to return: the prefix, within ``budget`` characters,
    that maximises expected precision + weight * expected recall."""
    if not len(probs):
        return 0
    used = np.minimum(np.cumsum(lengths), budget)
    n = int(np.searchsorted(used, budget)) + 1  # the unit that fills the budget is cut to fit
    n = min(n, len(probs))
    taken = np.diff(np.concatenate(([0], used[:n])))
    hit = np.cumsum(probs[:n] * taken)  # expected evidence characters returned
    total = float((probs * lengths).sum()) or 1.0  # expected evidence characters among all candidates
    utility = hit / np.maximum(used[:n], 1) + recall_weight * (budget / DEFAULT_BUDGET) * hit / total
    return int(np.argmax(utility)) + 1


def select(units: _Units, probs: np.ndarray, chunks: Sequence[Chunk], k: int | None = None,
           budget_chars: int | None = None, recall_weight: float = RECALL_WEIGHT) -> list[Span]:
    """The units worth returning within ``budget_chars`` (the last one cut to fit), as at most
    ``k`` spans with adjacent units merged; best span first."""
    budget = budget_chars or DEFAULT_BUDGET
    order = np.argsort(-probs, kind="stable")
    n = cut_point(probs[order], (units.end - units.start)[order], budget, recall_weight)
    pieces: list[_Piece] = []
    used = 0
    for i in order[:n].tolist():
        if used >= budget:
            break
        s, c = int(units.start[i]), units.chunk[i]
        e = min(int(units.end[i]), s + budget - used)
        piece = _Piece(units.source[i], s, e, c.text[s - c.start:e - c.start], float(probs[i]), c)
        if k is not None and len(merge_pieces([*pieces, piece], chunks)) > k:
            continue  # a new span past k; a unit next to a chosen one may still join it
        pieces.append(piece)
        used += e - s
    spans = [p.span() for p in sorted(merge_pieces(pieces, chunks), key=lambda p: -p.score)]
    return within_budget(spans, budget)  # merging adds the white space between units: keep the budget


MAX_GAP = 16  # characters of white space between two units that still makes them one span


@dataclass
class _Piece:
    """A stretch of one document: ``text`` is its ``[start:end)``; ``chunk`` holds ``start``."""

    source: str
    start: int
    end: int
    text: str
    score: float
    chunk: Chunk

    def span(self) -> Span:
        c = self.chunk
        line = c.line + c.text.count("\n", 0, self.start - c.start) if c.line else 0
        return Span(source=self.source, start=self.start, end=self.end, text=self.text, score=round(self.score, 4),
                    chunk_id=c.id, section=c.section, line=line, title=c.title)


def merge_pieces(pieces: Sequence[_Piece], chunks: Sequence[Chunk]) -> list[_Piece]:
    """Pieces joined where they overlap or only white space (from ``chunks``) lies between; in document order."""
    out: list[_Piece] = []
    for p in sorted(pieces, key=lambda p: (p.source, p.start, -p.end)):
        last = out[-1] if out else None
        if last is not None and last.source == p.source:
            if p.start <= last.end:  # overlapping or touching
                if p.end > last.end:
                    last.text += p.text[last.end - p.start:]
                    last.end = p.end
                last.score = max(last.score, p.score)
                continue
            if p.start - last.end <= MAX_GAP:
                gap = _text_between(chunks, p.source, last.end, p.start)
                if gap is not None and not gap.strip():
                    last.text += gap + p.text
                    last.end = p.end
                    last.score = max(last.score, p.score)
                    continue
        out.append(_Piece(p.source, p.start, p.end, p.text, p.score, p.chunk))
    return out


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


def within_budget(spans: Sequence[Span], budget_chars: int) -> list[Span]:
    """The spans, in order, until ``budget_chars`` characters: the last one cut to fit."""
    out: list[Span] = []
    used = 0
    for sp in spans:
        if used >= budget_chars:
            break
        take = min(len(sp), budget_chars - used)
        if take < len(sp):
            sp = Span(**{**sp.__dict__, "end": sp.start + take, "text": sp.text[:take]})
        out.append(sp)
        used += take
    return out
