"""Questions about what happened by a date later than every record the knowledge base holds of a vendor."""

from __future__ import annotations

import pytest

from assistant.answering.recency import after_records, asks_by_date, pinned_dates

pytestmark = pytest.mark.unit

DOCS = [{"vendor": "Northwind", "title": "Northwind note, March 2026", "date": "2026-03-12"},
        {"vendor": "Northwind", "title": "Northwind audit 2024", "date": "2024-10-08"},
        {"vendor": "Harborview", "title": "Harborview note", "date": "2025-10-01"}]
TEXTS = ["Finding NW-2024-02 (open, new due date 2026-06-30; original due date 2025-12-31)."]


def test_dates_are_read_in_the_ways_people_write_them_when_they_time_what_is_asked():
    assert [d[0] for d in pinned_dates("Was it closed by 30 June 2026?")] == ["2026-06-30"]
    assert [d[0] for d in pinned_dates("Was it closed by June 30, 2026?")] == ["2026-06-30"]
    assert [d[0] for d in pinned_dates("Was it closed at the end of June 2026?")] == ["2026-06-01"]
    assert [d[0] for d in pinned_dates("Was it closed on 2026-07-02?")] == ["2026-07-02"]
    # a date that is not the time of what is asked ("moved to"), and days that do not exist
    assert pinned_dates("Was the due date moved to 30 June 2026?") == []
    assert pinned_dates("Was it closed by 31 June 2026?") == []
    assert [d[2] for d in pinned_dates("Was it closed at the committee's May 2026 meeting?")] == ["May 2026"]
    assert [d[2] for d in pinned_dates("Did they meet their 30 June 2026 deadline?")] == ["30 June 2026"]
    assert pinned_dates("Did the June 2026 meeting happen?") == []  # a date naming the event, not timing it


@pytest.mark.parametrize("question", [
    "Did Northwind close NW-2024-02 by its 30 June 2026 due date?",  # the date the notes give, asked what was done by it
    "Was the Northwind leavers finding still open at the end of June 2026?",
    "What happened at the Northwind service review in May 2026?",
    "Has Northwind held its notification drill by September 2026?",
    "Was NW-2024-02 closed at Internal Audit's July 2026 desk review?",  # someone's review pins its date too
    "Did Northwind hit its 2026-06-30 deadline on NW-2024-02?",  # a date the notes give, asked whether it was met
    "Did Northwind send the evidence in time for the July 2026 review, and is NW-2024-02 closed?",  # a date to be ready for
    # what a dated event found or concluded, when the notes only plan it ("will confirm ... by desk review in May 2026")
    "What did the May 2026 desk review conclude about the Northwind leavers finding?",
    "What did the July 2026 re-audit find at Northwind?",
])
def test_what_happened_after_the_vendors_latest_record_cannot_be_answered(question):
    text = after_records(question, ["Northwind"], DOCS, TEXTS)
    assert text and "Northwind note, March 2026" in text and "2026-03-12" in text


@pytest.mark.parametrize("question,vendors", [
    ("Was NW-2024-02 due by 30 June 2026?", ["Northwind"]),  # a date the notes give, asked about for itself
    ("Did Northwind notify us by 2026-01-05?", ["Northwind"]),  # before its latest record: the notes may answer
    ("Did the vendor close it by 30 June 2026?", []),  # no vendor named: whose records?
    ("What must be closed by 30 June 2026?", ["Northwind"]),  # not asked of the past
    ("Did Acme close it by 30 June 2026?", ["Acme"]),  # a vendor with no dated record
    ("What did the March 2026 follow-up find about NW-2024-02?", ["Northwind"]),  # the records reach it
])
def test_dates_the_records_reach_or_questions_not_about_a_past_event_are_left_to_the_gate(question, vendors):
    assert after_records(question, vendors, DOCS, TEXTS) is None


def test_only_questions_about_a_past_event_pinning_a_date_are_read():
    assert asks_by_date("Did Northwind close it by 30 June 2026?")
    assert not asks_by_date("Did Northwind close it?") and not asks_by_date("What is due by 30 June 2026?")
