"""One contract as the review sees it: its clauses (statement units with exact offsets), a lexical
index over them, their embeddings (computed once, on demand) and citations of any of them.

A contract comes from the index (its stored chunks; the text is rebuilt from them, offsets and
lines unchanged) or from a file that is loaded and split in memory and never added to the index.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from assistant.core.units import heading_text, statement_units
from assistant.core.text import tokens
from assistant.core.types import Chunk, Citation
from assistant.retrieval.lexical import BM25Index

_NUMBERED = re.compile(r"^\s*(?:(?:section|article|clause)\s+)?\d{1,3}(?:\.\d{1,3})*[.)]?\s+\S", re.I)
_BULLET = re.compile(r"^\s*[-*+•]\s")
# A sentence about what the agreement lacks ("contains no living-wage clause", "does not require keys
# to be kept separate"): evidence that a term is absent, never that it is met.
_ABSENCE = re.compile(r"\b(?:contains|has|sets|includes?|makes)\s+no\b|\bdoes\s+not\s+(?:say|require|contain|include|"
                      r"incorporate|set|provide|oblige|state|specify|mention)\b|\bis\s+silent\b", re.I)
MIN_NUMBERED = 5  # a document with this many numbered clauses quotes them, not its bullet summaries


class ReviewError(ValueError):
    """A contract that cannot be reviewed, with a reason a person can act on."""


@dataclass(frozen=True)
class Clause:
    start: int  # offsets into the contract text
    end: int
    text: str
    section: str
    numbered: bool
    bullet: bool
    absence: bool
    chunk: int  # the chunk the citation is made from

    @property
    def embed_text(self) -> str:
        return f"{self.section}: {self.text}" if self.section else self.text


def phrase_tokens(phrase: str) -> tuple[str, ...]:
    return tuple(tokens(phrase, keep_stopwords=True))


def has_phrase(toks: Sequence[str], phrase: Sequence[str]) -> bool:
    """Whether the stemmed ``phrase`` occurs as consecutive tokens of ``toks``."""
    n = len(phrase)
    if not n:
        return False
    first = phrase[0]
    return any(toks[i] == first and tuple(toks[i:i + n]) == tuple(phrase) for i in range(len(toks) - n + 1))


class ContractView:
    """A contract's clauses, ready for the review: ``source``, ``title``, ``metadata``, ``clauses``."""

    def __init__(self, source: str, title: str, text: str, chunks: list[Chunk], metadata: dict[str, Any],
                 chunk_vectors: np.ndarray | None = None, indexed: bool = False):
        self.source, self.title, self.text, self.chunks = source, title, text, chunks
        self.metadata = metadata
        self.chunk_vectors = chunk_vectors
        self.indexed = indexed
        self.clauses = self._clauses()
        self.tokens = [tuple(tokens(f"{c.section} {c.text}", keep_stopwords=True)) for c in self.clauses]
        self.text_only = [tuple(tokens(c.text, keep_stopwords=True)) for c in self.clauses]
        self.bm25 = BM25Index([f"{c.section} {c.text}" for c in self.clauses])
        self.text_tokens = set(tokens(text, keep_stopwords=True))
        self.numbered_doc = sum(c.numbered for c in self.clauses) >= MIN_NUMBERED
        self._vectors: dict[int, np.ndarray] = {}
        self._quantities: dict[int, list] = {}
        self.digest = hashlib.sha256(text.encode()).hexdigest()[:16]

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def from_chunks(cls, chunks: list[Chunk], vectors: np.ndarray | None = None) -> "ContractView":
        """From a document's stored chunks (in document order); the text is rebuilt from them."""
        if not chunks:
            raise ReviewError("the document has no text in the index")
        end = max(c.end for c in chunks)
        buf = ["\n"] * end
        for c in chunks:
            buf[c.start:c.end] = list(c.text)
        first = chunks[0]
        return cls(first.source, first.title, "".join(buf), chunks, dict(first.metadata), vectors, indexed=True)

    @classmethod
    def from_file(cls, path: Path, source: str, count_tokens: Any, chunk_size: int, overlap: int,
                  max_bytes: int | None = None) -> "ContractView":
        """Load and split a file in memory (pdf, docx, md, txt, html); nothing is written anywhere."""
        from ingest.loaders import LoadError, load
        from ingest.split import split

        try:
            doc = load(path, source, max_bytes)
        except LoadError as exc:
            reason = exc.reason
            if "no text could be extracted" in reason and path.suffix.lower() == ".pdf":
                reason = "no text could be extracted: the PDF looks scanned (images only); run OCR on it first"
            raise ReviewError(f"{source}: {reason}") from None
        chunks = split(doc, count_tokens, chunk_size, overlap)
        if not chunks:
            raise ReviewError(f"{source}: no text could be extracted")
        view = cls(doc.source, doc.title, doc.text, chunks, dict(doc.metadata))
        return view

    def _clauses(self) -> list[Clause]:
        """Statement units of the whole text (headings become sections), each tied to a chunk."""
        text = self.text
        starts = [c.start for c in self.chunks]
        out: list[Clause] = []
        section = ""
        for u in statement_units(text):
            body = text[u.start:u.end]
            if u.heading:
                section = heading_text(body)
                continue
            if not body.strip() or len(tokens(body)) < 2:
                continue
            ci = self._chunk_for(u.start, u.end, starts)
            out.append(Clause(u.start, u.end, body, section or self.chunks[ci].section.rsplit(" > ", 1)[-1],
                              bool(_NUMBERED.match(body)), bool(_BULLET.match(body)), bool(_ABSENCE.search(body)), ci))
        return out

    def _chunk_for(self, s: int, e: int, starts: list[int]) -> int:
        """The chunk holding [s, e) whole (or, for a clause cut by size, the one holding its start)."""
        import bisect

        i = max(0, bisect.bisect_right(starts, s) - 1)
        for j in range(i, -1, -1):  # overlapping chunks: an earlier one may hold the whole clause
            c = self.chunks[j]
            if c.start <= s and e <= c.end:
                return j
            if c.end < s:
                break
        return i

    # -- evidence ----------------------------------------------------------------------------
    def evidence_rows(self) -> list[int]:
        """Clauses that may be quoted: operative wording, not bullet summaries of a numbered contract."""
        return [i for i, c in enumerate(self.clauses) if not (self.numbered_doc and c.bullet)]

    def mentions(self, phrase: str) -> bool:
        """Whether the contract mentions ``phrase`` anywhere (stem-insensitive)."""
        toks = phrase_tokens(phrase)
        if len(toks) == 1:
            return toks[0] in self.text_tokens
        return any(has_phrase(t, toks) for t in self.tokens)

    def quantities(self, row: int) -> list:
        """The values clause ``row`` states (``measure.extract``), computed once."""
        if row not in self._quantities:
            from assistant.review.measure import extract

            self._quantities[row] = extract(self.clauses[row].text)
        return self._quantities[row]

    def vectors(self, rows: Sequence[int], embedder: Any) -> np.ndarray:
        """Embeddings of the clauses ``rows`` (computed once per clause)."""
        todo = [i for i in dict.fromkeys(rows) if i not in self._vectors]
        if todo:
            for i, v in zip(todo, embedder.embed([self.clauses[i].embed_text for i in todo], batch_size=16)):
                self._vectors[i] = v
        if not rows:
            return np.zeros((0, getattr(embedder, "dimension", 384)), dtype=np.float32)
        return np.stack([self._vectors[i] for i in rows])

    def citation(self, n: int, row: int, s: int | None = None, e: int | None = None) -> Citation:
        """A citation of clause ``row`` (or of its part [s, e)) with exact offsets and lines."""
        c = self.clauses[row]
        a, b = c.start + (s or 0), c.start + (e if e is not None else len(c.text))
        chunk = self.chunks[c.chunk]
        a, b = max(a, chunk.start), min(b, chunk.end)
        return Citation.from_chunk(n, chunk, a - chunk.start, b - chunk.start)


class ViewCache:
    """The last few contracts reviewed (by content), so a second look costs no embedding."""

    def __init__(self, size: int = 8):
        self.size = size
        self._items: OrderedDict[tuple[str, str], ContractView] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> ContractView | None:
        with self._lock:
            view = self._items.get(key)
            if view is not None:
                self._items.move_to_end(key)
            return view

    def put(self, key: tuple[str, str], view: ContractView) -> None:
        with self._lock:
            self._items[key] = view
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
