"""Questions the assistant refuses before retrieval: injections, prompt requests, off-topic."""

from __future__ import annotations

import re

INJECTION = re.compile(
    r"(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|rules|prompt|guidelines|above|previous)"
    r"|\b(system|hidden|initial)\s+prompt\b|\breveal\b.{0,30}\b(prompt|instructions|configuration)\b"
    r"|\byou are now\b|\bact as\b.{0,30}\b(unrestricted|dan|jailbroken)\b|\bjailbreak\b|\bdeveloper mode\b"
    r"|\bprint\b.{0,20}\b(prompt|instructions)\b",
    re.I | re.S,
)
OFF_TOPIC = re.compile(
    r"\b(recipe|bake|baking|cook(?:ing)?|lasagne|lasagna|pasta|soup|football|soccer|cricket|basketball|world cup|"
    r"olympics?|tennis|weather forecast|horoscope|movie|film|song|lyrics|poem|joke|capital of|tallest|"
    r"president of|celebrity|lottery|stock tip|bitcoin price|video game)\b",
    re.I,
)
DOMAIN = re.compile(
    r"\b(vendor|supplier|contract|agreement|clause|audit|finding|outsourc\w*|bpo|provider|data|privacy|security|"
    r"encrypt\w*|breach|incident|labou?r|wage|overtime|worker|environment\w*|e-?waste|carbon|sla|kpi|dpa|gdpr|"
    r"hipaa|subcontract\w*|due diligence|csr|onboard\w*|policy|northwind|bluepeak|ledgerline|harborview|meridian)\b",
    re.I,
)

REFUSAL_TEXT = "I can't answer that from the knowledge base: it holds no passage that answers this question."
INJECTION_TEXT = (
    "I can't do that. I only answer questions about outsourcing, vendor contracts and audit findings "
    "from the knowledge base, and I don't change my instructions or reveal them."
)
OFF_TOPIC_TEXT = (
    "That is outside what I can help with: I answer questions about outsourcing ethics, vendor contracts "
    "and audit findings from the knowledge base."
)


def looks_like_instruction(text: str) -> bool:
    """Text that tells an assistant what to do (a prompt injection), wherever it appears."""
    return bool(INJECTION.search(text))


def check(question: str) -> tuple[str, str] | None:
    """Return (reason, message) when the question must be refused outright."""
    if INJECTION.search(question):
        return "injection", INJECTION_TEXT
    if OFF_TOPIC.search(question) and not DOMAIN.search(question):
        return "out_of_scope", OFF_TOPIC_TEXT
    return None
