"""Extractive answers (the offline default): the statement units that answer, ranked, chosen and composed."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from assistant.answering.compose import composed_answer
from assistant.answering.guard import REFUSAL_TEXT, looks_like_instruction
from assistant.answering.question import expected_type, provides, value_words, without_clause_numbers
from assistant.answering.quotes import Context, Pick, restates_title
from assistant.core.text import named_in, tokens
from assistant.core.types import Answer, Chunk
from assistant.core.units import sectioned_units

MAX_CHOSEN = 7
PER_CHUNK = 3
MAX_EMBEDDED = 16  # units re-scored by embedding: the main cost of an extractive answer
EMBED_CHARS = 240  # a long unit is judged by its opening: cost grows with length (bench.md)
RELATIVE_CUTOFF = 0.6
UNIT_CACHE = 20_000  # unit vectors kept in memory (384 floats each: about 30 MB)
ABSOLUTE_MIN = 0.45
MIN_CHOSEN = 3
OTHER_FINDING = 0.3  # taken off a unit that names only findings other than those the question names
_NUMERIC_Q = re.compile(r"\b(how (?:quickly|fast|long|soon|often|many|much)|when|deadline|within|"
                        r"what(?: is| are|'s|’s) the (?:limit|cap|threshold))\b", re.I)
_HAS_NUMBER = re.compile(r"\d")
_ASKS_DUTY = re.compile(r"\b(must|should|shall|needs? to|has to|have to|required?|requirements?|obliged|obligations?|"
                        r"say about)\b", re.I)
_DUTY = re.compile(r"\b(shall|must|may|required|needs? to|has to|have to|is entitled|are entitled)\b", re.I)


@dataclass
class Candidate:
    """A unit of ``chunks[ci].text[start:end]`` and how well it answers the question."""

    score: float
    ci: int
    start: int
    end: int
    section: str = ""  # the heading the unit sits under
    sim: float | None = None  # embedding similarity to the question (top candidates only)
    vec: Any = None  # the unit's embedding (top candidates only)
    ask_best: bool = False  # the closest unit to the question (``choose``) or to one of its asks (``with_each_ask``)


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


class UnitVectors:
    """Embeddings of quotable units, kept across questions (least recently used out first).

    Re-scoring units by embedding is the main cost of an extractive answer, and the same passages answer
    many questions: a unit is embedded the first time it is ranked, and its vector is reused after. Keyed by
    the embedding model's name and dimension and the text, so a vector is never reused across models or edited text.
    """

    def __init__(self, size: int = UNIT_CACHE) -> None:
        self.size = size
        self._vectors: OrderedDict[tuple[tuple[str, int | None], str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def embed(self, embedder: Any, texts: Sequence[str]) -> np.ndarray:
        # (the dimension too: two models, fakes included, may share a name but not a vector length)
        model = (getattr(embedder, "name", type(embedder).__name__), getattr(embedder, "dimension", None))
        with self._lock:
            found = {t: v for t in texts if (v := self._vectors.get((model, t))) is not None}
            for t in found:
                self._vectors.move_to_end((model, t))
            missing = list(dict.fromkeys(t for t in texts if t not in found))
            self.hits += len(texts) - len(missing)
            self.misses += len(missing)
        if missing:
            found.update(zip(missing, embedder.embed(missing)))
            with self._lock:
                for t in missing:
                    self._vectors[(model, t)] = found[t]
                while len(self._vectors) > self.size:
                    self._vectors.popitem(last=False)
        return np.stack([found[t] for t in texts])


UNIT_VECTORS = UnitVectors()


def rank(question: str, chunks: Sequence[Chunk], idf: Callable[[str], float], embedder: Any = None,
         qvec: Any = None, ask: str = "", finding_ids: Sequence[str] = (), asked: Sequence[str] = ()) -> list[Candidate]:
    """Every quotable unit of the chunks, best first.

    A unit scores by the idf-weighted share of the question's terms it contains, the terms its
    section heading adds, its chunk's rank and (for the best few) its embedding similarity; a unit
    that gives the kind of value asked for, or states a duty when duties are asked for ("what must our
    contract say about ..."), scores higher. In a section about the document itself (``restates_title``)
    the title's words count as heading words, not as the unit's own.
    Headings, instruction-like text and fragments are never candidates. ``ask``: the question's last
    sentence when it sets out a situation first ("Our vendor lost a site. What must it send us while it
    recovers?"); a unit's similarity is the higher of its similarity to the whole question and to the ask
    (chosen on the calibration split: key-fact recall 0.752 -> 0.761; the mean of the two lost facts).
    ``finding_ids``: the register's finding ids; of a question that names some, a unit that names only others is
    about another finding ("When was NW-2024-01 closed?" is not answered by "NW-2023-01 was closed on ..."); ``asked``:
    the findings the register found the question describing ("why is the Northwind leavers finding still open?").
    """
    # (a date or a rate the sentence names still ranks it: only "how soon" words are left out)
    q_terms = set(tokens(question)) - set(tokens(" ".join(value_words(question))))
    if not q_terms:
        return []
    weights = {t: idf(t) for t in q_terms}
    total = sum(weights.values()) or 1.0
    wants_number = bool(_NUMERIC_Q.search(question))
    kind = expected_type(question)  # a unit that gives the kind of answer asked for ranks higher
    asks_duty = bool(_ASKS_DUTY.search(question))  # ... and so does one that states a duty, when duties are asked for
    asked_ids = set(named_in(question, finding_ids)) | set(asked)
    cands: list[Candidate] = []
    for ci, c in enumerate(chunks):
        prior = 0.2 / (1 + ci)
        title_terms = set(tokens(c.title))
        about: dict[str, bool] = {}  # section heading -> whether it is about the document itself
        base_terms = title_terms | set(tokens(c.section))
        for u, section in sectioned_units(c.text, c.section):
            unit = c.text[u.start:u.end]
            if u.heading or len(unit) < 12:
                continue
            header_terms = base_terms | set(tokens(section))
            st = set(tokens(unit))
            if len(st) < 3 or looks_like_instruction(unit):  # an instruction in a document is not evidence
                continue
            # A section about the document itself ("Use of the subcontracting and audit model clauses") names the
            # title's subject in every sentence: there those words say no more than the title does, so they count
            # as the title's (``context``), not as the sentence's own.
            if (about_document := about.get(section)) is None:
                about_document = about[section] = restates_title(section, title_terms)
            said = st - title_terms if about_document else st
            cover = sum(weights[t] for t in q_terms & said) / total
            context = 0.3 * sum(weights[t] for t in (q_terms & header_terms) - said) / total
            score = cover + context + prior + (0.1 if wants_number and _HAS_NUMBER.search(without_clause_numbers(unit)) else 0.0)
            if kind and provides(kind, question, unit):
                score += 0.1
            if asks_duty and _DUTY.search(unit):
                score += 0.1
            if asked_ids and (ids := named_in(unit, finding_ids)) and asked_ids.isdisjoint(ids):
                score -= OTHER_FINDING
            cands.append(Candidate(score, ci, u.start, u.end, section))
    cands.sort(key=lambda x: (-x.score, x.ci, x.start))
    if embedder is not None and cands:
        top = cands[:MAX_EMBEDDED]
        texts = [chunks[x.ci].text[x.start:x.end][:EMBED_CHARS] for x in top]
        if qvec is None:
            qvec = embedder.embed([question])[0]
        vecs = UNIT_VECTORS.embed(embedder, texts)
        sims = vecs @ qvec
        if ask:  # a scenario, then the ask: a unit that answers the ask is close to it, if not to the scenario
            sims = np.maximum(sims, vecs @ embedder.embed([ask])[0])
        for x, vec, sim in zip(top, vecs, sims):
            x.sim, x.vec = float(sim), vec
            x.score = 0.5 * x.score + x.sim
        cands = top
        cands.sort(key=lambda x: (-x.score, x.ci, x.start))
    return cands


def choose(cands: Sequence[Candidate], chunks: Sequence[Chunk], limit: int = MAX_CHOSEN) -> list[Candidate]:
    """The candidates worth quoting: close to the best, at most PER_CHUNK a chunk, no near-duplicates
    within a document (the same rule in two documents is kept: the standard and the guidance agree)."""
    if not cands:
        return []
    best = cands[0].score
    chosen: list[Candidate] = []
    seen: list[tuple[str, set[str]]] = []
    per_chunk: dict[int, int] = {}
    for x in cands:
        if len(chosen) >= limit:
            break
        if x.score < max(ABSOLUTE_MIN, RELATIVE_CUTOFF * best) and (len(chosen) >= MIN_CHOSEN or x.score < ABSOLUTE_MIN):
            break
        if per_chunk.get(x.ci, 0) >= PER_CHUNK:
            continue
        per_chunk[x.ci] = per_chunk.get(x.ci, 0) + 1
        toks = set(tokens(chunks[x.ci].text[x.start:x.end]))
        source = chunks[x.ci].source
        if any(src == source and len(toks & o) / max(1, len(toks | o)) > 0.6 for src, o in seen):
            continue
        seen.append((source, toks))
        chosen.append(x)
    # the unit closest in meaning to the question is quoted whatever its words' score ("an agent had to pay an agency to
    # get his job. Is that a problem?" is answered by "No recruitment fees may be charged to workers")
    closest = max((x for x in chosen if x.sim is not None), key=lambda x: x.sim or 0.0, default=None)
    if closest is not None:
        closest.ask_best = True
    return chosen


def ask_matrix(asks: Any, units: Sequence[Candidate]) -> Any:
    """Each ask's similarity to each of the embedded ``units`` (a row per ask; ``asks``: the asks' embeddings), for
    ``with_each_ask``; None for a question of one ask."""
    return asks @ np.stack([x.vec for x in units]).T if asks is not None and len(units) else None


def with_each_ask(chosen: list[Candidate], embedded: Sequence[Candidate], part_sims: Any) -> list[Candidate]:
    """For a question of several asks, the chosen units and, for each ask, the embedded unit closest to it
    (``part_sims``: each ask's similarity to each of ``embedded``, a row per ask; None for a one-part question): an ask
    whose answer scores under the others' is still answered. Those closest units are marked (``ask_best``):
    composition keeps them, and their documents, whatever their score."""
    if part_sims is None or not embedded:
        return chosen
    out = list(chosen)
    for row in part_sims:
        best = embedded[int(np.argmax(row))]
        best.ask_best = True
        if not any(y is best for y in out):
            out.append(best)
    return out


def extractive_answer(
    question: str,
    chunks: Sequence[Chunk],
    idf: Callable[[str], float],
    embedder: Any = None,
    qvec: Any = None,
    ctx: Context | None = None,
    chosen: Sequence[Candidate] | None = None,
) -> Answer:
    """The composed, cited answer. ``qvec``: the question's embedding when the caller has it;
    ``chosen``: candidates already chosen (the answerability check looked at them); ``ctx``: lookups
    for complete sections and the latest status of findings."""
    if chosen is None:
        chosen = choose(rank(question, chunks, idf, embedder, qvec), chunks)
    if not chosen:
        return refusal(question, chunks, "no_supporting_sentence")
    return composed_answer(question, chunks, picks_of(chosen, chunks), ctx)


def picks_of(chosen: Sequence[Candidate], chunks: Sequence[Chunk]) -> list[Pick]:
    """The chosen candidates as quotes for composition."""
    return [Pick(chunks[x.ci], x.start, x.end, x.score, x.section, ask_best=x.ask_best) for x in chosen]
