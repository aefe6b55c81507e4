"""Data contracts shared by ingest, retrieval, answering, the UI and the evals."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Document:
    """One loaded file: normalised text plus what we know about it."""

    source: str  # path relative to the knowledge root, with forward slashes
    text: str
    title: str
    doc_type: str
    metadata: dict[str, Any] = field(default_factory=dict)  # front matter / sidecar
    pages: tuple[tuple[int, int, int], ...] = ()  # (start, end, page number) for PDFs

    def page_at(self, offset: int) -> int | None:
        for start, end, page in self.pages:
            if start <= offset < end:
                return page
        return None


@dataclass
class Chunk:
    """A span of a document's text, the unit that is embedded, retrieved and cited."""

    id: str
    text: str
    source: str
    title: str
    doc_type: str
    section: str
    start: int
    end: int
    page: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    score: float = 0.0
    line: int = 0  # 1-based line of ``start`` in the original file (0 when unknown)
    signals: dict[str, float] = field(default_factory=dict)  # dense / lexical / fused scores

    @staticmethod
    def make_id(source: str, start: int, end: int, text: str) -> str:
        digest = hashlib.sha256(f"{source}\x00{start}\x00{end}\x00{text}".encode()).hexdigest()
        return digest[:32]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Citation:
    n: int
    chunk_id: str
    source: str
    title: str
    section: str
    start: int
    end: int
    quote: str
    doc_type: str = ""
    page: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    line_start: int = 0
    line_end: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Statement:
    """One sentence of an answer with the citations that support it."""

    text: str
    citations: list[int]
    support: float  # best support score among its citations, 0..1
    supported: bool


@dataclass
class Answer:
    question: str
    text: str
    citations: list[Citation]
    sources: list[Chunk]
    refused: bool
    backend: str
    statements: list[Statement] = field(default_factory=list)
    standalone_question: str = ""
    filters: dict[str, Any] = field(default_factory=dict)
    notice: str = ""  # e.g. "LLM unavailable, extractive answer shown"
    refusal_reason: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
