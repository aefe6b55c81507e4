"""The in-memory view of one collection: texts, stored vectors, metadata codes, BM25, findings.

Filters run inside both searches through ``Corpus.mask``; document routing reads ``catalog``.
"""

from __future__ import annotations

import re

import numpy as np

from assistant.core.findings import audit_documents, current_findings
from assistant.core.text import date_int, tokens
from assistant.core.types import Chunk
from assistant.retrieval.filters import Clause
from assistant.retrieval.lexical import BM25Index, chunk_search_text

# Metadata keys kept as integer codes, so an "in" filter is one vectorised comparison.
_CODED = {
    "source": lambda c: c.source,
    "doc_type": lambda c: c.doc_type,
    "vendor": lambda c: c.metadata.get("vendor") or "",
    "audience": lambda c: c.metadata.get("audience") or "all",
    "finding_id": lambda c: c.metadata.get("finding_id") or "",
    "severity": lambda c: c.metadata.get("severity") or "",
    "status": lambda c: c.metadata.get("status") or "",
}


class Corpus:
    """Every chunk of the collection with its vector, in one process's memory."""

    def __init__(self, chunks: list[Chunk], vectors: np.ndarray | None = None):
        self.chunks = chunks
        self.vectors = vectors if vectors is not None and len(vectors) == len(chunks) else None
        self.by_id = {c.id: i for i, c in enumerate(chunks)}
        self.bm25 = BM25Index([chunk_search_text(c) for c in chunks])
        self.codes: dict[str, np.ndarray] = {}
        self.values: dict[str, dict[str, int]] = {}
        for key, get in _CODED.items():
            table: dict[str, int] = {}
            self.codes[key] = np.array([table.setdefault(get(c), len(table)) for c in chunks], dtype=np.int32)
            self.values[key] = table
        self.dates = np.array([date_int(c.metadata.get("date")) or 0 for c in chunks], dtype=np.int64)
        self.neighbours: dict[str, list[int]] = {}  # source -> chunk indices in document order
        for i in sorted(range(len(chunks)), key=lambda i: (chunks[i].source, chunks[i].start)):
            self.neighbours.setdefault(chunks[i].source, []).append(i)
        self._catalogs: dict[tuple[str, ...] | None, tuple[list[str], BM25Index, list[set[str]]]] = {}
        self._findings: dict[tuple[str, ...] | None, dict[str, dict]] = {}

    def visible(self, audiences: tuple[str, ...] | None) -> list[int]:
        """Rows whose audience is in ``audiences`` (all rows for None)."""
        if audiences is None:
            return list(range(len(self.chunks)))
        table = self.values["audience"]
        codes = [table[a] for a in audiences if a in table]
        return np.flatnonzero(np.isin(self.codes["audience"], np.array(codes, dtype=np.int32))).tolist()

    def findings_for(self, audiences: tuple[str, ...] | None) -> dict[str, dict]:
        """The current record of every finding, from the audit documents ``audiences`` may see only
        (so a restricted note never changes, or reveals, what another role is shown)."""
        if audiences not in self._findings:
            self._findings[audiences] = current_findings(audit_documents(self.chunks[i] for i in self.visible(audiences)))
        return self._findings[audiences]

    @property
    def findings(self) -> dict[str, dict]:
        return self.findings_for(None)

    def vendors_for(self, audiences: tuple[str, ...] | None) -> list[str]:
        """Vendors named by documents ``audiences`` may see."""
        return sorted({v for i in self.visible(audiences) if (v := self.chunks[i].metadata.get("vendor"))})

    @property
    def vendors(self) -> list[str]:
        return self.vendors_for(None)

    def mask(self, clauses: list[Clause]) -> np.ndarray:
        """Rows that satisfy every clause."""
        m = np.ones(len(self.chunks), dtype=bool)
        for c in clauses:
            if c.op == "in":
                table = self.values[c.key]
                codes = np.array([table[v] for v in c.values if v in table], dtype=np.int32)
                m &= np.isin(self.codes[c.key], codes)
            elif c.op == "gte":
                m &= self.dates >= c.values[0]
            elif c.op == "lte":
                m &= (self.dates <= c.values[0]) & (self.dates > 0)
            elif c.op == "any":
                wanted = set(c.values)
                for i in np.flatnonzero(m):
                    if not wanted & set(self.chunks[i].metadata.get(c.key) or []):
                        m[i] = False
        return m

    def catalog(self, audiences: tuple[str, ...] | None = None) -> tuple[list[str], BM25Index, list[set[str]]]:
        """For reference routing, one entry a document ``audiences`` may see: the sources, a BM25
        index over title, file name, vendor and opening text, and each entry's name words."""
        if audiences not in self._catalogs:
            allowed = set(self.visible(audiences))
            sources = [s for s, idx in self.neighbours.items() if idx[0] in allowed]
            texts, names = [], []
            for s in sources:
                idx = self.neighbours[s]
                first = self.chunks[idx[0]]
                head = " ".join(self.chunks[i].text for i in idx[:3])[:2500]
                stem = re.sub(r"([a-z])([A-Z])", r"\1 \2", s.rsplit("/", 1)[-1].rsplit(".", 1)[0])
                stem = re.sub(r"[_\-.]+", " ", stem)
                vendor = first.metadata.get("vendor") or ""
                texts.append(f"{first.title} {first.title} {stem} {stem} {vendor} {head}")
                names.append(set(tokens(f"{first.title} {stem} {vendor} {head[:1200]}")))
            self._catalogs[audiences] = (sources, BM25Index(texts), names)
        return self._catalogs[audiences]


class CorpusLookup:
    """What answer composition may look up, limited to what one role may see."""

    def __init__(self, corpus: Corpus, audiences: tuple[str, ...] | None):
        self.corpus, self.audiences = corpus, audiences

    def document_chunks(self, source: str) -> list[Chunk]:
        return [self.corpus.chunks[i] for i in self.corpus.neighbours.get(source, [])]

    def finding(self, finding_id: str) -> dict | None:
        return self.corpus.findings_for(self.audiences).get(finding_id)

    def finding_ids(self) -> list[str]:
        return list(self.corpus.findings_for(self.audiences))

    def finding_chunk(self, source: str, finding_id: str) -> Chunk | None:
        for i in self.corpus.neighbours.get(source, []):
            c = self.corpus.chunks[i]
            if c.metadata.get("finding_id") == finding_id:
                return c
        return None
