"""Reference routing: narrow a question to the document, vendor or finding status it names.

Routing only narrows the search (it returns filters); whether the evidence answers the
question is decided later, on every path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from assistant.retrieval.corpus import Corpus
from assistant.retrieval.filters import Filters

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
    vector: np.ndarray | None = None  # the query's embedding, once the search has computed it


def route(corpus: Corpus, query: str, filters: Filters, document: str | None = None) -> Routing:
    """The question's search text and filters, narrowed by the references it makes."""
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
        src = resolve_document(corpus, ref, strict=bool(document or m))
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


def resolve_document(corpus: Corpus, ref: str, strict: bool = False) -> str | None:
    """The source a reference (file name, stem, title words) points to, or None when unsure."""
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
