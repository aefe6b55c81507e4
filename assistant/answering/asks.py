"""The asks of a question: its parts ("..., and how much notice do we owe?"), its last ask after what it sets out
("Our vendor lost a site. What must it send us?"), contractions typed without apostrophes, and whether a vendor it
names only sets out a question about our own rules."""

from __future__ import annotations

import re
from typing import Sequence

from assistant.core.text import named_in


def sentences(text: str, also: str = "") -> list[str]:
    """The sentences of ``text``, split after ".", "?", "!" or ";" (and the marks in ``also``, e.g. ":")."""
    return [x for x in re.split(rf"(?<=[.?!;{re.escape(also)}])\s+", text.strip()) if x]


# The words that open a second ask after "and" / "or" ("..., and has it been closed?"); the compound signal
# (``answerability``) reads the same list.
ASK_OPENERS = (r"(?:how|what|when|where|which|who|why|whether|is|are|does|do|did|can|must|should|was|were|has|have|had|"
               # a question word after a preposition ("..., and on what date ...?", "and by when?", "and for how long?")
               r"(?:on|by|from|for|with|in|at|to|until|since|within|after|before|under) (?:how|what|when|which|whom|whose))")
_PART_BREAK = re.compile(rf"(?<=[.?!;:])\s+|,?\s+(?=(?:and|or|but)\s+{ASK_OPENERS}\b)|,?\s+(?=compared (?:with|to)\b)",
                         re.IGNORECASE)


def question_parts(question: str) -> list[str]:
    """The asks of a question: its sentences and the clauses joined by "and how / or what / compared with".
    Fragments of fewer than three words stay with the part before them."""
    parts: list[str] = []
    for piece in _PART_BREAK.split(question.strip()):
        if not piece or not piece.strip():
            continue
        if parts and len(piece.split()) < 3:
            parts[-1] = f"{parts[-1]} {piece.strip()}"
        else:
            parts.append(piece.strip())
    return parts or [question]


def final_ask(question: str) -> str:
    """The last sentence of a question that says something before it asks ("Our vendor lost a site. What must it
    send us while it recovers?"), when it is an ask of four words or more; "" for a one-sentence question."""
    said = sentences(question, ":")
    return said[-1] if len(said) > 1 and len(said[-1].split()) >= 4 else ""


# Contractions typed without their apostrophe ("Whats the minimum age?", "dont"): a question word read as a name, a
# negation as an unknown word. ("its", "wont", "shell" are words of their own and stay.)
_BARE_CONTRACTION = re.compile(r"\b(?:(what|who|how|where|when|why|that|there)s|(do|does|did|is|are|was|were|ca|could|would|"
                               r"should|have|has|had|must|need)nt)\b", re.I)


def with_apostrophes(question: str) -> str:
    """``question`` with its contractions' apostrophes put back ("Whats" -> "What's", "doesnt" -> "doesn't")."""
    return _BARE_CONTRACTION.sub(lambda m: f"{m[1]}'s" if m[1] else f"{m[2]}n't", question)


def set_out(question: str) -> tuple[str, str]:
    """(what a question says before it asks, what it asks): the sentences that end in a full stop (or "!", ";")
    before its last, which asks ("One of our suppliers wants a subcontractor in Vietnam. What has to happen first?"),
    and the others; ("", question) when it says nothing first."""
    said = sentences(question)
    if len(said) < 2 or not said[-1].rstrip().endswith("?"):
        return "", question
    told = [x for x in said[:-1] if not x.rstrip().endswith("?")]
    return " ".join(told), " ".join(x for x in said if x not in told)


# An ask about what our rules allow or require ("Is that allowed?", "What approvals would that need?", "Do we need
# to sign it off?"), as against one about what a vendor did or has
_RULE_ASK = re.compile(r"\b(?:allowed|permitted|permissible|acceptable|ok|okay|fine|legal|lawful|approv\w*|sign[- ]?offs?|"
                       r"need(?:s|ed)?|must|required?|requirements?|rules?|polic(?:y|ies)|(?:a|any) problem|an issue|"
                       r"(?:can|could|may|might) (?:they|we|it|that|this|he|she)|(?:is|are) (?:they|we) able)\b", re.I)


def asks_our_rules(question: str, vendors: Sequence[str]) -> bool:
    """Whether a question names its vendors only in what it sets out first and then asks what our rules allow or
    require ("Bluepeak wants to trial software that reads agents' emotions. Is that allowed?"): the answer is in the
    rules, not in the vendor's own documents."""
    told, asked = set_out(question)
    return bool(told) and bool(named_in(told, vendors)) and not named_in(asked, vendors) and bool(_RULE_ASK.search(asked))
