"""The finding register as an answer: "which findings are rated critical?", "list every Northwind
finding", "which findings were closed during 2025?".

Such a question asks for a *set* of findings chosen by vendor, severity, status or year; the
sentences most similar to it are guidance about findings, or one note's table, not the set. The
register (``core.findings.current_findings``: each finding's latest record from the curated audit
notes) selects the set exactly, and the answer quotes each finding's record line from its latest
note, so every statement stays an exact, cited quote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Sequence

from assistant.answering.compose import composed_answer, record_line
from assistant.answering.quotes import Context, Pick
from assistant.core.findings import SEVERITIES, SEVERITY_RANK, asked_of_picked, select, status_selects
from assistant.core.text import named_in, tokens
from assistant.core.types import Answer, Chunk

if TYPE_CHECKING:  # answering depends on core only; the caller passes retrieval's filters
    from assistant.retrieval.filters import Filters

MIN_SUBJECT_SHARE = 0.7  # of a subject's idf-weighted words a finding's description must hold
ONE_SUBJECT_SHARE = 0.5  # ... or, for the one finding a question names, the most of them, twice the next one's
_SEV = "(?:" + "|".join(SEVERITIES) + ")"
_SEV_LIST = rf"{_SEV}(?:(?:\s*,\s*|\s+or\s+|\s+and\s+){_SEV})*"
# "critical findings", "high-risk issues", "rated critical", "of high severity", "high-rated"
_SEVERITY = re.compile(
    rf"\b{_SEV_LIST}(?:[- ](?:severity|risk|rated|priority))?\s+(?:audit\s+)?(?:findings?|issues?)\b"
    rf"|\b(?:rated|graded|classed|classified|severity)\s+(?:as\s+|of\s+|is\s+|was\s+)?{_SEV_LIST}\b"
    rf"|\b{_SEV_LIST}[- ](?:rated|severity)\b"
    rf"|\bof\s+{_SEV_LIST}\s+severity\b",
    re.I,
)
_YEAR = r"((?:19|20)\d\d)"
_RAISED = re.compile(rf"\b(?:raised?|found|finds?|uncover(?:ed|s)?|flag(?:ged|s)?|turn(?:ed|s)?\s+up|reported|identified|opened|issued|recorded)\s+(?:[\w'-]+\s+){{0,5}}?(?:in|during)\s+{_YEAR}\b"
                     rf"|\b{_YEAR}\s+(?:[\w-]+(?:'s)?\s+){{0,2}}?audits?\b|\baudits?\s+(?:of|in)\s+{_YEAR}\b", re.I)
# "closed in 2025", "closed so far in 2026", "resolved by Internal Audit during 2025"
_CLOSED_IN = re.compile(rf"\b(?:closed|resolved|remediated|cleared|fixed)\s+(?:(?!(?:raised|found|reported|identified|opened|first)\b)[\w'-]+\s+){{0,4}}?(?:in|during)\s+{_YEAR}\b", re.I)
# "what did the 2024 audits find?", "what did Meridian's audit turn up?": the findings, asked without the word
_AUDIT_FOUND = re.compile(r"\bwhat\b[^?.]{0,40}\baudit(?:s|ors?)?\b[^?.]{0,20}"
                          r"\b(?:find|found|uncover(?:ed)?|turn(?:ed)? up|flag(?:ged)?)\b", re.I)
_FINDINGS = re.compile(r"\bfindings?\b", re.I)
# "What was wrong with its key handling when it was audited?": a finding asked about without a name for it (the phrase
# is no subject; "the file emailed to the wrong person" is)
_WRONG = re.compile(r"\b(?:was|were|is|are|went) (?:\w+ )?wrong\b", re.I)
# Findings called by another name where the question is about audits ("what issues did the auditors raise with
# Harborview?", "which problems from the Bluepeak audits have been fixed?")
_OTHER_NAMES = re.compile(r"\b(?:issues?|problems?|points?|observations?|non-?conformit(?:y|ies)|gaps?|weaknesses|"
                          r"deficienc(?:y|ies))\b|" + _WRONG.pattern, re.I)
_AUDITISH = re.compile(r"\baudit(?:s|ed|ors?)?\b", re.I)
# What is open or closed at a vendor the question names, asked with no word for findings at all ("what's still
# outstanding at Northwind?", "what has Ledgerline not yet fixed?", "anything still open for Meridian?")
_OPEN_ASK = re.compile(r"\b(?:still (?:open|outstanding|unresolved|to be (?:fixed|closed|done))|outstanding|unresolved|overdue"
                       r"|not (?:yet )?(?:been )?(?:fixed|closed|resolved|remediated|sorted out)"
                       r"|(?:remains?|left) to (?:be )?(?:fixed|closed|resolved|done))\b", re.I)
_CLOSED_ASK = re.compile(r"\b(?:ha(?:s|ve) (?:since |now |already )?been|were|was) (?:fixed|closed|resolved|remediated|sorted out)\b",
                         re.I)
# A status that selects ("closed findings", "findings that have since been resolved", "findings still
# open"), not one asked about ("..., and have those been resolved?": each finding's status is the answer).
_CLOSED_WORDS, _OPEN_WORDS = r"(?:closed|resolved|remediated|cleared)", r"(?:open|unresolved|outstanding|overdue)(?![\w-])"
_STATUS = re.compile(rf"\b(?:(?P<closed>{_CLOSED_WORDS})|(?P<open>{_OPEN_WORDS}))\s+(?:{_SEV_LIST}\s+)?(?:audit\s+)?findings?\b"
                     r"|\bfindings?\b.*?\b(?P<open3>still\s+(?:has|have|needs?)\s+to\s+(?:fix|close|resolve|remediate)"
                     # "a finding that nobody has closed yet", "findings not yet resolved"
                     r"|(?:not|nobody|no one|never)\b[^?.]{0,20}?\b(?:closed|fixed|resolved|remediated|sorted out))\b"
                     rf"|\bfindings?\s+(?:that\s+|which\s+)?(?:\w+\s+){{0,3}}?(?:(?P<closed2>{_CLOSED_WORDS})|(?P<open2>{_OPEN_WORDS}))", re.I)
# Whether something was put right, asked of the past: "did Harborview fix ...?", "has Ledgerline sorted out ...?"
# ("close" is left out: "did Bluepeak close its grievance channel?" asks whether the channel was shut)
_FIXED = r"(?:fix(?:ed)?|resolved?|remediated?|sort(?:ed)? out|address(?:ed)?|dealt with|deal with)"
_FIX_ASK = re.compile(rf"^\s*(?:did|has|have|had|is|are|was|were)\b.*\b{_FIXED}\b"
                      # ... or closed, where what was closed is the thing an earlier answer named ("has it been closed?")
                      r"|^\s*(?:did|has|have|had|is|are|was|were)\s+(?:it|that|this|those|these|they|the\s+(?:[\w-]+\s+){0,3}?ones?)\b"
                      r".*\bclosed?\b", re.I)
_WHO_OWNS = re.compile(r"\bwho\b.*\b(?:owns?|owner|responsible|accountable|in charge)\b", re.I)
# What a question about one finding asks of it that the register itself records: its owner, severity, status,
# due date or the dates it was first reported and closed ("who owns ...", "how severe is ...", "is ... still
# open?", "when is ... due?"). A question that asks anything else of it (why, how, what was done) is not one.
_ATTRIBUTE = re.compile(
    rf"^\s*(?:is|are|was|were|has|have|had)\b.*\b(?:{_CLOSED_WORDS}|{_OPEN_WORDS}|fixed|closed out|done)\b|{_FIX_ASK.pattern}"
    rf"|{_WHO_OWNS.pattern}|\bowned by\b"
    r"|\bhow (?:severe|serious)\b|\b(?:severity|status|due date|deadline|owner)\b|\b(?:due|by when)\b"
    rf"|\bwhen\b.*\b(?:raised|found|reported|identified|opened|{_CLOSED_WORDS}|fixed)\b", re.I)
_OTHER_ASK = re.compile(r"\b(?:why|how(?!\s+(?:severe|serious))|what(?!(?:'s|\s+is|\s+was)?\s+(?:the\s+|its\s+)?(?:current\s+|latest\s+)?"
                        r"(?:status|severity|rating|due date|deadline|owner))|which|where|describe|explain)\b", re.I)
# Which stand out: the most severe of the findings selected ("which Harborview finding is the most serious?")
_WORST = re.compile(r"\b(?:worst|gravest|biggest|most (?:serious|severe|critical|significant|important)|"
                    r"highest[- ](?:rated|severity|risk))\b", re.I)
_SET = re.compile(r"\b(?:which|list|show|all|every|each|how many|any|what (?:audit |vendor )?findings|(?:is|was) there an?)\b", re.I)
# Words that select or describe findings in general; any other content word ("findings about
# encryption") narrows the set by topic.
_REGISTER_WORDS = frozenset(tokens(
    " ".join(SEVERITIES) + " finding audit audits audited auditor auditors internal vendor vendors supplier suppliers raised raise"
    " rated rating severity status open opened closed resolved remediated cleared still remain remaining outstanding overdue"
    " unresolved list show every each many which what any date current currently latest across"
    " identified found find finds reported recorded issued year years since now yet so far ever had have been has need needs fix"
    " make made get got give given do did own owned owns owner responsible accountable charge severe serious due deadline"
    " first originally initially come came out arose arise turn turned up uncover uncovered flag flagged"
    " issue issues problem problems point points observation observations nonconformity nonconformities gap gaps"
    " weakness weaknesses deficiency deficiencies anything everything something left sort sorted not nobody never anyone new"
    # how many or which stand out, not what about: "in total", "the worst thing the audit found"
    " total overall altogether worst gravest biggest highest significant important most main thing things one ones"
    # when the audit was ("the February 2026 Meridian audit", "its autumn 2025 review"): the year selects, not the month
    " january february march april may june july august september october november december spring summer autumn winter"
    # where each stands: "where it stands now", "the position on", "any progress", "an update on"
    " where stand stands standing stood position progress update updates"
    # which of those picked: "are either of them still open?"
    " either neither both"
    # how to give them: "give me the ids"
    " id ids identifier identifiers reference references"))


@dataclass
class FindingQuery:
    """What a question selects from the register."""

    vendors: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    severities: list[str] = field(default_factory=list)
    raised: set[str] = field(default_factory=set)  # years a finding was first reported in
    closed: set[str] = field(default_factory=set)  # years a finding was recorded closed in
    topic: set[str] = field(default_factory=set)  # other content terms: the set's subject
    one: bool = False  # "who owns Meridian's test-data finding?": one finding, named by vendor and subject
    # the one finding's question asks only what the register records of it (owner, severity, status, dates)
    attribute: bool = False
    ids: list[str] = field(default_factory=list)  # "who owns NW-2024-02?": the one finding, named by its id
    worst: bool = False  # "the most serious", "the worst": only the most severe of those selected
    # the audit documents the question narrowed to ("which findings from the first Northwind audit are open?"):
    # only findings first raised, or last recorded, in them
    documents: list[str] = field(default_factory=list)


def finding_query(question: str, filters: Filters, known_ids: Sequence[str], home: str = "",
                  reference: str = "") -> FindingQuery | None:
    """The selection a question makes from the register: a set of findings, or one finding it names by vendor
    and subject or by id (``one``); None when it asks about no finding, or asks something other than what the
    register records of a finding it names by id (its notes answer). ``reference``: the words with which the
    question picked the document it is narrowed to ("the first Northwind audit"), not a subject."""
    ids = named_in(question, known_ids)
    # a follow-up asks in its own words; the earlier question it was resolved against ("who owns the test data one
    # (about: what did the auditors find at Meridian)?") supplies the vendor and the subject, not what is asked
    own = question.partition(" (about: ")[0]
    attribute = bool(_ATTRIBUTE.search(own)) and not _OTHER_ASK.search(own)
    if ids:
        if len(ids) > 1 or not attribute:
            return None
        named = {t for v in [*filters.vendor, ids[0]] for t in tokens(v)} | set(tokens(home))
        return FindingQuery(list(filters.vendor), topic=set(tokens(question)) - _REGISTER_WORDS - named,
                            one=True, attribute=True, ids=ids)
    word = _FINDINGS.search(question)
    # (or, at a vendor the question names, one finding whose owner, severity, status or dates are asked: "who
    # owns Meridian's test-data issue?")
    # ... or "issues found in 2025": what was found in a year is what the audits of that year found)
    other = (None if word or not (_AUDITISH.search(question) or _RAISED.search(question) or filters.vendor and attribute)
             else _OTHER_NAMES.search(question))
    found = not word and _AUDIT_FOUND.search(own)
    status_ask = not (word or other) and bool(filters.vendor) and (status_selects(_OPEN_ASK, question)
                                                                   or status_selects(_CLOSED_ASK, question))
    # whether a vendor the question names put right one thing the question describes, or who there answers for it,
    # with no word for findings at all ("did Harborview fix its background checks for new joiners?", "who at
    # Harborview is responsible for clearing old leave records?"): the finding whose description holds most of that
    # subject, if one clearly does (``matching``); otherwise the gate decides as for any question
    fixed = (not (word or other or found or status_ask) and bool(filters.vendor) and attribute
             and bool(_FIX_ASK.search(own) or _WHO_OWNS.search(own)))
    if not (word or other or found or status_ask or fixed):
        return None
    # "findings" / "issues" in the plural ask for a set ("what are the most serious open findings?"), in the question's
    # own words (after "what are the Bluepeak findings?", "who owns the grievance one?" asks of one)
    plural = bool(word or other) and any(m.group(0).lower().endswith("s")  # (no name for findings ends in "ss")
                                         for rx in (_FINDINGS, _OTHER_NAMES) for m in rx.finditer(own))
    one = fixed or not (found or status_ask or plural or _SET.search(question))
    sev = [s for m in _SEVERITY.finditer(question) for s in SEVERITIES if re.search(rf"\b{s}\b", m.group(0), re.I)]
    closing = list(_CLOSED_IN.finditer(question))
    closed = {y for m in closing for y in m.groups() if y}
    # (a year inside a closing phrase is not one raised: "resolved by Internal Audit in 2025")
    raised = {y for m in _RAISED.finditer(question) for y in m.groups()
              if y and not any(c.start() <= m.start() and m.end() <= c.end() for c in closing)}
    statuses = list(filters.status) or sorted({"closed" if (m.group("closed") or m.group("closed2")) else "open"
                                               for m in _STATUS.finditer(question) if not asked_of_picked(question, m.start())})
    if not (word or statuses):  # (no word for findings for the status to qualify: what is still open, what was fixed)
        statuses = (["open"] if status_selects(_OPEN_ASK, question) else ["closed"] if status_selects(_CLOSED_ASK, question)
                    else [])
    named = {t for v in filters.vendor for t in tokens(v)} | set(tokens(home)) | set(tokens(reference))
    # (the words that say which year's audit are not a subject either: "its 2024 annual audit")
    dated = {t for m in _RAISED.finditer(question) if _AUDITISH.search(m.group(0)) for t in tokens(m.group(0))}
    topic = (set(tokens(_WRONG.sub(" ", question))) - _REGISTER_WORDS - named - dated
             - {t for y in raised | closed for t in tokens(y)})
    if one and not (filters.vendor and topic) or found and topic:
        return None  # (what audits found about a subject: their notes answer)
    if one:  # "is the Ledgerline e-waste finding closed yet?": the status is asked about, not a selector
        statuses = list(filters.status)
    return FindingQuery(list(filters.vendor), statuses, sorted(set(sev), key=SEVERITIES.index) or list(filters.severity),
                        raised, closed, topic, one, one and attribute, worst=not one and bool(_WORST.search(own)),
                        documents=list(filters.source))


def absent_audits(fq: FindingQuery | None, audits: Sequence[dict[str, str]]) -> str | None:
    """Why the register holds nothing from the audits a question asks about, when no audit of that vendor (of any
    vendor, where it names none) is dated in the year asked ("what did the 2026 Harborview audit find?": the
    audits of Harborview are from 2025); None when such an audit exists or the question asks for no year."""
    if fq is None or not fq.raised or fq.one or fq.ids:
        return None
    docs = [d for d in audits if not fq.vendors or d.get("vendor") in fq.vendors]
    if any(d.get("date", "")[:4] in fq.raised for d in docs):
        return None
    whose = " or ".join(fq.vendors) + " " if fq.vendors else ""
    years = " or ".join(sorted(fq.raised))
    text = f"I can't answer that from the knowledge base: it holds no {whose}audit from {years}."
    if docs and len(docs) <= 5:
        dated = "; ".join(f"{d['title']} ({d['date']})" for d in docs)
        text += f" The {whose}audit notes it holds are: {dated}."
    elif docs:
        held = sorted({d.get("date", "")[:4] for d in docs if d.get("date")})
        dated = ", ".join(held[:-1]) + " and " + held[-1] if len(held) > 1 else "".join(held) or "without a date"
        text += f" It holds {len(docs)} {whose}audit notes, dated {dated}."
    return text


def quiet_audits(fq: FindingQuery | None, audits: Sequence[dict[str, str]]) -> str | None:
    """What the register says when a vendor's audits of the year asked raised no finding ("what did the 2025 Northwind
    audits find?": its 2025 note only followed up earlier findings), for a question that selects by nothing else;
    None otherwise (no year asked, other selectors, or no audit of that year: ``absent_audits``)."""
    if fq is None or not fq.raised or fq.one or fq.ids or fq.topic or fq.statuses or fq.severities or fq.closed:
        return None
    docs = [d for d in audits if (not fq.vendors or d.get("vendor") in fq.vendors) and d.get("date", "")[:4] in fq.raised]
    if not docs:
        return None
    whose = " or ".join(fq.vendors) + " " if fq.vendors else ""
    years = " or ".join(sorted(fq.raised))
    dated = "; ".join(f"*{d['title']}*, {d['date']}" for d in docs[:5]) + (f"; {len(docs) - 5} more" if len(docs) > 5 else "")
    return (f"The audit register holds no {whose}finding first raised in {years}: the {whose}audit notes of {years} "
            f"raised no new findings ({dated}).")


def _documents(fq: FindingQuery, register: dict[str, dict[str, Any]]) -> set[str]:
    """The documents narrowed to that select findings: those the register records findings in (an audit, not a
    contract)."""
    return {d for d in fq.documents if any(d in (r.get("first_source"), r.get("source")) for r in register.values())}


def _selection(fq: FindingQuery, many: bool = False, titles: Sequence[str] = ()) -> str:
    """The findings a query selects, in words: "critical finding first raised in 2025", "Northwind findings that are
    open", "Northwind finding of *Northwind audit 2023* that is open" (``titles``: of the documents selecting)."""
    words = " ".join(w for w in (" or ".join(fq.severities), " or ".join(fq.vendors)) if w)
    of = f" of {' or '.join(f'*{t}*' for t in titles)}" if titles else ""
    raised = f" first raised in {' or '.join(sorted(fq.raised))}" if fq.raised else ""
    closed = f" recorded closed in {' or '.join(sorted(fq.closed))}" if fq.closed else ""
    shown = [s for s in fq.statuses if not (fq.closed and s == "closed")]  # (closed in a year is closed)
    status = f" that {'are' if many else 'is'} {' or '.join(shown)}" if shown else ""
    return f"{words} finding{'s' if many else ''}{of}{raised}{closed}{status}".strip()


def empty_selection(question: str, fq: FindingQuery | None, register: dict[str, dict[str, Any]], ctx: Context,
                    chunks: Sequence[Chunk]) -> Answer | None:
    """The answer when the register holds no finding a question selects by what it records of every finding
    (vendor, severity, status, the years raised and closed): "are any critical findings still open?", "which
    critical findings were raised in 2025?". The register is complete for those fields, so the empty set is the
    answer; the findings that match without the status, then without the severity, follow as what it does hold
    ("it holds 2 critical findings: ..."). None for a question with a subject (an empty selection by topic proves
    nothing), about one finding, or naming a vendor the register holds no finding of (one the asker may not see).
    A year with no audit at all is ``absent_audits``'s, a year's audits asked with no other selector
    ``quiet_audits``'s."""
    if fq is None or fq.one or fq.ids or fq.topic or not (fq.severities or fq.statuses or fq.closed):
        return None
    if fq.vendors and not any(r.get("vendor") in fq.vendors for r in register.values()):
        return None
    if matching(register, fq, ctx):
        return None
    titles = [c[0].title for d in sorted(_documents(fq, register)) if (c := ctx.document_chunks(d))]
    lead = f"The audit register holds no {_selection(fq, titles=titles)}."
    relaxed, rows = fq, []
    for drop in ("statuses", "severities", "closed"):
        relaxed = replace(relaxed, **{drop: [] if drop != "closed" else set()})
        if relaxed != fq and (relaxed.vendors or relaxed.severities or relaxed.raised or relaxed.statuses):
            rows = matching(register, relaxed, ctx)
            if rows:
                break
    picks = [p for i, r in enumerate(rows) if (p := _record(ctx, r, 1.0 - i / 100)) is not None]
    if rows:
        lead += f" It holds {len(rows)} {_selection(relaxed, len(rows) != 1, titles)}: {_listing(rows, ctx)}."
    if not picks:
        return Answer(question=question, text=lead, citations=[], sources=list(chunks), refused=False,
                      backend="extractive")
    return composed_answer(question, chunks, [], ctx, lead=lead, fixed=picks)


def _naming(rec: dict[str, Any], ctx: Context) -> list[Chunk]:
    """The chunks under a heading that names the finding, in the notes that last and first reported it (latest first)."""
    fid = str(rec["id"])
    sources = dict.fromkeys(s for s in (rec.get("source"), rec.get("first_source")) if s)
    return [c for src in sources for c in ctx.document_chunks(src) if fid in c.section]


def _title(rec: dict[str, Any], ctx: Context | None) -> str:
    """What a finding is called in the notes that report it (the heading "Finding MH-2026-01: PHI in the test
    environment not masked"), or "" when no note gives it a heading."""
    if ctx is None:
        return ""
    heading = re.compile(rf"\bFinding {re.escape(str(rec['id']))}:\s*([^>]+)")
    for c in _naming(rec, ctx):
        if m := heading.search(c.section):
            return m.group(1).strip()
    return ""


def _listing(rows: Sequence[dict[str, Any]], ctx: Context | None = None) -> str:
    """Each finding with its vendor, severity and latest status, and what it is about where a note names it: the
    answer to "what did the audit find?" is what each finding is, not only its id."""
    items = [(f"{r['id']} ({r.get('vendor') or 'no vendor'}, {r.get('severity')}, {r.get('status')} as of "
               f"{r.get('doc_date')})", _title(r, ctx)) for r in rows]
    if not any(title for _, title in items):
        return ", ".join(item for item, _ in items)
    return "; ".join(f"{item}: {title}" if title else item for item, title in items)


def matching(register: dict[str, dict[str, Any]], fq: FindingQuery, ctx: Context,
             idf: Callable[[str], float] = lambda t: 1.0) -> list[dict[str, Any]]:
    """The findings the query selects, open first, then most severe (the findings view's order). A subject
    selects the findings whose area, owner or record line hold most of its (idf-weighted) words."""
    documents = _documents(fq, register)
    rows = [
        r for r in register.values()
        if (not fq.ids or r["id"] in fq.ids)
        and (not fq.vendors or r.get("vendor") in fq.vendors)
        and (not fq.statuses or r.get("status") in fq.statuses)
        and (not fq.severities or r.get("severity") in fq.severities)
        and (not fq.raised or r.get("first_date", "")[:4] in fq.raised)
        and (not fq.closed or (r.get("status") == "closed" and r.get("closed_date", "")[:4] in fq.closed))
        and (not documents or r.get("first_source") in documents or r.get("source") in documents)
    ]
    if fq.topic:  # "open findings about encryption"
        total = sum(idf(t) for t in fq.topic) or 1.0

        def shares(full: bool) -> dict[str, float]:
            return {r["id"]: sum(idf(t) for t in fq.topic & set(tokens(_describe(r, ctx, full)))) / total for r in rows}

        def clear(share: dict[str, float]) -> list[dict[str, Any]]:
            # one finding named by vendor and subject ("Meridian's test-data finding") is the vendor's finding
            # that holds clearly the most of the subject, even where its notes word part of it otherwise
            ranked = sorted(share.values(), reverse=True)
            if ranked and ranked[0] >= ONE_SUBJECT_SHARE and (len(ranked) == 1 or ranked[1] <= ranked[0] / 2):
                return [r for r in rows if share[r["id"]] == ranked[0]]
            return []

        share = shares(False)
        if fq.one:
            # failing that, a subject of three words or more may describe it in the words of its detail ("patient
            # records left unmasked in the test systems"); a shorter one ("data security") would fit the detail of
            # too many things a finding only mentions
            sure = [r for r in rows if share[r["id"]] >= MIN_SUBJECT_SHARE]
            return clear(share) or (sure if len(sure) == 1 else []) or (clear(shares(True)) if len(fq.topic) >= 3 else [])
        rows = [r for r in rows if share[r["id"]] >= MIN_SUBJECT_SHARE]
    if fq.worst and rows:
        top = min(SEVERITY_RANK.get(r.get("severity", ""), 9) for r in rows)
        rows = [r for r in rows if SEVERITY_RANK.get(r.get("severity", ""), 9) == top]
    return select(rows) if not fq.one or len(rows) == 1 else []


def _record(ctx: Context, rec: dict[str, Any], score: float = 1.0) -> Pick | None:
    """The finding's record line in its latest note."""
    return record_line(ctx, rec["source"], str(rec["id"]), str(rec.get("severity", "")), str(rec.get("status", "")), score)


def _describe(rec: dict[str, Any], ctx: Context, full: bool = False) -> str:
    """What a finding is about: its area, owner, record line and the headings that name it in the notes that
    first and last reported it ("Finding MH-2026-01: PHI in the test environment not masked"); ``full``: also
    what those sections say of it (a question about one finding may describe it in the words of its detail,
    "patient data left unmasked in the test systems")."""
    fid = str(rec["id"])
    line = _record(ctx, rec)
    own = ctx.finding_chunk(rec["source"], fid)
    text = line.chunk.text[line.start:line.end] if line else ""
    named = _naming(rec, ctx)
    detail = [c.text for c in named] + ([own.text] if own else []) if full else []
    return " ".join([str(rec.get("area", "")), str(rec.get("owner", "")), text, line.section if line else "",
                     own.section if own else "", *sorted({c.section for c in named}), *detail])


def register_answer(question: str, rows: Sequence[dict[str, Any]], ctx: Context, chunks: Sequence[Chunk],
                    narrative: Sequence[Pick] = (), one: bool = False) -> Answer | None:
    """The answer listing ``rows``: a lead sentence naming every matching finding with its current severity
    and status, then each finding's record line from its latest note (within composition's budget).
    ``narrative``: the quotes chosen for a question with a subject ("what findings did the audits make about
    overtime?" wants what was found, too), composed as usual after the record lines. ``one``: the question
    asks about the one finding in ``rows``: its latest status leads."""
    picks = [p for i, r in enumerate(rows) if (p := _record(ctx, r, 1.0 - i / 100)) is not None]
    if not picks:
        return None
    if one:
        r = rows[0]
        ended = (f"recorded closed on {r['closed_date']}" if r.get("status") == "closed" and r.get("closed_date")
                 else f"due {r['due_date']}" if r.get("due_date") else "")
        lead = (f"Finding {r['id']} ({r.get('vendor') or 'no vendor'}, {r.get('severity')}) is {r.get('status')} as of "
                f"{r.get('doc_date')}: first reported on {r.get('first_date')}, owned by {r.get('owner') or 'no one named'}"
                + (f", {ended}." if ended else "."))
    else:
        lead = f"{len(rows)} finding{'s' if len(rows) != 1 else ''} in the audit register match: {_listing(rows, ctx)}."
    return composed_answer(question, chunks, narrative, ctx, lead=lead, fixed=picks)
