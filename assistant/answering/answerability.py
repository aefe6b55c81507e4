"""Answerability: does the evidence answer the question? Decided for every question, from evidence.

Signals (``features``), each computed from the question and the sentences selected to answer it:
how similar the best chunk and the best sentences are to the question; how much of the
question's focus (its rarer words and the named things it mentions: vendors, ids, acronyms,
capitalised names) the sentences and their sections cover; how much of the question the
knowledge base's vocabulary knows at all; whether the kind of answer asked for (a duration, an
amount, a date, a person or role, contact details) is present in the sentences; and whether the
question asks for live information a static knowledge base cannot hold; and the question's form
(whether it sets out a scenario before asking). A small logistic
regression combines them; its weights live in ``answerability.json`` beside ``calibration.json``
and are refitted by ``python -m evals --calibrate`` on the calibration split of the golden set.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from assistant.core.text import tokens

MODEL_FILE = Path(__file__).resolve().parents[1] / "answerability.json"
# The model's inputs: one signal per kind of evidence, none redundant with another (collinear
# signals gave a fitted model with signs that made no sense and did worse on cross-validation).
FEATURES = (
    "dense_max", "unknown", "unknown_common", "names_missing", "type_missing", "live", "own_company",
    "routed", "type_expected", "multi_sentence", "compound", "part_min", "best_cover", "future", "findings_matched",
)

# The kind of answer a question asks for (after the usual question taxonomy: contact details, a person, an
# organisation, a percentage, money, a count, a period, a date; checked in that order) and what a
# sentence must contain to give it. Questions asking for a description have no type.
_UNIT = r"(?:hours?|days?|business days?|working days?|weeks?|months?|years?|minutes?|quarters?)"
_NUMBER_WORD = r"(?:\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|sixty|ninety|hundred)"
# Up to a few words between the question word and what it asks for ("which Northwind payroll
# administrator"), but not a verb: in "what weight does price get", price is not what is asked.
_MOD = r"(?:(?!(?:does|do|did|is|are|was|were|has|have|had|will|would|can|could|must|should|may|might)\b)[A-Za-z-]+ )"
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+(?:\s+(?:of\s+)?[A-Z][a-z]+)+\b")
ANSWER_TYPES: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    # Secrets (passwords, codes): a policy knowledge base names them but does not hold their values.
    "secret": (
        re.compile(r"\b(passwords?|passcodes?|pin(?: code| number)?s?|access codes?|door codes?|log-?in details|"
                   r"credentials|wi-?fi keys?)\b", re.I),
        re.compile(r"\b(?:password|passcode|pin|code|key)\s*(?:is|:)\s*[\w!@#$%^&*-]{4,}", re.I),
    ),
    "contact": (
        re.compile(r"\b(phone|telephone|mobile|e-?mail address|contact details|postal address|fax number|website|url|"
                   r"street address|office address)\b", re.I),
        re.compile(r"\+?\d[\d ()-]{7,}\d|[\w.+-]+@[\w-]+\.[\w.]+|https?://|\bwww\.|\b\d+\s+\w+\s+(?:street|road|avenue|st|rd)\b", re.I),
    ),
    "person": (
        re.compile(r"\b(?:what is the name of|who (?:is|was) (?:the|our|their|its|[\w-]+'s) (?!\w+ (?:of|for) )\w+|"
                   r"who (?:sits|sat|signed|sent|approved|chairs|leads|runs|made|took|wrote|decided)\b|"
                   r"(?:name|names) of (?:the )?(?:person|individual|employee|manager|officer|head|contact|owner|administrator)|"
                   rf"which {_MOD}{{0,2}}(?:person|individual|employee|administrator|manager|staff member|member of staff|"
                   r"officer|engineer|analyst|agent|clerk|supervisor|director|coordinator|representative|signatory)s?\b)", re.I),
        _CAPITALISED,
    ),
    "organisation": (
        re.compile(rf"\bwhich {_MOD}{{0,2}}(?:company|companies|firm|firms|insurer|insurers|bank|banks|agency|agencies|"
                   r"client|clients|customer|customers|competitor|competitors|law firm|organisation|organization|"
                   r"recycler|dealer|broker|consultancy|provider|providers|vendor|vendors|supplier|suppliers|subcontractor|"
                   r"subcontractors|processor|processors|partner|partners)\b(?!\s+(?:audit\s+)?(?:findings?|contracts?|agreements?|"
                   r"audits?|reports?|staff|employees|data|documents?|obligations?|duties|rules|must|has to|have to))"
                   r"|\bwho (?:insures|audits|acquired|bought)\b", re.I),
        _CAPITALISED,
    ),
    # A product or system by name ("which payroll software"): a name the question does not give.
    "product": (
        re.compile(rf"\b(?:which|what) {_MOD}{{0,2}}(?:software|system|platform|tool|application|app|product|brand|"
                   r"package|solution)\b(?!\s+(?:must|should|has to|have to|needs? to))", re.I),
        re.compile(r"\b[A-Z][a-z]+[A-Z]\w*\b|\b[A-Z][a-z]+(?:\s+[A-Z][a-z0-9]+)+\b"),
    ),
    "percent": (
        re.compile(rf"\b(?:what|which) {_MOD}{{0,2}}(?:percentage|per ?cent|share|proportion)\b|\bhow much\b.{{0,30}}%", re.I),
        re.compile(r"\d\s?%|\bper ?cent\b", re.I),
    ),
    "money": (
        re.compile(r"\b(?:how much (?!time|notice|warning|later|earlier|longer|sooner|data|detail|of\b)(?=.{0,60}\b(?:cost|costs|costing|costed|pay|paid|pays|charge|charged|charges|spend|spent|worth|fees?|"
                   r"prices?|money|budget|earn|earns|owe|owed|salary|fine|fined|bill|billed|invoice|invoiced)\b)|"
                   rf"what (?:is |was |are |were )?(?:the |our |their |its )?{_MOD}{{0,3}}(?:price|prices|cost|costs|budget|"
                   r"salary|wage|wages|fine|fines|penalty|penalties|fee|fees|revenue|turnover|spend|rate|rates|premium|charge|charges|"
                   r"amount|worth)\b|(?:maximum|minimum) (?:fine|penalty)|(?:fine|penalty|penalties) (?:amount|tiers?|levels?))",
                   re.I),
        re.compile(r"(?:EUR|USD|GBP|PHP|INR|€|\$|£)\s?\d|\d[\d,.]*\s?(?:million|m|bn|k)?\s?(?:euros?|dollars?|pounds?|EUR|USD)\b|"
                   r"\b\d+(?:\.\d+)?\s?(?:times|x) (?:the )?(?:annual |yearly |monthly )?(?:fees?|charges?)", re.I),
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
    "period": (
        re.compile(r"\b(how (?:long|fast|quickly|soon|often)|how much (?:notice|warning|time)|within how|how many (?:hours|days|weeks|months|years|business days|"
                   r"working days|minutes)|what (?:is the )?(?:deadline|notice period|time ?limit|time ?frame|retention period))\b", re.I),
        re.compile(rf"\b{_NUMBER_WORD}[ -](?:calendar |business |working )?{_UNIT}\b|\b(annual(?:ly)?|quarterly|monthly|weekly|"
                   r"daily|yearly|same day|immediately|without undue delay|every \w+)\b", re.I),
    ),
    "date": (
        re.compile(r"\b(when (?:was|were|did|had)|when (?:is|are) .{0,40}\bdue|when (?:is|are|will) .{0,60}\b(?:scheduled|planned|"
                   r"expected|held|signed|launched|starting|start|end|ends|expire|expires|closed|completed)\b|what date|which (?:date|year|month)|by when|"
                   r"since when|on what date|what (?:is|was) the (?:\w+ )?(?:due|closing|effective|start|end) date)\b", re.I),
        re.compile(r"\b(19|20)\d\d\b|\b(january|february|march|april|may|june|july|august|september|october|november|"
                   r"december)\b|\d{4}-\d{2}-\d{2}|\b\d+(?:st|nd|rd|th) (?:calendar |business |working )?day\b|"
                   rf"\bwithin {_NUMBER_WORD}[ -](?:calendar |business |working )?{_UNIT}\b|\b(?:end|start) of (?:the|each|every) \w+",
                   re.I),
    ),
}


# A number that counts something: not part of a date or id, not followed by a unit of time or a percent sign.
_COUNT = re.compile(rf"(?<![\w.-])(?P<n>{_NUMBER_WORD})(?![\w-]|[.,]\d|\s?%|\s+(?:calendar |business |working )?{_UNIT}\b)", re.I)

# A question about the organisation's own affairs (its own staff, departments, budgets), not its vendors;
# "{home}" stands for the organisation's own name (the ``organisation`` setting).
_OWN = (r"\b(?:our own|in-house|internal(?:ly)?|(?:our|{home}) (?:own )?(?:employees|staff|departments?|"
        r"marketing|finance|hr|budget|offices?|canteen|holidays?|leave|salar(?:y|ies)|pension|bonus(?:es)?))\b")
_VENDOR_WORDS = re.compile(r"\b(vendors?|suppliers?|providers?|outsourc\w*|contractors?|subcontract\w*|bpo|third[- ]part\w*|"
                           r"agreements?|contracts?|audits?|findings?)\b", re.I)
# Live or real-time information: a static, dated knowledge base cannot hold it.
_LIVE = re.compile(
    r"\b(today|tonight|this (?:morning|afternoon|week|weekend)|next (?:week|month|quarter|year)|"
    r"tomorrow|real[- ]time|live|latest news|in the news|share price|stock price|stock|market (?:cap|value|share)|"
    r"exchange rate|weather|forecast|will (?:they|it|we|\w+) (?:renew|win|sign|be))\b",
    re.I,
)
_COMPOUND = re.compile(r"(?:,|\band\b|\bor\b)\s+(?:how|what|when|where|which|who|why|whether|is|are|does|do|did|can|"
                       r"must|should|was|were)\b|\bcompar(?:e|ed|es|ing|ison)\b|\b(?:faster|slower|longer|shorter|"
                       r"stricter|tighter|looser|more|less|higher|lower|better|worse)\b.{0,60}\bthan\b|\bdiffer(?:s|ed|ence)?\b|"
                       r"\bversus\b|\bvs\.?(?=\s)|\b(?:faster|slower|tighter|looser|stricter) or\b", re.IGNORECASE)
# A choice offered in the question: "..., Meridian or Northwind?"
_CHOICE = re.compile(r"\b[A-Z][\w-]+(?:'s)?,? or [A-Z][\w-]+")
# The future: what a vendor will do or decide is not in a record of what was agreed and found.
_FUTURE = re.compile(r"\b(?:will|going to|next|upcoming|plan(?:s|ning)? to|expect(?:s|ed)? to)\b", re.IGNORECASE)
# Capitalised because they are calendar words, not because they name something.
_CALENDAR = set("""january february march april may june july august september october november december monday tuesday
wednesday thursday friday saturday sunday""".split())
_NAME = re.compile(r"\b(?:[A-Z][a-z]+(?:[A-Z][a-z]+)*|[A-Z]{2,}[A-Za-z0-9]*|[A-Z]{2}-\d{4}-\d{2}|[A-Z][\w]*-\d[\w-]*)\b")
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


_PART_BREAK = re.compile(r"(?<=[.?!;:])\s+|,?\s+(?=(?:and|or|but)\s+(?:how|what|when|where|which|who|why|whether|is|are|does|do|"
                         r"did|can|must|should)\b)|,?\s+(?=compared (?:with|to)\b)", re.IGNORECASE)


def question_parts(question: str) -> list[str]:
    """The asks of a question: its sentences and the clauses joined by "and how / or what / compared with".
    Fragments of fewer than three words stay with the part before them."""
    parts: list[str] = []
    for piece in _PART_BREAK.split(question.strip()):
        if not piece or not piece.strip():
            continue
        if parts and len(piece.split()) < 3:
            parts[-1] = f"{parts[-1]} {piece.strip()}"
        else:
            parts.append(piece.strip())
    return parts or [question]


def expected_type(question: str) -> str | None:
    """The kind of answer asked for, or None for a description ("what must", "how do we")."""
    for name, (asks, _) in ANSWER_TYPES.items():
        if asks.search(question):
            return name
    return None


def _proper_names(text: str) -> list[str]:
    """Runs of capitalised words, without the function and calendar words that start a sentence ("In July")."""
    out = []
    for m in _CAPITALISED.finditer(text):
        words = m.group(0).split()
        while words and (words[0].lower() in _QUESTION_WORDS or words[0].lower() in _CALENDAR):
            words.pop(0)
        if len(words) >= 2 and not all(w.lower() in _CALENDAR or w.lower() == "of" for w in words):
            out.append(" ".join(words))
    return out


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
            names = [w for w in words if not w & (asked | _INSTITUTIONAL | _QUESTION_WORDS | _CALENDAR)]
        else:  # an organisation's or product's own name ("Harbour Mutual Insurance"), not a generic one ("Internal Audit")
            names = [w for w in words if w - _INSTITUTIONAL - asked - _QUESTION_WORDS - _CALENDAR]
        return bool(names)
    if kind == "count":  # a number the question does not already give, not a date, a period or a percentage
        given = set(re.findall(r"\d[\d,.]*", question))
        for m in _COUNT.finditer(sentence):
            if m.group("n") not in given and not re.fullmatch(r"(?:19|20)\d\d", m.group("n")):
                return True
        return False
    return bool(gives.search(sentence))


def names(question: str) -> list[str]:
    """Named things in the question: capitalised words (not the first), acronyms, ids."""
    out = []
    for m in _NAME.finditer(question):
        w = m.group(0)
        if w.lower() in _QUESTION_WORDS or w.lower() in _CALENDAR:
            continue
        out.append(w)
    return out


@dataclass
class Evidence:
    """What the decision looks at: the retrieved chunks and the sentences chosen from them."""

    question: str
    chunk_texts: list[str]  # title, section and text of each retrieved chunk
    sentences: list[str]  # the selected sentences (with their section headings for context)
    sentence_sims: list[float]  # embedding similarity of each selected sentence to the question
    dense_max: float
    routed: bool = False
    # For a question of several parts (``question_parts``): each part's best similarity to the
    # ranked units; empty for a one-part question.
    part_sims: list[float] = field(default_factory=list)
    # The question selects findings by status or severity and the finding register holds some that
    # match: structured evidence that the answer exists, whatever the sentences' wording.
    findings_matched: bool = False


def features(ev: Evidence, idf: Callable[[str], float], known: Callable[[str], bool],
             common: Callable[[str], bool] = lambda w: False, home: str = "",
             vendors: Sequence[str] = ()) -> dict[str, float]:
    """The answerability signals of one question, each roughly in [0, 1].

    ``known``: whether the knowledge base uses a (stemmed) term; ``common``: whether a word is
    everyday English (a whole word of the embedding model's vocabulary). A question word the
    knowledge base never uses weighs differently when it is everyday English ("conclude") than
    when it is not ("lasagne", a product name).
    """
    q_terms = set(tokens(ev.question))
    low = ev.question.lower()
    everyday = {stem for w in re.findall(r"[a-z]+", ev.question.lower()) if common(w) for stem in tokens(w)}
    weights = {t: idf(t) for t in q_terms}
    total = sum(weights.values()) or 1.0
    top_terms = set(tokens(ev.sentences[0])) if ev.sentences else set()
    sent_terms = set(tokens(" ".join(ev.sentences)))
    missing = [w for t, w in weights.items() if t not in sent_terms and known(t)]
    chunk_terms = set(tokens(" ".join(ev.chunk_texts)))
    sims = sorted(ev.sentence_sims, reverse=True)
    kind = expected_type(ev.question)
    found = " ".join(ev.chunk_texts).lower()
    qnames = names(ev.question)
    providing = [t for t in ev.sentences if kind and provides(kind, ev.question, t, home)]

    def cover(text: str) -> float:
        terms = set(tokens(text))
        return sum(w for t, w in weights.items() if t in terms) / total

    home_words = [w for w in re.findall(r"[a-z]+", home.lower()) if w not in _INSTITUTIONAL]
    own = re.search(_OWN.format(home="|".join([re.escape(w) + r"'?s?" for w in home_words]) or "our"), low)
    names_vendor = any(re.search(rf"\b{re.escape(v.lower())}\b", low) for v in vendors)
    return {
        "dense_max": ev.dense_max,
        "sent_best": sims[0] if sims else 0.0,
        # Every ask must be answered: the worst-served part's best similarity (a one-part question: the best sentence's).
        "part_min": min(ev.part_sims) if ev.part_sims else (sims[0] if sims else 0.0),
        "sent_mean": float(np.mean(sims[:3])) if sims else 0.0,
        "focus_sent": sum(w for t, w in weights.items() if t in sent_terms) / total,
        "focus_chunks": sum(w for t, w in weights.items() if t in chunk_terms) / total,
        "unknown": sum(w for t, w in weights.items() if not known(t) and t not in everyday) / total,
        "unknown_common": sum(w for t, w in weights.items() if not known(t) and t in everyday) / total,
        "names_missing": sum(1 for n in qnames if n.lower() not in found) / max(1, len(qnames)),
        "type_expected": float(kind is not None),
        "type_missing": float(kind is not None and not providing),
        # The asked kind of value must sit in a sentence about the question, not anywhere in the evidence.
        # How much of the question one sentence covers, the best one; when a kind of value is asked
        # for, only sentences giving it count (the value must sit in a sentence about the question).
        "best_cover": max((cover(t) for t in (providing if kind else ev.sentences)), default=0.0),
        "live": float(bool(_LIVE.search(ev.question))),
        "future": float(bool(_FUTURE.search(ev.question))),
        "findings_matched": float(ev.findings_matched),
        "routed": float(ev.routed),
        "focus_top": sum(w for t, w in weights.items() if t in top_terms) / total,
        "missing_known": sum(missing) / total,
        "rarest_missing": max(missing, default=0.0) / max(max(weights.values(), default=1.0), 1e-6),
        "own_company": float(bool(own) and not _VENDOR_WORDS.search(ev.question) and not names_vendor),
        # The question's form: similarity runs lower for scenarios that set out a situation before
        # asking. (Question length was tried too: it helped cross-validation a little but refused
        # short questions such as "Show me the findings rated critical.")
        # Two asks in one ("..., and when is it due?") or a comparison: each part is answered by
        # different sentences, so similarity to the whole question runs lower.
        "compound": float(bool(_COMPOUND.search(ev.question))),
        "multi_sentence": float(len(re.findall(r"[.?!:;](?:\s|$)", ev.question.strip())) > 1),
    }


@dataclass
class Answerability:
    """A logistic regression over ``FEATURES``; answer when P(answerable) >= ``threshold``."""

    weights: dict[str, float] = field(default_factory=dict)
    bias: float = 0.0
    threshold: float = 0.5
    mean: dict[str, float] = field(default_factory=dict)  # standardisation fitted with the weights
    scale: dict[str, float] = field(default_factory=dict)
    note: str = ""

    def probability(self, f: dict[str, float]) -> float:
        z = self.bias + sum(
            w * (f.get(k, 0.0) - self.mean.get(k, 0.0)) / (self.scale.get(k, 1.0) or 1.0) for k, w in self.weights.items()
        )
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def answerable(self, f: dict[str, float]) -> bool:
        return self.probability(f) >= self.threshold

    def to_dict(self) -> dict[str, object]:
        return {"features": list(self.weights), "weights": self.weights, "bias": self.bias, "threshold": self.threshold,
                "mean": self.mean, "scale": self.scale, "note": self.note}

    def save(self, path: Path = MODEL_FILE) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> "Answerability":
        """The fitted model; a missing or unreadable file gives a permissive default (answer everything)."""
        try:
            d = json.loads(path.read_text())
            return cls({k: float(v) for k, v in d["weights"].items()}, float(d["bias"]), float(d["threshold"]),
                       {k: float(v) for k, v in d.get("mean", {}).items()},
                       {k: float(v) for k, v in d.get("scale", {}).items()}, str(d.get("note", "")))
        except (OSError, ValueError, KeyError):
            return cls(threshold=0.0, note=f"no fitted model at {path}: every question is answered")


def fit(rows: Sequence[dict[str, float]], labels: Sequence[int], l2: float = 1.0, iterations: int = 50,
        folds: int = 5) -> Answerability:
    """Logistic regression (Newton's method with an L2 penalty) on standardised features.

    The threshold maximises the worse of answer rate and refusal rate over out-of-fold
    probabilities (``folds``-fold cross-fitting on the same rows): probabilities of the rows a
    model was fitted on are over-confident, and a threshold set on them is too (0 or 1: in-sample).
    """
    y = np.asarray(labels, dtype=np.float64)
    model = _fit_weights(rows, y, l2, iterations)
    if folds > 1 and len(rows) >= 4 * folds and 0 < y.sum() < len(y):
        fold = np.random.RandomState(0).permutation(len(rows)) % folds
        probs = np.zeros(len(rows))
        for k in range(folds):
            train = np.flatnonzero(fold != k)
            part = _fit_weights([rows[i] for i in train], y[train], l2, iterations)
            for i in np.flatnonzero(fold == k):
                probs[i] = part.probability(rows[i])
    else:
        probs = np.array([model.probability(r) for r in rows])
    model.threshold = best_threshold(probs, y)
    return model


def _fit_weights(rows: Sequence[dict[str, float]], y: np.ndarray, l2: float, iterations: int) -> Answerability:
    keys = list(FEATURES)
    x = np.array([[r.get(k, 0.0) for k in keys] for r in rows], dtype=np.float64)
    mean, scale = x.mean(0), x.std(0)
    scale[scale == 0] = 1.0
    xs = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
    w = np.zeros(xs.shape[1])
    penalty = np.eye(xs.shape[1]) * l2
    penalty[0, 0] = 0.0  # the bias is not shrunk
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(xs @ w, -50, 50)))
        grad = xs.T @ (p - y) + penalty @ w
        hess = xs.T @ (xs * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return Answerability(dict(zip(keys, w[1:].tolist())), float(w[0]), 0.5,
                         dict(zip(keys, mean.tolist())), dict(zip(keys, scale.tolist())))


def best_threshold(probs: np.ndarray, y: np.ndarray) -> float:
    """The cut that maximises min(answer rate, refusal rate); ties go to the middle of the widest gap."""
    cuts = np.unique(np.concatenate([[0.0, 1.0], probs]))
    best, best_key = 0.5, (-1.0, -1.0)
    for lo, hi in zip(cuts, cuts[1:]):
        t = (lo + hi) / 2
        tpr = float(((probs >= t) & (y == 1)).sum() / max(1, (y == 1).sum()))
        tnr = float(((probs < t) & (y == 0)).sum() / max(1, (y == 0).sum()))
        key = (min(tpr, tnr), hi - lo)
        if key > best_key:
            best, best_key = float(t), key
    return round(best, 4)
