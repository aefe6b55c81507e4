"""The "Review a contract" tab in headless Chromium: pick an indexed agreement, read the coloured
table with both quotes, filter by status and severity, download Markdown and CSV, upload a file."""

from __future__ import annotations

import pytest

from conftest_app import screenshot
from tests.conftest import ROOT

pytestmark = pytest.mark.browser
NORTHWIND = "Payroll Services Agreement between Kestrel Group and Northwind Processing Ltd"


def open_tab(page) -> None:
    page.get_by_role("tab", name="Review a contract").click()
    page.wait_for_selector("#review-btn")


def run_review(page) -> None:
    page.click("#review-btn")
    page.wait_for_selector("#review-table table.rv-table", timeout=120_000)


def test_review_an_indexed_contract_filter_and_download(page):
    open_tab(page)
    page.locator("#review-contract input").click()
    options = page.get_by_role("option")
    names = options.all_inner_texts()
    assert NORTHWIND in names and not any(n.startswith("Outsourcing") for n in names)  # contracts only
    page.get_by_role("option", name=NORTHWIND, exact=True).click()
    page.keyboard.press("Escape")
    run_review(page)
    rows = page.locator("#review-table tr.rv-row")
    assert rows.count() >= 40  # the local user is an admin: every requirement
    weaker = page.locator('#review-table tr.rv-row[data-status="weaker"]', has_text="Security incident notification")
    assert weaker.count() == 1
    assert "48 hours" in weaker.locator(".rv-contract").inner_text()
    assert "24 hours" in weaker.locator(".rv-standard").inner_text()  # the standard's own clause, side by side
    assert "northwind-payroll-agreement.md:" in weaker.locator(".rv-contract footer").inner_text()
    colours = {rows.nth(i).get_attribute("data-status"): rows.nth(i).evaluate("e => getComputedStyle(e).backgroundColor")
               for i in range(rows.count())}
    assert colours["meets"] != colours["weaker"] != colours["missing"]
    assert "Meets" in page.locator("#review-summary").inner_text()
    screenshot(page, "review.png", full_page=False)

    for status in ("Meets", "Missing", "Unclear", "Not applicable"):  # leave only "weaker"
        page.locator("#review-status label", has_text=status).click()
    page.wait_for_function("() => [...document.querySelectorAll('#review-table tr.rv-row')]"
                           ".every(r => r.dataset.status === 'weaker')")
    shown = page.locator("#review-table tr.rv-row").count()
    assert 0 < shown < rows.count() or shown == page.locator('#review-table tr[data-status="weaker"]').count()
    page.locator("#review-severity label", has_text="low").click()
    page.locator("#review-severity label", has_text="medium").click()
    page.wait_for_function("() => [...document.querySelectorAll('#review-table tr.rv-row')]"
                           ".every(r => ['high', 'critical'].includes(r.dataset.severity))")

    page.wait_for_timeout(1000)  # the download buttons now point at the filtered files
    with page.expect_download() as dl:
        page.click("#review-csv")
    text = open(dl.value.path(), encoding="utf-8").read()
    lines = text.strip().splitlines()
    assert lines[0].startswith("requirement,topic,group,severity,status")
    assert all(",weaker," in line for line in lines[1:]) and len(lines) - 1 == page.locator("#review-table tr.rv-row").count()
    with page.expect_download() as dl:
        page.click("#review-md")
    assert open(dl.value.path(), encoding="utf-8").read().startswith("# Contract review: " + NORTHWIND)


def test_review_an_uploaded_contract_and_a_bad_file(page, tmp_path):
    open_tab(page)
    path = ROOT / "evals" / "review_contracts" / "brackenfield-gaps-agreement.md"
    page.set_input_files("#review-upload input[type=file]", [str(path)])
    page.locator(f'#review-upload a[download="{path.name}"]').wait_for()
    run_review(page)
    assert "uploaded file" in page.locator("#review-summary").inner_text()
    unclear = page.locator('#review-table tr.rv-row[data-status="unclear"]', has_text="Encryption of data at rest")
    assert "industry-standard encryption" in unclear.inner_text()

    soup = tmp_path / "soup.txt"
    soup.write_text("Tomato soup\n\nChop two onions and fry them. Simmer the tomatoes for twenty minutes.\n")
    page.locator("#review-upload button[aria-label*='Clear'], #review-upload button[aria-label*='Remove']").first.click()
    page.set_input_files("#review-upload input[type=file]", [str(soup)])
    page.locator(f'#review-upload a[download="{soup.name}"]').wait_for()
    page.click("#review-btn")
    page.wait_for_selector("#review-message", timeout=60_000)
    assert "does not look like a contract" in page.locator("#review-message").inner_text()
