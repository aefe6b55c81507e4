"""Citation verification: every [n] must point to a retrieved chunk that supports its sentence.

``verify_answer`` turns an LLM's raw text into a verified ``Answer``: unsupported citations are
dropped, sentences left without support are marked, and an answer with no supported sentence
becomes a refusal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from assistant.answering.extractive import refusal
from assistant.answering.guard import looks_like_instruction
from assistant.core.embeddings import Embedder
from assistant.core.text import sentence_spans, tokens
from assistant.core.types import Answer, Chunk, Citation, Statement

MARKER = re.compile(r"\[(\d{1,3})\]")
LEXICAL_MIN = 0.5  # share of the statement's content words found in the cited chunk
EMBED_MIN = 0.55  # cosine between statement and the best sentence of the chunk
COMBINED_MIN = 0.6


@dataclass
class Support:
    score: float
    lexical: float
    semantic: float
    quote_span: tuple[int, int]  # offsets inside chunk.text of the best supporting sentence
    instruction: bool = False  # that sentence is an instruction (an injection), which supports nothing


def lexical_support(statement: str, passage: str) -> float:
    st = set(tokens(MARKER.sub("", statement)))
    if not st:
        return 0.0
    return len(st & set(tokens(passage))) / len(st)


def support(statement: str, chunk: Chunk, embedder: Embedder | None) -> Support:
    """How well ``chunk`` supports ``statement``: lexical overlap and embedding similarity."""
    clean = MARKER.sub("", statement).strip()
    spans = sentence_spans(chunk.text) or [(0, len(chunk.text))]
    lex_all = lexical_support(clean, chunk.text)
    lex_each = [lexical_support(clean, chunk.text[s:e]) for s, e in spans]
    best = int(np.argmax(lex_each))
    semantic = 0.0
    if embedder is not None and clean:
        texts = [clean] + [chunk.text[s:e] for s, e in spans]
        vecs = embedder.embed(texts)
        sims = vecs[1:] @ vecs[0]
        best_sem = int(np.argmax(sims))
        semantic = float(sims[best_sem])
        if lex_each[best_sem] >= lex_each[best] - 0.1:
            best = best_sem
    score = 0.5 * lex_all + 0.5 * semantic if embedder is not None else lex_all
    s, e = spans[best]
    return Support(score=score, lexical=lex_all, semantic=semantic, quote_span=(s, e),
                   instruction=looks_like_instruction(chunk.text[s:e]))


def is_supported(s: Support, with_embeddings: bool) -> bool:
    if s.instruction:
        return False
    if s.lexical >= 0.999:
        return True
    if not with_embeddings:
        return s.lexical >= LEXICAL_MIN
    return s.lexical >= LEXICAL_MIN and s.semantic >= EMBED_MIN or s.score >= COMBINED_MIN and s.lexical >= 0.3


_STATEMENT_END = re.compile(r"(?<=[.!?])\s+(?!\[\d)|\n+")


def split_statements(text: str) -> list[str]:
    """Sentences of model output, each keeping the [n] markers written after its full stop."""
    out: list[str] = []
    for frag in _STATEMENT_END.split(text):
        frag = frag.strip()
        if not frag:
            continue
        if out and MARKER.sub("", frag).strip(" .") == "":
            out[-1] += " " + frag  # a marker on its own line belongs to the sentence before
        else:
            out.append(frag)
    return out


def markers(statement: str) -> list[int]:
    return [int(m) for m in MARKER.findall(statement)]


def valid_refs(refs: Sequence[int], n_sources: int) -> list[int]:
    return [r for r in refs if 1 <= r <= n_sources]


NOT_IN_SOURCES = "NOT_IN_SOURCES"  # what the LLM is told to reply when the sources do not answer


def verify_answer(question: str, raw: str, chunks: Sequence[Chunk], embedder: Embedder | None, backend: str) -> Answer | None:
    """Keep only citations whose chunk supports the sentence; refuse if nothing is supported.

    Returns None when the text carries no citation markers at all (the caller falls back to an
    extractive answer).
    """
    if NOT_IN_SOURCES in raw:
        return refusal(question, chunks, "not_in_knowledge_base", backend=backend)
    statements_raw = split_statements(raw)
    if not any(markers(s) for s in statements_raw):
        return None
    citations: list[Citation] = []
    statements: list[Statement] = []
    lines: list[str] = []
    for st in statements_raw:
        refs = valid_refs(markers(st), len(chunks))
        clean = MARKER.sub("", st).strip()
        if not clean or re.fullmatch(r"[\W_]+", clean):
            continue
        kept: list[int] = []
        best = 0.0
        for r in dict.fromkeys(refs):
            sup = support(clean, chunks[r - 1], embedder)
            best = max(best, sup.score)
            if is_supported(sup, with_embeddings=embedder is not None):
                n = len(citations) + 1
                s, e = sup.quote_span
                citations.append(Citation.from_chunk(n, chunks[r - 1], s, e))
                kept.append(n)
        supported = bool(kept)
        statements.append(Statement(text=clean, citations=kept, support=round(best, 3), supported=supported))
        if supported:
            lines.append(f"{clean} " + "".join(f"[{n}]" for n in kept))
        else:
            lines.append(f"{clean} (unsupported: no cited source backs this)")
    if not any(s.supported for s in statements):
        ans = refusal(question, chunks, "no_supported_statement", backend=backend)
        ans.statements = statements
        return ans
    return Answer(question=question, text="\n".join(lines), citations=citations, sources=list(chunks),
                  refused=False, backend=backend, statements=statements)
