"""How well each clause of a contract matches each requirement: dense similarity to the
requirement's query plus the share of its keywords the clause states (``weight`` and the presence
``threshold`` are fitted, see ``ReviewParams``).

Clauses are embedded lazily: a short contract has all its clauses embedded; a long one only the
candidates (clauses of the chunks most similar to each query, plus the best lexical matches), so a
30-page agreement costs a few hundred short embeddings at most.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from assistant.core.text import STOPWORDS
from assistant.review import measure
from assistant.review.contract import ContractView, has_phrase, phrase_tokens
from assistant.review.playbook import Requirement

PARAMS_FILE = Path(__file__).resolve().parents[1] / "review.json"
ALL_CLAUSES = 160  # up to this many quotable clauses, every one is embedded
TOP_CHUNKS = 3
TOP_LEXICAL = 6
SATURATION = 2  # keyword hits that count as full lexical evidence
# Words that name a unit, not a subject: they say nothing about which term a clause is about.
UNIT_WORDS = frozenset(phrase_tokens("hour hours day days business month months year years week weeks percent "
                                     "eur usd per cent times"))


@dataclass
class ReviewParams:
    """The fitted decision parameters (``assistant/review.json``, section ``playbook`` by default)."""

    weight: float = 0.3  # of keyword coverage, added to the dense similarity
    value_weight: float = 0.05  # added when a measured term's clause states a value in the term's dimension
    threshold: float = 0.55  # a requirement is present when its best clause scores at least this
    margin: float = 0.06  # clauses within this of the best are all read (the most favourable wins)
    note: str = ""
    thresholds: dict[str, float] = field(default_factory=dict)  # per requirement or category, when fitted so

    def threshold_for(self, key: str) -> float:
        return self.thresholds.get(key, self.threshold)

    @classmethod
    def load(cls, section: str = "playbook", path: Path | None = None) -> "ReviewParams":
        p = path or PARAMS_FILE
        try:
            data = json.loads(p.read_text(encoding="utf-8")).get(section) or {}
        except (OSError, ValueError):
            return cls()
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Scored:
    row: int  # index into ``view.clauses``
    score: float
    dense: float
    coverage: float
    valued: bool = False


class KeywordMatcher:
    """A requirement's keyword phrases (stemmed), for coverage and for attributing values."""

    def __init__(self, req: Requirement):
        self.phrases = [p for p in (phrase_tokens(k) for k in req.keywords) if p]
        self.subject = list(dict.fromkeys(p for p in (_trim(ph) for ph in self.phrases) if p))
        self.about = [p for p in (phrase_tokens(a) for a in req.about) if p]
        self.must = [[p for p in (phrase_tokens(a) for a in g) if p] for g in req.must_state]

    def is_about(self, toks: Sequence[str]) -> bool:
        """Whether a clause states one of the requirement's ``about`` phrases (always, when it has none)."""
        return not self.about or any(has_phrase(toks, p) for p in self.about)

    def coverage(self, toks: Sequence[str]) -> float:
        """Lexical evidence, 0-1: keyword phrases and satisfied ``must_state`` groups found, two or more = 1.

        Counted, not divided by the number of keywords, so a requirement with many keywords is not
        penalised against one with few."""
        hits = sum(has_phrase(toks, p) for p in self.phrases)
        hits += sum(any(has_phrase(toks, p) for p in g) for g in self.must)
        return min(1.0, hits / SATURATION)

    def relevance(self, text: str) -> float:
        """How many subject phrases (unit words left out) ``text`` states."""
        toks = phrase_tokens(text)
        return float(sum(has_phrase(toks, p) for p in self.subject))


_STOP_STEMS = frozenset(t for w in STOPWORDS for t in phrase_tokens(w))


def _trim(phrase: tuple[str, ...]) -> tuple[str, ...]:
    """A keyword phrase without the unit and stop words at its ends ("days' notice" -> "notice",
    "once a year" -> nothing: it names a value, not a subject)."""
    def weak(t: str) -> bool:
        return t in UNIT_WORDS or t in _STOP_STEMS

    a, b = 0, len(phrase)
    while a < b and weak(phrase[a]):
        a += 1
    while b > a and weak(phrase[b - 1]):
        b -= 1
    return phrase[a:b]


_QUERY_VECTORS: dict[tuple[str, str], np.ndarray] = {}


def query_vectors(embedder: Any, queries: Sequence[str]) -> np.ndarray:
    """Embeddings of the requirement queries, cached per process (the playbook rarely changes)."""
    name = getattr(embedder, "name", type(embedder).__name__)
    todo = [q for q in dict.fromkeys(queries) if (name, q) not in _QUERY_VECTORS]
    if todo:
        for q, v in zip(todo, embedder.embed(list(todo))):
            _QUERY_VECTORS[(name, q)] = v
    return np.stack([_QUERY_VECTORS[(name, q)] for q in queries]) if queries else np.zeros((0, 1), dtype=np.float32)


def chunk_input(view: ContractView, i: int) -> str:
    c = view.chunks[i]
    head = c.title if not c.section else f"{c.title} > {c.section}"
    return f"{head}\n{c.text}"


def candidates(view: ContractView, reqs: Sequence[Requirement], qv: np.ndarray, embedder: Any) -> list[list[int]]:
    """For each requirement, the clause rows worth embedding and scoring."""
    rows = view.evidence_rows()
    if len(rows) <= ALL_CLAUSES:
        return [rows] * len(reqs)
    if view.chunk_vectors is None:  # an uploaded long contract: its chunks are embedded once, like at ingest
        view.chunk_vectors = embedder.embed([chunk_input(view, i) for i in range(len(view.chunks))], batch_size=16)
    allowed = set(rows)
    by_chunk: dict[int, list[int]] = {}
    for r in rows:
        by_chunk.setdefault(view.clauses[r].chunk, []).append(r)
    sims = view.chunk_vectors @ qv.T  # chunks x requirements
    out = []
    for j, req in enumerate(reqs):
        pick: dict[int, None] = {}
        for ci in np.argsort(-sims[:, j])[:TOP_CHUNKS]:
            pick.update(dict.fromkeys(by_chunk.get(int(ci), [])))
        lex = view.bm25.scores(f"{req.query} {' '.join(req.keywords)}")
        for r in np.argsort(-lex)[:TOP_LEXICAL]:
            if lex[r] > 0 and int(r) in allowed:
                pick[int(r)] = None
        out.append(list(pick))
    return out


def queries_of(req: Requirement, standard_text: str | None = None) -> list[str]:
    """The phrasings a clause is compared with: the query, what meets, and the standard's own wording."""
    out = [req.query, req.meets]
    if standard_text:
        out.append(standard_text)
    return out


def score(view: ContractView, reqs: Sequence[Requirement], embedder: Any, params: ReviewParams,
          standards: dict[str, str] | None = None) -> list[list[Scored]]:
    """Each requirement's candidate clauses that are about it, best first.

    Dense similarity is the best over the requirement's phrasings (``queries_of``); ``standards``
    maps a requirement id to its standard clause text.
    """
    if not reqs:
        return []
    variants = [queries_of(r, (standards or {}).get(r.id)) for r in reqs]
    flat = [q for v in variants for q in v]
    qv_all = query_vectors(embedder, flat)
    bounds, pos0 = [], 0
    for v in variants:
        bounds.append((pos0, pos0 + len(v)))
        pos0 += len(v)
    qv = np.stack([qv_all[a] for a, _ in bounds])  # the first phrasing picks candidates
    matchers = [KeywordMatcher(r) for r in reqs]
    # Only clauses about the term are embedded and scored (the wording itself, not its heading).
    cands = [[r for r in rows if km.is_about(view.text_only[r])]
             for rows, km in zip(candidates(view, reqs, qv, embedder), matchers)]
    union = list(dict.fromkeys(r for rows in cands for r in rows))
    vecs = view.vectors(union, embedder)
    pos = {r: i for i, r in enumerate(union)}
    out: list[list[Scored]] = []
    for j, req in enumerate(reqs):
        km, rows = matchers[j], cands[j]
        a, b = bounds[j]
        dense = (vecs[[pos[r] for r in rows]] @ qv_all[a:b].T).max(axis=1) if rows else np.zeros(0)
        dim = measure.DIMENSION.get(req.measure.unit) if req.measure else None
        scored = []
        for r, d in zip(rows, dense):
            cov = km.coverage(view.tokens[r])
            valued = dim is not None and any(measure.convert(q, req.measure.unit) is not None and
                                             req.measure.accepts(q.kind) for q in view.quantities(r))
            s = float(d) + params.weight * cov + (params.value_weight if valued else 0.0)
            scored.append(Scored(r, s, float(d), cov, valued))
        out.append(sorted(scored, key=lambda s: -s.score))
    return out
