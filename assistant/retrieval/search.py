"""Hybrid search: dense + BM25 over the allowed rows, fused by reciprocal rank.

``Retriever`` keeps the in-memory ``Corpus`` of one collection, reloads it when the ingest
generation changes, routes questions (``routing.route``) and searches.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any, Callable

import numpy as np

from assistant.core.embeddings import Embedder
from assistant.core.findings import matching_ids
from assistant.core.store import ChromaStore
from assistant.core.text import tokens
from assistant.core.types import Chunk
from assistant.retrieval import routing as routing_mod
from assistant.retrieval.corpus import Corpus
from assistant.retrieval.filters import Filters, where
from assistant.retrieval.routing import Routing
from assistant.retrieval.snapshot import Snapshots
from assistant.retrieval.thesaurus import Thesaurus, ThesaurusFile

RRF_K = 60
# Dense search is exact, in memory, when the filters leave at most this many chunks (routed
# questions, role and vendor filters, small collections); above it Chroma's HNSW index answers.
EXACT_MAX = 50_000
# A question that names a vendor searches that vendor's documents, and k // ``GENERAL_SHARE`` more chunks come from
# the documents of no vendor (standards, templates, guidance), after the vendor's: "what does the Northwind contract
# give us on exit assistance, and how long does our standard say it should last?" needs the model clauses. (Taking the
# places from the vendor's own chunks instead lost its contract's direct answers.) A question naming two vendors
# compares them: their documents share the chunks.
GENERAL_SHARE = 3


def rrf(rankings: list[list[int]], k: int = RRF_K) -> dict[int, float]:
    """Reciprocal-rank fusion of several rankings of corpus rows."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for r, i in enumerate(ranking):
            fused[i] = fused.get(i, 0.0) + 1.0 / (k + r + 1)
    return fused


def balanced(order: list[int], k: int, groups: list[Any], reserved: Callable[[Any], bool] = lambda g: True) -> list[int]:
    """The k best of ``order`` with an equal share for each group (a question comparing two vendors
    needs both contracts in front of it), the rest by rank; kept in rank order. Only the groups ``reserved``
    keeps have their share set aside (the others take places by rank)."""
    quota = k // max(1, len(set(groups)))
    per_group: dict[Any, int] = {}
    taken: set[int] = set()
    for r, g in enumerate(groups):  # each group's best ``quota``
        if reserved(g) and per_group.get(g, 0) < quota:
            per_group[g] = per_group.get(g, 0) + 1
            taken.add(r)
    for r in range(len(order)):  # then the best of the rest
        if len(taken) >= k:
            break
        taken.add(r)
    return [order[r] for r in sorted(taken)[:k]]


class Retriever:
    """Dense + BM25 retrieval over one collection, refreshed when the index changes.

    ``snapshots``: where the corpus view is mapped from (``snapshot.Snapshots``) instead of being
    read from the store and rebuilt in every process; None reads the store each time.
    """

    def __init__(self, store: ChromaStore, embedder: Embedder, generation: Callable[[], int] | None = None,
                 snapshots: Snapshots | None = None):
        self.store = store
        self.embedder = embedder
        self._generation = generation or (lambda: 0)
        self.snapshots = snapshots
        self._corpus: Corpus | None = None
        self._loaded_gen = -1
        # the knowledge root's thesaurus file (``Assistant`` sets it), read again when it changes; given to every corpus this serves
        self.thesaurus_file: ThesaurusFile | None = None
        self._lock = threading.Lock()

    def refresh(self, force: bool = False) -> Corpus:
        """The corpus of the current generation. ``force``: read the store again (and, with
        snapshots, write the snapshot every other process then maps)."""
        gen = self._generation()
        with self._lock:
            if force or self._corpus is None or gen != self._loaded_gen:
                if self.snapshots is None:
                    fresh: Corpus | None = Corpus(*self.store.get_with_vectors())
                else:
                    # None: another process is writing this generation's snapshot; keep answering
                    # from the current view and look again on the next question.
                    fresh = self.snapshots.corpus(self.store, gen, rebuild=force, current=self._generation,
                                                  stale=self._corpus)
                if fresh is not None:
                    self._corpus, self._loaded_gen = fresh, gen
            assert self._corpus is not None
            self._corpus.thesaurus = self.thesaurus
            return self._corpus

    @property
    def thesaurus(self) -> Thesaurus:
        return self.thesaurus_file.current() if self.thesaurus_file is not None else Thesaurus()

    def invalidate(self) -> None:
        """Reload the in-memory view on the next search (cheap: nothing is read now)."""
        self._loaded_gen = -1

    @property
    def corpus(self) -> Corpus:
        return self.refresh()

    def route(self, query: str, filters: Filters, document: str | None = None) -> Routing:
        return routing_mod.route(self.corpus, query, filters, document)

    def resolve_document(self, ref: str, audiences: tuple[str, ...] | None = None, explicit: bool = True) -> str | None:
        return routing_mod.resolve_document(self.corpus, ref, audiences, explicit)

    def finding_ids(self, f: Filters) -> set[str] | None:
        """Ids of findings whose *current* status/severity (as the filter's audiences see it) match,
        or None when not filtering on them."""
        return matching_ids(self.corpus.findings_for(f.audiences), f.status, f.severity)

    def search(
        self,
        query: str,
        k: int = 8,
        filters: Filters | None = None,
        document: str | None = None,
        candidates: int | None = None,
        route: bool = True,
    ) -> list[Chunk]:
        filters = filters or Filters()
        routing = self.route(query, filters, document) if route else Routing(query, filters, [])
        return self.search_routed(routing, k, candidates)

    def embed_query(self, routing: Routing, other: str = "") -> np.ndarray:
        """Embed the routed query for ``search_routed`` and, in the same batch, ``other`` text; returns the vector of
        ``other`` (the query's own when ``other`` is empty or the query)."""
        vecs = self.embedder.embed([routing.query] + ([other] if other and other != routing.query else []))
        routing.vector, routing.vector_query = vecs[0], routing.query
        return vecs[-1]

    def search_routed(self, routing: Routing, k: int, candidates: int | None = None) -> list[Chunk]:
        """The k best chunks for a routed question (for one that names a vendor, then k // ``GENERAL_SHARE`` from
        documents of no vendor); sets ``routing.vector`` to the query embedding."""
        corpus = self.corpus
        if not corpus.chunks:
            return []
        ids = self.finding_ids(routing.filters)
        clauses = routing.filters.clauses(ids)
        mask = corpus.mask(clauses)
        allowed = int(mask.sum())
        if allowed == 0:
            return []
        n = min(max(candidates or 0, k * 4, 40), allowed)
        if routing.vector is None or routing.vector_query != routing.query:  # embedded once per routed query
            self.embed_query(routing)
        lex_all = corpus.bm25.scores(corpus.expanded(routing.query))
        order, fused, dense = self._fused(corpus, routing.vector, mask, n, where(clauses), lex_all)
        dense_score = dict(dense)
        lex = np.where(mask, lex_all, -1.0)
        vendors = routing.filters.vendor or []
        if len(vendors) > 1 or routing.terms:  # each vendor its share (asked of contracts: half of it for its contract)
            best = balanced(order, k, [(corpus.chunks[i].metadata.get("vendor") if len(vendors) > 1 else None,
                                        routing.terms and corpus.chunks[i].doc_type == "contract") for i in order],
                            reserved=lambda g: g[1] or not routing.terms)
        elif routing.across:  # a place for each vendor's best chunk; the rest (and the documents of no vendor) by rank
            best = balanced(order, k, [corpus.chunks[i].metadata.get("vendor") for i in order], reserved=bool)
        else:
            best = order[:k]
        if routing.vendor_named and len(vendors) == 1 and k >= GENERAL_SHARE:
            general = replace(routing.filters, vendor=[""])  # (the documents of no vendor)
            gclauses = general.clauses(ids)  # (the same status, severity and audiences: the same findings)
            gmask = corpus.mask(gclauses)
            if gmask.any():
                # (Chroma stores no vendor key for such documents: it searches without the vendor clause, and rows
                # outside ``gmask`` are dropped from its hits)
                unvendored = [c for c in gclauses if c.key != "vendor"]
                gorder, gfused, gdense = self._fused(corpus, routing.vector, gmask, min(n, int(gmask.sum())),
                                                     where(unvendored), lex_all)
                best = best + gorder[: k // GENERAL_SHARE]
                for i, score in gdense:
                    dense_score.setdefault(i, score)
                for i in gorder:
                    fused.setdefault(i, gfused[i])
                lex = np.where(mask | gmask, lex_all, -1.0)
        lex_max = float(lex.max()) if len(lex) else 0.0
        out = []
        for i in best:
            sig = {"fused": fused[i], "lexical": float(max(lex[i], 0.0)) / lex_max if lex_max > 0 else 0.0}
            if i in dense_score:
                sig["dense"] = dense_score[i]
            out.append(replace(corpus.chunks[i], score=fused[i], signals=sig))
        if out and dense:  # similarity of the best dense hit, for the answerability decision
            out[0].signals["dense_max"] = max(score for _, score in dense)
        return out

    def _fused(self, corpus: Corpus, qvec: np.ndarray, mask: np.ndarray, n: int, chroma_where: Any,
               lex_all: np.ndarray) -> tuple[list[int], dict[int, float], list[tuple[int, float]]]:
        """The rows ``mask`` allows, best first by reciprocal-rank fusion of dense and BM25 ranks, with the fused
        scores and the dense hits."""
        dense = self._dense(corpus, qvec, mask, int(mask.sum()), n, chroma_where)
        lex = np.where(mask, lex_all, -1.0)
        top_lex = np.argpartition(-lex, min(n, len(lex) - 1))[:n] if len(lex) > n else np.arange(len(lex))
        top_lex = [int(i) for i in top_lex[np.argsort(-lex[top_lex])] if lex[i] > 0]
        fused = rrf([[i for i, _ in dense], top_lex])
        return sorted(fused, key=lambda i: (-fused[i], i)), fused, dense

    def coverage(self, query: str, chunks: list[Chunk]) -> float:
        """Share of the query's idf weight whose terms occur in the retrieved chunks (0-1)."""
        terms = set(tokens(query))
        if not terms or not chunks:
            return 0.0
        bm25 = self.corpus.bm25
        weight = {t: bm25.idf_of(t) for t in terms}
        seen: set[str] = set()
        for c in chunks:
            seen.update(tokens(c.text))
        return sum(w for t, w in weight.items() if t in seen) / (sum(weight.values()) or 1.0)

    def _dense(self, corpus: Corpus, qvec: np.ndarray, mask: np.ndarray, allowed: int, n: int,
               chroma_where: Any) -> list[tuple[int, float]]:
        """The n nearest allowed chunks as (corpus index, cosine similarity), best first."""
        if corpus.vectors is not None and allowed <= EXACT_MAX:
            idx = np.flatnonzero(mask) if allowed < len(mask) else np.arange(len(mask))
            sims = corpus.vectors[idx] @ qvec.astype(np.float32)
            top = np.argpartition(-sims, n - 1)[:n] if len(sims) > n else np.arange(len(sims))
            top = top[np.argsort(-sims[top], kind="stable")]
            return [(int(idx[t]), float(sims[t])) for t in top]
        out = []
        for c in self.store.query(qvec, n, chroma_where):  # (a hit outside the mask: the where was wider)
            i = corpus.by_id.get(c.id)
            if i is not None and mask[i]:
                out.append((i, c.score))
        return out

    def search_spans(self, query: str, k: int | None = None, budget_chars: int | None = None,
                     filters: Filters | None = None, document: str | None = None) -> list[Any]:
        """Evidence spans sized to the question (``spans.Span``: exact document offsets), best first:
        statement units scored inside the top chunks, adjacent ones merged, at most ``k`` spans and
        ``budget_chars`` characters (default 4,000); fewer when the rest is unlikely to be evidence."""
        filters = filters or Filters()
        return self.spans_routed(self.route(query, filters, document), filters, k, budget_chars)

    def spans_routed(self, routing: Routing, filters: Filters, k: int | None = None,
                     budget_chars: int | None = None) -> list[Any]:
        """``search_spans`` for a question already routed (the answerer's path)."""
        from assistant.retrieval import spans as spans_mod  # local: this module's imports are shared work

        chunks = self.search_routed(routing, spans_mod.CANDIDATE_CHUNKS)
        if not chunks:
            return []
        # Expansion terms come from the caller's whole view, not just the routed document.
        visible = self.corpus.mask(filters.clauses(self.finding_ids(filters)))
        return spans_mod.find_spans(self.corpus, routing.query, routing.vector, chunks, visible, k, budget_chars)
