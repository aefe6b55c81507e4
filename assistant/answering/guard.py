"""Questions refused before retrieval: prompt injections and requests for hidden instructions.

Only generic injection patterns live here. Whether a question is in scope is decided from the
evidence (``answerability``), never from a list of topics. Text is normalised first (NFKC,
look-alike letters folded to ASCII, zero-width characters removed), so "іgnore" with a
Cyrillic "і" is caught like "ignore".
"""

from __future__ import annotations

import re
import unicodedata

INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override|bypass)\b.{0,40}\b(instructions?|rules|prompt|guidelines|above|previous|restrictions?|filters?)"
    r"|\b(system|hidden|initial|developer)\s+(prompt|message|instructions?)\b|\breveal\b.{0,30}\b(prompt|instructions|configuration|rules)\b"
    r"|\byou are now\b|\bact as\b.{0,30}\b(unrestricted|dan|jailbroken|admin|administrator|auditor)\b|\bjailbreak\b|\bdeveloper mode\b"
    r"|\bprint\b.{0,20}\b(prompt|instructions)\b|\bsystem override\b|\bpretend (?:to be|you are)\b|\brole-?play\b"
    r"|\bstay in character\b|\blet'?s play a game\b|\byou are (?:an? |the )?\w*bot\b"
    r"|\b(?:full|unrestricted|unlimited|elevated)\s+(?:\w+\s+)?clearance\b"
    r"|\b(?:i|you|me)\b.{0,30}\b(?:unrestricted|unlimited|elevated)\s+(?:\w+\s+)?(?:access|privileges?)\b"
    r"|\b(?:show|give|send|list|reveal)\b.{0,30}\b(?:restricted|confidential|hidden|auditors?-only|managers?-only)\b.{0,20}\b(?:documents?|files?|notes?|reports?)\b",
    re.I | re.S,
)
# Letters that look like ASCII ones (Cyrillic, Greek, fullwidth forms are handled by NFKC).
_CONFUSABLES = str.maketrans({
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "һ": "h",
    "ԁ": "d", "ɡ": "g", "ⅼ": "l", "ı": "i", "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O",
    "Р": "P", "С": "C", "Т": "T", "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S", "α": "a", "ο": "o", "ρ": "p", "ν": "v",
    "ι": "i", "κ": "k", "τ": "t", "Α": "A", "Β": "B", "Ε": "E", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Χ": "X", "Υ": "Y", "Ζ": "Z",
})
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u2060-\u2064\ufeff]")

REFUSAL_TEXT = "I can't answer that from the knowledge base: it holds no passage that answers this question."
INJECTION_TEXT = (
    "I can't do that. I only answer questions about outsourcing, vendor contracts and audit findings "
    "from the knowledge base, and I don't change my instructions or reveal them."
)


def normalise(text: str) -> str:
    """NFKC, look-alike letters folded to ASCII, invisible characters removed (for matching only)."""
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).translate(_CONFUSABLES)


def looks_like_instruction(text: str) -> bool:
    """Text that tells an assistant what to do (a prompt injection), wherever it appears."""
    return bool(INJECTION.search(normalise(text)))


def check(question: str) -> tuple[str, str] | None:
    """Return (reason, message) when the question must be refused outright."""
    if looks_like_instruction(question):
        return "injection", INJECTION_TEXT
    return None
