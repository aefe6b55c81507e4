"""Data contracts shared by ingest, retrieval, answering, the UI and the evals."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any


def format_location(source: str, line_start: int = 0, line_end: int = 0, page: int | None = None) -> str:
    """``contracts/x.md:12-14 (page 3)``: where a quote or chunk sits in its file."""
    loc = source
    if line_start:
        loc += f":{line_start}" + (f"-{line_end}" if line_end and line_end != line_start else "")
    if page:
        loc += f" (page {page})"
    return loc


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

    @property
    def location(self) -> str:
        return format_location(self.source, self.line, 0, self.page)


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

    # Chunk metadata a citation carries to the reader (and to the UI's badges).
    SHOWN_METADATA = ("vendor", "date", "audience", "finding_id", "severity", "status")

    @classmethod
    def from_chunk(cls, n: int, chunk: Chunk, s: int, e: int) -> "Citation":
        """A citation of ``chunk.text[s:e]``, with offsets into the document's text and line numbers."""
        return cls(
            n=n,
            chunk_id=chunk.id,
            source=chunk.source,
            title=chunk.title,
            section=chunk.section,
            start=chunk.start + s,
            end=chunk.start + e,
            quote=chunk.text[s:e],
            doc_type=chunk.doc_type,
            page=chunk.page,
            metadata={k: v for k, v in chunk.metadata.items() if k in cls.SHOWN_METADATA},
            line_start=chunk.line + chunk.text.count("\n", 0, s) if chunk.line else 0,
            line_end=chunk.line + chunk.text.count("\n", 0, e) if chunk.line else 0,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def location(self) -> str:
        return format_location(self.source, self.line_start, self.line_end, self.page)


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
    signals: dict[str, float] = field(default_factory=dict)  # the answerability signals and P(answerable)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
