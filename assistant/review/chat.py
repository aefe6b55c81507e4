"""Chat questions such as "does our Northwind contract meet our encryption standard?", answered
from the same review: the requirement rows the question is about, each with its status, the
contract's quote and the standard's quote as citations (exact offsets) and the quoted chunks as
sources. ``review_answer`` returns None for any other question, so the normal path answers it.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable, Sequence

from assistant.answering.extractive import UNIT_VECTORS
from assistant.core.access import audiences_for
from assistant.core.text import tokens
from assistant.core.types import Answer, Chunk, Citation, Statement
from assistant.review.contract import ReviewError
from assistant.review.playbook import Requirement
from assistant.review.report import STATUS_LABEL
from assistant.review.review import playbook_of, review

_ASKS = re.compile(r"\b(?:meets?|meeting|compl(?:y|ies|iant|iance)|satisf(?:y|ies)|in line with|conforms?|match(?:es)?|"
                   r"falls? short|weaker than|deviat\w*|gaps?|compare[sd]?|against|up to|"
                   # "tougher or softer than our template on ...", "how does it differ from our standard?"
                   r"(?:tougher|softer|stricter|looser|weaker|stronger|tighter|better|worse)\b.{0,40}\bthan|"
                   r"differ(?:s|ent|ences?)? (?:from|to)|stacks? up|any different|the same as)\b", re.I)
_STANDARD = re.compile(r"\b(?:standards?|playbook|polic(?:y|ies)|requirements?|model (?:clauses?|wording|terms)|clause library|"
                       r"our (?:usual |normal )?(?:terms|wording)|standard terms|templates?|model [\w-]+ wording|"
                       r"what we (?:normally|usually|generally) (?:require|expect|ask for)|(?:supplier )?code of conduct)\b", re.I)
_CONTRACT = re.compile(r"\b(?:contract|contractual(?:ly)?(?! clauses)|agreement|deal|terms with)\b", re.I)
# Words of the question that say "compliance" or name the contract, not which term is asked about.
_FRAME = set(tokens("does do our the contract agreement meet meets comply complies compliant compliance satisfy "
                    "standard standards playbook policy policies requirement requirements model clause clauses "
                    "library terms term against with review check how compare match gap gaps up to kestrel "
                    # where it departs from them, asked in general: "on which points does it fall short?"
                    "point points way ways area areas aspect aspects respect respects place places part parts thing things "
                    "where overall fall falls short "
                    "weak weaker deviate deviates deviation deviations depart departs differ differs difference differences "
                    "tough tougher soft softer strict stricter loose looser template templates code conduct expects stack stacks "
                    "contractual contractually "
                    # ... and how it is asked for: "list where ...", "show me every gap"
                    "list show give tell name enumerate summarise summarize all every each everything", True))


# Where a contract falls short, asked in general ("list where it is weaker than our template"): the rows it does not meet.
_SHORTFALL = re.compile(r"\b(?:falls? short|short of|weaker|weakness(?:es)?|gaps?|deviat\w*|depart\w*|differ\w*|missing|lacks?|"
                        r"(?:does not|doesn't|do not|don't|fails? to) (?:meet|comply|match))\b", re.I)


# The contract's past ("was weak as originally signed - did we ever fix it?"): the review reads the contract as it is now.
_PAST = re.compile(r"\b(?:original(?:ly)?|as (?:first |originally )?signed|before (?:the|its) amendment|"
                   r"(?:did|have|has) (?:we|they|it) (?:ever )?(?:fix|fixed|amend|amended|change|changed))\b", re.I)


def is_compliance_question(question: str) -> bool:
    """A question that asks whether a contract meets our standards (not what a document says, nor how it read before)."""
    return bool(_ASKS.search(question) and _STANDARD.search(question) and _CONTRACT.search(question)
                and not _PAST.search(question))


def _contract_source(assistant: Any, question: str, role: str) -> str | None:
    """The executed contract the question names (by vendor or title) among those the role may see."""
    corpus = assistant.retriever.corpus
    audiences = audiences_for(role)
    contracts = {s: corpus.chunks[first] for s, first in corpus.documents_for(audiences)
                 if corpus.chunks[first].doc_type == "contract"}
    low = question.lower()
    by_vendor = [s for s, c in contracts.items()
                 if (v := c.metadata.get("vendor")) and re.search(rf"\b{re.escape(str(v).lower())}\b", low)]
    if len(by_vendor) == 1:
        return by_vendor[0]
    source = assistant.retriever.resolve_document(question, audiences, explicit=False)
    return source if source in contracts else None


# Requirements picked by shared words: those whose rarity-weighted overlap with the question is at least this share of
# the best one's.
RELATIVE_WEIGHT = 0.6


def _requirements_asked(question: str, reqs: list[Requirement], vendor_words: set[str],
                        similarity: Callable[[list[Requirement]], Sequence[float]] | None = None) -> list[Requirement]:
    """The requirements the question asks about: those whose topic or keywords share its subject words, and the
    one closest in meaning (``similarity``: the question's embedding similarity to each requirement), which finds
    the term asked in other words ("how fast they must tell us about a leak" is the notification deadline). A
    question with no subject words ("does it meet our standards?") asks about all of them."""
    words = set(tokens(question)) - _FRAME - vendor_words
    if not words:
        return reqs
    terms = [(set(tokens(r.topic)), set(tokens(" ".join(r.keywords)))) for r in reqs]
    # a word many requirements share ("data", "notice") says less about which one is asked than a rare one ("incident")
    share = {w: sum(1 for topic, keys in terms if w in topic or w in keys) for w in words}
    weight = {w: math.log(1 + len(reqs) / n) for w, n in share.items() if n}
    scored = []
    for r, (topic, keys) in zip(reqs, terms):
        s = 2 * len(words & topic) + len(words & keys)
        if s:
            scored.append((s, 2 * sum(weight[w] for w in words & topic) + sum(weight[w] for w in words & keys), r))
    picked: list[Requirement] = []
    if scored:
        best = max(v for _, v, _ in scored)
        picked = ([r for s, v, r in scored if s >= 2 and v >= RELATIVE_WEIGHT * best]
                  or [r for _, v, r in scored if v == best])
    if similarity is not None and reqs:
        sims = list(similarity(reqs))
        closest = reqs[max(range(len(reqs)), key=sims.__getitem__)]
        if closest not in picked:
            picked.append(closest)
    return picked or reqs


def _similarity(assistant: Any, question: str, vendor: str) -> Callable[[list[Requirement]], Sequence[float]]:
    """The question's (without the vendor's name) embedding similarity to each requirement's topic and query (their
    vectors are kept with the quotable units' vectors, so a playbook is embedded once per model)."""
    def sims(reqs: list[Requirement]) -> Sequence[float]:
        vectors = UNIT_VECTORS.embed(assistant.embedder, [f"{r.topic}. {r.query}" for r in reqs])
        asked = re.sub(rf"\b{re.escape(vendor)}(?:'s)?\b", " ", question, flags=re.I) if vendor else question
        return (vectors @ assistant.embedder.embed([asked])[0]).tolist()
    return sims


def review_answer(assistant: Any, question: str, role: str | None = None) -> Answer | None:
    """A cited answer from the review when ``question`` asks whether a contract the role may see
    meets our standards; None otherwise."""
    question = (question or "").strip()
    if not is_compliance_question(question):
        return None
    role = role or assistant.settings.default_role
    source = _contract_source(assistant, question, role)
    if source is None:
        return None
    corpus = assistant.retriever.corpus
    first = corpus.chunks[corpus.neighbours[source][0]]
    vendor_words = set(tokens(f"{first.metadata.get('vendor') or ''} {first.title}"))
    book = playbook_of(assistant)
    visible = [r for r in book.requirements if r.audience in audiences_for(role)]
    similarity = _similarity(assistant, question, str(first.metadata.get("vendor") or ""))
    asked = {r.id for r in _requirements_asked(question, visible, vendor_words, similarity)}
    try:
        rv = review(assistant, source, role=role)
    except ReviewError:
        return None
    rows = [r for r in rv.rows if r.requirement in asked and r.status != "not_applicable"]
    if len(asked) == len(visible) and _SHORTFALL.search(question):  # every requirement, asked where it falls short
        rows = [r for r in rows if r.status != "meets"]
    if not rows:
        return None
    citations: list[Citation] = []
    sources: dict[str, Chunk] = {}
    statements: list[Statement] = []
    lines = [f"Review of **{rv.title}** against our standards ({len(rows)} requirement{'s' if len(rows) != 1 else ''}):", ""]
    for row in rows:
        refs = []
        parts = [f"- **{row.topic}**: {STATUS_LABEL[row.status]} — {row.reason}."]
        for label, c in (("The contract says", row.contract_quote), ("Our standard says", row.standard_quote)):
            if c is None:
                continue
            n = len(citations) + 1
            citations.append(Citation(**{**c.to_dict(), "n": n}))
            refs.append(n)
            chunk = corpus.chunk(c.chunk_id)
            if chunk is not None:
                sources.setdefault(c.chunk_id, chunk)
            parts.append(f"{label}: \"{' '.join(c.quote.split())}\" [{n}].")
        line = " ".join(parts)
        lines.append(line)
        statements.append(Statement(text=line, citations=refs, support=1.0, supported=True))
    if len(rows) < len([r for r in rv.rows if r.status != "not_applicable"]):
        lines += ["", f"Whole contract: {rv.summary['by_status']['meets']} of {rv.summary['assessed']} requirements met "
                      "(`assistant review` or the Review tab has every row)."]
    return Answer(question=question, text="\n".join(lines), citations=citations, sources=list(sources.values()),
                  refused=False, backend="review", statements=statements, filters={"source": [source]})
