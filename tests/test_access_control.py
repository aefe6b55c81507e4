"""Access control through the running app: sign-in, roles, restricted documents, uploads.

A second app process with a users file (bcrypt hashes): a staff user never sees a restricted
document through the Gradio API or the findings table, and gets no upload controls (the upload
route refuses staff); an auditor sees
the restricted audit notes. Passwords never appear in the app's log.
"""

from __future__ import annotations

import json

import pytest
import yaml

from assistant.auth import hash_password
from conftest_app import start_app, stop_app

pytestmark = [pytest.mark.browser, pytest.mark.integration]
PASSWORDS = {"alice": "staff-pass-7351", "bob": "auditor-pass-9922"}
RESTRICTED = {"audits/northwind-audit-2024-10-08.md", "audits/northwind-follow-up-2025-04-15.md",
              "audits/northwind-follow-up-2026-03-12.md", "audits/meridian-audit-2025-09-15.md",
              "audits/meridian-follow-up-2026-01-20.md", "audits/meridian-audit-2026-02-10.md"}


@pytest.fixture(scope="module")
def secured_app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("secured")
    users = tmp / "users.yaml"
    users.write_text(yaml.safe_dump({"users": [
        {"username": "alice", "password_hash": hash_password(PASSWORDS["alice"]), "role": "staff"},
        {"username": "bob", "password_hash": hash_password(PASSWORDS["bob"]), "role": "auditor"},
    ]}))
    server = start_app(tmp, {"ASSISTANT_USERS_FILE": str(users)})
    yield server
    stop_app(server)


def ask(server, user, question):
    from gradio_client import Client

    c = Client(server.url, auth=(user, PASSWORDS[user]), verbose=False)
    return c.predict(question, json.dumps({}), api_name="/ask")


def test_restricted_documents_are_hidden_from_staff_through_the_api(secured_app):
    q = "Was the Northwind payroll file breach notified late, and is the finding closed?"
    staff = ask(secured_app, "alice", q)
    auditor = ask(secured_app, "bob", q)
    staff_sources = {c["source"] for c in staff["citations"]}
    auditor_sources = {c["source"] for c in auditor["citations"]}
    assert not staff_sources & RESTRICTED
    assert auditor_sources & RESTRICTED
    assert staff["role"] == "staff" and auditor["role"] == "auditor"


def test_api_requires_sign_in(secured_app):
    from gradio_client import Client

    with pytest.raises(Exception):
        Client(secured_app.url, verbose=False).predict("What insurance must vendors carry?", "{}", api_name="/ask")


def sign_in(browser, server, user):  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.set_default_timeout(30_000)
    page = ctx.new_page()
    page.goto(server.url)
    page.fill("input[type=text]", user)
    page.fill("input[type=password]", PASSWORDS[user])
    page.keyboard.press("Enter")
    page.wait_for_selector("#status-line")
    return ctx, page


def test_findings_table_and_upload_follow_the_role(secured_app, browser, tmp_path):  # noqa: F811
    ctx, page = sign_in(browser, secured_app, "alice")
    try:
        page.get_by_role("tab", name="Findings").click()
        table = page.locator("#findings-table")
        table.wait_for()
        text = table.inner_text()
        assert "HV-2025-01" in text  # visible to everyone
        assert "NW-2024-01" not in text and "MH-2026-01" not in text  # restricted to auditors
        # Staff get the reason instead of upload controls, and the upload route itself refuses them
        # (tests/test_security.py::test_probe5_only_roles_that_may_upload_reach_the_upload_route).
        page.get_by_role("tab", name="Upload").click()
        page.wait_for_selector("#upload-result .role-denied")
        assert page.locator("#upload-files input[type=file]").count() == 0
        assert page.locator("#upload-btn").count() == 0 or not page.locator("#upload-btn").is_visible()
        r = ctx.request.post(secured_app.url + "gradio_api/upload",
                             multipart={"files": {"name": "note.md", "mimeType": "text/markdown", "buffer": b"# Note\n"}})
        assert r.status == 403
        assert not (secured_app.upload_dir / "note.md").exists()
    finally:
        ctx.close()
    ctx, page = sign_in(browser, secured_app, "bob")
    try:
        page.get_by_role("tab", name="Findings").click()
        page.locator("#findings-table").wait_for()
        assert "NW-2024-01" in page.locator("#findings-table").inner_text()
    finally:
        ctx.close()


def test_no_password_in_the_log(secured_app):
    log = secured_app.log.read_text(errors="replace")
    assert all(pw not in log for pw in PASSWORDS.values())
