"""What the knowledge base cannot know yet: whether something happened by a date later than every record it
holds of the vendor asked about. "Did Northwind close NW-2024-02 by its 30 June 2026 due date?", when the
latest Northwind note is of 2026-03-12, has no answer in the documents, however closely the notes about that
finding match the question's words; the answer says so and names the latest record.

A date the documents themselves give (a due date, a planned review) is what they record, not a date past
their records: a question pinning one is left to the gate ("Was NW-2024-02's due date moved to 30 June 2026?").
"""

from __future__ import annotations

import calendar
import re
from typing import Iterable, Sequence

from assistant.core.text import MONTHS

_M = "|".join(MONTHS)
_Y = r"(?:19|20)\d\d"
_DATE = re.compile(
    rf"\b(?P<iso>{_Y}-[01]\d-[0-3]\d)\b"
    rf"|\b(?P<d1>[0-3]?\d)(?:st|nd|rd|th)?\s+(?P<m1>{_M}),?\s+(?P<y1>{_Y})\b"
    rf"|\b(?P<m2>{_M})\s+(?P<d2>[0-3]?\d)(?:st|nd|rd|th)?,\s*(?P<y2>{_Y})\b"
    rf"|\b(?P<m3>{_M})\s+(?P<y3>{_Y})\b", re.I)
# A date as the time of what is asked: "by its 30 June 2026 due date", "at the February 2026 review", "in March 2026",
# "at Internal Audit's February 2026 desk review" (someone's), "did it meet its 2025-12-31 deadline" (a date to meet),
# "in time for the January 2026 review"
_WHEN = re.compile(r"\b(?:(?:by|at|in|on|for|before|during|until|after|around|ahead of|prior to)\s+(?:(?:the|its|their|our|his|her|this|that|a|an)\s+)?"
                   r"(?:(?:[\w-]+\s+){0,2}[\w-]+['’]s\s+)?(?:(?:end|start|beginning|middle) of\s+)?"
                   r"|(?:hit|meet|met|miss(?:ed)?|make|made|beat)\s+(?:the|its|their|our|his|her|this|that)\s+"
                   # ... or the dated event is what the question asks about: "What did the February 2026 desk review conclude?"
                   r"|(?:^|[.?!;]\s+)what\s+(?:did|has|had)\s+(?:the|its|their)\s+)$", re.I)
# Something done or happening ("closed by", "held in"), as against a date asked about ("was it due by ...?")
_EVENT = re.compile(r"\b(?:clos(?:e|ed|ing)|fix(?:ed)?|hit|miss(?:ed)?|beat|resolved?|complet(?:e|ed)|finish(?:ed)?|done|happen(?:ed)?|held|hold|"
                    r"deliver(?:ed)?|sen[dt]|produced?|met|meet|paid|pay|signed?|renew(?:ed)?|notif(?:y|ied)|gave|given?|"
                    r"decided?|carr(?:y|ied) out|rotated?|launch(?:ed)?|achieved?|submitted|submit|took place|take place|"
                    r"start(?:ed)?|end(?:ed)?|stop(?:ped)?|terminated?|invoked?|passed|failed|agreed?|approved?|conclu(?:de|ded|sion)|"
                    r"f(?:ind|ound)|show(?:ed)?|recommend(?:ed)?)\b", re.I)
# Whether something happened, asked of the past: "did ... close it by ...", "was it fixed in ...", "has ... sent
# ...", "what happened at the ... review", "what did the committee decide in ..."
_PAST_EVENT = re.compile(r"^\s*(?:(?:so|and|but|ok|okay|also),?\s+)?(?:did|was|were|has|have|had)\b"
                         r"|\bwhat (?:happened|came out of|was decided|did\b[^?.]{1,40}?\b(?:decide|conclude|find|show|recommend))\b", re.I)


def asks_by_date(question: str) -> bool:
    """Whether ``question`` asks if something happened, pinning a date: the only questions ``after_records`` reads."""
    return bool(_PAST_EVENT.search(question)) and bool(pinned_dates(question))


def pinned_dates(question: str) -> list[tuple[str, list[str], str]]:
    """The dates a question pins as the time of what it asks ("by", "at", "in" ... a date), each as (the first day
    it covers, ISO; the ways a document would write it; as the question writes it): "30 June 2026" ->
    ("2026-06-30", ["2026-06-30", "30 june 2026", "june 30, 2026"], "30 June 2026"); "June 2026" ->
    ("2026-06-01", ["june 2026", "2026-06-"], "June 2026")."""
    out = []
    for m in _DATE.finditer(question):
        if not _WHEN.search(question[:m.start()]):
            continue
        if m["iso"]:
            y, mo, d = (int(x) for x in m["iso"].split("-"))
        elif m["y3"]:
            y, mo = int(m["y3"]), MONTHS[m["m3"].lower()]
            out.append((f"{y}-{mo:02d}-01", [f"{m['m3'].lower()} {y}", f"{y}-{mo:02d}-"], m[0]))
            continue
        else:
            y = int(m["y1"] or m["y2"])
            mo, d = MONTHS[(m["m1"] or m["m2"]).lower()], int(m["d1"] or m["d2"])
        if not 1 <= mo <= 12 or not 1 <= d <= calendar.monthrange(y, mo)[1]:
            continue
        name = calendar.month_name[mo].lower()
        out.append((f"{y}-{mo:02d}-{d:02d}", [f"{y}-{mo:02d}-{d:02d}", f"{d} {name} {y}", f"{name} {d}, {y}"], m[0]))
    return out


def after_records(question: str, vendors: Sequence[str], documents: Sequence[dict[str, str]],
                  texts: Iterable[str]) -> str | None:
    """The refusal text when ``question`` asks whether something happened by or at a date later than the latest
    dated document of every vendor it names (``documents``: each one's vendor, title and date), and no text of
    ``texts`` (the documents that could answer: the vendor's and the retrieved ones) gives that date unless it asks
    what was done by then; None otherwise (no vendor named, no date pinned, not asked of the past, or a date the
    documents record asked about for itself)."""
    if not vendors or not _PAST_EVENT.search(question):
        return None
    dates = pinned_dates(question)
    own = [d for d in documents if d.get("vendor") in vendors and d.get("date")]
    if not dates or not own:
        return None
    latest = max(own, key=lambda d: d["date"])
    first, _, asked = min(dates)
    if first <= latest["date"]:
        return None
    # a date the documents give (a due date, a planned review) may be what is asked about ("was it due by ...?"),
    # unless the question asks what was done by then ("was it closed by its 30 June 2026 due date?")
    if not _EVENT.search(question):
        written = " ".join(" ".join(t.lower().split()) for t in texts)
        if any(form in written for _, forms, _ in dates for form in forms):
            return None
    whose = " or ".join(vendors)
    return (f"I can't answer that from the knowledge base: its latest {whose} record is *{latest['title']}* "
            f"({latest['date']}), from before {asked}, and no document records what happened after it.")
