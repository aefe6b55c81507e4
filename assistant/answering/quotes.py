"""Quotes and the lists they sit in: a ``Pick`` is one quote of a chunk; a section's clauses and list items come
as runs (``section_runs``); a clause or sentence that announces a list ("3.2 Customer support contact centre:",
"To close the finding, Ledgerline must provide:") is quoted with its items, and an item with its introduction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from assistant.core.text import tokens
from assistant.core.types import Chunk
from assistant.core.units import is_label, is_table_header, sectioned_units

SECTION_MAX_ITEMS = 8
SECTION_MAX_CHARS = 1800
# A sentence that announces the list after it: "follows the same ten steps.", "must include the following:".
_ANNOUNCES = re.compile(r":\s*$|\b(?:the following|(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\d+)"
                        r"(?:\s+[\w-]+)?\s+(?:steps|stages|phases|items|elements|points|criteria|parts|principles|rules|"
                        r"questions|conditions|documents|checks|areas|requirements|categories|types|ways))\b", re.I)


@dataclass
class Pick:
    """One quote: ``chunk.text[start:end]``, with the score it was chosen by."""

    chunk: Chunk
    start: int
    end: int
    score: float
    section: str = ""  # the heading the quote sits under
    note: str = ""  # shown after the quote (e.g. a superseded finding status)
    latest_for: list[str] = field(default_factory=list)  # finding ids whose latest record this quote is
    # introduces a quoted list ("... must provide:"): not counted as a statement of the budget, and shown only with
    # every item of its list (the keys of ``items``)
    intro: bool = False
    items: frozenset[tuple[str, int]] = frozenset()
    ask_best: bool = False  # the quote closest to the question or to one of its asks: kept whatever its score

    @property
    def key(self) -> tuple[str, int]:
        """Where the quote starts in its document (overlapping chunks can hold the same sentence)."""
        return self.chunk.source, self.chunk.start + self.start


class Context(Protocol):
    """What composition may look up beyond the retrieved chunks (all of it limited to the asker's role)."""

    def document_chunks(self, source: str) -> list[Chunk]: ...

    def finding(self, finding_id: str) -> dict[str, Any] | None: ...

    def finding_chunk(self, source: str, finding_id: str) -> Chunk | None: ...

    def finding_ids(self) -> list[str]: ...


def section_items(ctx: Context, source: str, section: str) -> list[Pick]:
    """Every clause or list item under ``section`` in the document, in order (each quoted once)."""
    return [p for run in section_runs(ctx, source, section) for p in run]


def section_runs(ctx: Context, source: str, section: str) -> list[list[Pick]]:
    """The clauses or list items under ``section``, in order, as runs: prose between two items ends a run."""
    runs: list[list[Pick]] = [[]]
    seen: set[int] = set()
    for c in ctx.document_chunks(source):
        for u, sec in sectioned_units(c.text, c.section):
            at = c.start + u.start
            if sec != section or at in seen:
                continue
            seen.add(at)
            last = runs[-1][-1] if runs[-1] else None
            if not u.item:
                rule = not c.text[u.start:u.end].strip(" |:-")  # a table's header rule: "|---|---|"
                # (a heading inside the section does not end a run, a bold label starts another list: "**Gaps.**")
                if not ((u.heading and not is_label(c.text[u.start:u.end])) or rule) and last and at >= last.chunk.start + last.end:
                    runs.append([])
                continue
            if last and at < last.chunk.start + last.end:
                # the last item ran to its chunk's end and swallowed the start of this one ("... section). 7."):
                # it ends where this one begins, and this one comes whole from the next chunk
                cut = at - last.chunk.start
                if last.end != len(last.chunk.text) or cut <= last.start:
                    continue
                last.end = last.start + len(last.chunk.text[last.start:cut].rstrip())
            runs[-1].append(Pick(c, u.start, u.end, 0.0, sec))
    return [r for r in runs if r]


def leads_list(p: Pick) -> bool:
    """Whether ``p`` is prose that a list follows at once ("Approval depends on the value and tier." + its table)."""
    units = sectioned_units(p.chunk.text, p.chunk.section)
    here = [u for u, _ in units if u.start <= p.start < u.end]
    after = [(u, sec) for u, sec in units if u.start >= p.end]
    return bool(here and after) and not here[0].item and after[0][0].item and after[0][1] == p.section


def marker(p: Pick) -> tuple[str, int]:
    """The kind of list marker a clause or item starts with ("3.2 " numbered, "- " bullet, "(a) " lettered, "|" a
    table row) and its indent: items of one kind and indent are siblings, another kind or a deeper indent nests."""
    text = p.chunk.text[p.start:p.end]
    body = text.lstrip(" \t")
    kind = ("bullet" if body[:1] in "-*+•" else "row" if body.startswith("|") else
            "number" if body[:1].isdigit() else "letter" if body.startswith("(") else "prose")
    return kind, len(text) - len(body)


def table_header(p: Pick) -> bool:
    """Whether ``p`` is the header row of a table ("| Decision | Approver |"): it names the columns and states nothing."""
    return marker(p)[0] == "row" and is_table_header(p.chunk.text, p.end)


def announced(runs: list[list[Pick]], lead: Pick) -> list[Pick]:
    """The items that ``lead``, a sentence or clause announcing a list, introduces: a clause of a list ("3.2 Customer
    support contact centre:") has the items nested under it, up to its next sibling; prose has the list after it."""
    if (found := _locate(runs, lead)) is not None:
        run, i = found
        mark, nested = marker(lead), []
        for p in run[i + 1:]:
            if marker(p) == mark or _ANNOUNCES.search(p.chunk.text[p.start:p.end]):
                break
            nested.append(p)
        return nested
    end = lead.chunk.start + lead.end
    run = next((r for r in runs if r[0].chunk.start + r[0].start >= end), [])
    return run if len(run) >= 2 else []


def _locate(runs: list[list[Pick]], p: Pick) -> tuple[list[Pick], int] | None:
    """The run holding the item where ``p`` starts, and its place in it; None when ``p`` is no item of them."""
    for run in runs:
        for i, q in enumerate(run):
            if q.key == p.key:
                return run, i
    return None


def list_intros(picks: list[Pick], ctx: Context | None) -> list[Pick]:
    """A quoted list item whose list is introduced by a sentence ending in a colon ("To close the finding, Ledgerline
    must provide:") or nested under a clause that does ("3.2 Customer support contact centre:") is quoted with that
    introduction: the item alone does not say what it is a part of."""
    if ctx is None:
        return picks
    out = list(picks)
    have = {p.key for p in out}
    runs_of: dict[tuple[str, str], list[list[Pick]]] = {}
    for p in picks:
        key = (p.chunk.source, p.section)
        if key not in runs_of:
            runs_of[key] = section_runs(ctx, *key)
        intro = _intro(runs_of[key], p)
        if intro is not None and intro.key not in have:
            intro.score, intro.intro = p.score, True
            out.append(intro)
            have.add(intro.key)
            # and the rest of its list, when short ("The audit covered three areas:" needs all three), ranked below every
            # quote chosen for the question: they only fill the room the answer has left (else the introduction goes)
            listed = announced(runs_of[key], intro)
            intro.items = frozenset(q.key for q in listed) | {p.key}
            items = [q for q in listed if q.key not in have]
            if len(items) <= SECTION_MAX_ITEMS and sum(q.end - q.start for q in items) <= SECTION_MAX_CHARS:
                for q in items:
                    q.score = 0.0
                    out.append(q)
                    have.add(q.key)
    return out


def _intro(runs: list[list[Pick]], p: Pick) -> Pick | None:
    """What introduces the list item ``p``: the clause it is nested under, or the prose before its list, when that ends
    in a colon; None otherwise."""
    if (found := _locate(runs, p)) is None:
        return None
    run, i = found
    mark = marker(p)
    for q in reversed(run[:i]):  # the nearest item above of another kind or a shallower indent
        if marker(q) != mark:
            return q if q.chunk.text[q.start:q.end].rstrip().endswith(":") and marker(q)[1] <= mark[1] else None
    first = run[0]  # the list's first item: the prose just before the list may introduce it
    units = [(u, sec) for u, sec in sectioned_units(first.chunk.text, first.chunk.section) if u.end <= first.start]
    if units and not units[-1][0].heading and not units[-1][0].item:
        u, sec = units[-1]
        if first.chunk.text[u.start:u.end].rstrip().endswith(":"):
            return Pick(first.chunk, u.start, u.end, p.score, sec)
    return None


_NUMBERED = re.compile(r"\s*(?:\d|[ivx]+\.\s|[A-Z]\.\s)")  # "5. Annual right to audit", "iv. Fees", "B. Scope"


def restates_title(section: str, title_terms: set[str]) -> bool:
    """Whether a section heading is about its document: an unnumbered heading that repeats half the title's terms
    or more (two at least) and adds at most two of its own ("Use of the subcontracting and audit model clauses",
    "Purpose and scope of the Supplier Code of Conduct"; not a numbered clause such as "5. Annual right to audit",
    nor "Use of Kestrel and client data for AI" under "Responsible use of AI and automation")."""
    if _NUMBERED.match(section):
        return False
    terms = set(tokens(section))
    shared = terms & title_terms
    return len(shared) >= max(2, (len(title_terms) + 1) // 2) and len(terms - title_terms) <= 2
