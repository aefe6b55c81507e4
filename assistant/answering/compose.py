"""Answer composition: the chosen quotes turned into an answer a reader wants.

One lead sentence names the documents that answer; quotes are grouped by document and kept in
document order; when a section answers, its clauses come complete (3.1-3.4 together, within a
budget), and a list item with what introduces it (``quotes.list_intros``); for requirement
questions the standard terms come before guidance and executed vendor agreements are named as
such; a statement about an audit finding from an older note is labelled with the finding's latest
status (and the latest note is quoted). Every quote stays exact.
"""

from __future__ import annotations

import re
from typing import Sequence

from assistant.answering.question import without_clause_numbers
from assistant.answering.quotes import (
    _ANNOUNCES,
    SECTION_MAX_CHARS,
    SECTION_MAX_ITEMS,
    Context,
    Pick,
    announced,
    leads_list,
    list_intros,
    marker,
    restates_title,
    section_items,
    section_runs,
    table_header,
)
from assistant.core.text import tokens
from assistant.core.types import Answer, Chunk, Citation, Statement
from assistant.core.units import heading_text, sectioned_units, statement_units

MAX_STATEMENTS = 12
MAX_QUOTE_CHARS = 2600
MIN_DOCUMENT_SHARE = 0.9  # of the best quote's score a document's best quote must reach to be quoted
RESTATED = 0.6  # share of terms two quotes from different documents have in common when one restates the other
_REQUIREMENT = re.compile(r"\b(must|should|shall|need(?:s)? to|has to|have to|required?|requirements?|obliged|expect(?:ed)?|"
                          r"say about|cover|include|contain|standard|clauses?)\b", re.I)
_LIST = re.compile(r"^\s*(?:list|name|give|show|enumerate)\b|\b(?:which|what) (?:are|were) (?:the|all|our)\b|\ball (?:the )?\w+s\b", re.I)
_ACROSS = re.compile(r"\b(?:which|what|all|every|each|any|both|none)\b(?:\s+of)?(?:\s+(?:our|the|its|their))?(?:\s+[\w-]+){0,3}?"
                     r"\s+(?:contracts|agreements|vendors|suppliers|providers|documents|templates)\b", re.I)
# A section of defined terms, and a question that asks what a term means (only then is the whole section the answer).
_DEFINITIONS = re.compile(r"^\W*(?:\d+(?:\.\d+)*\.?\s+)?(?:definitions?|defined terms|glossary)\b", re.I)
_ASKS_MEANING = re.compile(r"\b(?:mean(?:s|ing|t)?|defin\w*|stands? for|glossary|terms?)\b", re.I)
_BULLET = re.compile(r"^\s*(?:[-*+•]\s+|\|\s*)")


def doc_kind(chunk: Chunk) -> str:
    """How a reader should think of a document: standard terms, an executed agreement, guidance, an audit note."""
    vendor = chunk.metadata.get("vendor")
    if chunk.doc_type == "contract":
        return f"executed agreement with {vendor}" if vendor else "standard terms"
    if chunk.doc_type == "audit":
        return f"audit note, {chunk.metadata.get('date', '')}".rstrip(", ")
    return chunk.doc_type or "document"


def _authority(chunk: Chunk) -> int:
    """Order for requirement questions: standard terms, guidance, executed agreements, audits, the rest."""
    if chunk.doc_type == "contract":
        return 2 if chunk.metadata.get("vendor") else 0
    return {"guidance": 1, "audit": 3}.get(chunk.doc_type, 4)


def complete_sections(picks: list[Pick], question: str, ctx: Context | None) -> list[Pick]:
    """When a section answers (two quotes from it, or a list/requirement question), quote all its clauses."""
    if ctx is None or not picks:
        return picks
    wants_all = bool(_LIST.search(question) or _REQUIREMENT.search(question))
    groups: dict[tuple[str, str], list[Pick]] = {}
    for p in picks:
        groups.setdefault((p.chunk.source, p.section), []).append(p)
    out = list(picks)
    requirement = bool(_REQUIREMENT.search(question))
    # (a section about the document itself, "Use of these model clauses", states no requirement: it is not completed)
    about = {g for g in groups if requirement and restates_title(g[1], set(tokens(groups[g][0].chunk.title)))}
    best = {max(groups, key=lambda g: max(p.score for p in groups[g]))}
    standard = [g for g in groups if _authority(groups[g][0].chunk) == 0 and g not in about]
    if standard and requirement:  # the standard's own section, complete (and only it, on one quote)
        best = {max(standard, key=lambda g: max(p.score for p in groups[g]))}
    for key, members in groups.items():
        if key in about:
            continue
        top = max(p.score for p in members)
        if _DEFINITIONS.search(key[1]) and not _ASKS_MEANING.search(question):
            continue  # defined terms share the question's words but say what a word means, not what is required
        # a quote that announces the list after it ("follows the same ten steps.", "weighted as follows.") is
        # answered by that list, whole: its items rank with the announcing quote
        leads = [p for p in members if _ANNOUNCES.search(p.chunk.text[p.start:p.end]) or leads_list(p)]
        if leads:
            runs = section_runs(ctx, *key)
            for lead in leads:
                run = announced(runs, lead)
                if 1 <= len(run) <= MAX_STATEMENTS - 1 and sum(p.end - p.start for p in run) <= SECTION_MAX_CHARS:
                    _add(out, run, top)
            continue
        if not (key in best and wants_all) and len(members) < 2:
            continue
        items = section_items(ctx, *key)
        if 2 <= len(items) <= SECTION_MAX_ITEMS and sum(p.end - p.start for p in items) <= SECTION_MAX_CHARS:
            _add(out, items, top)  # every clause at the section's score: a budget cut drops its last ones, never a middle one
    return out


# words that name a document's parts rather than a topic ("Audit clauses", "Payment terms")
_STRUCTURE = frozenset(tokens("clause clauses term terms provision provisions"))
_GROUP_HEADING = re.compile(r"\s*#{1,2}\s")  # "# " or "## ": a heading that starts a group of sections


def group_overview(picks: list[Pick], question: str, ctx: Context | None) -> list[Pick]:
    """A requirement question that names a group of a standard's clauses ("What do our model clauses say about
    audits?" and the group "Audit clauses": every topic word of the group's heading is among the question's) is
    answered by the group's sections, each with its first clause, in document order. The best-scoring sentences
    alone may miss whole sections whose clauses never use the question's words ("Environmental clauses" holds
    e-waste disposal, emissions reporting and renewable electricity)."""
    if ctx is None or not picks or not _REQUIREMENT.search(question):
        return picks
    asked = set(tokens(question))
    top = max(p.score for p in picks)
    out = list(picks)
    for source in dict.fromkeys(p.chunk.source for p in picks if _authority(p.chunk) == 0):
        firsts: dict[str, Pick] = {}  # section heading -> its first clause
        for c in ctx.document_chunks(source):
            path = c.section.split(" > ")
            group = path[0] if len(path) >= 2 else ""  # the group a chunk starts in; a "## " heading in it starts another
            for u, sec in sectioned_units(c.text, c.section):
                if u.heading:
                    line = c.text[u.start:u.end]
                    if _GROUP_HEADING.match(line):
                        group = heading_text(line)
                    continue
                topic = set(tokens(group)) - _STRUCTURE
                if u.item and topic and topic <= asked and sec not in firsts:
                    firsts[sec] = Pick(c, u.start, u.end, top, sec)
        if 2 <= len(firsts) <= SECTION_MAX_ITEMS:
            _add(out, list(firsts.values()), top)
    return out


def _add(out: list[Pick], items: list[Pick], score: float) -> None:
    """Add ``items`` to ``out`` at ``score``; one already there is raised to it."""
    have = {p.key: p for p in out}
    for p in items:
        if p.key in have:
            have[p.key].score = max(have[p.key].score, score)
        else:
            p.score = score
            out.append(p)
            have[p.key] = p


def finding_records(picks: list[Pick]) -> list[Pick]:
    """Auditors need a finding's id, severity and status: quote its record line with any quote from its section."""
    out = list(picks)
    have = {p.key for p in out}
    for p in picks:
        fid = p.chunk.metadata.get("finding_id")
        if not fid:
            continue
        for u in statement_units(p.chunk.text):
            if not u.heading and str(fid) in p.chunk.text[u.start:u.end]:
                record = Pick(p.chunk, u.start, u.end, p.score, p.section)
                if record.key not in have:
                    out.append(record)
                    have.add(record.key)
                break
    return out


def record_line(ctx: Context, source: str, fid: str, severity: str = "", status: str = "", score: float = 1.0) -> Pick | None:
    """The unit of ``source`` that records the finding: it names the id, and best its severity and status
    too ("Finding NW-2024-01 (incident management, severity critical, status closed, ...)")."""
    best: tuple[int, Pick] | None = None
    named = re.compile(rf"(?<![\w-]){re.escape(fid)}(?![\w-])")
    for c in ctx.document_chunks(source):
        for u, section in sectioned_units(c.text, c.section):
            unit = c.text[u.start:u.end]
            if u.heading or not named.search(unit):
                continue
            low = unit.lower()
            rank = (bool(status) and status in low) + (bool(severity) and severity in low) + low.lstrip("-*| ").startswith(
                (fid.lower(), "finding " + fid.lower()))
            if best is None or rank > best[0]:
                best = (rank, Pick(c, u.start, u.end, score, section, latest_for=[fid]))
    return best[1] if best else None


def _doc_date(chunk: Chunk) -> str:
    return str(chunk.metadata.get("date", ""))


def latest_findings(picks: list[Pick], ctx: Context | None, limit: int = 4) -> list[Pick]:
    """Label quotes about a finding from an older note with its latest status; quote the latest note."""
    if ctx is None:
        return picks
    known = ctx.finding_ids()
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, sorted(known, key=len, reverse=True))) + r")(?![\w-])") if known else None
    out = list(picks)
    added = 0
    for p in picks:
        quote = p.chunk.text[p.start:p.end]
        ids = set(pattern.findall(quote)) if pattern else set()
        notes = []
        for fid in sorted(ids):
            rec = ctx.finding(fid)
            if rec is None or rec["source"] == p.chunk.source or rec.get("doc_date", "") <= _doc_date(p.chunk):
                continue
            notes.append(f"{fid} is {rec['status']} as of {rec['doc_date']}")
            if added < limit and not any(fid in q.latest_for for q in out):
                latest = _finding_line(ctx, rec["source"], fid, p.score)
                if latest is not None:
                    out.append(latest)
                    added += 1
        if notes:
            p.note = "earlier note; latest: " + "; ".join(notes)
    return out


def _finding_line(ctx: Context, source: str, fid: str, score: float) -> Pick | None:
    chunk = ctx.finding_chunk(source, fid)
    if chunk is None:
        return None
    for u, section in sectioned_units(chunk.text, chunk.section):
        if not u.heading and fid in chunk.text[u.start:u.end]:
            return Pick(chunk, u.start, u.end, score, section, latest_for=[fid])
    return None


def _clean(quote: str) -> str:
    text = _BULLET.sub("", quote).strip()
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", text)
    return " ".join(text.strip(" |").split())


def _budget(picks: list[Pick], chosen: frozenset[tuple[str, int]] = frozenset()) -> list[Pick]:
    """The best picks within the statement and character budget (finding status lines kept). Guidance that
    restates a quoted standard clause with the same figures ("data at rest must be encrypted with AES-256"
    beside clause 3.1) comes after every other quote: it adds a second source, not a second statement, and
    the standard's other clauses come first. Each document's best quote of those ``chosen`` for the question
    comes before the quotes added to complete a section or a list: a completed section ranks every sibling
    with its best sentence and would otherwise fill the budget before another document's direct answer."""
    reserved: dict[str, Pick] = {}  # each document's best chosen quote
    for p in picks:
        if p.key in chosen and (p.chunk.source not in reserved or p.score > reserved[p.chunk.source].score):
            reserved[p.chunk.source] = p
    first = {p.key for p in reserved.values()} | {p.key for p in picks if p.ask_best}
    # (equal scores, as a completed section's clauses have, go in document order)
    ranked = sorted(picks, key=lambda p: (not p.latest_for, p.key not in first, -p.score, p.chunk.source, p.chunk.start + p.start))
    standard = [set(tokens(without_clause_numbers(p.chunk.text[p.start:p.end]))) for p in ranked if _authority(p.chunk) == 0]

    def restates(p: Pick) -> bool:
        if _authority(p.chunk) != 1:
            return False
        t = set(tokens(without_clause_numbers(p.chunk.text[p.start:p.end])))
        figures = {w for w in t if any(ch.isdigit() for ch in w)}
        return any(len(t & s) / max(1, len(t | s)) > RESTATED and figures == {w for w in s if any(ch.isdigit() for ch in w)}
                   for s in standard)

    again = [p for p in ranked if restates(p)]
    out, chars, seen, counted = [], 0, set(), 0
    tables: set[tuple[str, str]] = set()  # the tables a row is quoted from: a table counts as one statement
    for p in [p for p in ranked if p not in again] + again:
        n = p.end - p.start
        header = table_header(p)
        table = (p.chunk.source, p.section) if marker(p)[0] == "row" else None
        counts = not (p.intro or header or table in tables)
        if p.key in seen or (counted >= MAX_STATEMENTS and counts) or (out and chars + n > MAX_QUOTE_CHARS):
            continue
        seen.add(p.key)
        out.append(p)
        chars += n
        counted += counts
        if table and not header:
            tables.add(table)
    # an introduction whose list did not fit whole is left out ("The audit covered three areas:" before one of them),
    # and so is a table's header without one of its rows
    return [p for p in out if (not p.intro or p.items <= seen)
            and not (table_header(p) and (p.chunk.source, p.section) not in tables)]


def _focused(picks: list[Pick], question: str) -> list[Pick]:
    """The picks from documents that answer about as well as the best one: a document whose best quote scores
    under ``MIN_DOCUMENT_SHARE`` of the best quote's is dropped (its quotes are loosely related), unless it is
    the vendor's the question names ("... the same as Harborview's?"), it holds a finding's latest status, it
    is standard terms and the question asks what is required (they come first for such questions), or the quote is
    the closest to one of the question's asks (``Pick.ask_best``: "..., and what score must a bidder reach?"). A question
    asked across documents ("which of our signed contracts ...?") keeps every document: each may hold a member."""
    if not picks or _ACROSS.search(question):
        return picks
    best = max(p.score for p in picks)
    by_doc: dict[str, float] = {}
    for p in picks:
        by_doc[p.chunk.source] = max(by_doc.get(p.chunk.source, 0.0), p.score)
    low, requirement = question.lower(), bool(_REQUIREMENT.search(question))
    return [p for p in picks if by_doc[p.chunk.source] >= MIN_DOCUMENT_SHARE * best or p.latest_for or p.ask_best
            or (requirement and _authority(p.chunk) == 0)
            or ((v := str(p.chunk.metadata.get("vendor") or "")) and re.search(rf"\b{re.escape(v.lower())}\b", low))]


def lead_sentence(groups: Sequence[list[Pick]]) -> str:
    docs = [f"*{g[0].chunk.title}* ({doc_kind(g[0].chunk)})" for g in groups]
    shown = docs[:3] + ([f"{len(docs) - 3} more"] if len(docs) > 3 else [])
    what = "document" if len(docs) == 1 else f"{len(docs)} documents"
    return f"Answered from {what}: " + (", ".join(shown[:-1]) + " and " + shown[-1] if len(shown) > 1 else shown[0]) + "."


def compose(question: str, picks: list[Pick], ctx: Context | None = None, lead: str = "",
            fixed: Sequence[Pick] = ()) -> tuple[str, list[Citation], list[Statement], list[Chunk]]:
    """(answer text, citations, statements, the chunks quoted) for the chosen quotes. ``lead``: a sentence
    put before the one naming the documents; ``fixed``: quotes given exactly, first in the budget, with no
    section, finding record or latest-status quotes added for them (the finding register's record lines)."""
    chosen = frozenset(p.key for p in list(fixed) + picks)  # the quotes chosen for the question, before completion
    picks = _budget(list(fixed) + _focused(latest_findings(finding_records(list_intros(group_overview(complete_sections(picks, question, ctx), question, ctx), ctx)), ctx), question), chosen)
    groups: dict[str, list[Pick]] = {}
    for p in sorted(picks, key=lambda p: -p.score):
        groups.setdefault(p.chunk.source, []).append(p)
    ordered = list(groups.values())
    if _REQUIREMENT.search(question):
        ordered.sort(key=lambda g: _authority(g[0].chunk))  # stable: relevance order within a kind
    lines = [f"{lead} {lead_sentence(ordered)}".strip(), ""]
    citations: list[Citation] = []
    statements: list[Statement] = []
    quoted: dict[str, Chunk] = {}
    for group in ordered:
        group.sort(key=lambda p: p.chunk.start + p.start)
        first = group[0].chunk
        lines.append(f"**{first.title}** ({doc_kind(first)})")
        section = None
        for p in group:
            if p.section and p.section != section and len({q.section for q in group}) > 1:
                lines.append(f"*{p.section}*")
            section = p.section
            if table_header(p):  # the columns' names, shown as a caption: a heading is never a statement
                lines.append(f"*{_clean(p.chunk.text[p.start:p.end])}*")
                continue
            n = len(citations) + 1
            cit = Citation.from_chunk(n, p.chunk, p.start, p.end)
            citations.append(cit)
            quoted.setdefault(p.chunk.id, p.chunk)
            text = _clean(cit.quote)
            statements.append(Statement(text=text, citations=[n], support=1.0, supported=True))
            lines.append(f"- {text} [{n}]" + (f" ({p.note})" if p.note else ""))
        lines.append("")
    return "\n".join(lines).strip(), citations, statements, list(quoted.values())


def composed_answer(question: str, chunks: Sequence[Chunk], picks: Sequence[Pick], ctx: Context | None = None,
                    lead: str = "", fixed: Sequence[Pick] = ()) -> Answer:
    """The extractive ``Answer`` composed from ``picks`` (see ``compose``): its sources are the retrieved
    chunks and every other chunk it quotes."""
    text, citations, statements, quoted = compose(question, list(picks), ctx, lead, fixed)
    have = {c.id for c in chunks}
    return Answer(question=question, text=text, citations=citations, sources=list(chunks) + [c for c in quoted if c.id not in have],
                  refused=False, backend="extractive", statements=statements)
