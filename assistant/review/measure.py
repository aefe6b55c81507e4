"""Values in contract wording: "within 48 hours", "semi-annual", "EUR 10 million", "TLS 1.2 or
higher", "3 times the annual fees", converted to a playbook unit and compared with the standard.

``extract`` finds every quantity with its offsets; ``convert`` moves it to another unit of the same
dimension (durations, frequencies, fee caps, amounts, versions, key lengths); ``value_for`` picks the
quantity a clause states for one term (a clause may state several: "an RTO of 4 hours and an RPO of
1 hour"), by the segment of the clause each quantity sits in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

# -- numbers -------------------------------------------------------------------------------
_SMALL = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_TENS = {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_WORDNUM = r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[- ](?:one|two|three|four|five|six|seven|eight|nine))?" \
           r"|one hundred(?: and)? \w+|" + "|".join(sorted(_SMALL, key=len, reverse=True)) + r"|a hundred|hundred)"
_DIGITS = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
# "six (6)", "6", "six": the digits in brackets win when both are written.
NUM = rf"(?:(?:{_WORDNUM})\s*\(\s*(?:{_DIGITS})\s*\)|(?:{_DIGITS})|\b(?:{_WORDNUM})\b)"
_MULT = {"million": 1e6, "m": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9, "thousand": 1e3, "k": 1e3}


def number(s: str) -> float | None:
    """``"6"``, ``"six"``, ``"six (6)"``, ``"forty-eight"``, ``"10,000,000"`` -> float."""
    s = s.strip().lower()
    m = re.search(r"\(\s*([\d,.]+)\s*\)", s)
    if m:
        s = m.group(1)
    if re.fullmatch(_DIGITS, s):
        return float(s.replace(",", ""))
    s = s.replace("-", " ")
    if s in ("hundred", "a hundred"):
        return 100.0
    parts = s.split()
    total = 0.0
    for p in parts:
        if p in _SMALL:
            total += _SMALL[p]
        elif p in _TENS:
            total += _TENS[p]
        elif p == "hundred":
            total = (total or 1) * 100
        elif p != "and":
            return None
    return total if parts else None


# -- units and dimensions ------------------------------------------------------------------
DAYS_PER = {"hours": 1 / 24, "days": 1.0, "business_days": 7 / 5, "weeks": 7.0, "months": 365 / 12, "years": 365.0}
DURATIONS = tuple(DAYS_PER)
FEES = {"months_fees": 1 / 12, "fees_multiple": 1.0}  # in multiples of the annual fees
DIMENSION = {**{u: "duration" for u in DURATIONS}, "times_per_year": "duration",
             **{u: "fees" for u in FEES}, "percent": "percent", "eur": "eur", "usd": "usd",
             "tls_version": "tls_version", "bits": "bits"}
# Calendar conversions are approximate (a quarter is 90 or 91.25 days): values within this share
# of the threshold are judged equal, so "every quarter" meets "every 90 days".
TOLERANCE = 0.025
LABEL = {"hours": "hours", "days": "days", "business_days": "business days", "weeks": "weeks", "months": "months",
         "years": "years", "percent": "%", "months_fees": "months' fees", "fees_multiple": "times the annual fees",
         "eur": "EUR", "usd": "USD", "tls_version": "TLS", "bits": "bits", "times_per_year": "times a year"}


@dataclass(frozen=True)
class Quantity:
    value: float
    unit: str
    start: int  # offsets into the text it was found in
    end: int
    kind: str = "amount"  # amount | interval ("every 12 months") | frequency ("quarterly")

    @property
    def periodic(self) -> bool:
        return self.kind in ("interval", "frequency")


_U_DUR = (r"(?P<unit>business\s+days?|working\s+days?|banking\s+days?|calendar\s+days?|days?|hours?|hrs?|weeks?|"
          r"months?|years?)")
_DUR = re.compile(rf"(?P<every>\b(?:every|each|per)\s+(?:period\s+of\s+)?)?(?P<num>{NUM})\s*(?:-\s*)?{_U_DUR}\b['’]?", re.I)
_FREQ = [
    (re.compile(r"\b(?:once\s+(?:a|per|in\s+(?:each|any|every))\s+(?:contract\s+|calendar\s+)?year|annually|annual|"
                r"every\s+(?:contract\s+|calendar\s+)?year|each\s+(?:contract\s+|calendar\s+)?year|yearly|per\s+annum|"
                r"once\s+in\s+(?:each|any|every)\s+(?:period\s+of\s+)?(?:12|twelve)\s+months)\b", re.I), 1.0),
    (re.compile(r"\b(?:twice\s+(?:a|per|each)\s+year|semi-?\s?annual(?:ly)?|bi-?annual(?:ly)?|half-?\s?yearly)\b", re.I), 2.0),
    (re.compile(r"\b(?:quarterly|(?:every|each|once\s+a|per)\s+(?:calendar\s+)?quarter)\b", re.I), 4.0),
    (re.compile(r"\b(?:monthly|every\s+month|each\s+month|once\s+a\s+month|per\s+month)\b", re.I), 12.0),
    (re.compile(r"\b(?:weekly|every\s+week|each\s+week)\b", re.I), 52.0),
    (re.compile(r"\b(?:daily|every\s+day|each\s+day)\b", re.I), 365.0),
    (re.compile(r"\b(?:biennial(?:ly)?)\b", re.I), 0.5),
]
_PCT = re.compile(rf"(?P<num>{_DIGITS})\s*(?:%|per\s*cent\b|percent\b)", re.I)
_CUR = r"(?P<cur>EUR|€|USD|US\$|\$)"
_MONEY_PRE = re.compile(rf"{_CUR}\s?(?P<num>{_DIGITS})(?:\s*(?P<mult>million|billion|thousand|mn|bn|m|k)\b)?", re.I)
_MONEY_POST = re.compile(rf"(?P<num>{_DIGITS})\s*(?P<mult>million|billion|thousand)?\s*(?P<cur>euros?|EUR|dollars?|USD)\b", re.I)
_TLS = re.compile(r"\b(?:TLS|Transport\s+Layer\s+Security)(?:\s+(?:version|v))?\s*v?(?P<num>\d\.\d)\b", re.I)
_BITS = re.compile(r"\bAES[\s-]?(?P<num>128|192|256)\b|\b(?P<num2>128|192|256)[\s-]?bits?\b", re.I)
_FEE_MONTHS = [
    re.compile(rf"\b(?:fees|charges|amounts?|sums?|compensation)\s+(?:\w+\s+){{0,4}}?(?:paid|payable|invoiced|received)"
               rf"(?:\s+or\s+payable)?(?:\s+\w+){{0,5}}?\s+(?:in|during|for|over|within)\s+the\s+(?:\w+\s+){{0,2}}?"
               rf"(?P<num>{NUM})\s*(?:\(\s*\d+\s*\)\s*)?(?:-\s*)?months?\b", re.I),
    re.compile(rf"(?P<num>{NUM})\s*(?:-\s*)?months?['’]?\s+(?:of\s+)?(?:the\s+)?(?:\w+\s+)?(?:fees|charges)\b", re.I),
]
_FEE_MULT = re.compile(rf"(?:(?P<num>{NUM})\s*(?:times|x|×)|(?P<word>twice|double|triple))\s+(?:the\s+)?"
                       rf"(?P<per>annual|yearly|monthly|total|aggregate)?\s*(?:contract\s+)?(?:fees|charges|contract\s+value)", re.I)


def _dur_unit(raw: str) -> str:
    u = raw.lower()
    if u.startswith(("business", "working", "banking")):
        return "business_days"
    for name in ("hour", "hr", "day", "week", "month", "year"):
        if re.sub(r"^calendar\s+", "", u).startswith(name):
            return {"hr": "hours"}.get(name, name + "s")
    return "days"


def extract(text: str) -> list[Quantity]:
    """Every quantity stated in ``text``, in order of position (overlapping readings removed)."""
    found: list[Quantity] = []
    for m in _FEE_MULT.finditer(text):
        v = number(m.group("num")) if m.group("num") else {"twice": 2.0, "double": 2.0, "triple": 3.0}[m.group("word").lower()]
        if v is not None:
            found.append(Quantity(v / 12 if (m.group("per") or "").lower() == "monthly" else v, "fees_multiple", m.start(), m.end()))
    for rx in _FEE_MONTHS:
        for m in rx.finditer(text):
            v = number(m.group("num"))
            if v is not None:
                found.append(Quantity(v, "months_fees", m.start(), m.end()))
    for rx, unit in ((_MONEY_PRE, None), (_MONEY_POST, None)):
        for m in rx.finditer(text):
            v = number(m.group("num"))
            if v is None:
                continue
            mult = _MULT.get((m.group("mult") or "").lower(), 1.0)
            cur = "usd" if ("$" in m.group("cur") or m.group("cur").lower().startswith(("usd", "dollar"))) else "eur"
            found.append(Quantity(v * mult, cur, m.start(), m.end()))
    for m in _PCT.finditer(text):
        found.append(Quantity(float(m.group("num").replace(",", "")), "percent", m.start(), m.end()))
    for m in _TLS.finditer(text):
        found.append(Quantity(float(m.group("num")), "tls_version", m.start(), m.end()))
    for m in _BITS.finditer(text):
        found.append(Quantity(float(m.group("num") or m.group("num2")), "bits", m.start(), m.end()))
    for m in _DUR.finditer(text):
        v = number(m.group("num"))
        if v is None or v <= 0:
            continue
        before = text[max(0, m.start() - 24):m.start()].lower()
        kind = "interval" if m.group("every") or re.search(r"\b(?:every|each)\s+(?:period\s+of\s+)?$", before) else "amount"
        found.append(Quantity(v, _dur_unit(m.group("unit")), m.start(), m.end(), kind))
    for rx, per_year in _FREQ:
        for m in rx.finditer(text):
            found.append(Quantity(per_year, "times_per_year", m.start(), m.end(), "frequency"))
    # An interval written "once every two years" is one reading: the duration, marked periodic.
    found.sort(key=lambda q: (q.start, -(q.end - q.start)))
    out: list[Quantity] = []
    for q in found:
        if out and q.start < out[-1].end:
            continue  # inside a longer reading already kept ("12 months' fees" is not also "12 months")
        out.append(q)
    return out


def convert(q: Quantity, unit: str) -> float | None:
    """``q`` in ``unit``, or None when the dimensions differ (or a one-off period asked as a frequency)."""
    if q.unit == unit:
        return q.value
    src, dst = DIMENSION.get(q.unit), DIMENSION.get(unit)
    if src is None or src != dst:
        return None
    if src == "fees":
        return q.value * FEES[q.unit] / FEES[unit]
    if src != "duration":
        return None
    if unit == "times_per_year":  # only a repeating period is a frequency
        return 365.0 / (q.value * DAYS_PER[q.unit]) if q.kind == "interval" else None
    if q.unit == "times_per_year":
        return 365.0 / q.value / DAYS_PER[unit]
    return q.value * DAYS_PER[q.unit] / DAYS_PER[unit]


def compare(value: float, acceptable: float, better: str, same_unit: bool = True) -> bool:
    """Whether ``value`` is at least as good as ``acceptable`` (with the calendar tolerance across units)."""
    tol = 1e-9 if same_unit else TOLERANCE
    slack = abs(acceptable) * tol
    return value <= acceptable + slack if better == "lower" else value >= acceptable - slack


def fmt(value: float, unit: str) -> str:
    """``48 hours``, ``EUR 10 million``, ``TLS 1.2``, ``99.5%``, ``3 times the annual fees``."""
    def num(v: float) -> str:
        return f"{v:.0f}" if abs(v - round(v)) < 1e-6 else f"{v:.2f}".rstrip("0").rstrip(".")
    if unit in ("eur", "usd"):
        cur = unit.upper()
        if value >= 1e6:
            return f"{cur} {num(value / 1e6)} million"
        return f"{cur} {value:,.0f}"
    if unit == "tls_version":
        return f"TLS {value:.1f}"
    if unit == "percent":
        return f"{num(value)}%"
    if unit == "times_per_year":
        return {1.0: "once a year", 2.0: "twice a year", 4.0: "four times a year"}.get(value, f"{num(value)} times a year")
    return f"{num(value)} {LABEL.get(unit, unit)}"


# -- clause segments -----------------------------------------------------------------------
_SEGMENT_BREAK = re.compile(r"[;,:()]|\band\b(?!\s+(?:then|or)\b)|\bprovided\s+that\b|\bunless\b", re.I)


def segments(text: str) -> list[tuple[int, int]]:
    """The parts of a clause between commas, semicolons and "and": where each stated value belongs."""
    return [(s, e) for s, e, _ in _segments(text)]


def _segments(text: str) -> list[tuple[int, int, str]]:
    """Segments with the separator that precedes each ("" for the first)."""
    out, pos, sep = [], 0, ""
    for m in _SEGMENT_BREAK.finditer(text):
        if m.start() > pos and text[pos:m.start()].strip():
            out.append((pos, m.start(), sep))
            sep = ""
        sep = (sep + " " + m.group(0).lower()).strip()
        pos = m.end()
    if pos < len(text) and text[pos:].strip():
        out.append((pos, len(text), sep))
    return out


def segment_of(text: str, pos: int) -> tuple[int, int]:
    for s, e in segments(text):
        if s <= pos < e:
            return s, e
    return 0, len(text)


def _shared_tail(text: str, q: Quantity, relevance: Callable[[str], float], quantities: Sequence[Quantity]) -> bool:
    """"report any security incident and any use of PHI within 24 hours": a value closing a clause
    also applies to the term named just before a bare "and" when that part states no value itself."""
    segs = _segments(text)
    k = next((i for i, (s, e, _) in enumerate(segs) if s <= q.start < e), None)
    if k is None or k != len(segs) - 1 or k == 0 or segs[k][2] != "and":
        return False
    s, e, _ = segs[k - 1]
    return relevance(text[s:e]) > 0 and not any(s <= o.start < e for o in quantities)


def value_for(text: str, unit: str, relevance: Callable[[str], float],
              rivals: Sequence[tuple[str, bool, Callable[[str], float]]] = (), periodic: bool = False) -> Quantity | None:
    """The quantity ``text`` states for a term measured in ``unit`` (``periodic``: a repeating period).

    ``relevance(segment)`` says how much a piece of the clause is about this term, and each rival
    ``(unit, periodic, relevance)`` how much it is about another term this clause is also evidence
    for: a value whose segment is more about a rival that can take it belongs to the rival ("a
    certificate of destruction within 10 business days" is not the data return deadline). A tie, or
    a segment no term claims, is decided on the whole clause; a value closing "A and B within 24
    hours" is shared. A repeating value ("every two years", "quarterly") only states a periodic
    term, an amount ("on 30 days' notice") any other. Among its own values a periodic term prefers
    an interval, then a frequency word, then an amount; TLS takes the lowest version stated.
    """
    from assistant.review.playbook import accepts

    cands = [q for q in extract(text) if convert(q, unit) is not None and accepts(unit, periodic, q.kind)]
    if not cands:
        return None
    owned: list[Quantity] = []
    for q in cands:
        competing = [rel for u, per, rel in rivals if convert(q, u) is not None and accepts(u, per, q.kind)]
        s, e = segment_of(text, q.start)
        mine, best = relevance(text[s:e]), max((r(text[s:e]) for r in competing), default=0.0)
        if mine == best:
            mine, best = relevance(text), max((r(text) for r in competing), default=0.0)
        if mine >= best or _shared_tail(text, q, relevance, cands):
            owned.append(q)
    if not owned:
        return None
    if unit == "tls_version":
        return min(owned, key=lambda q: q.value)
    order = {"interval": 0, "frequency": 1, "amount": 2} if periodic else {"amount": 0}
    return min(owned, key=lambda q: (order.get(q.kind, 3), q.start))


def vague_terms(text: str, vague: Sequence[str]) -> list[str]:
    """The vague words of ``vague`` ("promptly", "reasonable", "industry standard") found in ``text``."""
    low = text.lower().replace("-", " ")
    return [v for v in vague if re.search(rf"\b{re.escape(v.lower().replace('-', ' '))}", low)]
