"""Statement units of a passage: what an extractive answer may quote.

A numbered clause or a list item is one unit (quoted whole, so "3.2 ... and the Supplier shall
use TLS 1.3 ..." never loses its second half); prose is cut into sentences; headings are units
too but flagged, because a heading is never a statement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.core.text import sentence_spans, trim

MAX_ITEM_CHARS = 600  # a longer clause or item is quoted sentence by sentence
_ITEM = re.compile(r"^\s*(?:[-*+•]\s+|\d{1,3}(?:\.\d{1,3})+\.?\s|\d{1,3}[.)]\s|\([a-z0-9]{1,4}\)\s|\|)")
_MD_HEADING = re.compile(r"^\s*#{1,6}\s")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}")
_LABEL = re.compile(r"^\s*\*\*[^*]+\*\*\s*$")  # a bold line of its own ("**Evidence seen for closure.**"): the list's label


@dataclass(frozen=True)
class Unit:
    start: int  # offsets into the passage text
    end: int
    heading: bool = False
    item: bool = False  # a numbered clause, list item or table row


def heading_text(line: str) -> str:
    """``### 3. Encryption of Kestrel Data`` -> ``3. Encryption of Kestrel Data``."""
    return line.strip().lstrip("#").strip().strip("*").strip()


def last_section(path: str) -> str:
    """The innermost heading of a section path ``A > B > C``."""
    return path.rsplit(" > ", 1)[-1].strip()


def is_label(line: str) -> bool:
    """A bold line of its own ("**Recommendation.**"): it labels the list after it."""
    return bool(_LABEL.match(line))


def sectioned_units(text: str, section: str) -> list[tuple[Unit, str]]:
    """Each unit with the heading it sits under: the passage's own section until a heading
    inside the passage starts a new one (a chunk may start in one section and end in the next). A bold
    line of its own ("**Evidence seen for closure.**") labels the list after it: a heading, never a statement,
    but not a section (a chunk that starts inside the list could not tell which label it is under)."""
    current = last_section(section)
    out = []
    for u in statement_units(text):
        if u.heading and not is_label(text[u.start:u.end]):
            current = heading_text(text[u.start:u.end])
        out.append((u, current))
    return out


def _lines(text: str) -> list[tuple[int, int]]:
    out, pos = [], 0
    for line in text.split("\n"):
        s, e = trim(text, pos, pos + len(line))
        pos += len(line) + 1
        if e > s:
            out.append((s, e))
    return out


def is_heading_line(line: str, is_last: bool) -> bool:
    """A Markdown heading, or a short title-like line (no final punctuation) that text follows."""
    if _MD_HEADING.match(line) or _LABEL.match(line):
        return True
    stripped = line.strip().strip("*").strip()
    if is_last or len(stripped) > 90 or not stripped or stripped.endswith((".", ";", ":", ",", "!", "?", "|")):
        return False
    words = stripped.split()
    return len(words) <= 12 and (stripped.isupper() or bool(re.match(r"^(?:\d+(?:\.\d+)*\.?|[A-Z])\s*\S", stripped)) and
                                 sum(w[:1].isupper() for w in words) >= max(1, len(words) // 2))


def statement_units(text: str) -> list[Unit]:
    """The units of ``text`` in order: headings (flagged), whole items, and prose sentences."""
    lines = _lines(text)
    units: list[Unit] = []
    covered = 0
    for i, (s, e) in enumerate(lines):
        if s < covered:
            continue
        line = text[s:e]
        if _TABLE_RULE.match(line):
            covered = e
            continue
        if is_heading_line(line, is_last=i == len(lines) - 1):
            units.append(Unit(s, e, heading=True))
            covered = e
            continue
        if _ITEM.match(line):
            end = _item_end(text, lines, i)
            if end - s <= MAX_ITEM_CHARS:
                units.append(Unit(s, end, item=True))
                covered = end
                continue
    # Prose (and over-long items): the sentences of everything not yet covered.
    taken = [(u.start, u.end) for u in units]
    for s, e in sentence_spans(text):
        if not any(a <= s < b for a, b in taken):
            units.append(Unit(s, e))
    return sorted(units, key=lambda u: u.start)


def is_table_header(text: str, end: int) -> bool:
    """Whether the table row ending at ``end`` of ``text`` is its table's header: the next line is the rule under it."""
    nl = text.find("\n", end)
    if nl < 0:
        return False
    nxt = text.find("\n", nl + 1)
    return text[end:nl].strip() == "" and bool(_TABLE_RULE.match(text[nl + 1:nxt if nxt >= 0 else len(text)]))


def _item_end(text: str, lines: list[tuple[int, int]], i: int) -> int:
    """An item continues on following lines that are neither a new item, a heading nor a blank break."""
    end = lines[i][1]
    for s, e in lines[i + 1:]:
        between = text[end:s]
        if "\n\n" in between or _ITEM.match(text[s:e]) or _MD_HEADING.match(text[s:e]):
            break
        if text[lines[i][0]:lines[i][1]].startswith("|"):
            break  # a table row is one line
        end = e
    return end
