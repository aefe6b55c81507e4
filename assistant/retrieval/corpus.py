"""The in-memory view of one collection: texts, stored vectors, metadata codes, BM25, findings.

Filters run inside both searches through ``Corpus.mask``; document routing reads ``catalog``.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Sequence

import numpy as np

from assistant.core.findings import audit_documents, current_findings
from assistant.core.text import date_int, defines, tokens
from assistant.core.types import Chunk
from assistant.retrieval.filters import Clause
from assistant.retrieval.lexical import BM25Index, chunk_search_text
from assistant.retrieval.thesaurus import Thesaurus

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

Audiences = tuple[str, ...] | None
Catalog = tuple[list[str], BM25Index, list[set[str]]]


# A thesaurus word used by more than this share of the chunks is too common to search for ("vendor": 38% of the
# knowledge base's chunks). Chosen on the golden set's calibration split: 0.10 over 0.05, 0.20 and no limit.
DISTINCTIVE_DF = 0.10


class Corpus:
    """Every chunk of the collection with its vector, in one process's memory (or mapped from a
    snapshot: ``from_arrays``, with ``chunks`` a ``snapshot.ChunkTable``)."""

    # the knowledge root's thesaurus (set by the retriever that serves the corpus): everyday words -> the documents' wording
    thesaurus: Thesaurus = Thesaurus()

    def __init__(self, chunks: Sequence[Chunk], vectors: np.ndarray | None = None):
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
        self._init_caches()

    @classmethod
    def from_arrays(cls, chunks: Sequence[Chunk], vectors: np.ndarray | None, bm25: BM25Index,
                    codes: dict[str, np.ndarray], values: dict[str, dict[Any, int]], dates: np.ndarray,
                    neighbours: dict[str, list[int]], by_id: dict[str, int] | None = None,
                    catalogs: Callable[[Audiences], Catalog | None] | None = None) -> "Corpus":
        """A corpus from parts already built (a snapshot's), without tokenising or coding anything.
        ``catalogs``: reads a prebuilt routing catalog for a set of audiences (None: build it)."""
        self = cls.__new__(cls)
        self.chunks = chunks
        self.vectors = vectors if vectors is not None and len(vectors) == len(chunks) else None
        self.by_id = by_id if by_id is not None else {c.id: i for i, c in enumerate(chunks)}
        self.bm25, self.codes, self.values, self.dates, self.neighbours = bm25, codes, values, dates, neighbours
        self._init_caches(catalogs)
        return self

    def _init_caches(self, catalogs: Callable[[Audiences], Catalog | None] | None = None) -> None:
        # Per set of audiences, built on first use: the corpus never changes once made.
        self._catalogs: dict[Audiences, Catalog] = {}
        self._findings: dict[Audiences, dict[str, dict]] = {}
        self._dated: dict[Audiences, list[dict[str, str]]] = {}
        self._vendors: dict[Audiences, list[str]] = {}
        self._prebuilt = catalogs
        # Every chunk's candidate evidence units as flat arrays (``spans.unit_table``), when a
        # snapshot supplies them; otherwise span search splits chunks on first use.
        self.unit_table: dict[str, np.ndarray] | None = None
        self._expansions: dict[str, str | None] = {}

    def _metadata(self, i: int) -> dict[str, Any]:
        """Row ``i``'s metadata (read only), without making a chunk when the rows are a snapshot's."""
        get = getattr(self.chunks, "metadata", None)
        return get(i) if get is not None else self.chunks[i].metadata

    def _rows(self, audiences: Audiences) -> np.ndarray:
        if audiences is None:
            return np.arange(len(self.chunks))
        table = self.values["audience"]
        codes = [table[a] for a in audiences if a in table]
        return np.flatnonzero(np.isin(self.codes["audience"], np.array(codes, dtype=np.int32)))

    def visible(self, audiences: Audiences) -> list[int]:
        """Rows whose audience is in ``audiences`` (all rows for None)."""
        return self._rows(audiences).tolist()

    def findings_for(self, audiences: Audiences) -> dict[str, dict]:
        """The current record of every finding, from the audit documents ``audiences`` may see only
        (so a restricted note never changes, or reveals, what another role is shown)."""
        if audiences not in self._findings:
            # Only audit rows can hold findings (audit_documents skips the rest): read just those, by code.
            rows = self._rows(audiences)
            audit = self.values["doc_type"].get("audit")
            rows = rows[self.codes["doc_type"][rows] == audit] if audit is not None else rows[:0]
            self._findings[audiences] = current_findings(audit_documents(self.chunks[i] for i in rows.tolist()))
        return self._findings[audiences]

    @property
    def findings(self) -> dict[str, dict]:
        return self.findings_for(None)

    def documents_for(self, audiences: Audiences) -> list[tuple[str, int]]:
        """(source, first row) of every document ``audiences`` may see, in index order."""
        allowed = set(self.visible(audiences))
        return [(source, idx[0]) for source, idx in self.neighbours.items() if idx and idx[0] in allowed]

    def dated_for(self, audiences: Audiences) -> list[dict[str, str]]:
        """The documents ``audiences`` may see, oldest first: each one's source, title, type, vendor and date."""
        if audiences not in self._dated:
            docs = []
            for source, first in self.documents_for(audiences):
                meta = self._metadata(first)
                docs.append({"source": source, "title": str(meta.get("title") or source), "type": str(meta.get("doc_type") or ""),
                             "vendor": str(meta.get("vendor") or ""), "date": str(meta.get("date") or "")})
            self._dated[audiences] = sorted(docs, key=lambda d: (d["date"], d["source"]))
        return list(self._dated[audiences])

    def audits_for(self, audiences: Audiences) -> list[dict[str, str]]:
        """The audit documents ``audiences`` may see, oldest first: each one's source, title, vendor and date."""
        return [d for d in self.dated_for(audiences) if d["type"] == "audit"]

    def chunk(self, chunk_id: str) -> Chunk | None:
        """The chunk with this id, or None when it is not (or no longer) in the corpus."""
        i = self.by_id.get(chunk_id)
        return None if i is None else self.chunks[i]

    def expansion(self, acronym: str) -> str | None:
        """How the documents spell out ``acronym`` where one defines it ("recovery point objective (RPO)"), or
        None; looked up on first use (a scan for the bracketed acronym) and remembered."""
        if acronym not in self._expansions:
            mark, found = f"({acronym}", None
            if isinstance(self.chunks, list):
                rows: Any = (i for i, c in enumerate(self.chunks) if mark in c.text)
                text = lambda i: self.chunks[i].text  # noqa: E731
            else:  # a snapshot's table: a byte search of the mapped texts
                rows, text = self.chunks.rows_containing(mark), self.chunks.text
            for i in rows:
                if found := defines(acronym, text(i)):
                    break
            if len(self._expansions) >= 10_000:  # capital words users type are not all acronyms: keep it bounded
                self._expansions.clear()
            self._expansions[acronym] = found
        return self._expansions[acronym]

    def expansions(self, text: str) -> dict[str, str]:
        """The acronyms ``text`` uses that the documents define, with their spelled-out words."""
        return {a: e for a in dict.fromkeys(re.findall(r"\b[A-Z]{3,6}\b", text)) if (e := self.expansion(a))}

    def expanded(self, query: str) -> str:
        """``query`` with the spelled-out words of its acronyms and the thesaurus's wording of its everyday
        words added, for word matching ("RPO" finds "recovery point objective" where a document does not
        repeat the acronym; "outage" finds "disruption")."""
        extra = " ".join(self.expansions(query).values())
        n = self.bm25.n
        df = DISTINCTIVE_DF * n
        cut = float(np.log1p((n - df + 0.5) / (df + 0.5)))  # BM25's idf of a word in that share of chunks
        return self.thesaurus.expand(f"{query} {extra}" if extra else query, lambda stem: self.bm25.idf_of(stem) >= cut)

    def vendors_for(self, audiences: Audiences) -> list[str]:
        """Vendors named by documents ``audiences`` may see."""
        if audiences not in self._vendors:
            seen = set(np.unique(self.codes["vendor"][self._rows(audiences)]).tolist())
            self._vendors[audiences] = sorted(v for v, code in self.values["vendor"].items() if v and code in seen)
        return list(self._vendors[audiences])

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
                    if not wanted & set(self._metadata(i).get(c.key) or []):
                        m[i] = False
        return m

    def catalog(self, audiences: Audiences = None) -> Catalog:
        """For reference routing, one entry a document ``audiences`` may see: the sources, a BM25
        index over title, file name, vendor and opening text, and each entry's name words."""
        if audiences not in self._catalogs and self._prebuilt is not None:
            if (found := self._prebuilt(audiences)) is not None:
                self._catalogs[audiences] = found
        if audiences not in self._catalogs:
            sources = [s for s, _ in self.documents_for(audiences)]
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
