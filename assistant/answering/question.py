"""Reading a question: the kind of answer it asks for and whether a sentence gives it, the names it
uses, and its parts (a question may ask several things). Pure functions over text, used by the
answerability signals (``answerability``) and the extractive ranker (``extractive``).
"""

from __future__ import annotations

import functools
import re
from typing import Callable, Sequence

from assistant.core.text import MONTHS, named_in, places_in, tokens

# The kind of answer a question asks for (after the usual question taxonomy: contact details, a person, an
# organisation, a percentage, money, a count, a period, a date; checked in that order) and what a
# sentence must contain to give it. Questions asking for a description have no type.
_UNIT = r"(?:hours?|days?|business days?|working days?|weeks?|months?|years?|minutes?|quarters?)"
_NUMBER_WORD = r"(?:\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|sixty|ninety|hundred)"
# Up to a few words between the question word and what it asks for ("which Northwind payroll
# administrator"), but not a verb: in "what weight does price get", price is not what is asked.
_MOD = r"(?:(?!(?:does|do|did|is|are|was|were|has|have|had|will|would|can|could|must|should|may|might)\b)[A-Za-z0-9-]+ )"
# Words that put money in view ("how much ... cost", "what rate ... charge").
_MONEY_WORDS = (r"(?:cost|costs|costing|costed|pay|paid|pays|charge|charged|charges|spend|spent|worth|fees?|prices?|money|"
                r"budget|earn|earns|owe|owed|salary|fine|fined|bill|billed|invoice|invoiced)\b")
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+(?:\s+(?:of\s+)?[A-Z][a-z]+)+\b")
_INNER_CAPITAL = re.compile(r"\b[A-Z][a-z]+[A-Z][a-z]\w*\b")
# Nouns that name an organisation ("which insurer", "what charity"), and those that name one only after
# "which" ("which client" asks for a name; "what client information" does not).
_ORG_NOUNS = (r"company|companies|firms?|insurers?|banks?|agency|agencies|organisation|organization|recycler|consultancy|"
              r"charity|charities|ngos?|foundations?|unions?|universit(?:y|ies)|hospitals?")
_ORG_ROLES = (r"clients?|customers?|competitors?|law firm|dealer|broker|providers?|vendors?|suppliers?|contractors?|"
              r"subcontractors?|processors?|partners?|schools?|associations?")
# What follows such a noun when it describes something of the organisation's rather than asking its name
# ("which vendor contracts", "which supplier must ..."); ``also``: more such words.
_NOT_A_NAME = (r"(?:audit\s+)?(?:findings?|contracts?|agreements?|audits?|reports?|staff|employees|data|documents?|"
               r"obligations?|duties|rules|{also}must|has to|have to)")

ANSWER_TYPES: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    # Secrets (passwords, codes): a policy knowledge base names them but does not hold their values.
    "secret": (
        re.compile(r"\b(passwords?|passcodes?|pin(?: code| number)?s?|access codes?|door codes?|log-?in details|"
                   r"credentials|wi-?fi keys?)\b", re.I),
        re.compile(r"\b(?:password|passcode|pin|code|key)\s*(?:is|:)\s*[\w!@#$%^&*-]{4,}", re.I),
    ),
    # Contact details asked for ("what is the phone number of ...", "how do I reach ..."), not ones a question mentions
    # ("the runbook with our contact details", "the Manila phone team").
    "contact": (
        re.compile(r"\b(?:what|which|give|send|share|list|where)\b[^.?!]{0,40}?\b(?:phone|telephone|mobile)(?: numbers?| lines?)?\b"
                   r"|\b(?:what|which|give|send|share|list|where)\b[^.?!]{0,40}?\b(?:e-?mail address(?:es)?|contact details|"
                   r"contact numbers?|postal address|fax number|website|url|street address|office address)\b"
                   r"|\bhow (?:do|can|should) (?:i|we) (?:contact|reach|call|phone|e-?mail)\b", re.I),
        re.compile(r"\+?\d[\d ()-]{7,}\d|[\w.+-]+@[\w-]+\.[\w.]+|https?://|\bwww\.|\b\d+\s+\w+\s+(?:street|road|avenue|st|rd)\b", re.I),
    ),
    "person": (
        re.compile(r"\b(?:what (?:is|was) the names? of|who (?:is|was|will be|would be) (?:the|our|their|its|my|your|[\w-]+'s) (?!\w+ (?:of|for) )\w+|"
                   r"who (?:sits|sat|signed|sent|approved|chairs|leads|runs|made|took|wrote|decided|brought|filed|lodged)\b|"
                   rf"(?:name|names) of (?:the )?{_MOD}{{0,3}}?(?:person|individual|employee|manager|officer|head|contact|owner|"
                   r"administrator)|"
                   rf"which {_MOD}{{0,2}}(?:person|individual|employee|administrator|manager|staff member|member of staff|"
                   r"officer|engineer|analyst|agent|clerk|supervisor|director|coordinator|representative|signatory|team member|colleague|"
                   r"mentor|buddy|contact person)s?\b)", re.I),
        _CAPITALISED,
    ),
    "organisation": (
        re.compile(rf"\bwhich {_MOD}{{0,2}}(?:{_ORG_NOUNS}|{_ORG_ROLES})\b(?!\s+{_NOT_A_NAME.format(also='')})"
                   # "what" with the nouns that name an organisation only ("what client information" asks no name)
                   rf"|\bwhat {_MOD}{{0,2}}(?:{_ORG_NOUNS})\b(?!\s+{_NOT_A_NAME.format(also='policy|policies|')})"
                   r"|\bwho (?:insures|audits|acquired|bought)\b", re.I),
        _CAPITALISED,
    ),
    # A product or system by name ("which payroll software"): a name the question does not give.
    "product": (
        re.compile(rf"\b(?:which|what) {_MOD}{{0,2}}(?:software|system|platform|tool|application|app|product|brand|"
                   r"package|solution)\b(?!\s+(?:must|should|has to|have to|needs? to))", re.I),
        re.compile(r"\b[A-Z][a-z]+[A-Z]\w*\b|\b[A-Z][a-z]+(?:\s+[A-Z][a-z0-9]+)+\b"),
    ),
    # Where something is based ("where is the subcontractor based?", "in which country ..."): a place the question does
    # not give ("of Pune, India", "in Manila", "Philippine").
    "place": (
        re.compile(r"\bwhere (?:is|are|was|were) (?:[\w'’-]+ ){1,6}?(?:based|located|headquartered|registered|incorporated|"
                   r"situated)\b|\b(?:in |from )?(?:which|what) (?:country|countries|city|cities|town|region|location)\b", re.I),
        re.compile(r"\b(?:in|of|at|from|near)\s+(?:the\s+)?([A-Z][\w-]*[a-z][\w-]*(?:\s+[A-Z][\w-]*[a-z][\w-]*)?)"),
    ),
    "percent": (
        re.compile(rf"\b(?:what|which) {_MOD}{{0,2}}(?:percentage|per ?cent|share|proportion)\b|\bhow much\b.{{0,30}}%|"
                   # a rate is a ratio ("on-time rate", "error rate") unless it is a price ("hourly rate", "rate ... charge")
                   rf"\bwhat {_MOD}{{0,3}}(?<!hourly )(?<!daily )(?<!day )(?<!billing )(?<!interest )(?<!exchange )(?:rate|ratio)s?\b"
                   rf"(?!.{{0,50}}\b{_MONEY_WORDS})", re.I),
        re.compile(r"\d\s?%|\bper ?cent\b", re.I),
    ),
    "money": (
        # ("did the regulator fine them, and if so how much?": the money word comes first)
        re.compile(rf"\b(?:{_MONEY_WORDS}[^?]{{0,100}}\bhow much\s*\?|"
                   # (not how much a criterion weighs: "how much does price count compared to security?")
                   rf"how much (?!time|notice|warning|later|earlier|longer|sooner|data|detail|of\b)"
                   r"(?!(?:does|do|did|would|will|should) (?:the |a |our )?[\w-]+ (?:count|weigh|matter)\b)"
                   rf"(?=.{{0,60}}\b{_MONEY_WORDS})|"
                   rf"what (?:is |was |are |were )?(?:the |our |their |its )?{_MOD}{{0,3}}(?:price|prices|cost|costs|budget|"
                   r"salary|wage|wages|fine|fines|penalty|penalties|fee|fees|revenue|turnover|spend|premium|charge|charges|"
                   r"amount|worth|credit|credits|compensation|refund|refunds)\b(?!\s+(?:rules?|polic(?:y|ies)|clauses?|provisions?|terms|"
                   r"requirements?|regimes?|structures?|models?|schedules?|mechanisms?|process(?:es)?|laws?|standards?|regulations?))|"
                   r"(?:maximum|minimum) (?:fine|penalty)|"
                   # "how large a fine could we face?", "how high are the fees?"
                   r"\bhow (?:large|big|high|steep|heavy|hefty)\b[^?.]{0,30}?\b(?:fines?|penalt(?:y|ies)|fees?|bills?|payouts?|"
                   r"settlements?|damages|compensation|premiums?|prices?|costs?)\b|"
                   r"(?:fine|penalty|penalties) (?:amount|tiers?|levels?)|"
                   # "what did Ledgerline pay the recycler?", "what does a for-cause audit cost?"
                   r"\bwhat (?:did|does|do|would|will) (?:[\w'-]+ ){1,6}?(?:pay|charge|cost|spend|earn|owe|bill|invoice)\b(?!\s+(?:attention|heed|a visit|tribute))|"
                   rf"\bwhat {_MOD}{{0,3}}rates?\b)", re.I),
        re.compile(r"(?:EUR|USD|GBP|PHP|INR|€|\$|£)\s?\d|\d[\d,.]*\s?(?:million|m|bn|k)?\s?(?:euros?|dollars?|pounds?|EUR|USD)\b|"
                   r"\b\d+(?:\.\d+)?\s?(?:times|x) (?:the )?(?:annual |yearly |monthly )?(?:fees?|charges?)|"
                   # a share of the fees is an amount of money ("5% of the monthly charges")
                   r"\d\s?%\s+of\s+(?:the\s+)?(?:[\w-]+\s+){0,2}(?:fees?|charges?|price|invoice|contract value)", re.I),
    ),
    # "How much does X count / weigh": an amount of some kind, a number or a percentage.
    "quantity": (
        re.compile(r"\bhow much (?!time|notice|warning|later|earlier|longer|sooner|data|detail|of\b)", re.I),
        re.compile(rf"\d|\b{_NUMBER_WORD}\b|\bper ?cent\b", re.I),
    ),
    "count": (
        re.compile(r"\bhow many (?!hours|days|weeks|months|years|business days|working days|minutes)[a-z-]+|"
                   rf"\bwhat {_MOD}{{0,3}}(?:figure|figures|number|total|tally)\b", re.I),
        re.compile(rf"\b{_NUMBER_WORD}\b", re.I),
    ),
    # Which article, clause or section of a text says something: its number ("Article 28", "clause 8.2", "8.2 The ...").
    "reference": (
        re.compile(r"\bwhich (?:[\w-]+ ){0,2}?(?:article|provision|clause|section|paragraph|annex|recital)\b(?= (?:of|in|under|did|"
                   r"does|do|is|was|lists?|defines?|sets?|says?|lets?|allows?|requires?|covers?|governs?|applies)\b)", re.I),
        re.compile(r"\b(?:article|art\.|section|clause|paragraph|annex|recital)\s*\d|\u00a7\s*\d", re.I),
    ),
    # What someone concluded or decided, or how a matter ended: a plan to assess or decide answers nothing. (Not asked
    # of an audit: an audit's conclusions are its findings, stated as facts.)
    "outcome": (
        re.compile(r"^(?!.*\b(?:audit(?:s|ed|ors?)?|re-?audits?|follow-?ups?)\b).*?"
                   r"(?:\bwhat did (?:[\w'’-]+ ){1,10}?(?:conclude|decide|rule|determine)\b|\bhow did (?:[\w'’-]+ ){1,10}?turn out\b|"
                   r"\bwhat (?:was|were|is) the (?:final )?(?:outcome|result|conclusion|verdict|ruling)s?\b)", re.I | re.S),
        re.compile(r"\b(?:conclu(?:ded|des|sion)|decided|decision|ruled|ruling|determined|outcome|result(?:ed|s)?|found that|"
                   r"showed|verdict|opinion|settled|dismissed|upheld|agreed|approved|rejected|rated)\b", re.I),
    ),
    "period": (
        re.compile(r"\b(how (?:long|fast|quickly|soon|often)|how much (?:notice|warning|time)|within how|how many (?:hours|days|weeks|months|years|business days|"
                   r"working days|minutes)|what (?:is the )?(?:notice period|retention period))\b", re.I),
        re.compile(rf"\b{_NUMBER_WORD}[ -](?:calendar |business |working )?{_UNIT}\b|\b(annual(?:ly)?|quarterly|monthly|weekly|"
                   r"daily|yearly|fortnightly|hourly|(?:semi|bi)-?annual(?:ly)?|same day|immediately|without undue delay|every \w+|"
                   rf"(?:once|twice|{_NUMBER_WORD} times) (?:a|per|each|every) (?:day|week|month|quarter|year))\b", re.I),
    ),
    "date": (
        re.compile(r"\b(when (?:was|were|did|had)|when (?:is|are) .{0,40}\bdue|when (?:is|are|will) .{0,60}\b(?:scheduled|planned|"
                   r"expected|held|signed|launched|starting|start|end|ends|expire|expires|closed|completed)\b|what date|which (?:date|year|month)|by when|"
                   r"since when|on what date|what (?:is|was) the (?:\w+ )?(?:due|closing|effective|start|end) date)\b", re.I),
        # (a whole ISO date first: its year alone, the one the question names, would hide the day it gives)
        re.compile(r"\d{4}-\d{2}-\d{2}|\b(19|20)\d\d\b|\b(january|february|march|april|may|june|july|august|september|october|"
                   r"november|december)\b|\b\d+(?:st|nd|rd|th) (?:calendar |business |working )?day\b|"
                   rf"\bwithin {_NUMBER_WORD}[ -](?:calendar |business |working )?{_UNIT}\b|\b(?:end|start) of (?:the|each|every) \w+",
                   re.I),
    ),
}


# A question that asks for a day, and the dates precise to one.
_DAY_ASK = re.compile(r"\b(?:on what|what|which) (?:exact |precise )?(?:date|day)\b", re.I)
_MONTHS = "|".join(MONTHS)
_DAY = re.compile(rf"\d{{4}}-\d{{2}}-\d{{2}}|\b\d{{1,2}}(?:st|nd|rd|th)? (?:{_MONTHS})\b|\b(?:{_MONTHS}) \d{{1,2}}(?:st|nd|rd|th)?\b(?!\d)|"
                  r"\b\d+(?:st|nd|rd|th) (?:calendar |business |working )?day\b", re.I)

# A deadline or time limit is given as a period ("within 24 hours") or a date ("by 2025-12-31").
_DEADLINE = r"\b(?:deadlines?|time ?limits?|time ?frames?|turnaround(?: times?)?)\b"
ANSWER_TYPES["deadline"] = (re.compile(_DEADLINE, re.I), re.compile(
    f"{ANSWER_TYPES['period'][1].pattern}|{ANSWER_TYPES['date'][1].pattern}", re.I))


# A number that counts something: not part of a date or id, not followed by a unit of time or a percent sign.
_COUNT = re.compile(rf"(?<![\w.-])(?P<n>{_NUMBER_WORD})(?![\w-]|[.,]\d|\s?%|\s+(?:calendar |business |working )?{_UNIT}\b)", re.I)

# A clause or heading number before a capitalised word: "5.4 The report", "5. Reporting breaches".
_CLAUSE_NUMBER = re.compile(r"(?<![\w.,])\d+(?:\.\d+)+\.?(?=\s+[A-Z(])|(?<![\w.,])\d+\.(?=\s+[A-Z(])")
# A choice offered in the question: "..., Meridian or Northwind?"
_CHOICE = re.compile(r"\b[A-Z][\w-]+(?:'s)?,? or [A-Z][\w-]+")
# Capitalised because they are calendar words, not because they name something.
_CALENDAR = set("""january february march april may june july august september october november december monday tuesday
wednesday thursday friday saturday sunday""".split())
# (ids before acronyms: "HV-2025-02" is one name, not the acronym "HV")
_NAME = re.compile(r"\b(?:[A-Z][\w]*-\d[\w-]*|[A-Z][a-z]+(?:[A-Z][a-z]+)*|[A-Z]{2,}[A-Za-z0-9]*)\b")
# Capitalised only because they start a sentence or a request.
_QUESTION_WORDS = {
    "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "is", "are", "do", "does", "did", "can",
    "could", "should", "must", "may", "might", "would", "list", "give", "tell", "show", "name", "i", "we", "our", "a",
    "an", "the", "if", "in", "for", "and", "or", "us", "please", "any", "all", "has", "have", "was", "were", "will",
    "consider", "explain", "describe", "summarise", "summarize", "compare", "find", "check", "suppose", "imagine",
    "after", "before", "since", "under", "according", "as", "at", "on", "to", "from", "with", "by", "my", "say",
    "there", "it", "its", "this", "that", "these", "those", "let", "assume", "walk", "help", "need", "so", "ok", "okay",
}


_INSTITUTIONAL = set("""officer officers committee manager head director team board group ltd inc llc plc lda pvt services
service agreement policy act regulation regulations commission data protection security department unit council
authority office centre center bank court union standard standards code clause clauses schedule annex article section
risk vendor supplier audit internal compliance legal procurement privacy information technology human resources
general chief executive law ireland european""".split())


# "What's the rate?", "When's it due?": the question word and "is" contracted
_CONTRACTED = re.compile(r"\b(what|who|where|when|which|how)'s\b", re.I)


def expected_type(question: str) -> str | None:
    """The kind of answer asked for first, or None for a description ("what must", "how do we"): of two asks, the
    earlier one ("How often does the committee meet, and which vendors does it cover?": a period); of two kinds asked
    by the same words, the one ``ANSWER_TYPES`` lists first ("how much ... cost": money, not a quantity)."""
    # (what a question says before it asks is no ask: "Our provider's software decides which queue each agent works.
    # What must the agents be told?")
    asked = [x for x in re.split(r"(?<=[.!?])\s+", question.strip()) if x.rstrip().endswith("?")]
    question = _CONTRACTED.sub(r"\1 is", " ".join(asked) if asked else question)
    found = [(m.start(), i, name) for i, (name, (asks, _)) in enumerate(ANSWER_TYPES.items()) if (m := asks.search(question))]
    return min(found)[2] if found else None


def _proper_names(text: str) -> list[str]:
    """Runs of capitalised words, without the function and calendar words that start a sentence ("In July")."""
    out = []
    for m in _CAPITALISED.finditer(text):
        words = m.group(0).split()
        while words and (words[0].lower() in _QUESTION_WORDS or words[0].lower() in _CALENDAR):
            words.pop(0)
        if len(words) >= 2 and not all(w.lower() in _CALENDAR or w.lower() == "of" for w in words):
            out.append(" ".join(words))
    # and a name written as one word with a capital inside it ("QuickServe", "PayFlow"): no dictionary word is
    return out + [m.group(0) for m in _INNER_CAPITAL.finditer(text)]


# A question about what workers are (to be) paid, and a pay standard that answers it without an amount.
_WORKERS_PAY = re.compile(r"\b(?:pay|paid|pays|wages?|salar(?:y|ies)|earn|earns)\b.{0,40}\b(?:workers?|staff|agents?|employees?|"
                          r"people|operators?)\b|\b(?:workers?|staff|agents?|employees?|operators?)\b.{0,40}\b(?:paid|pay|wages?|"
                          r"salar(?:y|ies)|earn)\b", re.I)
_PAY_STANDARD = re.compile(r"\b(?:living|minimum|legal minimum|prevailing|statutory minimum) wages?\b|\bpaid (?:at )?(?:a |the )?"
                           r"(?:premium|overtime) rate\b", re.I)


_CLAUSE_ASK = re.compile(r"\b(?:clause|section)s?\b", re.I)
_NUMBERED = re.compile(r"\s*\d+(?:\.\d+)+\s")


def provides(kind: str, question: str, sentence: str, home: str = "") -> bool:
    """Whether ``sentence`` holds an answer of ``kind``; a name or organisation must be one the question
    does not already name and not the organisation's own (``home``)."""
    _, gives = ANSWER_TYPES[kind]
    if kind in ("person", "organisation", "product"):
        if kind == "organisation" and _CHOICE.search(question):
            return True  # "which vendor ..., Meridian or Northwind?": the question gives the candidates
        asked = set(re.findall(r"[a-z]+", question.lower())) | (set(re.findall(r"[a-z]+", home.lower())) - _INSTITUTIONAL)
        # a name the question (or the organisation's own name) already gives is not an answer
        found = _proper_names(sentence) if kind != "product" else [m.group(0) for m in gives.finditer(sentence)]
        words = [set(n.lower().split()) for n in found]
        if kind == "person":  # a person's name: no word of it asked, and not an office, a body or a document
            answers = [w for w in words if not w & (asked | _INSTITUTIONAL | _QUESTION_WORDS | _CALENDAR)]
        else:  # an organisation's or product's own name ("Harbour Mutual Insurance"), not a generic one ("Internal Audit")
            answers = [w for w in words if w - _INSTITUTIONAL - asked - _QUESTION_WORDS - _CALENDAR]
        return bool(answers)
    if kind == "place":  # a place after "in", "of", "at" ... or a country, that the question does not name
        asked = set(re.findall(r"[a-z]+", question.lower())) | set(re.findall(r"[a-z]+", home.lower()))
        found = [m.group(1) for m in gives.finditer(sentence)] + places_in(sentence)
        return any(set(n.lower().split()) - asked - _INSTITUTIONAL - _QUESTION_WORDS - _CALENDAR for n in found)
    if kind == "money" and _WORKERS_PAY.search(question) and _PAY_STANDARD.search(sentence):
        return True  # what workers are to be paid is answered by a pay standard ("at least the living wage")
    if kind == "reference":
        if _CLAUSE_ASK.search(question) and _NUMBERED.match(sentence):
            return True  # "which clause of the contract ...?": a numbered clause ("8.2 The supplier ...") gives its number
        # an article of the text the question names ("which DORA article ...?"), not of another ("GDPR Article 28")
        named = _named_texts(question)
        return bool(gives.search(sentence)) and (not named or any(n in sentence.lower() for n in named))
    if kind in ("count", "quantity"):  # clause numbers ("5.4 The report ...", "5. Reporting") count nothing
        sentence = without_clause_numbers(sentence)
    if kind == "count":  # a number the question does not already give, not a date, a period or a percentage,
        # next to what is counted ("how many new hires": "4 of the 25 new hires", "of 25 hires, 4") when the question says
        given, counted = _count_asks(question)
        for m in _COUNT.finditer(sentence):
            if m.group("n") in given or re.fullmatch(r"(?:19|20)\d\d", m.group("n")):
                continue
            near = " ".join(sentence[:m.start()].split()[-4:] + sentence[m.end():].split()[:6])
            if not counted or counted & set(tokens(near)):
                return True
        return False
    if kind in ("date", "deadline"):  # a date the question already gives ("the July 2024 breach") answers nothing;
        # "on what date" asks for a day ("2024-07-16", "16 July", "the 10th business day"), not a month or a period
        asked = _given(question, kind)
        gives = _DAY if kind == "date" and _DAY_ASK.search(question) else gives
        return any(m.group(0).lower() not in asked for m in gives.finditer(sentence))
    return bool(gives.search(sentence))


@functools.lru_cache(maxsize=256)
def _named_texts(question: str) -> tuple[str, ...]:
    """The things a question names, lower-cased, without institutional words: read once per question, not once per
    sentence the ranker scores."""
    return tuple(n.lower() for n in names(question) if n.lower() not in _INSTITUTIONAL)


@functools.lru_cache(maxsize=256)
def _given(question: str, kind: str) -> frozenset[str]:
    return frozenset(m.group(0).lower() for m in ANSWER_TYPES[kind][1].finditer(question))


@functools.lru_cache(maxsize=256)
def _count_asks(question: str) -> tuple[frozenset[str], frozenset[str]]:
    """The numbers a count question already gives, and the terms of what it counts (every "how many ..."):
    read once per question, not once per sentence the ranker scores."""
    asked = re.findall(r"\bhow many\s+((?:[\w'-]+\s+){0,4}[\w'-]+)", question, re.I)
    return frozenset(re.findall(r"\d[\d,.]*", question)), frozenset(t for t in tokens(" ".join(asked)) if not t.isdigit())


def without_clause_numbers(text: str) -> str:
    """``text`` without its clause and heading numbers ("5.4 The report ..."): they count nothing."""
    return _CLAUSE_NUMBER.sub(" ", text)


# Where a sentence starts, at the end of the text before a word: the question's start, after ". ", "? ", a quote
_SENTENCE_START = re.compile(r"(?:^|[.?!:;]\s+|[\"'(]\s*)$")


def names(question: str, common: Callable[[str], bool] = lambda w: False) -> list[str]:
    """Named things in the question: capitalised words, acronyms, ids. A word that starts a sentence is
    capitalised anyway: it names something only when it is not everyday English (``common``: "Apart from the
    vendor itself, ...", "While the decision is pending, ..." name nothing; "Crestline's contract ..." does)."""
    out = []
    for m in _NAME.finditer(question):
        w = m.group(0)
        if w.lower() in _QUESTION_WORDS or w.lower() in _CALENDAR:
            continue
        if _SENTENCE_START.search(question[:m.start()]) and w[1:].islower() and common(w.lower()):
            continue
        out.append(w)
    return out


_HOW = re.compile(rf"\bhow (soon|quickly|fast|long|often|frequently|much|many|early|late|far)\b|({_DEADLINE})|"
                  r"\b(faster|slower|sooner|later|quicker|longer|shorter|earlier)\b", re.IGNORECASE)
# Nouns that name the kind of value asked for, by answer type ("what on-time rate", "how much is it worth").
_KIND_NOUNS = {"percent": r"percentage|per ?cent|proportion|rate|ratio", "money": r"worth|price|cost|amount|fee",
               "count": r"number|total|figure|tally", "quantity": r"amount|total", "date": r"date|year|month"}


def value_words(question: str, kind: str | None = None) -> list[str]:
    """The words that ask for a kind of value ("how soon", "how often", "the deadline", "faster or slower",
    and given the asked ``kind`` (``expected_type``) the noun naming it: "what error rate", "what date"):
    the value answers them, so the answer's sentence need not repeat them."""
    words = [w for group in _HOW.findall(question) for w in group if w]
    nouns = _KIND_NOUNS.get(kind or "")
    return words + (re.findall(rf"\b(?:{nouns})\b", question, re.IGNORECASE) if nouns else [])


def without_names(question: str, vendors: Sequence[str] = (), home: str = "",
                  common: Callable[[str], bool] = lambda w: False) -> str:
    """``question`` without the things it names (vendors, the organisation, finding ids, years and the other
    ``names``): what it asks of them. A passage of a vendor's document is similar to any question naming that
    vendor; the question's remainder is similar only to a passage about what it asks ("What is the Harborview
    contract worth?" -> "What is the contract worth?")."""
    out = question
    for n in sorted([*named_in(out, vendors), *([home] if home else [])], key=len, reverse=True):
        out = re.sub(rf"\b{re.escape(n)}(?:'s\b|'|\b)", " ", out, flags=re.IGNORECASE)
    for n in names(out, common):  # (finding ids whole, before the years in them)
        out = re.sub(rf"\b{re.escape(n)}(?:'s\b|'|\b)", " ", out)
    out = re.sub(r"\b(?:19|20)\d\d\b", " ", out)
    return re.sub(r"\s+", " ", out).strip()
