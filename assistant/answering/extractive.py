"""Extractive answers (the offline default): the sentences that answer, grouped and cited."""

from __future__ import annotations

import re
from typing import Any, Callable, Sequence

from assistant.answering.guard import REFUSAL_TEXT, looks_like_instruction
from assistant.core.text import sentence_spans, tokens
from assistant.core.types import Answer, Chunk, Citation, Statement

MAX_STATEMENTS = 7
PER_CHUNK = 3
MAX_EMBEDDED = 10  # sentences re-scored by embedding: the main cost of an extractive answer
EMBED_CHARS = 240  # a long sentence is judged by its opening: cost grows with length (bench.md)
RELATIVE_CUTOFF = 0.6
ABSOLUTE_MIN = 0.45
MIN_STATEMENTS = 3
_BULLET = re.compile(r"^\s*(?:[-*+•]\s+|\|\s*)")
_NUMERIC_Q = re.compile(r"\b(how (?:quickly|fast|long|soon|often|many|much)|when|deadline|within|what (?:is|are) the (?:limit|cap|threshold))\b", re.I)
_HAS_NUMBER = re.compile(r"\d")


def refusal(question: str, chunks: Sequence[Chunk], reason: str, text: str = REFUSAL_TEXT, backend: str = "extractive") -> Answer:
    nearest = list(chunks[:3])
    body = text
    if nearest and reason == "not_in_knowledge_base":
        names = []
        for c in nearest:
            label = f"{c.title} ({c.source})"
            if label not in names:
                names.append(label)
        body += "\n\nNearest sources:\n" + "\n".join(f"- {n}" for n in names)
    return Answer(question=question, text=body, citations=[], sources=nearest, refused=True, backend=backend, refusal_reason=reason)


def _statement_text(quote: str) -> str:
    text = _BULLET.sub("", quote).strip()
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", text)
    return text.strip(" |")


def select_sentences(
    question: str,
    chunks: Sequence[Chunk],
    idf: Callable[[str], float],
    limit: int = MAX_STATEMENTS,
    embedder: Any = None,
    qvec: Any = None,
) -> list[tuple[float, int, int, int]]:
    """Rank candidate sentences: (score, chunk index, start, end) within chunk.text.

    A sentence scores by the idf-weighted share of the question's terms it contains, its
    embedding similarity to the question (when an embedder is given), and its chunk's rank.
    """
    q_terms = set(tokens(question))
    if not q_terms:
        return []
    weights = {t: idf(t) for t in q_terms}
    total = sum(weights.values()) or 1.0
    wants_number = bool(_NUMERIC_Q.search(question))
    cands: list[tuple[float, int, int, int]] = []
    for ci, c in enumerate(chunks):
        prior = 0.2 / (1 + ci)
        header_terms = set(tokens(f"{c.title} {c.section}"))
        for s, e in sentence_spans(c.text):
            sent = c.text[s:e]
            if sent.lstrip().startswith("#") or len(sent) < 12:
                continue
            st = set(tokens(sent))
            if len(st) < 3 or looks_like_instruction(sent):  # an instruction in a document is not evidence
                continue
            cover = sum(weights[t] for t in q_terms & st) / total
            context = 0.3 * sum(weights[t] for t in (q_terms & header_terms) - st) / total
            score = cover + context + prior
            if wants_number and _HAS_NUMBER.search(sent):
                score += 0.1
            cands.append((score, ci, s, e))
    if embedder is not None and cands:
        cands.sort(key=lambda x: (-x[0], x[1], x[2]))
        cands = cands[:MAX_EMBEDDED]
        texts = [chunks[ci].text[s:e][:EMBED_CHARS] for _, ci, s, e in cands]
        if qvec is None:
            vecs = embedder.embed([question] + texts)
            qvec, vecs = vecs[0], vecs[1:]
        else:
            vecs = embedder.embed(texts)
        sims = vecs @ qvec
        cands = [(0.5 * sc + float(sim), ci, s, e) for (sc, ci, s, e), sim in zip(cands, sims)]
    cands.sort(key=lambda x: (-x[0], x[1], x[2]))
    if not cands:
        return []
    best = cands[0][0]
    chosen: list[tuple[float, int, int, int]] = []
    seen: list[set[str]] = []
    per_chunk: dict[int, int] = {}
    for score, ci, s, e in cands:
        if len(chosen) >= limit:
            break
        if score < max(ABSOLUTE_MIN, RELATIVE_CUTOFF * best) and (len(chosen) >= MIN_STATEMENTS or score < ABSOLUTE_MIN):
            break
        if per_chunk.get(ci, 0) >= PER_CHUNK:
            continue
        per_chunk[ci] = per_chunk.get(ci, 0) + 1
        toks = set(tokens(chunks[ci].text[s:e]))
        if any(len(toks & o) / max(1, len(toks | o)) > 0.6 for o in seen):
            continue
        seen.append(toks)
        chosen.append((score, ci, s, e))
    return chosen


def compose(question: str, chunks: Sequence[Chunk], chosen: Sequence[tuple[float, int, int, int]]) -> tuple[str, list[Citation], list[Statement]]:
    """Group chosen sentences by document (in rank order), keep document order inside a group."""
    groups: dict[str, list[tuple[float, int, int, int]]] = {}
    for item in chosen:
        groups.setdefault(chunks[item[1]].source, []).append(item)
    lines: list[str] = []
    citations: list[Citation] = []
    statements: list[Statement] = []
    for source, items in groups.items():
        items.sort(key=lambda x: chunks[x[1]].start + x[2])
        first = chunks[items[0][1]]
        heading = first.title + (f" — {first.section}" if first.section else "")
        lines.append(f"**{heading}**")
        for score, ci, s, e in items:
            n = len(citations) + 1
            cit = Citation.from_chunk(n, chunks[ci], s, e)
            citations.append(cit)
            text = _statement_text(cit.quote)
            statements.append(Statement(text=text, citations=[n], support=1.0, supported=True))
            lines.append(f"- {text} [{n}]")
        lines.append("")
    return "\n".join(lines).strip(), citations, statements


def _finding_headers(chunks: Sequence[Chunk], chosen: list[tuple[float, int, int, int]]) -> list[tuple[float, int, int, int]]:
    """Auditors need the finding's id, severity and status: cite its field line with the quote."""
    out = list(chosen)
    have = {(ci, s) for _, ci, s, _ in chosen}
    for score, ci, _, _ in chosen:
        fid = chunks[ci].metadata.get("finding_id")
        if not fid:
            continue
        for s, e in sentence_spans(chunks[ci].text):
            sent = chunks[ci].text[s:e]
            if re.match(rf"\W*Finding {re.escape(fid)}\b", sent) and not sent.lstrip().startswith("#"):
                if (ci, s) not in have:
                    out.append((score, ci, s, e))
                    have.add((ci, s))
                break
    return out


def extractive_answer(
    question: str, chunks: Sequence[Chunk], idf: Callable[[str], float], embedder: Any = None, qvec: Any = None
) -> Answer:
    """``qvec``: the question's embedding when the caller has it (saves embedding it again)."""
    chosen = _finding_headers(chunks, select_sentences(question, chunks, idf, embedder=embedder, qvec=qvec))
    if not chosen:
        return refusal(question, chunks, "no_supporting_sentence")
    text, citations, statements = compose(question, chunks, chosen)
    return Answer(
        question=question, text=text, citations=citations, sources=list(chunks), refused=False,
        backend="extractive", statements=statements,
    )
