"""Hybrid retrieval: dense (Chroma) + BM25, fused by reciprocal rank, filtered inside the search,
with document-reference routing and the current status of audit findings."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np

from assistant.embeddings import Embedder
from assistant.filters import Filters
from assistant.lexical import BM25Index, chunk_search_text
from assistant.store import ChromaStore, date_int
from assistant.text import tokens
from assistant.types import Chunk

RRF_K = 60
# Dense search is exact, in memory, when the filters leave at most this many chunks (routed
# questions, role and vendor filters, small collections); above it Chroma's HNSW index answers.
EXACT_MAX = 50_000
_CONSIDER = re.compile(r"^\s*consider\s+(?:the\s+|this\s+|our\s+)?(?P<ref>.+?)\s*;\s*(?P<q>.+)$", re.I | re.S)
_NAMED = re.compile(
    r"\b(?:in|under|of|from)\s+(?:the|our)\s+(?P<ref>[\w&.,' -]{3,80}?\b(?:agreement|contract|policy|dpa|nda|baa|schedule))\b",
    re.I,
)
_OPEN = re.compile(r"\b(still open|open|unresolved|outstanding|not (?:yet )?closed|remain(?:s|ing)? open)\b", re.I)
_CLOSED = re.compile(r"\b(closed|resolved|remediated)\b", re.I)
_FINDINGISH = re.compile(r"\b(findings?|audit(?:s|ed|or)?|issues?|non-?conformit(?:y|ies))\b", re.I)
_SEVERITY = re.compile(r"\b(critical|high|medium|low)(?:[- ](?:severity|risk|rated))?\s+(?:findings?|issues?)\b", re.I)


@dataclass
class Routing:
    query: str
    filters: Filters
    notes: list[str]
    vector: np.ndarray | None = None  # the query's embedding, once search_routed has computed it


class Corpus:
    """In-memory view of the collection (texts, metadata codes, BM25, findings, catalog)."""

    def __init__(self, chunks: list[Chunk], vectors: np.ndarray | None = None):
        self.chunks = chunks
        self.vectors = vectors if vectors is not None and len(vectors) == len(chunks) else None
        self.by_id = {c.id: i for i, c in enumerate(chunks)}
        self.bm25 = BM25Index([chunk_search_text(c) for c in chunks])
        self.codes: dict[str, np.ndarray] = {}
        self.values: dict[str, dict[str, int]] = {}
        for key, get in (
            ("source", lambda c: c.source),
            ("doc_type", lambda c: c.doc_type),
            ("vendor", lambda c: c.metadata.get("vendor") or ""),
            ("audience", lambda c: c.metadata.get("audience") or "all"),
            ("finding_id", lambda c: c.metadata.get("finding_id") or ""),
            ("severity", lambda c: c.metadata.get("severity") or ""),
            ("status", lambda c: c.metadata.get("status") or ""),
        ):
            table: dict[str, int] = {}
            self.codes[key] = np.array([table.setdefault(get(c), len(table)) for c in chunks], dtype=np.int32)
            self.values[key] = table
        self.dates = np.array([date_int(c.metadata.get("date")) or 0 for c in chunks], dtype=np.int64)
        self.neighbours: dict[str, list[int]] = {}
        for i in sorted(range(len(chunks)), key=lambda i: (chunks[i].source, chunks[i].start)):
            self.neighbours.setdefault(chunks[i].source, []).append(i)
        self.findings = _current_findings(chunks)
        self.vendors = sorted({c.metadata.get("vendor") for c in chunks if c.metadata.get("vendor")})
        self._catalog: tuple[list[str], BM25Index] | None = None

    def mask(self, f: Filters, finding_ids: set[str] | None) -> np.ndarray:
        m = np.ones(len(self.chunks), dtype=bool)

        def isin(key: str, vals: list[str] | tuple[str, ...] | set[str]) -> None:
            nonlocal m
            table = self.values[key]
            codes = [table[v] for v in vals if v in table]
            m &= np.isin(self.codes[key], np.array(codes, dtype=np.int32))

        for key in ("source", "doc_type", "vendor"):
            vals = getattr(f, key)
            if vals:
                isin(key, vals)
        if finding_ids is not None:
            isin("finding_id", finding_ids)
        else:
            for key in ("severity", "status"):
                if getattr(f, key):
                    isin(key, getattr(f, key))
        if f.finding_id:
            isin("finding_id", f.finding_id)
        if f.audiences is not None:
            isin("audience", f.audiences)
        if f.date_from:
            m &= self.dates >= f.date_from
        if f.date_to:
            m &= (self.dates <= f.date_to) & (self.dates > 0)
        if f.tags:
            idx = np.flatnonzero(m)
            for i in idx:
                if not set(f.tags) & set(self.chunks[i].metadata.get("tags") or []):
                    m[i] = False
        return m

    def catalog(self) -> tuple[list[str], BM25Index]:
        """One entry a document: title, file name and opening text, for reference routing."""
        if self._catalog is None:
            sources = list(self.neighbours)
            texts = []
            for s in sources:
                idx = self.neighbours[s]
                first = self.chunks[idx[0]]
                head = " ".join(self.chunks[i].text for i in idx[:3])[:2500]
                stem = re.sub(r"([a-z])([A-Z])", r"\1 \2", s.rsplit("/", 1)[-1].rsplit(".", 1)[0])
                stem = re.sub(r"[_\-.]+", " ", stem)
                vendor = first.metadata.get("vendor") or ""
                texts.append(f"{first.title} {first.title} {stem} {stem} {vendor} {head}")
            self._catalog = (sources, BM25Index(texts))
        return self._catalog


def _current_findings(chunks: list[Chunk]) -> dict[str, dict[str, Any]]:
    """Latest record of every audit finding across audit documents (the latest-dated doc wins)."""
    seen_docs: dict[str, dict[str, Any]] = {}
    for c in chunks:
        if c.doc_type == "audit" and c.source not in seen_docs:
            seen_docs[c.source] = c.metadata
    current: dict[str, dict[str, Any]] = {}
    for source, meta in sorted(seen_docs.items(), key=lambda kv: (str(kv[1].get("date", "")), kv[0])):
        for f in meta.get("findings") or []:
            prev = current.get(f["id"], {})
            current[f["id"]] = {
                **prev,
                **f,
                "vendor": meta.get("vendor", ""),
                "source": source,
                "title": meta.get("title", ""),
                "doc_date": str(meta.get("date", "")),
                "first_source": prev.get("first_source", source),
                "first_date": prev.get("first_date", str(meta.get("date", ""))),
                "audience": meta.get("audience", "all"),
            }
    return current


class Retriever:
    """Dense + BM25 retrieval over one collection, refreshed when the index changes."""

    def __init__(self, store: ChromaStore, embedder: Embedder, generation: Callable[[], int] | None = None):
        self.store = store
        self.embedder = embedder
        self._generation = generation or (lambda: 0)
        self._corpus: Corpus | None = None
        self._loaded_gen = -1
        self._lock = threading.Lock()

    def refresh(self, force: bool = False) -> Corpus:
        gen = self._generation()
        with self._lock:
            if force or self._corpus is None or gen != self._loaded_gen:
                self._corpus = Corpus(*self.store.get_with_vectors())
                self._loaded_gen = gen
            return self._corpus

    def invalidate(self) -> None:
        """Reload the in-memory view on the next search (cheap: nothing is read now)."""
        self._loaded_gen = -1

    @property
    def corpus(self) -> Corpus:
        return self.refresh()

    # -- routing ---------------------------------------------------------------------------
    def route(self, query: str, filters: Filters, document: str | None = None) -> Routing:
        corpus = self.corpus
        notes: list[str] = []
        f = replace(filters)
        q = query
        ref = document
        m = _CONSIDER.match(query)
        if m:
            ref, q = m.group("ref"), m.group("q")
        elif not ref:
            m2 = _NAMED.search(query)
            if m2:
                ref = m2.group("ref")
        if ref and not f.source:
            src = self.resolve_document(ref, strict=bool(document or m))
            if src:
                f.source = [src]
                notes.append(f"narrowed to document {src}")
        if not f.vendor and not f.source and corpus.vendors:
            low = query.lower()
            hits = [v for v in corpus.vendors if re.search(rf"\b{re.escape(v.lower())}\b", low)]
            if hits:
                f.vendor = hits
                notes.append(f"narrowed to vendor {', '.join(hits)}")
        if _FINDINGISH.search(query) and not f.status:
            if _OPEN.search(query) and not re.search(r"\bopen(?:ed)? (?:a|an|the)\b", query, re.I):
                f.status = ["open"]
                notes.append("findings still open")
            elif _CLOSED.search(query):
                f.status = ["closed"]
                notes.append("findings closed")
        sev = _SEVERITY.search(query)
        if sev and not f.severity:
            f.severity = [sev.group(1).lower()]
        return Routing(q, f, notes)

    def resolve_document(self, ref: str, strict: bool = False) -> str | None:
        corpus = self.corpus
        ref_l = ref.strip().lower()
        for s in corpus.neighbours:
            stem = s.rsplit("/", 1)[-1].rsplit(".", 1)[0].lower()
            if ref_l in (s.lower(), stem) or (len(ref_l) > 5 and stem.startswith(ref_l)):
                return s
        sources, index = corpus.catalog()
        scores = index.scores(ref)
        if not len(scores) or scores.max() <= 0:
            return None
        order = np.argsort(-scores)
        top = scores[order[0]]
        second = scores[order[1]] if len(order) > 1 else 0.0
        if strict or top >= 1.25 * second:
            return sources[order[0]]
        return None

    def finding_ids(self, f: Filters) -> set[str] | None:
        """Ids of findings whose *current* status/severity match, or None when not filtering."""
        if not f.status and not f.severity:
            return None
        out = set()
        for fid, rec in self.corpus.findings.items():
            if f.status and rec["status"] not in f.status:
                continue
            if f.severity and rec["severity"] not in f.severity:
                continue
            out.add(fid)
        return out

    # -- search ----------------------------------------------------------------------------
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

    def search_routed(self, routing: Routing, k: int, candidates: int | None = None) -> list[Chunk]:
        corpus = self.corpus
        if not corpus.chunks:
            return []
        f = routing.filters
        fids = self.finding_ids(f)
        n = max(candidates or 0, k * 4, 40)
        mask = corpus.mask(f, fids)
        allowed = int(mask.sum())
        if allowed == 0:
            return []
        n = min(n, allowed)
        qvec = self.embedder.embed([routing.query])[0]
        routing.vector = qvec
        dense = self._dense(corpus, qvec, mask, allowed, n, f.where(fids))
        dense_rank = {i: (r, score) for r, (i, score) in enumerate(dense)}
        lex = corpus.bm25.scores(routing.query)
        lex = np.where(mask, lex, -1.0)
        top_lex = np.argpartition(-lex, min(n, len(lex) - 1))[:n] if len(lex) > n else np.arange(len(lex))
        top_lex = [int(i) for i in top_lex[np.argsort(-lex[top_lex])] if lex[i] > 0]
        fused: dict[int, float] = {}
        for i, (r, _) in dense_rank.items():
            fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + r + 1)
        for r, i in enumerate(top_lex):
            fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + r + 1)
        best = sorted(fused, key=lambda i: (-fused[i], i))[:k]
        lex_max = float(lex.max()) if len(lex) else 0.0
        out = []
        for i in best:
            c = corpus.chunks[i]
            sig = {"fused": fused[i], "lexical": float(max(lex[i], 0.0)) / lex_max if lex_max > 0 else 0.0}
            if i in dense_rank:
                sig["dense"] = dense_rank[i][1]
            out.append(replace(c, score=fused[i], signals=sig))
        # Dense similarity of the best dense hit, for the refusal decision.
        if out and dense:
            out[0].signals["dense_max"] = max(score for _, score in dense)
        return out

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

    def _dense(self, corpus: Corpus, qvec: np.ndarray, mask: np.ndarray, allowed: int, n: int, where: Any) -> list[tuple[int, float]]:
        """The n nearest allowed chunks as (corpus index, cosine similarity), best first."""
        if corpus.vectors is not None and allowed <= EXACT_MAX:
            idx = np.flatnonzero(mask) if allowed < len(mask) else np.arange(len(mask))
            sims = corpus.vectors[idx] @ qvec.astype(np.float32)
            top = np.argpartition(-sims, n - 1)[:n] if len(sims) > n else np.arange(len(sims))
            top = top[np.argsort(-sims[top], kind="stable")]
            return [(int(idx[t]), float(sims[t])) for t in top]
        out = []
        for c in self.store.query(qvec, n, where):
            i = corpus.by_id.get(c.id)
            if i is not None:
                out.append((i, c.score))
        return out
