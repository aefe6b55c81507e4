"""Contract review, fast parts: playbook validation, value extraction and comparison, clause
judgments on hand-made clauses, rendering, the chat trigger and the CLI parser."""

from __future__ import annotations

import argparse
import csv
import io
import json
from pathlib import Path

import pytest
import yaml

from assistant.core.types import Chunk
from assistant.review import measure
from assistant.review.chat import _requirements_asked, is_compliance_question
from assistant.review.cli import add_review_command
from assistant.review.contract import ContractView
from assistant.review.judge import Judge
from assistant.review.playbook import (PACKAGED, PlaybookError, check_standards, load_playbook, parse_playbook,
                                       parse_requirement)
from assistant.review.report import select, table_html, to_csv, to_markdown
from assistant.review.review import Review, ReviewRow
from assistant.review.score import PARAMS_FILE, ReviewParams, Scored
from tests.conftest import KNOWLEDGE

pytestmark = pytest.mark.unit
BOOK = load_playbook()


# -- playbook ------------------------------------------------------------------------------
def test_shipped_playbook_is_valid():
    assert len(BOOK.requirements) >= 40
    assert len({r.id for r in BOOK.requirements}) == len(BOOK.requirements)
    assert all(r.about for r in BOOK.requirements if r.id != "data-location-eea")  # what a clause must be about
    assert {c for r in BOOK.requirements for c in r.cuad} >= {"Audit Rights", "Cap On Liability", "Governing Law"}
    assert BOOK.by_id["access-reviews"].measure.periodic and not BOOK.by_id["incident-notification"].measure.periodic


def test_every_standard_clause_starts_a_line_of_its_standard_document():
    assert check_standards(BOOK) == []
    for r in BOOK.requirements:
        lines = (KNOWLEDGE / r.source).read_text(encoding="utf-8").splitlines()
        assert any(line.startswith(f"{r.clause} ") for line in lines), (r.id, r.source, r.clause)


def _entry(**over) -> dict:
    d = yaml.safe_load(PACKAGED.read_text(encoding="utf-8"))["requirements"][0]
    d.update(over)
    return d


@pytest.mark.parametrize("change, field", [
    ({"colour": "red"}, "colour"),
    ({"severity": "huge"}, "severity"),
    ({"audience": "everyone"}, "audience"),
    ({"keywords": []}, "keywords"),
    ({"standard": {"source": "contracts/x.md", "clause": 7.1}}, "standard.clause"),  # a YAML float, not "7.1"
    ({"standard": {"source": "../etc/passwd", "clause": "1.1"}}, "standard.source"),
    ({"measure": {"quantity": "q", "unit": "fortnights", "standard": 1, "better": "lower", "acceptable": 1}}, "measure.unit"),
    ({"measure": {"quantity": "q", "unit": "hours", "standard": 24, "better": "lower", "acceptable": 12}}, "measure.acceptable"),
    ({"measure": {"quantity": "q", "unit": "hours", "standard": 24, "better": "sooner", "acceptable": 24}}, "measure.better"),
    ({"measure": {"quantity": "q", "unit": "times_per_year", "standard": 1, "better": "higher", "acceptable": 1,
                  "periodic": False}}, "measure.periodic"),
    ({"also_met_by": "incident-notification"}, "also_met_by"),
])
def test_a_bad_entry_names_the_entry_and_the_field(change, field):
    with pytest.raises(PlaybookError) as exc:
        parse_requirement(_entry(**change), "requirement #1")
    msg = str(exc.value)
    assert "'incident-notification'" in msg and f"field '{field}'" in msg


def test_missing_field_duplicate_id_and_unknown_reference_are_refused():
    d = _entry()
    del d["query"]
    with pytest.raises(PlaybookError, match="field 'query': is required"):
        parse_requirement(d, "requirement #1")
    with pytest.raises(PlaybookError, match="duplicate id"):
        parse_playbook({"version": 1, "requirements": [_entry(), _entry()]})
    with pytest.raises(PlaybookError, match="also_met_by.*names no requirement"):
        parse_playbook({"version": 1, "requirements": [_entry(also_met_by="nope")]})
    with pytest.raises(PlaybookError, match="unknown top-level key 'extra'"):
        parse_playbook({"version": 1, "requirements": [_entry()], "extra": 1})
    with pytest.raises(PlaybookError, match="'version': must be 1"):
        parse_playbook({"version": 2, "requirements": [_entry()]})


def test_a_clause_missing_from_its_standard_document_is_refused(tmp_path):
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "std.md").write_text("# Standard\n\n7.1 The Supplier shall notify.\n", encoding="utf-8")
    entry = _entry(standard={"source": "contracts/std.md", "clause": "7.2"})
    (tmp_path / "playbook.yaml").write_text(yaml.safe_dump({"version": 1, "requirements": [entry]}), encoding="utf-8")
    with pytest.raises(PlaybookError, match=r"'incident-notification'.*'standard.clause': no line of contracts/std.md"):
        load_playbook(tmp_path / "playbook.yaml")
    entry["standard"]["clause"] = "7.1"
    (tmp_path / "playbook.yaml").write_text(yaml.safe_dump({"version": 1, "requirements": [entry]}), encoding="utf-8")
    assert load_playbook(tmp_path / "playbook.yaml").requirements[0].clause == "7.1"


# -- values --------------------------------------------------------------------------------
@pytest.mark.parametrize("text, unit, value", [
    ("notify within 48 hours of becoming aware", "hours", 48),
    ("within forty-eight (48) hours", "hours", 48),
    ("on six months' written notice", "months", 6),
    ("on six (6) months' written notice", "months", 6),
    ("a semi-annual review of user access", "days", 182.5),
    ("review user access once a year", "days", 365),
    ("review user access every quarter", "days", 91.25),
    ("review user access every 90 days", "days", 90),
    ("audit once every two years", "times_per_year", 0.5),
    ("test it at least annually", "times_per_year", 1),
    ("at least once in every 12 months", "times_per_year", 1),
    ("rotate keys at least every 12 months", "months", 12),
    ("within 5 business days", "days", 7),
    ("cyber insurance of at least EUR 10 million per claim", "eur", 10_000_000),
    ("cover of not less than €2,500,000", "eur", 2_500_000),
    ("insurance of USD 1.5 million", "usd", 1_500_000),
    ("TLS 1.0 or a later version", "tls_version", 1.0),
    ("Transport Layer Security version 1.2 or later", "tls_version", 1.2),
    ("encrypted with AES-256", "bits", 256),
    ("the AES algorithm with 256-bit keys", "bits", 256),
    ("capped at 3 times the annual fees", "fees_multiple", 3),
    ("capped at the fees paid in the preceding 12 months", "fees_multiple", 1),
    ("the general cap of 12 months' fees", "months_fees", 12),
    ("the Charges paid in the 12 months before the event", "months_fees", 12),
    ("available at least 99.5% each month", "percent", 99.5),
    ("credits of up to 10 per cent of the fees", "percent", 10),
])
def test_values_are_extracted_and_converted(text, unit, value):
    got = [measure.convert(q, unit) for q in measure.extract(text)]
    assert any(v is not None and v == pytest.approx(value, rel=1e-3) for v in got), (text, measure.extract(text))


def test_number_words_and_units_that_do_not_convert():
    assert measure.number("ninety") == 90 and measure.number("twenty-four") == 24 and measure.number("six (6)") == 6
    hours = measure.Quantity(48, "hours", 0, 0)
    assert measure.convert(hours, "eur") is None  # another dimension
    assert measure.convert(hours, "times_per_year") is None  # a deadline is not a frequency
    assert measure.convert(measure.Quantity(10, "usd", 0, 0), "eur") is None  # no exchange rates


def test_comparison_direction_and_calendar_tolerance():
    assert measure.compare(24, 24, "lower") and not measure.compare(48, 24, "lower")
    assert measure.compare(99.9, 99.5, "higher") and not measure.compare(99.0, 99.5, "higher")
    assert measure.compare(91.25, 90, "lower", same_unit=False)  # "every quarter" meets "every 90 days"
    assert not measure.compare(91.25, 90, "lower", same_unit=True)
    assert not measure.compare(182.5, 90, "lower", same_unit=False)


def _rel(words):
    return lambda s: float(sum(w in s.lower() for w in words))


def test_each_value_goes_to_the_term_it_qualifies():
    rto_rpo = "Northwind shall meet a recovery time objective of 4 hours and a recovery point objective of 1 hour."
    rto, rpo = _rel(["recovery time"]), _rel(["recovery point"])
    assert measure.value_for(rto_rpo, "hours", rto, [("hours", False, rpo)]).value == 4
    assert measure.value_for(rto_rpo, "hours", rpo, [("hours", False, rto)]).value == 1
    combined = ("At termination, Meridian shall return or destroy all PHI, sanitise media, and deliver a certificate "
                "of destruction within 10 business days.")
    ret, cert = _rel(["return"]), _rel(["certificate"])
    assert measure.value_for(combined, "days", ret, [("business_days", False, cert)]) is None
    assert measure.value_for(combined, "business_days", cert, [("days", False, ret)]).value == 10
    shared = "Meridian shall also report any security incident and any use of PHI not permitted within 24 hours of discovery."
    assert measure.value_for(shared, "hours", _rel(["security incident"]), [("hours", False, _rel(["phi", "discovery"]))]).value == 24
    audit = "Kestrel may audit Corrowmere once every two years on 30 days' notice."
    assert measure.value_for(audit, "days", _rel(["audit", "notice"]), [("times_per_year", True, _rel(["audit"]))]).value == 30
    assert measure.value_for(audit, "times_per_year", _rel(["audit"]), [("days", False, _rel(["audit", "notice"]))],
                             periodic=True).value == 2
    assert measure.value_for("TLS 1.2 or higher, and TLS 1.3 wherever supported", "tls_version", _rel(["tls"])).value == 1.2


def test_vague_words_and_formatting():
    assert measure.vague_terms("remove a leaver's access promptly", BOOK.vague) == ["promptly"]
    assert measure.vague_terms("using industry-standard encryption", BOOK.vague) == ["industry standard"]
    assert measure.vague_terms("within 24 hours", BOOK.vague) == []
    assert measure.fmt(10_000_000, "eur") == "EUR 10 million" and measure.fmt(1.2, "tls_version") == "TLS 1.2"
    assert measure.fmt(0.5, "times_per_year") == "0.5 times a year" and measure.fmt(48, "hours") == "48 hours"


# -- judgments on hand-made clauses --------------------------------------------------------
def view_of(*clauses: str) -> ContractView:
    text = "# Test agreement\n\n" + "\n\n".join(f"{i + 1}.1 {c}" for i, c in enumerate(clauses)) + "\n"
    chunk = Chunk(id="c1", text=text, source="test.md", title="Test agreement", doc_type="contract", section="",
                  start=0, end=len(text), line=1, metadata={"audience": "all"})
    return ContractView("test.md", "Test agreement", text, [chunk], {"audience": "all"})


@pytest.mark.parametrize("rid, clause, status, value", [
    ("incident-notification", "The Supplier shall notify Kestrel of any security incident within 48 hours.", "weaker", 48),
    ("incident-notification", "The Supplier shall notify Kestrel of any security incident within 12 hours.", "meets", 12),
    ("incident-notification", "The Supplier shall notify Kestrel of any security incident without undue delay.", "weaker", None),
    ("leaver-access-revocation", "The Supplier shall remove a leaver's access promptly.", "unclear", None),
    ("encryption-at-rest", "The Supplier shall protect stored data using industry-standard encryption.", "unclear", None),
    ("subcontractor-approval", "The Supplier may appoint a subcontractor on 30 days' notice; Kestrel may object on "
                               "reasonable grounds.", "weaker", None),
    ("subcontractor-approval", "The Supplier shall not subcontract without Kestrel's prior written approval.", "meets", None),
    ("governing-law", "This agreement is governed by the law of Poland.", "weaker", None),
    ("living-wage", "The Supplier shall pay its agents fair wages.", "unclear", None),
    ("audit-rights", "Kestrel may audit the Supplier once every two years on 30 days' notice.", "weaker", 0.5),
    ("access-reviews", "The Supplier shall review user access every quarter.", "meets", 91.25),
])
def test_a_clause_is_read_against_the_standard(rid, clause, status, value):
    view = view_of(clause)
    j = Judge(BOOK, ReviewParams()).assess(view, BOOK.by_id[rid], Scored(0, 1.0, 1.0, 1.0))
    assert j.status == status, j.reason
    assert (j.value == pytest.approx(value)) if value is not None else j.value is None
    assert j.reason


def test_absence_statements_and_applies_if():
    view = view_of("The agreement contains no living-wage clause.", "The services are document scanning.")
    judge = Judge(BOOK, ReviewParams(threshold=0.5))
    j = judge.judge(view, BOOK.by_id["living-wage"], [Scored(0, 0.9, 0.9, 1.0)])
    assert j.status == "missing" and "lacks" in j.reason
    j = judge.judge(view, BOOK.by_id["rto"], [Scored(1, 0.9, 0.9, 0.0)])
    assert j.status == "not_applicable"  # none of payroll, contact centre, claims billing, critical service


def test_view_rebuilt_from_chunks_keeps_offsets_and_lines():
    text = "# T\n\n## 1. A\n\n1.1 The Supplier shall notify Kestrel within 24 hours.\n\n1.2 Kestrel may audit once a year.\n"
    cut = text.index("1.2")
    chunks = [Chunk(id="a", text=text[:cut], source="t.md", title="T", doc_type="contract", section="1. A", start=0,
                    end=cut, line=11),
              Chunk(id="b", text=text[cut:], source="t.md", title="T", doc_type="contract", section="1. A", start=cut,
                    end=len(text), line=11 + text.count("\n", 0, cut))]
    view = ContractView.from_chunks(chunks)
    assert view.text == text
    rows = [i for i, c in enumerate(view.clauses) if c.text.startswith("1.2")]
    cite = view.citation(3, rows[0])
    assert cite.quote == "1.2 Kestrel may audit once a year." == text[cite.start:cite.end]
    assert cite.chunk_id == "b" and cite.line_start == 11 + text.count("\n", 0, cut) and cite.n == 3


# -- rendering -----------------------------------------------------------------------------
def _review() -> Review:
    from assistant.core.types import Citation

    c = Citation(1, "x", "contracts/a.md", "A", "s", 10, 40, "notify within 48 hours <script>x</script>", line_start=5,
                 line_end=5)
    s = Citation(1, "y", "contracts/std.md", "Std", "s", 0, 20, "7.1 within 24 hours", line_start=3, line_end=3)
    rows = [ReviewRow("incident-notification", "Incident notification", "data-protection", "critical", "weaker",
                      "notification deadline: 48 hours; is worse than the standard of 24 hours", c, s, 48, "hours", "48 hours"),
            ReviewRow("ai-training", "No AI training | approval", "data-protection", "high", "missing", "no clause"),
            ReviewRow("rto", "RTO", "continuity-exit", "high", "not_applicable", "applies only to ...")]
    return Review("contracts/a.md", "A <b>agreement</b>", "manager", True, rows)


def test_table_html_escapes_colours_and_puts_both_quotes_side_by_side():
    r = _review()
    out = table_html(r)
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert 'class="rv-row rv-weaker"' in out and 'data-severity="critical"' in out
    row = out.split('<tr class="rv-row rv-weaker"')[1].split("</tr>")[0]
    assert 'rv-quote rv-contract' in row and 'rv-quote rv-standard' in row  # one row, both quotes
    assert row.index("rv-contract") < row.index("rv-standard")
    assert "contracts/a.md:5" in row and "contracts/std.md:3" in row
    assert table_html(r, select(r.rows, ["meets"])).startswith('<p class="rv-empty">')
    assert [x.requirement for x in select(r.rows, None, ["high"])] == ["ai-training", "rto"]


def test_summary_markdown_and_csv():
    r = _review()
    assert r.summary["by_status"]["weaker"] == 1 and r.summary["assessed"] == 2
    assert r.summary["by_severity"]["critical"]["weaker"] == 1
    md = to_markdown(r)
    assert "2 requirements: 1 weaker, 1 missing; 1 not applicable" in md
    assert "No AI training \\| approval" in md  # a pipe cannot break the table
    rows = list(csv.reader(io.StringIO(to_csv(r))))
    assert rows[0][:5] == ["requirement", "topic", "group", "severity", "status"] and len(rows) == 4
    assert rows[1][8].startswith("notify within 48 hours") and rows[1][9] == "contracts/a.md:5"
    assert json.loads(json.dumps(r.to_dict(), default=str))["rows"][0]["contract_quote"]["start"] == 10


# -- chat trigger, CLI, parameters ---------------------------------------------------------
@pytest.mark.parametrize("q, yes", [
    ("Does our Northwind contract meet our encryption standard?", True),
    ("Is the Bluepeak agreement compliant with our standards on incident notification?", True),
    ("How does the Corrowmere contract compare against our playbook?", True),
    ("Is the Acme agreement stricter or looser than our template on audit notice?", True),
    ("How does the Acme contract differ from our standard terms on liability?", True),
    ("How much can we recover under our model liability wording, and is the Acme contract any different?", True),
    ("How does the Acme agreement stack up against what we normally require on recovery times?", True),
    ("Is the most we can recover under the Acme contract the same as what our standard terms allow?", True),
    ("How do Acme's contractual working hours stack up against our Supplier Code of Conduct?", True),
    ("Which clause of the Standard Contractual Clauses lets a party sign up to them later?", False),  # a text, no contract
    ("Acme's original contract was weak on audits compared with our model wording - did we ever fix it?", False),
    ("Is our template stricter than the law on breach notice?", False),  # no contract to review
    ("What must our contract say about data encryption?", False),
    ("Which findings are still open?", False),
])
def test_compliance_questions_are_recognised(q, yes):
    assert is_compliance_question(q) is yes


def test_the_question_picks_the_requirements_it_asks_about():
    asked = {r.id for r in _requirements_asked("Does our Northwind contract meet our encryption standard?",
                                               BOOK.requirements, {"northwind"})}
    assert {"encryption-at-rest", "encryption-in-transit"} <= asked and "governing-law" not in asked
    assert len(_requirements_asked("Does the Northwind contract meet our standards?", BOOK.requirements, set())) == len(BOOK.requirements)


def test_a_rare_shared_word_outweighs_common_ones_in_picking_the_requirement_asked():
    # "notice" and "period" name the audit notice requirement; "incident" (a word few requirements use) names the one asked
    asked = [r.id for r in _requirements_asked("How does the incident notice period in our Northwind contract compare with "
                                               "our standard?", BOOK.requirements, {"northwind"})]
    assert "incident-notification" in asked
    # the standard's name ("our Supplier Code of Conduct") and the asking words ("stack up") say which standard, not which term
    asked = [r.id for r in _requirements_asked("How do Acme's contractual working hours stack up against our Supplier Code "
                                               "of Conduct?", BOOK.requirements, {"acme"})]
    assert asked == ["working-hours"]


def test_a_term_asked_in_other_words_is_found_by_meaning_and_only_it_is_shown():
    reqs = BOOK.requirements
    by_meaning = lambda best: (lambda rs: [1.0 if r.id == best else 0.1 for r in rs])  # noqa: E731
    # no topic word or keyword in common: the closest requirement, not the whole playbook
    asked = _requirements_asked("Does our Northwind deal meet our standard on second-factor sign-in?", reqs, {"northwind"},
                                by_meaning("mfa"))
    assert [r.id for r in asked] == ["mfa"]
    # words in common still pick theirs, and the closest in meaning joins them
    asked = {r.id for r in _requirements_asked("Does our Northwind contract meet our encryption standard?", reqs,
                                               {"northwind"}, by_meaning("key-rotation"))}
    assert {"encryption-at-rest", "encryption-in-transit", "key-rotation"} <= asked and "governing-law" not in asked
    # a question with no subject words asks about all of them, whatever is closest
    for q in ("Does the Northwind contract meet our standards?", "On which points does the Northwind contract fall short "
              "of the model clauses?", "In what ways is the Northwind agreement weaker than our template?",
              "List every point where the Northwind contract departs from our standard terms.",
              "List the places where the Northwind contract falls short of our standard clauses."):
        assert len(_requirements_asked(q, reqs, {"northwind"}, by_meaning("mfa"))) == len(reqs), q


def test_cli_parser_and_shipped_parameters():
    p = argparse.ArgumentParser()
    add_review_command(p.add_subparsers(dest="cmd"))
    args = p.parse_args(["review", "contracts/x.md", "--role", "staff", "--json", "--out", "r.csv"])
    assert (args.contract, args.role, args.json, args.out) == ("contracts/x.md", "staff", True, "r.csv")
    with pytest.raises(SystemExit):
        p.parse_args(["review", "x.md", "--role", "ceo"])
    data = json.loads(PARAMS_FILE.read_text())
    assert {"weight", "threshold", "margin"} <= set(data["playbook"]) and "fitted" in data["playbook"]["note"]
    loaded = ReviewParams.load()
    assert loaded.threshold == data["playbook"]["threshold"]
    assert ReviewParams.load(path=Path("/nonexistent.json")) == ReviewParams()


def test_a_missing_topic_reads_as_part_of_a_sentence_and_keeps_its_acronyms():
    from assistant.review.judge import _lower_first

    assert _lower_first("Periodic user access reviews") == "periodic user access reviews"
    assert _lower_first("SSL, TLS 1.0 and TLS 1.1 disabled") == "SSL, TLS 1.0 and TLS 1.1 disabled"
    assert _lower_first("DPO approval of transfers") == "DPO approval of transfers"
