"""Structure-aware splitter: headings and numbered clauses first, then size.

Chunks are exact spans of the document text: ``doc.text[chunk.start:chunk.end] == chunk.text``.
Sizes are counted in the embedding model's tokens through a ``TokenCounter``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

from assistant.core.text import sentence_breaks
from assistant.core.types import Chunk, Document

TokenCounter = Callable[[Sequence[str]], list[int]]

_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
# "7.", "7.1", "7.1.2", "(a)", "Section 4", "ARTICLE V", "Clause 12" at the start of a line.
_CLAUSE = re.compile(
    r"^[ \t]*(?:(?:section|article|clause|schedule|annex|exhibit)[ \t]+[0-9IVXLC]+[.:]?|\d{1,2}(?:\.\d{1,3}){0,3}[.)]?|\([a-z0-9]{1,4}\))[ \t]+\S",
    re.I,
)


def approx_tokens(texts: Sequence[str]) -> list[int]:
    """Cheap token estimate (~4 characters a token) for fakes and tests."""
    return [max(1, (len(t) + 3) // 4) for t in texts]


@dataclass
class _Unit:
    start: int
    end: int
    section: str
    boundary: bool  # a structural break precedes this unit
    tokens: int = 0
    heading: bool = False


def _sections_and_lines(doc: Document) -> list[_Unit]:
    """Cut the text into lines (then sentences) tagged with their heading path."""
    text = doc.text
    path: list[tuple[int, str]] = []
    units: list[_Unit] = []
    pos = 0
    pending_break = True
    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        stripped = line.strip()
        if not stripped:
            pending_break = True
            continue
        lstart = start + (len(line) - len(line.lstrip()))
        lend = start + len(line.rstrip())
        m = _MD_HEADING.match(stripped)
        if m:
            level = len(m.group(1))
            path = [(lv, t) for lv, t in path if lv < level] + [(level, m.group(2).strip())]
            units.append(_Unit(lstart, lend, _path_str(path, doc.title), True, heading=True))
            pending_break = False
            continue
        boundary = pending_break or bool(_CLAUSE.match(line))
        short_heading = boundary and len(stripped) < 90 and not stripped.endswith((".", ";", ",", ":"))
        caps_heading = short_heading and len(stripped) < 60 and stripped.isupper() and len(stripped.split()) <= 8
        if short_heading and (_CLAUSE.match(line) or caps_heading) and not path_has_md(path):
            # A numbered heading line in a plain contract acts as the section title.
            path = [(7, stripped)]
        section = _path_str(path, doc.title)
        first = True
        for s, e in _sentences(text, lstart, lend):
            units.append(_Unit(s, e, section, boundary and first))
            first = False
        pending_break = False
    return units


def path_has_md(path: list[tuple[int, str]]) -> bool:
    return any(lv <= 6 for lv, _ in path)


def _path_str(path: list[tuple[int, str]], title: str) -> str:
    names = [t for _, t in path]
    if names and names[0] == title:
        names = names[1:]
    return " > ".join(names)


def _sentences(text: str, start: int, end: int, max_chars: int = 1200) -> list[tuple[int, int]]:
    """Sentence spans inside [start, end); very long runs are cut at spaces."""
    out: list[tuple[int, int]] = []
    for s, e in sentence_breaks(text, start, end):
        while e - s > max_chars:
            cut = text.rfind(" ", s + max_chars // 2, s + max_chars)
            cut = cut if cut > s else s + max_chars
            out.append((s, cut))
            s = cut
            while s < e and text[s] == " ":
                s += 1
        if e > s:
            out.append((s, e))
    return out


def split(
    doc: Document,
    count_tokens: TokenCounter = approx_tokens,
    chunk_size: int = 256,
    overlap: int = 32,
) -> list[Chunk]:
    """Split a document into chunks of at most ``chunk_size`` tokens (header included).

    Structural breaks (headings, numbered clauses, blank lines) are preferred cut points;
    a block larger than the budget is cut between sentences with ``overlap`` tokens repeated.
    """
    units = _sections_and_lines(doc)
    if not units:
        return []
    budget = max(16, chunk_size - (count_tokens([doc.title])[0] + 4))
    for u, c in zip(units, count_tokens([doc.text[u.start:u.end] for u in units])):
        u.tokens = c
    return _chunks(doc, _fold_crumbs(_group(units, budget, overlap), budget))


def _group(units: list[_Unit], budget: int, overlap: int) -> list[list[_Unit]]:
    """Consecutive units packed up to ``budget`` tokens, cut at structural breaks where possible."""
    groups: list[list[_Unit]] = []
    cur: list[_Unit] = []
    cur_tokens = 0
    for u in units:
        heading_change = cur and u.boundary and u.section != cur[-1].section
        if cur and (cur_tokens + u.tokens > budget or (heading_change and cur_tokens >= budget // 3)):
            # A heading never ends a chunk: carry trailing headings over to the next one.
            carry: list[_Unit] = []
            while len(cur) > 1 and cur[-1].heading:
                carry.insert(0, cur.pop())
            groups.append(cur)
            if carry:
                cur = carry
            elif not u.boundary and overlap:  # overlap only when a block was cut by size
                cur = _tail(cur, overlap)
            else:
                cur = []
            cur_tokens = sum(x.tokens for x in cur)
        cur.append(u)
        cur_tokens += u.tokens
    if cur:
        groups.append(cur)
    return groups


def _tail(group: list[_Unit], overlap: int) -> list[_Unit]:
    """The last units of ``group`` that fit in ``overlap`` tokens (never the whole group)."""
    tail: list[_Unit] = []
    t = 0
    for prev in reversed(group):
        if t + prev.tokens > overlap or len(tail) + 1 >= len(group):
            break
        tail.insert(0, prev)
        t += prev.tokens
    return tail


def _fold_crumbs(groups: list[list[_Unit]], budget: int) -> list[list[_Unit]]:
    """Fold crumbs (a trailing sentence, a lone heading) into the previous chunk when it fits."""
    merged: list[list[_Unit]] = []
    for g in groups:
        size = sum(u.tokens for u in g)
        if merged and size < 24 and sum(u.tokens for u in merged[-1]) + size <= budget and g[0].start >= merged[-1][-1].end:
            merged[-1] = merged[-1] + g
        else:
            merged.append(g)
    return merged


def _chunks(doc: Document, groups: list[list[_Unit]]) -> list[Chunk]:
    chunks: list[Chunk] = []
    line_offset = int(doc.metadata.get("_line_offset", 0))
    line, line_pos = 1, 0
    for g in groups:
        start, end = g[0].start, g[-1].end
        text = doc.text[start:end]
        section = next((u.section for u in g if not u.heading), g[-1].section)
        line += doc.text.count("\n", line_pos, start) if start >= line_pos else -doc.text.count("\n", start, line_pos)
        line_pos = start
        chunks.append(Chunk(
            id=Chunk.make_id(doc.source, start, end, text), text=text, source=doc.source, title=doc.title,
            doc_type=doc.doc_type, section=section, start=start, end=end, page=doc.page_at(start),
            metadata=dict(doc.metadata), line=line + line_offset,
        ))
    return chunks
