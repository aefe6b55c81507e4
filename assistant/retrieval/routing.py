"""Reference routing: narrow a question to the document, vendor or finding status it names.

Routing only narrows the search (it returns filters); whether the evidence answers the
question is decided later, on every path. A reference narrows only when it resolves
confidently to a document the asker may see (its title, parties or file name), and a
reference that does not resolve leaves the question text whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from assistant.core.findings import status_selects
from assistant.core.text import MONTHS, named_in, tokens
from assistant.retrieval.corpus import Corpus
from assistant.retrieval.filters import Filters

_CONSIDER = re.compile(r"^\s*consider\s+(?:the\s+|this\s+|our\s+)?(?P<ref>.+?)\s*;\s*(?P<q>.+)$", re.I | re.S)
_NAMED = re.compile(
    r"\b(?:in|under|of|from)\s+(?:the|our)\s+(?P<ref>[\w&.,' -]{3,80}?\b(?:agreement|contract|policy|dpa|nda|baa|schedule))\b",
    re.I,
)
# "the Northwind payroll contract", "Bluepeak's agreement", "contractually guaranteed": the vendor's own terms are
# asked for (``Routing.terms``), not what its audits say about them
_TERMS = re.compile(r"\b(?:contracts?|agreements?|clauses?|contractual(?:ly)?|signed deals?)\b", re.I)
# ... and so does what two vendors it compares must do ("Northwind vs Harborview: how long does each one get to report an
# incident?"): their contracts set the duties. (Of one vendor, its audits' summary of the duty answers as well, and
# the contract's overview section, given half the places, pushed its clause out of the answer.)
_DUTY = re.compile(r"\b(?:must|shall|has to|have to|needs? to|required to|obliged to|(?:does|do)\s+(?:[\w'-]+\s+){1,3}?get to)\b", re.I)
# "Which of our signed contracts ...?", "Which vendors ...?": an ask about every vendor (``Routing.across``)
_WHICH_VENDORS = re.compile(r"(?:^|[.?!]\s+)\s*which (?:of (?:our|the) )?(?:[\w-]+ ){0,2}?(?:contracts|agreements|vendors|suppliers|"
                            r"providers|deals)\b", re.I)
_FINDINGISH = re.compile(r"\b(findings?|audit(?:s|ed|or)?|issues?|non-?conformit(?:y|ies)|actions?)\b", re.I)
# Status intent needs "open"/"closed" to qualify findings, not any bare "open" ("open-source", "open to").
_OPEN = re.compile(
    r"\b(?:still open|remain(?:s|ing)? open|open (?:audit )?(?:findings?|issues?|items?|actions?|points?)"
    r"|(?:findings?|issues?|actions?) (?:that )?(?:are |is |were |remain |still |currently )*open(?![\w-])"
    r"|unresolved|outstanding|not (?:yet )?(?:closed|resolved|remediated))\b",
    re.I,
)
_CLOSED = re.compile(
    r"\b(?:(?:closed|resolved|remediated) (?:audit )?(?:findings?|issues?|items?|actions?)"
    r"|(?:findings?|issues?|actions?) (?:that )?(?:were |are |have been |has been |was |is |got )?(?:closed|resolved|remediated))\b",
    re.I,
)
# A status filter suits questions about a set of findings ("which findings are open?"); a yes/no
# question about one finding ("is the Northwind finding still open?") must see it whatever its status.
_SET_OF_FINDINGS = re.compile(r"\b(findings|issues|actions|items|points|which|what|list|show|any|how many|all)\b", re.I)
_SEVERITY = re.compile(r"\b(critical|high|medium|low)(?:[- ](?:severity|risk|rated))?\s+(?:findings?|issues?)\b", re.I)
# The rule for findings of a severity, not a set of them: "how quickly must critical and high findings be fixed?" asks what
# the standard says; "which high findings must Northwind still fix?" names a vendor, "are any critical findings open?" selects.
_RULE = re.compile(r"\b(?:must|should|shall|has to|have to|needs? to|required to|expected to|supposed to|allowed to|"
                   r"how (?:quickly|fast|soon|long))\b", re.I)
_PICKS = re.compile(r"\b(?:which|list|show|how many|any|all)\b", re.I)
# "the first Northwind audit", "the latest follow-up", "Bluepeak's most recent audit report": one document picked by
# its place in time among a kind of audit document (of the vendor named, or of all vendors)
_ORDINAL = re.compile(
    r"\b(?P<which>(?i:first|earliest|latest|most recent|newest|last))\s+"
    r"(?:(?:[A-Z][\w&-]*(?:'s)?|(?i:internal|vendor|annual|full))\s+){0,3}"
    r"(?P<kind>(?i:follow[- ]ups?|follow[- ]up (?:notes?|reports?)|re-?audits?|audits?(?: reports?)?))\b"
    r"(?!\s*(?i:rights?|clauses?|terms?|plans?|trails?|logs?))")


# what happened after a document ("... flagged in the first audit; has it been fixed since?"): the earlier document
# names the subject, the later ones answer. (What is *still* open of that audit's findings is the register's to
# say from their latest records: the document still selects the findings.)
_SINCE = re.compile(r"\b(?:since|later|afterwards|(?:been|got|get|was|were) (?:fixed|closed|resolved|remediated|sorted))\b", re.I)


def _of_kind(title: str, kind: str) -> bool:
    """Whether a document's title makes it a follow-up note or an audit (a re-audit that follows up is both)."""
    follow = bool(re.search(r"\bfollow[- ]up\b", title, re.I))
    if kind == "follow-up":
        return follow
    return bool(re.search(r"\bre-audit\b", title, re.I)) or (not follow and bool(re.search(r"\baudit\b", title, re.I)))


MIN_REFERENCE_MATCH = 0.7  # share of a reference's (idf-weighted) words found in the document's name and parties


@dataclass
class Routing:
    query: str
    filters: Filters
    notes: list[str]
    vector: np.ndarray | None = None  # the query's embedding, once the search has computed it
    vector_query: str | None = None  # the text ``vector`` embeds (the query may be changed after routing)
    # the words that picked a document by its place in time ("the latest Northwind follow-up"): the choice of
    # document answers them, so the evidence need not repeat them
    reference: str = ""
    vendor_named: bool = False  # the vendor filter comes from a vendor the question names (not from the caller)
    # a question naming a vendor asks what its contract says, and nothing about audits or findings: the search keeps
    # places for the vendor's contract chunks (an audit report quotes the contract's subject in every scope section)
    terms: bool = False
    # a question asking which vendors or contracts meet a description: each vendor's best chunks must be in front of it
    across: bool = False


def route(corpus: Corpus, query: str, filters: Filters, document: str | None = None) -> Routing:
    """The question's search text and filters, narrowed by the references it makes."""
    notes: list[str] = []
    named_vendor = False
    f = replace(filters)
    q = query
    m = _CONSIDER.match(query)
    ref, rest = (m.group("ref"), m.group("q")) if m else (document, None)
    if not ref:
        named = _NAMED.search(query)
        ref = named.group("ref") if named else None
    if ref and not f.source:
        src = resolve_document(corpus, ref, f.audiences, explicit=document is not None or m is not None)
        if src:
            f.source = [src]
            notes.append(f"narrowed to document {src}")
            if rest:
                q = rest  # the reference is consumed by the filter
    vendors = corpus.vendors_for(f.audiences)
    if not f.vendor and not f.source and vendors:
        hits = named_in(query, vendors)
        if hits:
            f.vendor = hits
            named_vendor = True
            notes.append(f"narrowed to vendor {', '.join(hits)}")
    reference = ""
    if not f.source and len(f.vendor) <= 1:
        picked = ordinal_document(corpus, q, f.vendor[0] if f.vendor else None, f.audiences)
        if picked:
            f.source, reference = [picked[0]], picked[1]
            notes.append(f"narrowed to document {picked[0]}")
    if _FINDINGISH.search(query) and _SET_OF_FINDINGS.search(query) and not f.status:
        if status_selects(_OPEN, query):
            f.status = ["open"]
            notes.append("findings still open")
        elif status_selects(_CLOSED, query):
            f.status = ["closed"]
            notes.append("findings closed")
    sev = _SEVERITY.search(query)
    if sev and not f.severity and (f.vendor or f.source or not _RULE.search(query) or _PICKS.search(query)):
        f.severity = [sev.group(1).lower()]
        notes.append(f"{f.severity[0]} findings")
    by_name = named_vendor and not f.source
    return Routing(q, f, notes, reference=reference, vendor_named=by_name,
                   terms=by_name and bool(_TERMS.search(query) or len(f.vendor) > 1 and _DUTY.search(query))
                   and not _FINDINGISH.search(query),
                   across=not f.vendor and not f.source and bool(_WHICH_VENDORS.search(query)))


def ordinal_document(corpus: Corpus, query: str, vendor: str | None,
                     audiences: tuple[str, ...] | None = None) -> tuple[str, str] | None:
    """The audit document a question picks by its place in time ("the first Northwind audit" -> the vendor's
    oldest audit report, "the latest follow-up" -> the newest follow-up note), among those ``audiences`` may see,
    with the words that picked it; None when the question picks none or no document of that kind is dated, or asks
    what happened after the first one ("has it been fixed since?": later documents answer). Without a vendor,
    every vendor's documents count."""
    if (dated := _dated_document(corpus, query, vendor, audiences)) is not None:
        return dated
    m = _ORDINAL.search(query)
    if not m or m["kind"].lower().endswith("s"):  # "the latest audits": more than one document
        return None
    which = m["which"].lower()
    if which in ("first", "earliest") and _SINCE.search(query):
        return None
    kind = "follow-up" if "follow" in m["kind"].lower() else "audit"
    docs = [d for d in corpus.audits_for(audiences) if d["date"] and _of_kind(d["title"], kind)
            and (vendor is None or d["vendor"] == vendor)]
    if not docs:
        return None
    return (docs[0] if which in ("first", "earliest") else docs[-1])["source"], m.group(0)


# "the April 2025 check-in", "the February 2026 audit": one audit document picked by the month it is dated in
_DATED = re.compile(rf"\b(?P<month>{'|'.join(MONTHS)})\s+(?P<year>(?:19|20)\d\d)\s+(?:[\w-]+\s+)?"
                    r"(?P<kind>check-?in|follow[- ]?up(?: note)?|note|review|audit|re-?audit|visit)\b(?!\s*(?:rights?|clauses?|plans?))",
                    re.I)


def _dated_document(corpus: Corpus, query: str, vendor: str | None,
                    audiences: tuple[str, ...] | None) -> tuple[str, str] | None:
    """The one audit document (of the vendor named, or of any) dated in the month a question names it by ("As of the
    April 2025 check-in, why was ... still open?"), with the words that picked it; None when it names none, names two
    (a comparison), asks what happened since, or no single document of that month is there."""
    found = list(_DATED.finditer(query))
    # (nor when it asks what came after it, or also asks what a contract says: "Did the contract forbid what the
    # February 2026 audit found?")
    if len(found) != 1 or re.search(r"\b(?:since|afterwards|later)\b", query, re.I) or _TERMS.search(query):
        return None
    m = found[0]
    month = f"{m['year']}-{MONTHS[m['month'].lower()]:02d}"
    if vendor is None:  # the vendor of a finding it names ("was HV-2025-02 closed at the February 2026 review?")
        register = corpus.findings_for(audiences)
        owners = {str(register[i].get("vendor") or "") for i in named_in(query, list(register))}
        vendor = owners.pop() if len(owners) == 1 else None
    docs = [d for d in corpus.audits_for(audiences) if d["date"].startswith(month) and (vendor is None or d["vendor"] == vendor)]
    return (docs[0]["source"], m.group(0)) if len(docs) == 1 else None


def resolve_document(corpus: Corpus, ref: str, audiences: tuple[str, ...] | None = None, explicit: bool = False) -> str | None:
    """The source a reference points to among the documents ``audiences`` may see, or None when unsure.

    A file name or stem resolves directly. Otherwise the best catalog match must contain at least
    70% of the reference's idf-weighted words in its title, file name, vendor and opening text,
    and (unless the reference is explicit: a ``document`` argument or "Consider the ...;") clearly beat
    the runner-up.
    """
    ref_l = ref.strip().lower()
    sources, index, names = corpus.catalog(audiences)
    for s in sources:
        stem = s.rsplit("/", 1)[-1].rsplit(".", 1)[0].lower()
        if ref_l in (s.lower(), stem) or (len(ref_l) > 5 and stem.startswith(ref_l)):
            return s
    scores = index.scores(ref)
    if not len(scores) or scores.max() <= 0:
        return None
    order = np.argsort(-scores)
    top = int(order[0])
    second = scores[order[1]] if len(order) > 1 else 0.0
    terms = set(tokens(ref))
    weight = {t: index.idf_of(t) for t in terms}
    matched = sum(w for t, w in weight.items() if t in names[top]) / (sum(weight.values()) or 1.0)
    if matched < MIN_REFERENCE_MATCH:
        return None
    if explicit or scores[top] >= 1.25 * second:
        return sources[top]
    return None
