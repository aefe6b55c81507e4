"""The thesaurus (everyday words -> the documents' wording): parsing, matching, and its effect on the
answerability signals, with hand-made entries and evidence (fast, no model)."""

from __future__ import annotations

import logging

import pytest

from assistant.answering.answerability import Evidence, features
from assistant.core.text import tokens
from assistant.retrieval import thesaurus
from assistant.retrieval.thesaurus import Thesaurus, ThesaurusError, parse

pytestmark = pytest.mark.unit

SAMPLE = {"version": 1, "synonyms": {
    "outage": ["disruption", "recovery time objective"],
    "patient data": ["protected health information", "PHI"],
    "journalist": "media",
}}


def test_parse_keeps_stems_and_phrases():
    t = parse(SAMPLE)
    assert len(t) == 3
    assert t.entries[tuple(tokens("patient data"))] == ("protected health information", "PHI")
    assert t.entries[("journalist",)] == ("media",)  # a single phrase may be given without a list


def test_repeated_keys_merge_their_phrases():
    t = parse({"version": 1, "synonyms": {"outage": ["disruption"], "outages": ["downtime", "disruption"]}})
    assert t.entries[tuple(tokens("outage"))] == ("disruption", "downtime")


@pytest.mark.parametrize("data,message", [
    ([1, 2], "expected a mapping"),
    ({"version": 2, "synonyms": {}}, "'version' must be 1"),
    ({"version": 1, "synonyms": {}, "extra": 1}, "unknown top-level key"),
    ({"version": 1, "synonyms": ["outage"]}, "must map a phrase"),
    ({"version": 1, "synonyms": {"the": ["disruption"]}}, "one stop word or none"),
    ({"version": 1, "synonyms": {"outage": []}}, "one or more phrases"),
    ({"version": 1, "synonyms": {"outage": [3]}}, "one or more phrases"),
])
def test_broken_files_name_the_problem(data, message):
    with pytest.raises(ThesaurusError, match=message):
        parse(data, "synonyms.yaml")


def test_matches_whole_phrases_in_any_inflection():
    t = parse(SAMPLE)
    found = t.matches("How fast must they recover from outages involving our patient data?")
    assert found["outag"] == ["disruption", "recovery time objective"]
    assert found["patient"] == found["data"] == ["protected health information", "PHI"]
    # the phrase's words apart do not match it
    assert t.matches("Which data does a patient see?") == {}
    assert t.matches("What does the contract say?") == {}


def test_expand_adds_the_documents_wording_once():
    t = parse(SAMPLE)
    assert t.expand("A journalist called about an outage") == (
        "A journalist called about an outage disruption recovery time objective media")
    assert t.expand("Nothing to add") == "Nothing to add"
    assert Thesaurus().expand("outage") == "outage"


def test_load_absent_file_is_empty_and_broken_file_raises(tmp_path):
    assert len(thesaurus.load(tmp_path / "synonyms.yaml")) == 0
    (tmp_path / "synonyms.yaml").write_text("version: 1\nsynonyms: [oops\n")
    with pytest.raises(ThesaurusError, match="cannot be read"):
        thesaurus.load(tmp_path / "synonyms.yaml")


def test_serving_reads_the_file_again_when_it_changes_and_keeps_the_last_good_one(tmp_path, caplog):
    path = tmp_path / "synonyms.yaml"
    path.write_text("version: 1\nsynonyms:\n  outage: []\n")
    served = thesaurus.ThesaurusFile(path)
    with caplog.at_level(logging.WARNING):
        assert len(served.current()) == 0  # broken from the start: answered without
    assert "thesaurus not used" in caplog.text and "outage" in caplog.text
    path.write_text("version: 1\nsynonyms:\n  outage: [disruption]\n")
    assert served.current().expand("outage") == "outage disruption"
    path.write_text("version: 1\nsynonyms:\n  outage: [disruption]\n  downtime: 7\n")  # a broken edit...
    assert served.current().expand("outage") == "outage disruption"  # ...keeps the one in use
    path.unlink()
    assert len(served.current()) == 0


def _signals(question: str, sentence: str, synonyms=None) -> dict[str, float]:
    ev = Evidence(question, chunk_texts=[sentence], sentences=[sentence], sentence_sims=[0.5], dense_max=0.5)
    kb = set(tokens(sentence)) | set(tokens("vendor restore critical services"))
    return features(ev, lambda t: 1.0, kb.__contains__, lambda w: w.isalpha(), synonyms=synonyms)


def test_a_sentence_in_the_documents_wording_covers_the_everyday_word():
    q = "How soon must a vendor restore critical services after an outage?"
    s = "The recovery time objective for critical services after a disruption is 4 hours."
    t = parse(SAMPLE)
    without, with_ = _signals(q, s), _signals(q, s, t.matches(q))
    assert without["unknown_common"] > 0  # "outage" is a word the documents never use...
    assert with_["unknown_common"] == 0  # ...but the thesaurus knows their word for it
    assert with_["best_cover"] > without["best_cover"]


def test_a_thesaurus_phrase_the_documents_do_not_use_changes_nothing():
    q = "How soon must a vendor restore critical services after an outage?"
    s = "Critical services are restored in order of priority."
    t = parse({"version": 1, "synonyms": {"outage": ["blackout period"]}})
    assert _signals(q, s, t.matches(q)) == _signals(q, s)


def test_a_phrase_whose_small_words_carry_its_meaning_is_matched_with_them():
    t = parse({"version": 1, "synonyms": {"go down": ["disruption"], "own up to": ["notify"], "hand over": ["subcontract"],
                                         "outage": ["disruption"]}})
    assert t.matches("If the payroll system goes down, who do we call?") == {"goe": ["disruption"]}  # the question's own stem
    assert t.matches("It went down.") == {"went": ["disruption"]}
    assert t.matches("Where do we go for help?") == {}  # "go" alone is not "go down"
    assert t.matches("How soon must a vendor own up to a leak?") == {"own up to": ["notify"]}  # stop words only
    assert "subcontract" in t.expand("Can they hand over our work?") and t.expand("Hand me the report.") == "Hand me the report."
    assert t.matches("an outage") == {"outag": ["disruption"]} or t.matches("an outage")  # ordinary keys as before
    with pytest.raises(ThesaurusError, match="one stop word or none"):
        parse({"version": 1, "synonyms": {"up": ["disruption"]}})
