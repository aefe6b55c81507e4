"""Fast unit tests with fakes: filters, conversation rewrite, statement splitting, scoring."""

from __future__ import annotations

import pytest

from assistant.answering import verify
from assistant.answering.conversation import is_follow_up, rewrite
from assistant.retrieval.filters import Filters, FilterError, where
from assistant.core.text import sentence_spans
from evals.legalbench import merge, overlap, score

pytestmark = pytest.mark.unit


def test_filters_compile_to_chroma_where():
    f = Filters.from_dict({"vendor": "Northwind", "date_from": "2024-01-01", "tags": ["a", "b"]}, role="staff")
    w = where(f.clauses())
    assert {"vendor": {"$in": ["Northwind"]}} in w["$and"]
    assert {"date_int": {"$gte": 20240101}} in w["$and"]
    assert {"audience": {"$in": ["all"]}} in w["$and"]
    assert {"$or": [{"tags": {"$contains": "a"}}, {"tags": {"$contains": "b"}}]} in w["$and"]
    assert f.to_dict()["date_from"] == "2024-01-01"
    with pytest.raises(FilterError, match="ISO date"):
        Filters.from_dict({"date_to": "last year"})
    with pytest.raises(FilterError, match="unknown role"):
        Filters.from_dict({}, role="ceo")


def test_follow_up_rewrites():
    hist = [("What must our contract say about data encryption?", "...")]
    assert rewrite("And what about subcontractors?", hist) == "What must our contract say about subcontractors?"
    hist2 = [{"role": "user", "content": "How quickly must Northwind notify us?"}]
    assert rewrite("What about Bluepeak?", hist2, ["Bluepeak", "Northwind"]) == "How quickly must Bluepeak notify us?"
    assert "Northwind" in rewrite("Which of those are still open?", [("What did audits find at Northwind?", "")])
    assert rewrite("What is the policy on gifts from vendors?", hist) == "What is the policy on gifts from vendors?"
    assert is_follow_up("and those?") and not is_follow_up("How do we vet a new BPO provider?")


@pytest.mark.parametrize("question,follows", [
    ("Who owns the test data one?", True),  # a thing of the earlier answer, named by a word or two
    ("Which are the critical ones?", True),
    ("Is the e-waste one closed?", True),
    ("Who owns the one for leavers?", True),
    ("Which vendor contract has at least one annex on exit?", False),  # a number, not a stand-in
    ("Is one of our vendors processing payroll in Manila?", False),
    ("What is the one thing to check before signing a new vendor?", False),
])
def test_the_x_one_refers_to_the_earlier_answer(question, follows):
    assert is_follow_up(question) == follows


def test_llm_statements_keep_their_markers():
    raw = "Vendors notify within 24 hours. [1]\nKeys are rotated yearly [2].\n[3]"
    st = verify.split_statements(raw)
    assert st == ["Vendors notify within 24 hours. [1]", "Keys are rotated yearly [2]. [3]"]
    assert verify.markers(st[1]) == [2, 3]
    assert verify.valid_refs([0, 1, 7], 3) == [1]


def test_sentence_spans_keep_clause_numbers_and_wrapped_lines():
    t = "7.1 The Supplier shall encrypt\ndata at rest. It shall log access.\n- item one\n1. First step."
    got = [t[s:e] for s, e in sentence_spans(t)]
    assert got == ["7.1 The Supplier shall encrypt\ndata at rest.", "It shall log access.", "- item one", "1. First step."]


def test_character_scoring():
    assert merge([(5, 10), (0, 6), (20, 30)]) == [(0, 10), (20, 30)]
    assert overlap([(0, 10)], [(5, 15)]) == 5
    p, r = score([("a", 0, 10), ("a", 5, 15)], [("a", 10, 20)])
    assert p == pytest.approx(5 / 15) and r == pytest.approx(0.5)
    assert score([("b", 0, 10)], [("a", 0, 10)]) == (0.0, 0.0)


def test_wont_is_will_not_and_not_the_past_of_win():
    from assistant.core.text import tokens

    assert tokens("The supplier won't budge.") == tokens("The supplier will not budge.") == ["supplier", "budg"]
    assert tokens("The supplier won\u2019t pay.") == ["supplier", "pay"]  # a typographic apostrophe too
    assert "won" in tokens("Bluepeak won the tender.")


def test_a_bold_line_of_its_own_is_a_heading_never_a_statement_but_leaves_the_section_as_it_is():
    from assistant.core.units import sectioned_units

    text = ("Finding AC-1 (labour, severity high, status closed).\n\n**Evidence seen for closure.**\n\n"
            "- The vendor hired 45 agents.\n- Average weekly hours were 51.\n\n"
            "**Conclusion on AC-1.** The controls work.\n")
    units = [(text[u.start:u.end], u.heading, sec) for u, sec in sectioned_units(text, "Audit > Finding AC-1")]
    assert units == [
        ("Finding AC-1 (labour, severity high, status closed).", False, "Finding AC-1"),
        ("**Evidence seen for closure.**", True, "Finding AC-1"),  # a heading, never quoted, but no section
        ("- The vendor hired 45 agents.", False, "Finding AC-1"),
        ("- Average weekly hours were 51.", False, "Finding AC-1"),
        ("**Conclusion on AC-1.** The controls work.", False, "Finding AC-1"),  # a label inside prose is prose
    ]
