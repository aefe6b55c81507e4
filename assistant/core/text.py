"""Text utilities shared by ingest, retrieval, answering and verification: word tokens, the one
sentence splitter, ISO dates as sortable integers, and acronyms the documents define."""

from __future__ import annotations

import calendar
import functools
import re
from typing import Any, Iterable

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having
    he her here hers him his how i if in into is it its itself just me more most my no nor not now of off on
    once only or other our ours out over own same she should so some such than that the their theirs them then
    there these they this those through to too under until up very was we were what when where which while who
    whom why will with would you your yours us say says said tell must shall may might also please""".split()
    # what is left of a contraction or possessive once the apostrophe splits it ("we've", "Kestrel's", "don't")
    + "s t ve ll re d m don doesn didn isn aren wasn weren couldn shouldn wouldn hasn haven hadn mustn".split()
)
MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}  # "january": 1, ...
_WORD = re.compile(r"[a-z0-9]+")
_WONT = re.compile(r"\bwon['\u2019]t\b")
# A sentence ends at . ! ? or ; followed by spaces and a capital, digit, quote or bracket.
_SENTENCE_END = re.compile(r"(?<=[.!?;])[ \t]+(?=[\"'(\[]?[A-Z0-9])")


def stem(w: str) -> str:
    """The Porter2 (Snowball English) stem, so "encryption", "encrypted" and "encrypt" meet."""
    return _stemmer().stemWord(w)


@functools.cache
def _stemmer():
    import snowballstemmer

    return snowballstemmer.stemmer("english")


_STEMS: dict[str, str] = {}  # word -> stem; indexing 100k chunks stems ~10M words but few distinct ones
# A currency's name and its ISO code are one term: "one million euros" asks about "EUR 1 million".
_STEMS.update({"euro": "eur", "euros": "eur"})
_STEMS_MAX = 500_000


def _stem_cached(w: str) -> str:
    s = _STEMS.get(w)
    if s is None:
        s = stem(w)
        if len(_STEMS) < _STEMS_MAX:
            _STEMS[w] = s
    return s


def words(text: str) -> list[str]:
    """The words of ``text`` that ``tokens`` stems, in order, stop words included (lower case)."""
    low = text.lower()
    if "won" in low:  # "won't" is "will not" (stop words), not the past of "win" ("won" + "t")
        low = _WONT.sub("will not", low)
    return _WORD.findall(low)


def tokens(text: str, keep_stopwords: bool = False) -> list[str]:
    found = words(text)
    get = _STEMS.get
    if keep_stopwords:
        return [get(w) or _stem_cached(w) for w in found]
    return [get(w) or _stem_cached(w) for w in found if w not in STOPWORDS]


def named_in(text: str, names: Iterable[str]) -> list[str]:
    """The ``names`` that ``text`` mentions as whole words (case-insensitive), in ``names``' order."""
    low = text.lower()
    return [n for n in names if re.search(rf"\b{re.escape(n.lower())}\b", low)]


def date_int(value: Any) -> int | None:
    """``2024-05-01`` (or a date/datetime) -> ``20240501``; None when it is not an ISO date."""
    if not value:
        return None
    s = str(value)[:10].replace("-", "")
    return int(s) if s.isdigit() and len(s) == 8 else None


def sentence_breaks(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans inside one line ``text[start:end]``, cut at every sentence end (no trimming).

    The splitter uses these as its smallest units; ``sentence_spans`` refines them for answers.
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    cur = start
    for m in _SENTENCE_END.finditer(text, start, end):
        if m.start() > cur:
            spans.append((cur, m.start()))
        cur = m.end()
    if cur < end:
        spans.append((cur, end))
    return spans


_LABEL = re.compile(r"\s*(?:[-*+•]\s*)?(?:\(?[0-9ivxa-z]{1,4}(?:\.[0-9]{1,3})*[.)]|no\.|e\.g\.|i\.e\.|art\.|sec\.)", re.I)
_NEW_ITEM = re.compile(r"^\s*(?:[-*+•|#>]|\d{1,3}(?:\.\d{1,3})*[.)]?\s|\([a-z0-9]{1,4}\)\s|[A-Z][A-Z .]{2,}$)")


def _only_label(text: str, start: int, end: int) -> bool:
    m = _LABEL.match(text, start, end)
    return m is not None and m.end() >= end


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Spans of sentences and list items, whitespace trimmed.

    A line break ends a unit when the line before ends a sentence (or a heading, table row
    or list intro) or the next line starts a list item, number, heading or table row;
    otherwise a hard-wrapped sentence continues on the next line.
    """
    blocks: list[tuple[int, int]] = []
    pos = 0
    cur_start: int | None = None
    cur_end = 0
    prev_line = ""
    for line in text.split("\n"):
        lstart, lend = pos, pos + len(line)
        pos = lend + 1
        stripped = line.strip()
        if not stripped:
            if cur_start is not None:
                blocks.append((cur_start, cur_end))
                cur_start = None
            prev_line = ""
            continue
        continues = (
            cur_start is not None
            and not _NEW_ITEM.match(line)
            and not prev_line.rstrip().endswith((".", "!", "?", ":", ";", "|"))
            and not prev_line.lstrip().startswith(("#", "|"))
        )
        if not continues:
            if cur_start is not None:
                blocks.append((cur_start, cur_end))
            cur_start = lstart
        cur_end = lend
        prev_line = line
    if cur_start is not None:
        blocks.append((cur_start, cur_end))
    spans: list[tuple[int, int]] = []
    for bstart, bend in blocks:
        pending: tuple[int, int] | None = None
        for s, e in sentence_breaks(text, bstart, bend):
            if pending is None:
                pending = (s, e)
            elif _only_label(text, *pending):  # "1. First step", "No. 5 ...": a number is not a sentence
                pending = (pending[0], e)
            else:
                spans.append(pending)
                pending = (s, e)
        if pending is not None:
            spans.append(pending)
    return [span for span in (trim(text, s, e) for s, e in spans) if span[1] > span[0]]


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    """``(start, end)`` moved inwards past white space."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


_GLUE = r"[\s-]+(?:(?:of|and|for|the|to|on)\s+)?"


def defines(acronym: str, text: str) -> str | None:
    """The words ``text`` spells ``acronym`` out with where it defines it ("a recovery point objective (RPO)"
    gives "recovery point objective"), or None: the last words before the bracket whose initials spell it."""
    m = re.search(rf"((?:[A-Za-z-]+,?\s+){{1,{2 * len(acronym)}}})\({re.escape(acronym)}s?\)", text)
    if not m:
        return None
    letters, out = list(acronym.lower()), []
    for w in reversed(re.findall(r"[A-Za-z]+", m.group(1))):
        if not letters:
            break
        if w[0].lower() == letters[-1]:
            letters.pop()
            out.append(w.lower())
        elif not (out and w.lower() in ("of", "and", "for", "the", "to", "on")):
            return None
    return " ".join(reversed(out)) if not letters else None


def spelled_out(expansion: str, text: str) -> bool:
    """Whether ``text`` uses ``expansion`` (from ``defines``), joining words such as "of" allowed between its words."""
    return bool(re.search(r"\b" + _GLUE.join(map(re.escape, expansion.split())) + r"\b", text, re.IGNORECASE))


# A country's name and the adjective for it ("Irish law" / "the law of Ireland"; "Philippine minimum wage" /
# "the Philippines"): a question that uses one form names what a document says with the other. Public knowledge, not
# the knowledge base's wording; each entry is "names: adjectives", the forms a document may use, in lower case.
_PLACES = """ireland: irish; united kingdom|uk|britain|great britain: british; england: english; scotland: scottish;
wales: welsh; france: french; germany: german; netherlands|holland: dutch; belgium: belgian; spain: spanish;
portugal: portuguese; italy: italian; poland: polish; czech republic|czechia: czech; romania: romanian;
bulgaria: bulgarian; hungary: hungarian; greece: greek; sweden: swedish; denmark: danish; norway: norwegian;
finland: finnish; austria: austrian; switzerland: swiss; europe|european union|eu: european;
united states|us|usa|america: american; canada: canadian; mexico: mexican; brazil: brazilian;
argentina: argentine|argentinian; colombia: colombian; chile: chilean; india: indian; pakistan: pakistani;
bangladesh: bangladeshi; sri lanka: sri lankan; philippines: filipino|philippine; vietnam|viet nam: vietnamese;
thailand: thai; malaysia: malaysian; indonesia: indonesian; china: chinese; japan: japanese; korea: korean;
singapore: singaporean; australia: australian; new zealand: new zealander; egypt: egyptian; morocco: moroccan;
south africa: south african; kenya: kenyan; nigeria: nigerian; ukraine: ukrainian; russia: russian;
turkey|türkiye: turkish; israel: israeli; united arab emirates|uae: emirati; estonia: estonian; latvia: latvian;
lithuania: lithuanian; slovakia: slovak; croatia: croatian; serbia: serbian"""


@functools.lru_cache(maxsize=1)
def _place_groups() -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for entry in _PLACES.split(";"):
        names, _, adjectives = entry.partition(":")
        forms = tuple(f.strip() for part in (names, adjectives) for f in part.split("|") if f.strip())
        for f in forms:
            out[f] = forms
    return out


def place_forms(name: str) -> tuple[str, ...]:
    """The other forms of a country's name or adjective ("Irish": ("ireland",)); () for any other name."""
    low = name.lower()
    return tuple(f for f in _place_groups().get(low, ()) if f != low)


@functools.lru_cache(maxsize=1)
def _places() -> tuple[re.Pattern[str], tuple[tuple[str, re.Pattern[str]], ...]]:
    # ("us" left out: it is also a pronoun)
    forms = [f for f in _place_groups() if f != "us"]
    return (re.compile(rf"\b(?:{'|'.join(map(re.escape, forms))})\b", re.I),
            tuple((f, re.compile(rf"\b{re.escape(f)}\b", re.I)) for f in forms))


def places_in(text: str) -> list[str]:
    """Every country's name or adjective of the table above that ``text`` uses, in lower case. One pattern of them all
    rules most texts out at once: the answer-type check runs on every sentence ranked for a "where is X based?" question."""
    anywhere, each = _places()
    return [f for f, rx in each if rx.search(text)] if anywhere.search(text) else []


def place_met(name: str, text: str) -> bool:
    """Whether ``text`` names the country ``name`` names, in another form ("Irish" by "Ireland")."""
    return any(re.search(r"\bUS\b", text) if f == "us" else re.search(rf"\b{re.escape(f)}\b", text, re.I)
               for f in place_forms(name))  # ("us" in capitals only: it is also a pronoun)
