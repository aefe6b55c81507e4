"""Contract review on the real model: the five executed agreements and the uploaded-file path
against evals/review_golden.yaml, exact quotes, access rules, bad input, the chat answer and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from assistant.review import ReviewError, review
from assistant.review.chat import review_answer
from ingest.loaders import load
from tests.conftest import KNOWLEDGE, ROOT

pytestmark = pytest.mark.integration
GOLDEN = {c["file"]: c for c in yaml.safe_load((ROOT / "evals" / "review_golden.yaml").read_text())["contracts"]}
EXECUTED = ["northwind-payroll-agreement.md", "bluepeak-contact-centre-agreement.md",
            "ledgerline-digitisation-agreement.md", "harborview-hr-agreement.md", "meridian-health-baa-agreement.md"]
# Measured with the shipped parameters: 44/44, 43/44, 44/44, 44/44, 43/44 (evals/reports/review.md).
MIN_AGREEMENT = 0.95
MIN_QUOTES = 0.9


def judgments(file: str) -> dict:
    c = GOLDEN[file]
    return GOLDEN[c["same_as"]]["judgments"] if "same_as" in c else c["judgments"]


def check_against_golden(r, file: str, text: str) -> None:
    gold = judgments(file)
    rows = {row.requirement: row for row in r.rows}
    assert set(rows) == set(gold)
    agree = sum(rows[k].status == g["status"] for k, g in gold.items()) / len(gold)
    wrong = [(k, rows[k].status, g["status"]) for k, g in gold.items() if rows[k].status != g["status"]]
    assert agree >= MIN_AGREEMENT, wrong
    quoted = good = 0
    for k, g in gold.items():
        row = rows[k]
        if g.get("quote") and row.status == g["status"] and row.status != "missing":
            quoted += 1
            words = " ".join(g["quote"].split())
            good += words in " ".join(row.contract_quote.quote.split()) or " ".join(row.contract_quote.quote.split()) in words
    assert quoted and good / quoted >= MIN_QUOTES
    for row in r.rows:
        for c in (row.contract_quote,):
            if c is not None:
                assert text[c.start:c.end] == c.quote  # exact offsets into the document text


@pytest.mark.parametrize("name", EXECUTED)
def test_executed_agreement_matches_the_golden_review(kb, name):
    source = f"contracts/{name}"
    r = review(kb, source, role="admin")
    assert r.indexed and r.source == source
    doc = load(KNOWLEDGE / source, source)
    check_against_golden(r, f"knowledge/{source}", doc.text)
    raw = (KNOWLEDGE / source).read_text(encoding="utf-8").splitlines()
    for row in r.rows:
        if row.contract_quote:  # the line number points at the quote in the file itself (front matter included)
            assert row.contract_quote.quote.split("\n")[0][:40] in raw[row.contract_quote.line_start - 1]
        s = row.standard_quote
        assert s is not None and s.source.startswith("contracts/")
        std_req = next(q for q in kb_playbook(kb).requirements if q.id == row.requirement)
        assert s.quote.startswith(std_req.clause + " ")  # quoted from the standard document at its clause
        assert load(KNOWLEDGE / s.source, s.source).text[s.start:s.end] == s.quote
    assert r.summary["assessed"] + r.summary["by_status"]["not_applicable"] == len(r.rows)


def kb_playbook(kb):
    from assistant.review.review import playbook_of

    return playbook_of(kb)


@pytest.mark.parametrize("suffix", [".md", ".pdf", ".docx"])
def test_uploaded_file_is_reviewed_in_memory_only(kb, suffix):
    path = ROOT / "evals" / "review_contracts" / f"corrowmere-pdf-docx-agreement{suffix}"
    chunks_before = len(kb.retriever.corpus.chunks)
    r = review(kb, path, role="manager")
    assert not r.indexed and r.source == path.name
    check_against_golden(r, f"evals/review_contracts/{path.name}", load(path, path.name).text)
    assert len(kb.retriever.corpus.chunks) == chunks_before
    assert path.name not in kb.retriever.corpus.neighbours and not any(kb.settings.upload_dir.glob("corrowmere*"))
    row = r.row("encryption-in-transit")
    assert row.status == "meets" and row.value == pytest.approx(1.2) and "TLS 1.2" in row.contract_quote.quote


def test_the_other_test_contracts(kb):
    for name in ("aldercrest-full-standard-agreement.md", "brackenfield-gaps-agreement.md"):
        path = ROOT / "evals" / "review_contracts" / name
        check_against_golden(review(kb, path, role="admin"), f"evals/review_contracts/{name}", load(path, name).text)


def test_roles_see_only_their_contracts_requirements_and_quotes(kb):
    with pytest.raises(ReviewError, match="no contract found"):
        review(kb, "contracts/meridian-health-baa-agreement.md", role="staff")  # audience: managers
    staff = review(kb, "Northwind", role="staff")
    manager = review(kb, "Northwind", role="manager")
    assert staff.source == manager.source == "contracts/northwind-payroll-agreement.md"
    staff_ids = {r.requirement for r in staff.rows}
    assert "liability-general-cap" not in staff_ids and "liability-general-cap" in {r.requirement for r in manager.rows}
    assert all(kb_playbook(kb).by_id[i].audience == "all" for i in staff_ids)
    assert all(r.standard_quote is None or r.standard_quote.metadata.get("audience", "all") == "all" for r in staff.rows)
    # The rows both see are judged alike: values are attributed among all requirements, whoever asks.
    both = {r.requirement: r.status for r in staff.rows}
    assert all(both[r.requirement] == r.status for r in manager.rows if r.requirement in both)


def test_bad_input_gets_a_clear_message(kb, tmp_path):
    empty = tmp_path / "empty.md"
    empty.write_text("")
    with pytest.raises(ReviewError, match="empty"):
        review(kb, empty)
    scanned = tmp_path / "scanned.pdf"
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(scanned), pagesize=A4)  # a page with only shapes, like a scan without OCR
    c.setFillGray(0.3)
    for i in range(20):
        c.rect(60, 780 - 30 * i, 470, 18, fill=1, stroke=0)
    c.showPage()
    c.save()
    with pytest.raises(ReviewError, match="scanned.*OCR"):
        review(kb, scanned)
    recipe = tmp_path / "soup.txt"
    recipe.write_text("Tomato soup\n\nChop two onions and fry them gently. Add the tomatoes and simmer for "
                      "twenty minutes. Blend until smooth and season to taste.\n")
    with pytest.raises(ReviewError, match="does not look like a contract"):
        review(kb, recipe)
    with pytest.raises(ReviewError, match="not a contract"):
        review(kb, "guidance/vendor-due-diligence.md")
    with pytest.raises(ReviewError, match="no contract found"):
        review(kb, "the Zebrafish agreement")
    odd = tmp_path / "contract.xlsx"
    odd.write_bytes(b"PK\x03\x04")
    with pytest.raises(ReviewError, match="unsupported file type"):
        review(kb, odd)


def test_chat_answers_a_compliance_question_from_the_review(kb):
    q = "Does our Northwind contract meet our encryption standard?"
    ans = review_answer(kb, q, role="staff")
    assert ans is not None and not ans.refused and ans.backend == "review"
    assert "Encryption of data at rest" in ans.text and "Meets" in ans.text
    assert ans.citations and len(ans.sources) >= 2
    by_id = {c.id: c for c in ans.sources}
    for c in ans.citations:
        assert f"[{c.n}]" in ans.text
        chunk = by_id[c.chunk_id]
        assert chunk.text[c.start - chunk.start:c.end - chunk.start] == c.quote  # exact offsets
    sources = {c.source for c in ans.citations}
    assert "contracts/northwind-payroll-agreement.md" in sources and "contracts/model-clauses-data-protection.md" in sources
    through_ask = kb.ask(q, role="staff")  # the chat path: Assistant.ask answers it from the same review
    assert through_ask.backend == "review" and through_ask.text == ans.text
    assert review_answer(kb, "What must our contract say about data encryption?", role="staff") is None
    assert review_answer(kb, "Does our Meridian contract meet our encryption standard?", role="staff") is None
    notif = review_answer(kb, "Is the Northwind agreement compliant with our standard on incident notification?",
                          role="manager")
    assert notif is not None and "48 hours" in notif.text and "Weaker" in notif.text
    # a term asked in other words: the row closest in meaning, not every row of the review
    login = review_answer(kb, "Is our Northwind agreement compliant with the policy on two-step login?",
                          role="manager")
    assert login is not None and "**Multi-factor authentication**" in login.text
    assert sum(line.startswith("- **") for line in login.text.splitlines()) <= 2
    # where the contract falls short, asked in general: every row it does not meet, and none it meets
    gaps = review_answer(kb, "List the places where the Northwind contract falls short of our standard clauses.", role="manager")
    rows = [line for line in gaps.text.splitlines() if line.startswith("- **")]
    assert len(rows) >= 3 and not any(": Meets" in line for line in rows) and "requirements met" in gaps.text


def test_cli_review_markdown_csv_json_and_errors(kb, tmp_path):
    settings = tmp_path / "s.yaml"
    settings.write_text(f"knowledge_root: {kb.settings.knowledge_root}\nindex_dir: {kb.settings.index_dir}\n")
    base = [sys.executable, "-m", "assistant.review.cli", "--settings", str(settings), "review"]
    out_md, out_csv = tmp_path / "r.md", tmp_path / "r.csv"
    r = subprocess.run(base + ["contracts/northwind-payroll-agreement.md", "--role", "staff", "--out", str(out_md)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "[        WEAKER] Security incident notification deadline" in r.stdout and "48 hours" in r.stdout
    assert out_md.read_text().startswith("# Contract review: Payroll Services Agreement")
    corrowmere = ROOT / "evals" / "review_contracts" / "corrowmere-pdf-docx-agreement.pdf"
    r = subprocess.run(base + [str(corrowmere), "--json", "--out", str(out_csv)], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["indexed"] is False and data["summary"]["by_status"]["weaker"] >= 10
    assert out_csv.read_text().splitlines()[0].startswith("requirement,topic,group,severity,status")
    r = subprocess.run(base + ["contracts/meridian-health-baa-agreement.md", "--role", "staff"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and r.stderr.startswith("error: no contract found")
    r = subprocess.run(base + ["contracts/northwind-payroll-agreement.md", "--out", str(tmp_path / "r.pdf")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "--out must end in" in r.stderr


@pytest.mark.slow
def test_a_thirty_page_upload_is_reviewed_in_full(kb, tmp_path):
    """Speed is measured by `python -m evals.review` (evals/reports/review.md), not here."""
    from tests.conftest import cuad_corpus
    from evals.review_cuad import speed_contract

    corpus = cuad_corpus()
    path = corpus / speed_contract(corpus)
    r = review(kb, path, role="admin")
    assert len(r.rows) == len(kb_playbook(kb).requirements)
    assert r.row("governing-law").status in ("meets", "weaker")  # every CUAD contract names its law
    assert all(row.contract_quote is None or row.contract_quote.quote in path.read_text(encoding="utf-8") for row in r.rows)


def test_ingest_reports_a_broken_playbook_and_ingests_the_rest(tmp_path, corpus_dir, embedder):
    from assistant.api import Assistant
    from tests.conftest import make_settings

    (corpus_dir / "note.md").write_text("# Note\n\nVendors must encrypt our data at rest with AES-256.\n", encoding="utf-8")
    (corpus_dir / "playbook.yaml").write_text("version: 1\nrequirements:\n  - id: enc\n    topic: encryption\n",
                                              encoding="utf-8")
    settings = make_settings(tmp_path, corpus_dir)
    report = Assistant.from_settings(settings, embedder=embedder).ingest(show_bar=False)
    assert report.added == ["note.md"] and report.chunks_written >= 1  # the rest of the run completed
    assert [s for s, _ in report.failed] == ["playbook.yaml"]
    assert "'enc'" in report.failed[0][1]  # the message names the entry
    env = {"ASSISTANT_KNOWLEDGE_ROOT": str(corpus_dir), "ASSISTANT_INDEX_DIR": str(settings.index_dir),
           "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    cli = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", "--quiet"], env=env, capture_output=True,
                         text=True, timeout=300)
    assert cli.returncode == 1 and "FAILED playbook.yaml" in cli.stdout, cli.stdout + cli.stderr
