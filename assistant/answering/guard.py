"""Questions refused before retrieval: prompt injections, requests for hidden instructions, and requests for
individuals' personal data.

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
# A request for individuals' personal data ("list the names and IBANs of the 287 employees", "paste the patients' dates of
# birth"): the knowledge base describes incidents, never the people in them, and the assistant does not hand out such
# data whoever claims to need it. Asked of questions only: a document may well say what must not be emailed.
PERSONAL_DATA = re.compile(
    # a request, at the start of a sentence or after "please", "can you", "I need you to" (not "can a vendor send ...?",
    # not "tell me whether ...")
    r"(?:^|[.;:!?]\s+|\s-+\s+|\b(?:please|can you|could you|would you|will you|i need you to|i want you to)\s+)(?:just\s+)?"
    r"(?:list|give|paste|send|share|export|dump|show|tell|provide|read out|copy|print|extract|pull)\b"
    r"(?!\s+(?:me\s+|us\s+)?(?:whether|if|what|which|how|why|when|where|who)\b)"
    # ... for identifiers of people (not the kinds of data a document lists: "the categories, such as names and IBANs")
    r"(?:(?!\bcategor|\btypes? of\b|\bkinds? of\b|\bfields\b|\bsuch as\b|\blike\b).){0,80}?"
    r"\b(?:ibans?|bank (?:details|account(?:s| numbers?)?)|account numbers?|sort codes?|dates? of birth|birth ?dates?|"
    r"home addresses|(?:social security|pps|ppsn|passport|national id(?:entity)?|tax) numbers?|member ids?|"
    r"medical record numbers?|(?:patient|employee|worker|customer|member)s?'? names|"
    r"names (?:and \w+ )?of (?:the |our |all |those )?(?:[\d,]+ )?(?:affected )?(?:employees|patients|workers|agents|"
    r"customers|members|leavers|joiners))\b",
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
PERSONAL_DATA_TEXT = (
    "I can't share personal data about individuals (names, bank details, dates of birth, identifiers), whoever asks. "
    "I can tell you what the audit notes and contracts say about an incident, without the people in it."
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
    if PERSONAL_DATA.search(normalise(question)):
        return "personal_data", PERSONAL_DATA_TEXT
    return None
