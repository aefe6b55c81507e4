"""Answerability: does the evidence answer the question? Decided for every question, from evidence.

Signals (``features``), each computed from the question and the sentences selected to answer it:
how similar the best chunk is to the question; how much of the question one sentence covers (when
a kind of value is asked for, only sentences giving it count); whether the names the question uses
occur in the evidence; how much of the question the knowledge base's vocabulary knows at all;
whether the kind of answer asked for (``question.expected_type``) is there; findings in the register
that match an asked status; and the question's form (live or future information, our own company's
affairs, a scenario before the ask, several asks or a comparison and the worst-served ask's
similarity), and how similar the best unit stays to the question once the things it names are taken out
(``denamed_sim``). A small logistic regression combines them; its weights live in ``answerability.json``
beside ``calibration.json`` and are refitted by ``python -m evals --calibrate`` on the calibration
split of the golden set.
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from assistant.answering.asks import ASK_OPENERS, sentences, set_out
from assistant.answering.question import _INSTITUTIONAL, expected_type, names, provides, value_words
from assistant.core.text import MONTHS, named_in, place_met, spelled_out, tokens

MODEL_FILE = Path(__file__).resolve().parents[1] / "answerability.json"
# The model's inputs: one signal per kind of evidence, none redundant with another (collinear
# signals gave a fitted model with signs that made no sense and did worse on cross-validation).
FEATURES = (
    "dense_max", "unknown", "unknown_common", "names_missing", "type_missing", "live", "own_company",
    "routed", "type_expected", "multi_sentence", "compound", "part_min", "best_cover", "future", "findings_matched", "denamed_sim",
)

# A month of a year a question pins ("at the February 2026 desk review")
_MONTH_YEAR = re.compile(rf"\b({'|'.join(MONTHS)})\s+((?:19|20)\d\d)\b", re.I)
# A question about the organisation's own affairs (its own staff, departments, budgets), not its vendors;
# "{home}" stands for the organisation's own name (the ``organisation`` setting).
_OWN = (r"\b(?:our own|in-house|internal(?:ly)?|(?:our|{home}) (?:own )?(?:employees|staff|departments?|"
        r"marketing|finance|hr|budget|offices?|canteen|holidays?|leave|salar(?:y|ies)|pension|bonus(?:es)?)"
        # ... and the asker's own terms of employment ("as a Kestrel employee", "how do I apply for parental leave?")
        r"|(?:as|for) an? (?:{home}) (?:employee|staff member)"
        r"|(?:do|can|will|may|should|would|could|am) i (?:get|take|have|accrue|earn|receive|carry|claim|apply for|qualify for|"
        r"entitled to)\b[^?.]{{0,40}}\b(?:leave|holidays?|days off|salary|pay rise|pension|bonus(?:es)?|benefits?|allowances?))\b")
_VENDOR_WORDS = re.compile(r"\b(vendors?|suppliers?|providers?|outsourc\w*|contractors?|subcontract\w*|bpo|third[- ]part\w*|"
                           r"agreements?|contracts?|audits?|findings?)\b", re.I)
# Live or real-time information: a static, dated knowledge base cannot hold it.
_LIVE = re.compile(
    r"\b(today|tonight|this (?:morning|afternoon|week|weekend|month)|next (?:week|month|quarter|year)|"
    r"tomorrow|real[- ]time|live (?:data|feeds?|figures?|numbers?|status|dashboards?|prices?|rates?|market|updates?|"
    r"scores?|counts?|metrics?|information|info)|latest news|in the news|share price|stock price|stock|market (?:cap|value|share)|"
    r"exchange rate|weather|forecast|will (?:they|it|we|\w+) (?:renew|win|sign|be))\b",
    re.I,
)
# A situation supposed, not the present asked about: "Say the contact centre went dark tomorrow. How long ...?",
# "If Acme's site flooded today, who ...?"
_SUPPOSED = re.compile(r"^(?:(?:let's|let us)\s+)?(?:say|suppose|supposing|imagine|assume|assuming|hypothetically)\b"
                       r"|\b(?:if|in case|what if)\b", re.IGNORECASE)
# ... or the time a plan of the asker's starts or ends ("changing the service levels from next month", "by next week")
_PLANNED = re.compile(r"\b(?:from|starting|beginning|as of|effective|until|till|by|before|after)\s+$", re.IGNORECASE)


def asks_live(question: str) -> bool:
    """Whether ``question`` asks for live or real-time information (``_LIVE``) rather than supposing a time (its
    clause, from the sentence start, supposes: ``_SUPPOSED``) or dating the asker's own plan (``_PLANNED``).
    (A time in a sentence that sets out the situation before the ask was tried as no live ask too: "A typhoon is
    forecast for Manila this week. What must ...?"; calibration split: one must-refuse question answered, none gained.)"""
    for m in _LIVE.finditer(question):
        before = question[:m.start()]
        clause = (sentences(before) or [""])[-1]
        if not (_SUPPOSED.search(clause) or _PLANNED.search(before)):
            return True
    return False


# (A condition set before the one ask counts too: "If the site goes down, how fast ...?", "Under the Act, how large ...?".
# Counting only a second ask was tried: calibration split, 5-fold CV x10, AUC -0.006, balanced rate -0.005.)
_COMPOUND = re.compile(rf"(?:,|\band\b|\bor\b)\s+{ASK_OPENERS}\b|"
                       r"\bcompar(?:e|ed|es|ing|ison)\b|\b(?:faster|slower|longer|shorter|"
                       r"stricter|tighter|looser|more|less|higher|lower|better|worse)\b.{0,60}\bthan\b|\bdiffer(?:s|ed|ence)?\b|"
                       r"\bversus\b|\bvs\.?(?=\s)|\b(?:faster|slower|tighter|looser|stricter) or\b|\bthe same as\b|"
                       r"\bsimilar to\b|\bas (?:long|fast|strict|short|high|low) as\b", re.IGNORECASE)
_DUTY_ASK = re.compile(r"\b(?:expect(?:s|ed)?|requir(?:e|es|ed)|requirements?|obliged|obligations?|supposed|permitted)\b", re.I)
# The future: what a vendor will do or decide is not in a record of what was agreed and found.
_FUTURE = re.compile(r"\b(?:will|going to|next(?! to\b)|upcoming|plan(?:s|ning)? to|expect(?:s|ed)? to)\b", re.IGNORECASE)


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
    # ... or it names one finding by vendor and subject and the register holds it ("how did Ledgerline fix the keys
    # problem?"): evidence of the same kind (the ``findings_matched`` signal counts both; calibration split, 5-fold
    # CV x10: balanced rate +0.004, 9 of 10 repeats ahead), though a count asked of that one finding is no count of findings.
    one_finding: bool = False
    # The selected sentences without their headings, for the answer-type check: a value must sit in the
    # sentence quoted, not in its heading ("Status of all findings as of 2025-04-15" dates no event).
    # Empty: ``sentences`` themselves.
    bare: list[str] = field(default_factory=list)
    # The words with which the question picked the document searched ("the latest Northwind follow-up"): the
    # document chosen meets them, as a vendor's documents meet its name.
    reference: str = ""
    # The best similarity of a ranked unit to the question without the things it names (``question.without_names``):
    # a vendor's passages are all close to a question naming the vendor, but only a passage about what it asks
    # stays close once the names are gone.
    denamed_sim: float = 0.0


def features(ev: Evidence, idf: Callable[[str], float], known: Callable[[str], bool],
             common: Callable[[str], bool] = lambda w: False, home: str = "",
             vendors: Sequence[str] = (), expansions: Mapping[str, str] | None = None,
             synonyms: Mapping[str, Sequence[str]] | None = None) -> dict[str, float]:
    """The answerability signals of one question, each roughly in [0, 1].

    ``known``: whether the knowledge base uses a (stemmed) term; ``common``: whether a word is
    everyday English (a whole word of the embedding model's vocabulary). A question word the
    knowledge base never uses weighs differently when it is everyday English ("conclude") than
    when it is not ("lasagne", a product name). ``expansions``: how the documents spell out the
    question's acronyms ("RPO": "recovery point objective"); a sentence using the words uses the acronym.
    ``synonyms``: the documents' phrases for the question's everyday words (``Thesaurus.matches``, stem ->
    phrases): a sentence that uses one covers the word, and the word counts as one the knowledge base knows.
    """
    low = ev.question.lower()
    # the thesaurus phrases (as stem sets) the knowledge base uses, for each everyday word that has some
    alternatives = {t: sets for t, phrases in (synonyms or {}).items()
                    if (sets := [set(p) for p in map(tokens, phrases) if p and all(known(x) for x in p)])}
    base_known = known
    known = lambda t: base_known(t) or t in alternatives  # noqa: E731
    everyday = {stem for w in re.findall(r"[a-z]+", low) if common(w) for stem in tokens(w)}
    # A vendor the question names is met by every passage of that vendor's documents (retrieval is routed to
    # them): coverage measures the rest of the question; whether the evidence names it is ``names_missing``.
    vendor_terms = {t for v in named_in(ev.question, vendors) for t in tokens(v)} | set(tokens(ev.reference))
    # The words that ask for a kind of value ("how soon", "the deadline", "what error rate", "faster or
    # slower"; ``question.value_words``): the value answers them (``type_missing`` checks it), so the
    # answer's sentence need not repeat them.
    kind = expected_type(ev.question)
    # ... and the words that ask for a duty ("what do we expect vendors to pay?", "is it required to ..."): a sentence
    # stating the duty ("must", "shall") answers them without repeating them
    ask_terms = set(tokens(" ".join(value_words(ev.question, kind) + _DUTY_ASK.findall(ev.question))))
    weights = {t: idf(t) for t in set(tokens(ev.question)) - vendor_terms - ask_terms}
    total = sum(weights.values()) or 1.0
    # Coverage counts the terms the knowledge base uses: no sentence can hold a word it never uses, and
    # such words have their own signals (``unknown``, ``unknown_common``).
    known_total = sum(w for t, w in weights.items() if known(t)) or 1.0

    spelled = {a.lower(): words for a, words in (expansions or {}).items()}

    def cover(text: str) -> float:
        """The share of the question's (idf-weighted) terms that ``text`` contains (an acronym also when spelled
        out, an everyday word also in the thesaurus's wording for it)."""
        terms = set(tokens(text))
        terms |= {t for t, words in spelled.items() if t not in terms and spelled_out(words, text)}
        terms |= {t for t, sets in alternatives.items() if t not in terms and any(p <= terms for p in sets)}
        return sum(w for t, w in weights.items() if t in terms) / known_total

    sent_terms = set(tokens(" ".join(ev.sentences)))
    missing = [w for t, w in weights.items() if t not in sent_terms and known(t)]
    sims = sorted(ev.sentence_sims, reverse=True)
    raw = " ".join(ev.chunk_texts)
    found = raw.lower()
    # the names it uses, and the years it asks about ("ahead of the 2026 peak season"; the year inside a finding id
    # is part of the id, not a second name)
    # (a place or a party that only sets out the situation is no subject of the ask: "One of our suppliers wants a
    # subcontractor in Vietnam. What has to happen before they start?" is answered by the rules for any subcontractor)
    told, asked = set_out(ev.question)
    named = [n for n in names(ev.question, common) if n not in told or n in asked]
    qnames = named + re.findall(r"\b(?:19|20)\d\d\b", functools.reduce(lambda q, n: q.replace(n, " "), named, ev.question))
    # ... and the months it pins ("at the February 2026 desk review"): met by that month's name or an ISO date in it
    months = [(m.lower(), y) for m, y in _MONTH_YEAR.findall(ev.question)]
    providing = [t for t, b in zip(ev.sentences, ev.bare or ev.sentences) if kind and provides(kind, ev.question, b, home)]
    home_words = [w for w in re.findall(r"[a-z]+", home.lower()) if w not in _INSTITUTIONAL]
    own = re.search(_OWN.format(home="|".join([re.escape(w) + r"'?s?" for w in home_words]) or "our"), low)
    return {
        "dense_max": ev.dense_max,
        "denamed_sim": ev.denamed_sim,
        "sent_best": sims[0] if sims else 0.0,
        # Every ask must be answered: the worst-served part's best similarity (a one-part question: the best sentence's).
        "part_min": min(ev.part_sims) if ev.part_sims else (sims[0] if sims else 0.0),
        "sent_mean": float(np.mean(sims[:3])) if sims else 0.0,
        "focus_sent": cover(" ".join(ev.sentences)),
        "focus_chunks": cover(" ".join(ev.chunk_texts)),
        "unknown": sum(w for t, w in weights.items() if not known(t) and t not in everyday) / total,
        "unknown_common": sum(w for t, w in weights.items() if not known(t) and t in everyday) / total,
        "names_missing": (sum(1 for n in qnames if not _name_in(n, raw, found)
                              and not (n.lower() in spelled and spelled_out(spelled[n.lower()], found))
                              and not place_met(n, raw))
                          + sum(1 for m, y in months if f"{m} {y}" not in found and f"{y}-{MONTHS[m]:02d}" not in found)
                          ) / max(1, len(qnames) + len(months)),
        "type_expected": float(kind is not None),
        # (a count of findings is the finding register's to give: ``findings_matched``)
        "type_missing": float(kind is not None and not providing and not (kind == "count" and ev.findings_matched)),
        # How much of the question one sentence covers, the best one; when a kind of value is asked
        # for, only sentences giving it count (the value must sit in a sentence about the question).
        "best_cover": max((cover(t) for t in (providing if kind else ev.sentences)), default=0.0),
        "live": float(asks_live(ev.question)),
        "future": float(bool(_FUTURE.search(ev.question))),
        "findings_matched": float(ev.findings_matched or ev.one_finding),
        "routed": float(ev.routed),
        "focus_top": cover(ev.sentences[0]) if ev.sentences else 0.0,
        "missing_known": sum(missing) / total,
        "rarest_missing": max(missing, default=0.0) / max(max(weights.values(), default=1.0), 1e-6),
        "own_company": float(bool(own) and not _VENDOR_WORDS.search(ev.question) and not named_in(ev.question, vendors)),
        # Two asks in one ("..., and when is it due?") or a comparison: each part is answered by
        # different sentences, so similarity to the whole question runs lower.
        "compound": float(bool(_COMPOUND.search(ev.question))),
        # The question's form: similarity runs lower for scenarios that set out a situation before
        # asking. (Question length was tried too: it helped cross-validation a little but refused
        # short questions such as "Show me the findings rated critical.")
        "multi_sentence": float(len(re.findall(r"[.?!:;](?:\s|$)", ev.question.strip())) > 1),
    }


def _name_in(name: str, raw: str, low: str) -> bool:
    """Whether the evidence (``raw``; ``low`` in lower case) holds a name: a short acronym as a word of its own in
    capitals ("EU" is not met by "queue") or spelled out by words with its initials ("IA": "Internal Audit"), any
    other name anywhere."""
    if len(name) <= 3 and name.isalpha() and name.isupper():
        initials = r"\s+".join(f"{c}[a-z]+" for c in name)
        return bool(re.search(rf"\b{name}\b|\b{initials}\b", raw))
    return name.lower() in low


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
        folds: int = 5, extra: tuple[Sequence[dict[str, float]], Sequence[int]] = ((), ())) -> Answerability:
    """Logistic regression (Newton's method with an L2 penalty) on standardised features.

    The threshold maximises the worse of answer rate and refusal rate over out-of-fold
    probabilities (``folds``-fold cross-fitting on the same rows): probabilities of the rows a
    model was fitted on are over-confident, and a threshold set on them is too (0 or 1: in-sample).
    ``extra``: more (rows, labels) for the threshold only, scored by the model fitted on ``rows`` (out of sample for it).
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
    more_rows, more_labels = extra
    probs = np.concatenate([probs, [model.probability(r) for r in more_rows]])
    model.threshold = best_threshold(probs, np.concatenate([y, np.asarray(more_labels, dtype=np.float64)]))
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
