"""Follow-up questions resolved against the chat history into a standalone question."""

from __future__ import annotations

import re
from typing import Any, Sequence

_FOLLOW = re.compile(
    r"^\s*(?:and|also|what about|how about|and what about|and how about|what of|same for|ok(?:ay)?,?|so)\b", re.I
)
_ANAPHORA = re.compile(r"\b(those|these|them|they|it|its|that|this one|the same|such|which of)\b"
                       # "the test data one", "the critical ones": a thing of the earlier answer named by a word or two
                       r"|\bthe\s+(?:[\w-]+\s+){0,3}?ones?(?=\s*(?:[?.!,]|$)|\s+(?:is|are|was|were|has|have|had|still|been|closed|open|due|"
                       r"that|which|we|you|they|for|from|in|at|about|with)\b)", re.I)
_WHAT_ABOUT = re.compile(r"^\s*(?:and\s+|so\s+)?(?:what|how)\s+about\s+(?P<topic>.+?)\s*\??$", re.I)
_ABOUT_TAIL = re.compile(r"^(?P<frame>.*\b(?:about|on|for|regarding|concerning)\s+)(?P<topic>.+?)\s*\?*$", re.I)


def user_turns(history: Sequence[Any] | None) -> list[str]:
    """User messages from either [(user, assistant), ...] or [{"role", "content"}, ...]."""
    out: list[str] = []
    for item in history or []:
        if isinstance(item, dict):
            if item.get("role") == "user" and isinstance(item.get("content"), str):
                out.append(item["content"])
        elif isinstance(item, (list, tuple)) and item and isinstance(item[0], str):
            out.append(item[0])
    return out


def is_follow_up(question: str) -> bool:
    words = question.split()
    return bool(_FOLLOW.match(question) or _ANAPHORA.search(question) or len(words) <= 3)


def rewrite(question: str, history: Sequence[Any] | None, entities: Sequence[str] = ()) -> str:
    """Deterministic rewrite: carry the earlier subject into a follow-up question.

    ``entities`` are names (vendors) that can stand in for each other: "What about Bluepeak?"
    after a question about Northwind asks the same question about Bluepeak.
    """
    turns = user_turns(history)
    if not turns or not is_follow_up(question):
        return question
    prev = turns[-1].strip()
    m = _WHAT_ABOUT.match(question)
    if m:
        topic = m.group("topic").strip()
        for e in entities:
            if e.lower() == topic.lower().removesuffix("'s"):
                for other in entities:
                    if re.search(rf"\b{re.escape(other)}\b", prev, re.I):
                        return re.sub(rf"\b{re.escape(other)}\b", e, prev, flags=re.I)
        tail = _ABOUT_TAIL.match(prev.rstrip("?"))
        if tail:
            return f"{tail.group('frame')}{topic}?"
        return f"{prev.rstrip('?')} — {topic}?"
    q = re.sub(r"^\s*(?:and|also|so|ok(?:ay)?,?)\s+", "", question, flags=re.I)
    return f"{q.rstrip('?')} (about: {prev.rstrip('?')})?"
