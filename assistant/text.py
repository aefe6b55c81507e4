"""Small text utilities shared by retrieval, answering and verification."""

from __future__ import annotations

import re

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having
    he her here hers him his how i if in into is it its itself just me more most my no nor not now of off on
    once only or other our ours out over own same she should so some such than that the their theirs them then
    there these they this those through to too under until up very was we were what when where which while who
    whom why will with would you your yours us say says said tell must shall may might also please""".split()
)
_WORD = re.compile(r"[a-z0-9]+")
_SENT = re.compile(r"(?<=[.!?;])[ \t]+(?=[\"'(\[]?[A-Z0-9])")


def stem(w: str) -> str:
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 5 and w.endswith("ing"):
        return w[:-3]
    if len(w) > 4 and w.endswith("ed") and not w.endswith("eed"):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def tokens(text: str, keep_stopwords: bool = False) -> list[str]:
    words = _WORD.findall(text.lower())
    if keep_stopwords:
        return [stem(w) for w in words]
    return [stem(w) for w in words if w not in STOPWORDS]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Spans of sentences and list items (each line at least one unit), whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        lstart = pos
        pos += len(line) + 1
        if not line.strip():
            continue
        cur = lstart
        for m in _SENT.finditer(line):
            spans.append((cur, lstart + m.start()))
            cur = lstart + m.end()
        spans.append((cur, lstart + len(line)))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out
