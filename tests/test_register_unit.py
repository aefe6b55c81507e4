"""The finding register as an answer, with fakes: which questions ask for a set of findings, what they
select (severity, status, vendor, the year raised or closed, a subject), and the answer that lists them."""

from __future__ import annotations

import pytest

from assistant.answering.register import FindingQuery, absent_audits, finding_query, quiet_audits
from assistant.core.findings import current_findings
from assistant.retrieval.filters import Filters
from tests.fakes import fake_assistant

pytestmark = pytest.mark.unit

IDS = ["ZZ-1", "ZZ-2"]


@pytest.mark.parametrize("question,severities", [
    ("Which findings were rated critical?", ["critical"]),
    ("List the high-severity audit findings.", ["high"]),
    ("Show all critical or high findings.", ["critical", "high"]),
    ("Which vendors have had a high-rated audit finding?", ["high"]),
    ("Are there any findings of medium severity?", ["medium"]),
    ("List every finding.", []),
])
def test_the_severity_a_set_question_asks_for(question, severities):
    fq = finding_query(question, Filters(), IDS)
    assert fq is not None and fq.severities == severities


def test_years_raised_and_closed_are_told_apart():
    raised = finding_query("Which findings were raised in 2024?", Filters(), IDS)
    closed = finding_query("Which findings were closed during 2025?", Filters(), IDS)
    assert raised.raised == {"2024"} and not raised.closed
    assert closed.closed == {"2025"} and not closed.raised
    assert not raised.topic and not closed.topic  # the years are selectors, not a subject
    first = finding_query("Which audit findings were first raised in 2025?", Filters(), IDS)
    assert first.raised == {"2025"} and not first.topic  # "first" says when a finding was raised, it is no subject


@pytest.mark.parametrize("question, raised, closed", [
    ("Which vendor audit findings have been closed so far in 2026?", set(), {"2026"}),
    ("Which findings did the vendors resolve at some point during 2025?", set(), set()),  # (not "resolved")
    ("Which findings were resolved by Internal Audit in 2025?", set(), {"2025"}),
    ("Which closed findings were raised in 2024?", {"2024"}, set()),  # the year says when they were raised
])
def test_a_closing_year_with_words_between(question, raised, closed):
    fq = finding_query(question, Filters(), IDS)
    assert fq is not None and fq.raised == raised and fq.closed == closed
    if closed:
        assert not fq.topic  # the year selects by closing date; it is not a subject matched against record lines


@pytest.mark.parametrize("question, vendors, raised", [
    ("What did the 2023 audits turn up?", [], {"2023"}),
    ("Which findings came out of the 2025 audits?", [], {"2025"}),
    ("What did the auditors flag at Bluepeak?", ["Bluepeak"], set()),
    ("What did Bluepeak's 2023 audit uncover?", ["Bluepeak"], {"2023"}),
])
def test_what_audits_found_is_the_set_of_their_findings(question, vendors, raised):
    fq = finding_query(question, Filters(vendor=vendors), IDS)
    assert fq is not None and not fq.one and fq.raised == raised and not fq.topic


@pytest.mark.parametrize("question, vendors, statuses", [
    ("What issues did the auditors raise with Bluepeak?", ["Bluepeak"], []),
    ("Which problems from the Bluepeak audits have been fixed?", ["Bluepeak"], ["closed"]),
    ("Give me every critical issue the audits have raised.", [], []),
    ("What's still outstanding at Bluepeak?", ["Bluepeak"], ["open"]),
    ("What has Bluepeak not yet fixed?", ["Bluepeak"], ["open"]),
    ("What remains to be fixed at Bluepeak, and by when?", ["Bluepeak"], ["open"]),
])
def test_findings_asked_for_by_another_name_or_by_status_alone_are_a_set(question, vendors, statuses):
    fq = finding_query(question, Filters(vendor=vendors), IDS)
    assert fq is not None and not fq.one and fq.statuses == statuses and not fq.topic


def test_what_was_wrong_at_an_audit_asks_about_a_finding_and_is_no_subject():
    fq = finding_query("What was wrong with how Bluepeak stored its keys when it was audited?", Filters(vendor=["Bluepeak"]), IDS)
    assert fq is not None and fq.one and "wrong" not in fq.topic and {"store", "key"} <= fq.topic
    # ... while "wrong" that describes the subject stays in it
    fq = finding_query("When was the audit finding on the file emailed to the wrong person closed?", Filters(vendor=["Bluepeak"]), IDS)
    assert fq is not None and "wrong" in fq.topic


@pytest.mark.parametrize("question, vendors", [
    ("What was wrong with the Bluepeak runbook?", ["Bluepeak"]),  # no audit: its documents answer
    ("What issues should we consider before offshoring payroll?", []),  # no audit: guidance answers
    ("What's still outstanding?", []),  # a status alone selects only at a vendor the question names
    ("Which points does the Bluepeak agreement make about overtime?", ["Bluepeak"]),  # not about audits
])
def test_other_names_for_findings_need_an_audit_and_a_bare_status_needs_a_vendor(question, vendors):
    assert finding_query(question, Filters(vendor=vendors), IDS) is None


@pytest.mark.parametrize("question", [
    "What did the audit say about finding ZZ-1?",  # one finding, by id, asked what its notes say: they answer
    "Are ZZ-1 and ZZ-2 still open?",  # two findings by id: their notes answer
    "What did the auditors find about leavers?",  # no set asked for
    "Who owns the test-data finding?",
])
def test_questions_about_one_finding_are_not_register_questions(question):
    assert finding_query(question, Filters(), IDS) is None


def test_what_the_register_records_of_a_finding_named_by_id_is_the_registers_to_answer(assistant):
    fq = finding_query("Is finding ZZ-1 still open?", Filters(), IDS)
    assert fq.one and fq.attribute and fq.ids == ["ZZ-1"] and not fq.topic and not fq.statuses
    ans = assistant.ask("Who owns ZZ-2?", role="auditor")
    assert ans.text.startswith("Finding ZZ-2 (Northwind, critical) is open as of 2025-09-01: first reported on 2024-10-08, "
                               "owned by Compliance, due 2026-01-31."), ans.text[:200]
    # words the register does not record ("... to the regulator") leave the question to the notes and the gate
    assert finding_query("When was ZZ-2 reported to the regulator?", Filters(), IDS).topic == {"regul"}
    assert not assistant.ask("When was ZZ-2 reported to the regulator?", role="auditor").text.startswith("Finding ZZ-2")


def test_other_content_words_narrow_the_set_by_subject():
    fq = finding_query("Which findings about access reviews are still open?", Filters(status=["open"]), IDS)
    assert fq is not None and {"access", "review"} <= fq.topic and fq.statuses == ["open"]


def test_the_register_remembers_when_a_finding_was_first_recorded_closed():
    docs = [
        ("a.md", {"date": "2024-01-10", "findings": [{"id": "X-1", "status": "open", "severity": "high"}]}),
        ("b.md", {"date": "2025-03-01", "findings": [{"id": "X-1", "status": "closed", "severity": "high"}]}),
        ("c.md", {"date": "2026-02-01", "findings": [{"id": "X-1", "status": "closed", "severity": "high"}]}),
    ]
    rec = current_findings(docs)["X-1"]
    assert rec["closed_date"] == "2025-03-01" and rec["source"] == "c.md" and rec["first_date"] == "2024-01-10"


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    return fake_assistant(tmp_path_factory.mktemp("register"))


def test_a_set_question_lists_each_finding_with_its_latest_record(assistant):
    ans = assistant.ask("Which findings are rated critical?", role="auditor")
    assert not ans.refused, ans.signals
    lead = ans.text.splitlines()[0]
    assert "1 finding in the audit register match: ZZ-2 (Northwind, critical, open as of 2025-09-01)" in lead
    assert "ZZ-1" not in ans.text  # high, not critical
    assert [c.source for c in ans.citations] == ["audits/northwind-2025.md"]  # the latest note's record line
    assert "ZZ-2 stays open" in ans.citations[0].quote and ans.signals["findings_matched"] == 1.0


def test_the_year_a_finding_was_closed_selects_it(assistant):
    ans = assistant.ask("Which findings were closed in 2025?", role="auditor")
    assert "ZZ-1 (Northwind, high, closed as of 2025-09-01)" in ans.text and "ZZ-2 (" not in ans.text


def test_the_register_answer_shows_only_what_the_role_may_see(assistant):
    ans = assistant.ask("Which findings are rated critical?", role="staff")
    # staff cannot read the 2025 follow-up: they get the 2024 note's record, never the later status
    assert "2025-09-01" not in ans.text
    assert all(c.source == "audits/northwind-2024.md" for c in ans.citations)


def test_a_subject_narrows_the_listed_findings(assistant):
    ans = assistant.ask("Which findings about leavers' access have been rated high or critical?", role="auditor")
    assert "1 finding in the audit register match: ZZ-1 (" in ans.text and "ZZ-2 (" not in ans.text


@pytest.mark.parametrize("question,statuses", [
    ("List the high-severity findings that have since been closed.", ["closed"]),
    ("Which findings remain open?", ["open"]),
    ("Show the outstanding findings.", ["open"]),
    # the status is what is asked about each finding, not a selection
    ("Which vendors have had a high-rated finding, and have those been resolved?", []),
])
def test_a_status_selects_only_when_it_describes_the_findings(question, statuses):
    assert finding_query(question, Filters(), IDS).statuses == statuses


@pytest.mark.parametrize("question", [
    "What did the 2023 audit turn up at Northwind, and are either of them still open?",
    "Which findings were rated high, and are any of them still outstanding?",
    "Which leaver findings were raised at Northwind, and is it resolved now?",
])
def test_a_status_asked_of_the_findings_already_picked_does_not_select(question):
    fq = finding_query(question, Filters(vendor=["Northwind"]), IDS)
    assert fq is not None and fq.statuses == []


def test_the_words_that_date_an_audit_or_ask_for_ids_are_not_a_subject():
    fq = finding_query("What did Internal Audit raise at Northwind in its 2024 annual audit, and how was each issue rated?",
                       Filters(vendor=["Northwind"]), IDS)
    assert fq is not None and fq.raised == {"2024"} and not fq.topic - {"intern"}
    fq = finding_query("Which new findings did our vendor audits raise during 2025? Give me the IDs.", Filters(), IDS)
    assert fq is not None and fq.raised == {"2025"} and not fq.topic
    # the month or season of the audit dates it too
    fq = finding_query("What did the February 2026 Acme audit turn up, who owns it and when is it due?", Filters(vendor=["Acme"]), IDS)
    assert fq is not None and fq.raised == {"2026"} and not fq.topic - {"acm"}
    # nor are the words that ask where each finding stands
    fq = finding_query("List every finding raised against Acme, with where each one stands now.", Filters(vendor=["Acme"]), IDS)
    assert fq is not None and not fq.one and not fq.topic
    # a subject beside the year still narrows
    fq = finding_query("Which findings about encryption did the 2024 audits raise?", Filters(), IDS)
    assert fq is not None and "encrypt" in fq.topic


def test_a_set_question_with_a_subject_also_quotes_what_was_found(assistant):
    ans = assistant.ask("What findings did the audits make about leavers' access?", role="auditor")
    assert ans.text.startswith("1 finding in the audit register match: ZZ-1 (Northwind, high, closed as of 2025-09-01)")
    quotes = " ".join(c.quote for c in ans.citations)
    assert "automated leaver feed" in quotes  # the record line of the latest note
    assert "Fourteen leavers" in quotes  # and the sentences chosen for the subject


def test_a_count_of_findings_is_answered_from_the_register_whatever_the_sentence_scores(assistant):
    ans = assistant.ask("How many findings are still open?", role="auditor")
    assert not ans.refused and ans.text.startswith("1 finding in the audit register match: ZZ-2 (")


def test_future_questions_about_findings_are_still_refused(assistant):
    ans = assistant.ask("Which open findings will be closed next year?", role="auditor")
    assert ans.signals["future"] == 1.0 and ans.refused


def test_one_finding_named_by_vendor_and_subject_leads_with_its_latest_status(assistant):
    fq = finding_query("Is Northwind's leavers finding closed yet?", Filters(vendor=["Northwind"]), IDS)
    assert fq.one and fq.statuses == []  # the status is asked about, it does not select
    ans = assistant.ask("Is Northwind's leavers finding closed yet?", role="auditor")
    assert ans.text.startswith("Finding ZZ-1 (Northwind, high) is closed as of 2025-09-01: first reported on 2024-10-08, "
                               "owned by IT, recorded closed on 2025-09-01."), ans.text[:200]
    staff = assistant.ask("Is Northwind's leavers finding closed yet?", role="staff")
    assert "2025-09-01" not in staff.text  # the later status is in a note staff cannot read


@pytest.mark.parametrize("question", [
    "Who owns Northwind's leavers issue?",
    "Is the Northwind leavers problem closed yet?",
    "When is Northwind's leavers issue due?",
])
def test_one_finding_called_an_issue_or_a_problem_at_a_named_vendor_is_the_registers(question):
    fq = finding_query(question, Filters(vendor=["Northwind"]), IDS)
    assert fq is not None and fq.one and fq.attribute and fq.topic == {"leaver"}
    # what a vendor's problem is, or why it arose, is for the notes to say
    assert finding_query("Why did Northwind's leavers problem happen?", Filters(vendor=["Northwind"]), IDS) is None


@pytest.mark.parametrize("question", [
    "Did Northwind fix its leavers process?",
    "Has Northwind sorted out the leavers gap?",
    "Have Northwind dealt with leavers yet?",
    "Is it fixed (about: What did the Northwind audit find about leavers)?",  # a follow-up about the earlier answer's finding
    "Has it been closed (about: What did the Northwind audit find about leavers)?",
    "Is the leavers one closed (about: What did the auditors find at Northwind)?",
])
def test_whether_a_named_vendor_put_something_right_asks_of_one_finding(question):
    fq = finding_query(question, Filters(vendor=["Northwind"]), IDS)
    assert fq is not None and fq.one and fq.attribute and "leaver" in fq.topic


def test_who_answers_for_a_thing_at_a_named_vendor_asks_of_one_finding_also_in_a_follow_up():
    for question, topic in (("Who at Northwind is responsible for the leavers process?", {"leaver", "process"}),
                            ("Who owns the leavers one (about: What did the auditors find at Northwind)?", {"leaver"})):
        fq = finding_query(question, Filters(vendor=["Northwind"]), IDS)
        assert fq is not None and fq.one and fq.attribute and fq.topic == topic, (question, fq)


def test_how_many_in_total_and_the_worst_found_select_without_a_subject():
    fq = finding_query("How many findings did the Northwind audits raise in total?", Filters(vendor=["Northwind"]), IDS)
    assert fq is not None and not fq.one and not fq.topic
    fq = finding_query("What was the worst thing the 2023 Northwind audit found?", Filters(vendor=["Northwind"]), IDS)
    assert fq is not None and not fq.one and not fq.topic and fq.raised == {"2023"}


@pytest.mark.parametrize("question,vendors", [
    ("Does Northwind have to address complaints?", ["Northwind"]),  # a duty, not whether it was done
    ("Did Northwind fix it?", ["Northwind"]),  # nothing to say which finding
    ("Did Northwind close its leavers helpdesk?", ["Northwind"]),  # "close" may mean shut: only with a word for findings
    ("Did the vendor fix its leavers process?", []),  # no vendor named
    ("Why did Northwind fix its leavers process so late?", ["Northwind"]),  # a reason: the notes answer
])
def test_a_fix_asked_without_a_vendor_a_subject_or_of_the_past_is_not_the_registers(question, vendors):
    assert finding_query(question, Filters(vendor=vendors), IDS) is None


AUDITS = [{"source": "a/x-2024.md", "title": "X audit 2024", "vendor": "X", "date": "2024-03-01"},
          {"source": "a/x-2025.md", "title": "X follow-up 2025", "vendor": "X", "date": "2025-02-01"},
          {"source": "a/y-2025.md", "title": "Y audit 2025", "vendor": "Y", "date": "2025-06-01"}]


def test_a_years_audits_the_knowledge_base_does_not_hold_are_named_as_missing():
    text = absent_audits(FindingQuery(["Y"], raised={"2024"}), AUDITS)
    assert text and "no Y audit from 2024" in text and "Y audit 2025 (2025-06-01)" in text and "X audit" not in text
    assert "no audit from 2022" in (absent_audits(FindingQuery([], raised={"2022"}), AUDITS) or "")
    # an audit of that vendor in that year exists, or no year is asked: the register and the gate decide
    assert absent_audits(FindingQuery(["X"], raised={"2025"}), AUDITS) is None
    assert absent_audits(FindingQuery(["X"]), AUDITS) is None and absent_audits(None, AUDITS) is None


@pytest.mark.parametrize("question,attribute", [
    ("Who owns Northwind's leavers finding?", True),
    ("Who is responsible for the Northwind leavers finding?", True),
    ("How severe is Northwind's leavers finding?", True),
    ("What is the status of Northwind's leavers finding?", True),
    ("When is Northwind's leavers finding due?", True),
    ("Has Northwind's leavers finding been resolved?", True),
    ("When was the Northwind leavers finding closed?", True),
    ("Why is Northwind's leavers finding still open?", False),  # a reason: the notes answer, the gate decides
    ("What did Northwind do about the leavers finding?", False),
    ("How did Northwind close its leavers finding?", False),
])
def test_what_a_question_asks_of_one_finding(question, attribute):
    fq = finding_query(question, Filters(vendor=["Northwind"]), IDS)
    assert fq is not None and fq.one and fq.attribute == attribute


def test_what_the_register_records_of_one_finding_is_answered_whatever_the_sentence_gate_says(assistant):
    from assistant.answering.answerability import Answerability

    shut = assistant.answerability
    assistant.answerability = Answerability(weights={}, bias=-5.0, threshold=0.5)  # a gate that refuses everything
    try:
        owner = assistant.ask("Who owns Northwind's leavers finding?", role="auditor")
        why = assistant.ask("Why was Northwind's leavers finding closed?", role="auditor")
        later = assistant.ask("Will Northwind's leavers finding be reopened next year?", role="auditor")
    finally:
        assistant.answerability = shut
    assert not owner.refused and "owned by IT" in owner.text.splitlines()[0]
    assert any("ZZ-1" in c.quote for c in owner.citations)  # its record line, quoted
    assert why.refused  # anything else asked of it is the gate's to decide
    assert later.refused  # the future is not on record


class _NoNotes:
    """A register without notes: a finding is described by its area and owner only."""

    def document_chunks(self, source):
        return []

    def finding_chunk(self, source, finding_id):
        return None


def test_a_subject_that_fits_several_findings_names_none_of_them():
    from assistant.answering.register import matching

    register = {
        "A-1": {"id": "A-1", "vendor": "Acme", "area": "access-control", "owner": "IT", "severity": "high", "status": "open", "source": "a.md"},
        "A-2": {"id": "A-2", "vendor": "Acme", "area": "access-logging", "owner": "IT", "severity": "low", "status": "open", "source": "a.md"},
    }
    one = finding_query("Who fixes Acme's access finding?", Filters(vendor=["Acme"]), ["A-1", "A-2"])
    assert one.one and matching(register, one, _NoNotes()) == []  # two findings fit: neither is named
    narrow = finding_query("Who fixes Acme's access logging finding?", Filters(vendor=["Acme"]), ["A-1", "A-2"])
    assert [r["id"] for r in matching(register, narrow, _NoNotes())] == ["A-2"]
    many = finding_query("Which Acme findings are about access?", Filters(vendor=["Acme"]), ["A-1", "A-2"])
    assert [r["id"] for r in matching(register, many, _NoNotes())] == ["A-1", "A-2"]  # a set question lists both



def test_one_finding_is_the_vendors_finding_that_holds_clearly_the_most_of_its_subject():
    from assistant.answering.register import matching

    register = {
        "A-1": {"id": "A-1", "vendor": "Acme", "area": "test-environment", "owner": "IT", "severity": "high", "status": "open", "source": "a.md"},
        "A-2": {"id": "A-2", "vendor": "Acme", "area": "e-waste", "owner": "Facilities", "severity": "low", "status": "open", "source": "a.md"},
    }
    ids = ["A-1", "A-2"]
    # "laptop" is in neither description, but A-1 holds the rest of the subject and A-2 none of it
    one = finding_query("Who owns Acme's test environment laptop finding?", Filters(vendor=["Acme"]), ids)
    assert [r["id"] for r in matching(register, one, _NoNotes())] == ["A-1"]
    # a subject no finding holds most of names none ("pricing" is in neither)
    none = finding_query("Who owns Acme's pricing finding?", Filters(vendor=["Acme"]), ids)
    assert matching(register, none, _NoNotes()) == []
    # a set question still wants the whole subject held
    many = finding_query("Which Acme findings are about test environment laptops?", Filters(vendor=["Acme"]), ids)
    assert matching(register, many, _NoNotes()) == []

def test_the_most_serious_of_a_set_are_its_most_severe_and_findings_in_the_plural_are_a_set():
    from assistant.answering.register import matching

    register = {
        "A-1": {"id": "A-1", "vendor": "Acme", "area": "access", "owner": "IT", "severity": "high", "status": "closed", "source": "a.md"},
        "A-2": {"id": "A-2", "vendor": "Acme", "area": "retention", "owner": "DPO", "severity": "low", "status": "open", "source": "a.md"},
        "B-1": {"id": "B-1", "vendor": "Bee", "area": "overtime", "owner": "HR", "severity": "medium", "status": "open", "source": "b.md"},
    }
    ids = list(register)
    worst = finding_query("Which Acme finding is the most serious?", Filters(vendor=["Acme"]), ids)
    assert worst.worst and [r["id"] for r in matching(register, worst, _NoNotes())] == ["A-1"]
    plural = finding_query("What are the most serious open findings?", Filters(), ids)
    assert plural is not None and not plural.one and plural.statuses == ["open"]
    assert [r["id"] for r in matching(register, plural, _NoNotes())] == ["B-1"]
    # the plural of an earlier question does not make a follow-up about one of them a set
    one = finding_query("Who owns the retention one (about: What are the Acme findings)?", Filters(vendor=["Acme"]), ids)
    assert one.one and [r["id"] for r in matching(register, one, _NoNotes())] == ["A-2"]
    every = finding_query("Which Acme findings are open?", Filters(vendor=["Acme"]), ids)
    assert not every.worst and [r["id"] for r in matching(register, every, _NoNotes())] == ["A-2"]


class _DetailNotes(_NoNotes):
    """A register whose notes describe each finding in a section of its own."""

    DETAIL = {"A-1": "Patient records were copied unmasked into the test systems.",
              "A-2": "Old drives left the site without a certificate; patient records were not on them."}

    def finding_chunk(self, source, finding_id):
        from types import SimpleNamespace

        return SimpleNamespace(section=f"Finding {finding_id}", text=self.DETAIL[finding_id])


def test_one_finding_described_in_the_words_of_its_detail_is_found_by_a_long_subject_only():
    from assistant.answering.register import matching

    register = {
        "A-1": {"id": "A-1", "vendor": "Acme", "area": "privacy", "owner": "IT", "severity": "high", "status": "open", "source": "a.md"},
        "A-2": {"id": "A-2", "vendor": "Acme", "area": "e-waste", "owner": "Facilities", "severity": "low", "status": "open", "source": "a.md"},
    }
    ids = ["A-1", "A-2"]
    long = finding_query("Has Acme dealt with the unmasked patient data in its test systems?", Filters(vendor=["Acme"]), ids)
    assert [r["id"] for r in matching(register, long, _DetailNotes())] == ["A-1"]
    assert matching(register, long, _NoNotes()) == []  # (the area alone does not hold it)
    # two words are too few to pick a finding by what its detail mentions in passing
    short = finding_query("Has Acme dealt with patient records?", Filters(vendor=["Acme"]), ids)
    assert matching(register, short, _DetailNotes()) == []


class _RecordingChat:
    """A chat model that records each prompt it is given."""

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def stream(self, messages, *args, **kwargs):
        from langchain_core.messages import AIMessageChunk

        self.prompts.append(messages[-1].content)
        yield AIMessageChunk(content="An answer [1]")


def test_with_an_llm_backend_a_register_answer_is_still_the_registers(assistant):
    from assistant.api import Assistant

    chat = _RecordingChat()
    llm = Assistant(assistant.settings.model_copy(update={"answer_backend": "openai"}), assistant.embedder,
                    assistant.store, assistant.manifest, chat, answerability=assistant.answerability)
    ans = llm.ask("How many findings are still open?", role="auditor")
    # the gate did not judge sentences for it, so no LLM is asked to answer from them
    assert ans.text.startswith("1 finding in the audit register match: ZZ-2 (") and chat.prompts == []


def test_a_year_whose_audits_raised_no_finding_is_said_to_have_raised_none():
    # (the caller asks only when the register lists nothing for the question)
    text = quiet_audits(FindingQuery(["X"], raised={"2025"}), AUDITS)
    assert text and "no X finding first raised in 2025" in text and "*X follow-up 2025*, 2025-02-01" in text and "Y audit" not in text
    # no audit of that year (absent_audits answers), no year, or a narrower question (a subject, a severity): not said
    assert quiet_audits(FindingQuery(["Y"], raised={"2024"}), AUDITS) is None
    assert quiet_audits(FindingQuery(["X"]), AUDITS) is None and quiet_audits(None, AUDITS) is None
    assert quiet_audits(FindingQuery(["X"], severities=["critical"], raised={"2025"}), AUDITS) is None
    assert quiet_audits(FindingQuery(["X"], raised={"2025"}, topic={"leaver"}), AUDITS) is None


def test_a_year_after_words_between_it_and_raised_is_still_the_year_raised():
    fq = finding_query("Which findings were raised at Northwind in 2025?", Filters(vendor=["Northwind"]), IDS)
    assert fq is not None and fq.raised == {"2025"} and not fq.topic  # not "2025" as a subject to match


def test_an_empty_selection_by_what_the_register_records_is_the_answer(assistant):
    ans = assistant.ask("Are any high findings still open?", role="auditor")
    assert not ans.refused
    assert ans.text.splitlines()[0].startswith(
        "The audit register holds no high finding that is open. It holds 1 high finding: ZZ-1 (Northwind, high, closed as of "
        "2025-09-01): Leavers kept access.")  # (what the finding is: the heading its note gives it)
    assert [c.source for c in ans.citations] == ["audits/northwind-2025.md"]
    # nothing left to show once the status and severity are dropped: the statement alone
    ans = assistant.ask("Are any low findings still open?", role="auditor")
    assert ans.text == "The audit register holds no low finding that is open." and not ans.citations
    ans = assistant.ask("Which findings were closed in 2024?", role="auditor")
    assert ans.text.startswith("The audit register holds no finding recorded closed in 2024.")


def test_an_empty_selection_by_subject_proves_nothing(assistant):
    # the subject is matched by words: a finding about it may be worded otherwise, so the gate decides
    ans = assistant.ask("Which findings about overtime are still open?", role="auditor")
    assert "The audit register holds no" not in ans.text


@pytest.mark.parametrize("question,raised,statuses,severities", [
    ("What issues were found at Northwind during 2025?", {"2025"}, [], []),
    ("What did the auditors find at Northwind in 2024?", {"2024"}, [], []),
    ("Does Northwind have any open critical findings?", set(), ["open"], ["critical"]),
    ("Has Internal Audit raised any new findings at Northwind in 2025?", {"2025"}, [], []),  # "new": raised then
])
def test_findings_of_a_year_or_an_open_severity_are_read_from_everyday_wording(question, raised, statuses, severities):
    fq = finding_query(question, Filters(vendor=["Northwind"]), IDS)
    assert fq is not None and (fq.raised, fq.statuses, fq.severities) == (raised, statuses, severities)
    assert not fq.topic - {"intern"}  # (nothing narrows the set by subject)


def test_an_audit_document_the_question_narrowed_to_selects_its_findings():
    from assistant.answering.register import matching

    register = {
        "AA-1": {"id": "AA-1", "vendor": "Acme", "status": "closed", "severity": "high",
                 "first_source": "audits/acme-2023.md", "source": "audits/acme-2025.md"},
        "AA-2": {"id": "AA-2", "vendor": "Acme", "status": "open", "severity": "medium",
                 "first_source": "audits/acme-2024.md", "source": "audits/acme-2025.md"},
    }
    ids = lambda fq: [r["id"] for r in matching(register, fq, None)]  # noqa: E731
    assert ids(FindingQuery(["Acme"], ["open"], documents=["audits/acme-2023.md"])) == []  # its one finding is closed
    assert ids(FindingQuery(["Acme"], documents=["audits/acme-2023.md"])) == ["AA-1"]
    assert sorted(ids(FindingQuery(["Acme"], documents=["audits/acme-2025.md"]))) == ["AA-1", "AA-2"]  # recorded there
    # a document the register records no finding in (a contract) does not select
    assert sorted(ids(FindingQuery(["Acme"], documents=["contracts/acme.md"]))) == ["AA-1", "AA-2"]
    fq = finding_query("Which findings from the first Acme audit are still open?",
                       Filters(vendor=["Acme"], source=["audits/acme-2023.md"], status=["open"]), [], reference="first Acme audit")
    assert fq is not None and fq.documents == ["audits/acme-2023.md"] and fq.statuses == ["open"] and not fq.topic
