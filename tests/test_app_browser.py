"""The Gradio app driven in headless Chromium: answers, sources, filters, refusals, uploads,
feedback, findings and escaping. One app process serves the whole session (conftest_app)."""

from __future__ import annotations

import json
import sqlite3
import uuid

import pytest

from assistant.web.forms import EXAMPLES
from conftest_app import screenshot

pytestmark = pytest.mark.browser

BOT = '#chatbot [data-testid="bot"]'
USER = '#chatbot [data-testid="user"]'


def ask(page, question: str) -> str:
    """Type a question, send it and wait for the final answer; return the last bot message text."""
    page.fill("#question textarea", question)
    page.click("#ask-btn")
    page.wait_for_function(
        "q => { const p = document.querySelector('#sources .sources-panel'); return p && p.dataset.question === q; }",
        arg=question.strip(),
        timeout=60_000,
    )
    return page.locator(BOT).last.inner_text()


def pick(page, dropdown_id: str, option: str) -> None:
    page.locator(f"#{dropdown_id} input").click()
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")


def test_examples_on_empty_screen_and_cited_answer(page):
    examples = page.locator("#chatbot button.example")
    assert examples.count() == len(EXAMPLES)
    texts = " ".join(examples.all_inner_texts())
    for who in ("Manager", "New staff", "Auditor"):
        assert who in texts

    answer = ask(page, "What must our contract say about data encryption?")
    assert answer.startswith("Answered from") and "standard terms" in answer.splitlines()[0]  # the lead sentence
    assert "[1]" in answer
    for clause in ("3.1", "3.2", "3.3", "3.4"):  # the encryption section comes complete
        assert f"{clause} " in answer, clause
    first = page.locator("#sources #passage-1")
    assert first.is_visible()
    quote = first.locator("mark#cite-1").inner_text().strip()
    assert len(quote) > 10
    assert quote in first.locator(".cite-text").inner_text()  # highlighted inside its passage
    meta = first.locator(".cite-meta").inner_text()
    assert "contract" in meta
    assert ".md:" in meta  # file:line
    cards = page.locator("#sources .citation")
    marks = page.locator("#sources .citation mark")
    n_quotes = marks.count()
    assert f"[{n_quotes}]" in answer
    ids = [cards.nth(i).get_attribute("data-n") for i in range(cards.count())]
    assert cards.count() < n_quotes and sum(len(x.split()) for x in ids) == n_quotes  # one card per passage
    assert first.locator("mark").count() >= 2  # a passage's quotes are all highlighted in its one card
    screenshot(page, "chat.png")

    page.click("#new-conversation")
    page.wait_for_selector("#chatbot button.example")
    assert page.locator(BOT).count() == 0
    assert page.locator("#sources .citation").count() == 0


def test_example_click_asks_it(page):
    page.locator("#chatbot button.example", has_text="Which findings are still open?").click()
    page.wait_for_function(
        "() => { const p = document.querySelector('#sources .sources-panel'); return p && p.dataset.question; }",
        timeout=60_000,
    )
    assert "Which findings are still open?" in page.locator(USER).last.inner_text()
    assert page.locator("#sources .citation").count() >= 1


def test_vendor_filter_is_applied_and_shown(page):
    page.click("#filters")
    pick(page, "filter-vendor", "Northwind")
    answer = ask(page, "Which findings are still open?")
    assert "Filters: vendor=Northwind" in answer
    assert "vendor=Northwind" in page.locator("#sources .filters-line").inner_text()
    metas = page.locator("#sources .citation .cite-meta").all_inner_texts()
    assert metas, "expected cited sources"
    assert all("vendor: Northwind" in m for m in metas)
    screenshot(page, "sources.png")


def test_out_of_scope_question_is_refused_visibly(page):
    answer = ask(page, "What is the best lasagne recipe?")
    assert "Not in the knowledge base" in answer
    box = page.locator("#sources .refusal")
    assert box.is_visible()
    assert "Not in the knowledge base" in box.inner_text()
    assert page.locator("#sources .citation").count() == 0
    screenshot(page, "refusal.png")


def test_upload_then_ask_cites_the_new_document(page, app_server, tmp_path):
    code = f"ZX-{uuid.uuid4().int % 9000 + 1000}"
    name = f"quillfeather-{code.lower()}-policy.md"
    doc = tmp_path / name
    doc.write_text(
        "---\ntitle: Quillfeather translation services data handling policy\ndoc_type: guidance\n"
        "audience: all\nvendor: Quillfeather\ndate: 2025-06-01\n---\n\n"
        "# Quillfeather translation services data handling policy\n\n"
        f"## Vendor code {code}\n\n"
        f"Quillfeather Translation Services is registered under vendor code {code}. "
        f"Under the {code} policy, Quillfeather must encrypt every interview transcript with AES-256 "
        "and delete all transcripts within 14 days of delivering the translation.\n",
        encoding="utf-8",
    )
    bad = tmp_path / "payload.exe"
    bad.write_bytes(b"MZ\x90\x00not a document")

    page.get_by_role("tab", name="Upload").click()
    page.set_input_files("#upload-files input[type=file]", [str(doc), str(bad)])
    for f in (name, bad.name):  # the download link appears once the browser has sent the file
        page.locator(f'#upload-files a[download="{f}"]').wait_for()
    page.click("#upload-btn")
    page.wait_for_selector("#upload-result .upload-row", timeout=120_000)
    ok_row = page.locator('#upload-result .upload-row[data-result="ingested"]')
    assert name in ok_row.inner_text()
    bad_row = page.locator('#upload-result .upload-row[data-result="rejected"]')
    assert "payload.exe" in bad_row.inner_text()
    assert "not accepted" in bad_row.inner_text()
    assert (app_server.upload_dir / name).exists()
    assert not (app_server.upload_dir / "payload.exe").exists()
    screenshot(page, "upload.png")

    page.get_by_role("tab", name="Chat").click()
    ask(page, f"What does the {code} policy require for interview transcripts?")
    cites = page.locator("#sources .citation")
    assert cites.count() >= 1
    sources_text = page.locator("#sources").inner_text()
    assert f"uploads/{name}" in sources_text
    assert code in sources_text


def test_thumbs_down_with_comment_is_stored(page, app_server):
    question = "How do we vet a new BPO provider?"
    ask(page, question)
    comment = f"missing the approval step {uuid.uuid4().hex[:8]}"
    page.fill("#feedback-comment textarea", comment)
    page.click("#thumbs-down")
    page.wait_for_function("() => document.querySelector('#feedback-status').innerText.includes('saved')")
    screenshot(page, "feedback.png")
    with sqlite3.connect(app_server.feedback_db) as db:
        db.row_factory = sqlite3.Row
        rows = [dict(r) for r in db.execute("SELECT * FROM feedback WHERE comment = ?", (comment,))]
    assert len(rows) == 1
    row = rows[0]
    assert row["rating"] == -1
    assert row["question"] == question
    assert "[1]" in row["answer"]
    assert row["user"] == "local"
    assert row["backend"] == "extractive"
    citations = json.loads(row["citations"])
    assert citations and citations[0]["n"] == 1 and citations[0]["quote"]
    assert page.locator("#feedback-comment textarea").input_value() == ""


def test_html_in_a_question_is_not_executed(page):
    payload = '<img src=x onerror="window.__xss=1">'
    ask(page, payload)
    page.wait_for_timeout(500)  # give a would-be onerror handler time to fire
    assert page.evaluate("window.__xss") is None
    assert page.locator("#chatbot img[src='x'], #sources img").count() == 0
    assert payload in page.locator(USER).last.inner_text()  # shown as text
    screenshot(page, "xss.png")


def test_findings_table_filters_by_status(page):
    page.get_by_role("tab", name="Findings").click()
    rows = page.locator("#findings-table .virtual-row")
    rows.first.wait_for()
    headers = page.locator("#findings-table thead").inner_text()
    for h in ("Vendor", "ID", "Date", "Severity", "Status", "Area", "Due date", "Source"):
        assert h in headers
    total = rows.count()
    assert total >= 5

    # Sortable from the column menu.
    page.locator('#findings-table th[title="ID"]').hover()
    page.locator('#findings-table th[title="ID"] button.cell-menu-button').click()
    page.get_by_role("menuitem", name="Sort descending").click()
    page.wait_for_timeout(300)
    ids = page.evaluate(
        "() => Array.from(document.querySelectorAll('#findings-table .virtual-row'))"
        ".map(r => r.querySelectorAll('[role=gridcell]')[1].innerText.trim())"
    )
    assert len(ids) == total and ids == sorted(ids, reverse=True)

    pick(page, "findings-status", "open")
    page.wait_for_function("() => document.querySelector('#findings-summary').innerText.match(/^(\\d+) of/)")
    page.wait_for_function(
        "n => document.querySelectorAll('#findings-table .virtual-row').length < n", arg=total
    )
    cells = page.evaluate(
        "() => Array.from(document.querySelectorAll('#findings-table .virtual-row'))"
        ".map(r => Array.from(r.querySelectorAll('[role=gridcell]')).map(c => c.innerText.trim()))"
    )
    assert cells
    assert all(row[4] == "open" for row in cells)
    assert all(row[7].startswith("audits/") for row in cells)
    page.wait_for_timeout(500)  # let the dropdown's closing animation finish
    screenshot(page, "findings.png")


def test_a_document_cannot_make_the_browser_load_anything(page, app_server, tmp_path):
    """A quoted line with a Markdown image or link is shown as text: no request leaves the page."""
    import http.server
    import threading

    hits: list[str] = []

    class Beacon(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    beacon = http.server.HTTPServer(("127.0.0.1", 0), Beacon)
    threading.Thread(target=beacon.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{beacon.server_address[1]}"
    code = f"QZ-{uuid.uuid4().int % 9000 + 1000}"
    doc = tmp_path / f"beacon-{code.lower()}.md"
    doc.write_text(f"# Beacon policy {code}\n\nThe {code} beacon policy requires a pixel ![x]({url}/p.png?leak=1) "
                   f"and a link [here]({url}/l) in every report.\n", encoding="utf-8")
    page.get_by_role("tab", name="Upload").click()
    page.set_input_files("#upload-files input[type=file]", [str(doc)])
    page.locator(f'#upload-files a[download="{doc.name}"]').wait_for()
    page.click("#upload-btn")
    page.wait_for_selector('#upload-result .upload-row[data-result="ingested"]', timeout=120_000)
    page.get_by_role("tab", name="Chat").click()
    answer = ask(page, f"What does the {code} beacon policy require in every report?")
    page.wait_for_timeout(1500)
    beacon.shutdown()
    assert code in page.locator("#sources").inner_text()
    assert "![x]" in answer or "p.png" in answer  # shown as text
    assert page.locator("#chatbot img[src*='p.png']").count() == 0
    assert hits == [], f"the page fetched {hits}"
