"""The decision for one requirement from its scored clauses: meets, weaker, unclear or missing
(not_applicable when none of its ``applies_if`` terms occurs), with the quoted clause, the value it
states and a one-line reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from assistant.review import measure
from assistant.review.contract import ContractView, has_phrase, phrase_tokens
from assistant.review.playbook import Playbook, Requirement
from assistant.review.score import KeywordMatcher, ReviewParams, Scored

STATUSES: tuple[str, ...] = ("meets", "weaker", "unclear", "missing", "not_applicable")
_PREFERENCE = {"meets": 0, "weaker": 1, "unclear": 2}
MAX_READ = 6  # clauses above the threshold read for one requirement  # among clauses that score alike, the most favourable reading wins


@dataclass
class Judgment:
    status: str
    reason: str
    row: int | None = None  # the quoted clause (``view.clauses``)
    span: tuple[int, int] | None = None  # the part of the clause that states the value
    value: float | None = None  # in the requirement's unit
    value_text: str = ""  # as the contract writes it ("six months")
    score: float = 0.0
    via: str | None = None  # the requirement whose clause covers this one (``also_met_by``)


def _lower_first(topic: str) -> str:
    """A topic inside a sentence: "Periodic user access reviews" -> "periodic ...", but "SSL, TLS 1.0 ..." stays."""
    return topic[:1].lower() + topic[1:] if topic[1:2].islower() else topic


def states(text: str, group: Sequence[str]) -> bool:
    toks = phrase_tokens(text)
    return any(has_phrase(toks, phrase_tokens(p)) for p in group)


class Judge:
    """Reads clauses against one playbook (rivals for value attribution come from it)."""

    def __init__(self, book: Playbook, params: ReviewParams):
        self.book, self.params = book, params
        self.matchers = {r.id: KeywordMatcher(r) for r in book.requirements}
        self.by_row: dict[int, dict[str, float]] = {}

    def rivals(self, req: Requirement, row: int) -> list[tuple[str, object]]:
        """Other measured terms this clause is also evidence for: they compete for its values."""
        out = []
        for rid, s in self.by_row.get(row, {}).items():
            other = self.book.by_id.get(rid)
            if rid != req.id and other is not None and other.measure is not None and s >= self.params.threshold_for(rid):
                out.append((other.measure.unit, other.measure.periodic, self.matchers[rid].relevance))
        return out

    def scores(self, reqs: Sequence[Requirement], scored: Sequence[Sequence[Scored]]) -> None:
        """Record every requirement's clause scores (for rivals) before judging."""
        self.by_row: dict[int, dict[str, float]] = {}
        for req, lst in zip(reqs, scored):
            for s in lst:
                self.by_row.setdefault(s.row, {})[req.id] = s.score

    def judge(self, view: ContractView, req: Requirement, scored: Sequence[Scored]) -> Judgment:
        if req.applies_if and not any(view.mentions(t) for t in req.applies_if):
            return Judgment("not_applicable", f"applies only to contracts that mention {', '.join(req.applies_if)}")
        theta = self.params.threshold_for(req.id)
        if not scored or scored[0].score < theta:
            return Judgment("missing", f"no clause on {_lower_first(req.topic)}",
                            score=scored[0].score if scored else 0.0)
        readings: list[Judgment] = []
        absent: Judgment | None = None
        for s in [s for s in scored if s.score >= theta][:MAX_READ]:
            clause = view.clauses[s.row]
            j = self.assess(view, req, s)
            if clause.absence and j.value is None:
                absent = absent or Judgment("missing", f"the contract says it lacks this term: \"{clause.text[:160]}\"",
                                            s.row, score=s.score)
                continue
            if j.value is None and self._rivals_own(req, clause.text, s.row):
                continue  # the clause states another term's value ("certificate within 10 business days")
            readings.append(j)
        if not readings:
            return absent or Judgment("missing", f"no clause on {_lower_first(req.topic)}",
                                      score=scored[0].score)
        close = [j for j in readings if j.score >= readings[0].score - self.params.margin]
        return min(close, key=lambda j: (_PREFERENCE[j.status], j.value is None and req.measure is not None, -j.score))

    def _rivals_own(self, req: Requirement, text: str, row: int) -> bool:
        """Whether the clause's values (in the term's dimension) all belong to other terms and every
        part of it that is about ``req`` states one of them: then it is another term's clause."""
        if req.measure is None or not self.rivals(req, row):
            return False
        km = self.matchers[req.id]
        taken = [measure.segment_of(text, q.start) for q in measure.extract(text)
                 if measure.convert(q, req.measure.unit) is not None and req.measure.accepts(q.kind)]
        about = [(a, b) for a, b in measure.segments(text) if km.relevance(text[a:b]) > 0]
        return bool(taken) and all(seg in taken for seg in about)

    def assess(self, view: ContractView, req: Requirement, s: Scored) -> Judgment:
        """The status one clause gives a requirement present in the contract."""
        clause = view.clauses[s.row]
        text = clause.text
        km = self.matchers[req.id]
        missing_group = next((g for g in req.must_state if not states(text, g)), None)
        vague = measure.vague_terms(self._about(text, km), self.book.vague)
        m = req.measure
        if m is None:
            if missing_group is None:
                return Judgment("meets", f"states {req.meets[0].lower() + req.meets[1:].rstrip('.')}", s.row, score=s.score)
            if vague:
                return Judgment("unclear", f"'{vague[0]}' where the standard requires {' or '.join(missing_group)}",
                                s.row, score=s.score)
            return Judgment("weaker", f"does not state {' or '.join(missing_group)}", s.row, score=s.score)
        std = measure.fmt(m.standard, m.unit)
        q = measure.value_for(text, m.unit, km.relevance, self.rivals(req, s.row), m.periodic)
        if q is None:
            if vague:
                return Judgment("unclear", f"'{vague[0]}' where a {m.quantity} is required; standard is {std}",
                                s.row, score=s.score)
            return Judgment("weaker", f"no {m.quantity} stated; standard is {std}", s.row, score=s.score)
        value = measure.convert(q, m.unit)
        assert value is not None
        ok = measure.compare(value, m.acceptable, m.better, same_unit=q.unit == m.unit)
        shown = text[q.start:q.end]
        said = f"{m.quantity}: {shown}" + (f" (= {measure.fmt(value, m.unit)})" if q.unit != m.unit else "")
        if ok and missing_group is not None:
            return Judgment("weaker", f"{said}, but does not state {' or '.join(missing_group)}", s.row,
                            (q.start, q.end), value, shown, s.score)
        status = "meets" if ok else "weaker"
        rel = "meets" if ok else ("is worse than" if value != m.standard else "differs from")
        return Judgment(status, f"{said}; {rel} the standard of {std}", s.row, (q.start, q.end), value, shown, s.score)

    @staticmethod
    def _about(text: str, km: KeywordMatcher) -> str:
        """The segments of a clause that are about the term (a vague word elsewhere is not its wording)."""
        parts = [text[a:b] for a, b in measure.segments(text) if km.relevance(text[a:b]) > 0]
        if parts:
            return " ".join(parts)
        return text if len(measure.segments(text)) == 1 else ""

    def cover(self, judgments: dict[str, Judgment]) -> None:
        """``also_met_by``: a missing term that a met requirement's clause covers (an attached code) meets."""
        for req in self.book.requirements:
            j = judgments.get(req.id)
            via = judgments.get(req.also_met_by or "")
            if j is not None and via is not None and j.status == "missing" and via.status == "meets":
                ref = self.book.by_id[req.also_met_by]
                judgments[req.id] = Judgment("meets", f"covered by the clause that meets '{ref.topic}'", via.row,
                                             score=via.score, via=ref.id)
