"""The knowledge base's thesaurus (``<knowledge_root>/synonyms.yaml``): the everyday words people ask
with, each mapped to the wording the documents use ("outage" -> "disruption", "journalist" -> "media
enquiries", "overseas" -> "offshore").

The documents are written in formal terms and questions are not, so without it a question that
shares few words with the clause that answers it ranks that clause low and fails the answerability
check's coverage of its words. The mapping is one way: a question's word adds the documents'
distinctive terms to the words searched (``Corpus.expanded``) and counts as covered by a sentence that
uses one of its phrases (``answerability.features``); document text is never rewritten. The organisation edits the file like the rest of its knowledge base; it is data
for search, not a document to cite, so ingest does not index it.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from assistant.core.text import tokens, words

log = logging.getLogger(__name__)
FILE_NAME = "synonyms.yaml"


# Irregular forms of the verbs everyday phrases are built on ("the system went down", "they took on staff"): the
# stemmer leaves them apart from the base form, so phrasal keys and questions are matched on the base form.
_IRREGULAR = {form: base for base, forms in {
    "go": "goes went gone", "take": "took taken", "give": "gave given", "get": "got gotten", "come": "came",
    "bring": "brought", "keep": "kept", "hold": "held", "hang": "hung", "run": "ran", "sell": "sold", "pay": "paid",
    "fall": "fell fallen", "tell": "told", "send": "sent", "throw": "threw thrown", "leave": "left", "find": "found",
    "break": "broke broken", "draw": "drew drawn", "stand": "stood", "speak": "spoke spoken", "think": "thought",
    "buy": "bought", "catch": "caught", "lay": "laid", "lose": "lost", "make": "made",
    "do": "does did done",
}.items() for form in forms.split()}


def _phrasal_stems(found: list[str]) -> list[str]:
    """The stems of ``found`` (``words``, one stem each) with stop words kept and irregular verb forms read as their base."""
    return tokens(" ".join(_IRREGULAR.get(w, w) for w in found), keep_stopwords=True)


class ThesaurusError(ValueError):
    """A thesaurus file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Thesaurus:
    """Everyday phrase (as its stems, stop words removed) -> the documents' phrases for it.

    ``phrasal``: the phrases whose small words carry the meaning ("go down", "hand over", "own up to"), keyed by all
    their stems: they are matched against the question's words with its stop words kept ("go" alone means nothing)."""

    entries: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)
    source: str = ""
    phrasal: frozenset[tuple[str, ...]] = frozenset()
    # the plain and the phrasal phrases by their first stem, so matching looks up each word of a question once
    _by_first: dict[str, list[tuple[str, ...]]] = field(default_factory=dict, init=False, repr=False, compare=False)
    _phrasal_first: dict[str, list[tuple[str, ...]]] = field(default_factory=dict, init=False, repr=False, compare=False)
    _order: dict[tuple[str, ...], int] = field(default_factory=dict, init=False, repr=False, compare=False)  # file order

    def __post_init__(self) -> None:
        for n, key in enumerate(self.entries):
            (self._phrasal_first if key in self.phrasal else self._by_first).setdefault(key[0], []).append(key)
            self._order[key] = n

    def __len__(self) -> int:
        return len(self.entries)

    def matches(self, text: str) -> dict[str, list[str]]:
        """Each stem of ``text`` that belongs to an everyday phrase it uses, with the documents' phrases
        for it ("patient data" in the text: both "patient" and "data" -> ["protected health information", "PHI"])."""
        if not self.entries:
            return {}
        stems = tokens(text)
        used = {(key, key) for i, stem in enumerate(stems) for key in self._by_first.get(stem, ())
                if tuple(stems[i:i + len(key)]) == key}
        if self._phrasal_first:  # matched on every word, each read as its base form ("went" as "go")
            asked = words(text)
            full = _phrasal_stems(asked)
            # a phrasal match stands for the question's own words that are not stop words ("went" of "went down"),
            # or, when all of them are ("own up to"), for itself
            used |= {(key, tuple(tokens(" ".join(asked[i:i + len(key)]))) or (" ".join(key),))
                     for i, stem in enumerate(full) for key in self._phrasal_first.get(stem, ())
                     if tuple(full[i:i + len(key)]) == key}
        found: dict[str, list[str]] = {}
        for key, marks in sorted(used, key=lambda u: self._order[u[0]]):  # in the file's order
            for stem in marks:
                found.setdefault(stem, [])
                found[stem] += [t for t in self.entries[key] if t not in found[stem]]
        return found

    def expand(self, text: str, distinctive: Callable[[str], bool] = lambda stem: True) -> str:
        """``text`` with the words of the documents' phrases for its everyday words added (for word matching).
        ``distinctive``: whether a word's stem is worth searching for; a word most documents use ("vendor",
        "provider" of "outsourcing provider") would rank every passage that uses it higher, not the one asked for."""
        asked = set(tokens(text))
        extra = [w for targets in self.matches(text).values() for t in targets for w in re.findall(r"[\w-]+", t)
                 if (stems := tokens(w)) and not set(stems) <= asked and all(map(distinctive, stems))]
        extra = list(dict.fromkeys(extra))
        return f"{text} {' '.join(extra)}" if extra else text


def parse(data: Any, where: str = "thesaurus") -> Thesaurus:
    """A thesaurus from the file's parsed YAML; raises ``ThesaurusError`` naming what is wrong."""
    if not isinstance(data, dict):
        raise ThesaurusError(f"{where}: expected a mapping with 'version' and 'synonyms'")
    unknown = set(data) - {"version", "synonyms"}
    if unknown:
        raise ThesaurusError(f"{where}: unknown top-level key(s) {sorted(unknown)}")
    if data.get("version") != 1:
        raise ThesaurusError(f"{where}: 'version' must be 1, not {data.get('version')!r}")
    synonyms = data.get("synonyms") or {}
    if not isinstance(synonyms, dict):
        raise ThesaurusError(f"{where}: 'synonyms' must map a phrase to a list of phrases")
    entries: dict[tuple[str, ...], tuple[str, ...]] = {}
    phrasal: set[tuple[str, ...]] = set()
    for key, targets in synonyms.items():
        stems, spelled = tuple(tokens(str(key))), tuple(_phrasal_stems(words(str(key))))
        if not stems and len(spelled) < 2:
            raise ThesaurusError(f"{where}: entry {key!r} has no word to match (one stop word or none)")
        if len(spelled) > len(stems):  # its small words count: "go down" is not "go"
            phrasal.add(spelled)
            stems = spelled
        if isinstance(targets, str):
            targets = [targets]
        if not isinstance(targets, list) or not targets or not all(isinstance(t, str) and t.strip() for t in targets):
            raise ThesaurusError(f"{where}: entry {key!r} must list one or more phrases")
        merged = entries.get(stems, ()) + tuple(t.strip() for t in targets)
        entries[stems] = tuple(dict.fromkeys(merged))
    return Thesaurus(entries, where, frozenset(phrasal))


def load(path: Path | str) -> Thesaurus:
    """The thesaurus at ``path``; an absent file is an empty thesaurus, a broken one raises ``ThesaurusError``."""
    path = Path(path)
    if not path.is_file():
        return Thesaurus()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ThesaurusError(f"{path}: cannot be read: {exc}") from exc
    return parse(data, str(path))


class ThesaurusFile:
    """The thesaurus of one file, read again whenever the file changes (a look at its modification time
    per use), so an edit reaches every serving process without a restart. A broken edit is logged and
    the thesaurus in use is kept; an absent file is an empty thesaurus."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._stamp: tuple[int, int] | None = None
        self._current = Thesaurus()
        self._lock = threading.Lock()

    def current(self) -> Thesaurus:
        try:
            st = self.path.stat()
            stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        if stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    self._stamp = stamp
                    try:
                        self._current = load(self.path) if stamp is not None else Thesaurus()
                    except ThesaurusError as exc:
                        log.warning("thesaurus not used: %s (the one in use is kept)", exc)
        return self._current
