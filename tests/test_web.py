"""What the web app shows and accepts, as plain functions: rendering, form parsing, upload checks, sign-in."""

from __future__ import annotations

import pytest

from assistant.uploads import check, safe_filename
from assistant.web import render
from assistant.web.forms import collect_filters

pytestmark = pytest.mark.unit



def test_sources_html_escapes_document_and_question_text():
    from assistant.core.types import Answer, Chunk, Citation

    text = "Intro <script>alert(1)</script> the <b>quoted</b> clause & more."
    chunk = Chunk(id="c1", text=text, source="contracts/<x>.md", title="T <i>", doc_type="contract",
                  section="S > <s>", start=100, end=100 + len(text), metadata={"vendor": "<v>"})
    qs = text.index("the <b>")
    qe = text.index(" & more")
    cit = Citation(n=1, chunk_id="c1", source=chunk.source, title=chunk.title, section=chunk.section,
                   start=100 + qs, end=100 + qe, quote=text[qs:qe], doc_type="contract",
                   metadata={"vendor": "<v>", "date": "2024-01-01"}, line_start=7)
    ans = Answer(question='<img src=x onerror="x()">', text="A [1]", citations=[cit], sources=[chunk],
                 refused=False, backend="extractive", filters={"vendor": "<v>"})
    out = render.sources_html(ans)
    assert "<script>" not in out and "<b>" not in out and "<i>" not in out and "<img" not in out
    assert "&lt;script&gt;" in out
    assert '<mark id="cite-1" data-n="1">the &lt;b&gt;quoted&lt;/b&gt; clause</mark>' in out
    assert "contracts/&lt;x&gt;.md:7" in out
    assert "Filters: vendor=&lt;v&gt;" in out
    md = render.answer_markdown(ans)
    assert "&lt;v&gt;" in md and "<v>" not in md


def test_refusal_and_unsupported_statements_are_marked():
    from assistant.core.types import Answer, Statement

    refused = Answer(question="q", text="I can't answer that.\n\nNearest sources:\n- x", citations=[], sources=[],
                     refused=True, backend="extractive", refusal_reason="not_in_knowledge_base")
    assert 'class="refusal"' in render.sources_html(refused)
    assert "Not in the knowledge base" in render.answer_markdown(refused)
    partly = Answer(question="q", text="A [1]\nB (unsupported)", citations=[], sources=[], refused=False,
                    backend="openai", notice="LLM <down>",
                    statements=[Statement("A", [1], 0.9, True), Statement("B <x>", [], 0.1, False)])
    out = render.sources_html(partly)
    assert 'class="unsupported"' in out and "B &lt;x&gt;" in out
    assert 'class="notice"' in out and "LLM &lt;down&gt;" in out


def test_collect_filters_and_safe_filename():
    f = collect_filters(["audit"], ["Northwind"], " 2024-01-01 ", "", [], ["open"])
    assert f == {"doc_type": ["audit"], "vendor": ["Northwind"], "date_from": "2024-01-01", "status": ["open"]}
    assert collect_filters([], [], "", "", [], []) == {}
    with pytest.raises(ValueError, match="date from"):
        collect_filters([], [], "01/02/2024", "", [], [])
    with pytest.raises(ValueError, match="after"):
        collect_filters([], [], "2025-01-01", "2024-01-01", [], [])
    assert safe_filename("../../etc/passwd.md") == "passwd.md"
    assert safe_filename("C:\\Users\\me\\Vendor plan (v2).md") == "Vendor plan _v2_.md"
    assert safe_filename(".hidden.md") == "hidden.md"
    assert safe_filename("résumé<script>.txt") == "r_sum__script_.txt"
    assert render.format_filters({"vendor": ["A", "B"], "status": "open"}) == "vendor=A|B, status=open"


def test_users_file_sign_in(tmp_path):
    import yaml

    from assistant.auth import AuthConfigError, hash_password, load_users

    path = tmp_path / "users.yaml"
    path.write_text(yaml.safe_dump({"users": [
        {"username": "ann", "password_hash": hash_password("s3cret-pw"), "role": "auditor"},
        {"username": "sam", "password_hash": hash_password("other-pw"), "role": "staff"},
    ]}))
    users = load_users(path)
    assert users.verify("ann", "s3cret-pw") == "auditor"
    assert users.verify("ann", "wrong") is None
    assert users.verify("nobody", "s3cret-pw") is None
    assert users.verify("sam", "other-pw") == "staff"
    assert users.role_of("sam") == "staff" and users.role_of("x") is None
    with pytest.raises(ValueError):
        hash_password("x" * 80)
    path.write_text(yaml.safe_dump({"users": [{"username": "bob", "password_hash": "plain", "role": "staff"}]}))
    with pytest.raises(AuthConfigError, match="bcrypt"):
        load_users(path)
    path.write_text(yaml.safe_dump({"users": [{"username": "bob", "password_hash": hash_password("p"), "role": "boss"}]}))
    with pytest.raises(AuthConfigError, match="allowed: staff, manager, auditor, admin"):
        load_users(path)


def test_upload_checks_name_type_and_size():
    assert check("report.pdf", 10, 1e6) == ("report.pdf", None)
    assert check("../../x/notes.md", 10, 1e6) == ("notes.md", None)
    assert "not accepted" in check("payload.exe", 10, 1e6)[1]
    assert "README" in check("README.md", 10, 1e6)[1]
    assert "not accepted" in check("a.pdf.meta.yaml", 10, 1e6)[1]
    assert "README" in check("readme.txt", 10, 1e6)[1]
    assert check("empty.txt", 0, 1e6)[1] == "the file is empty"
    assert "over the 1 MB limit" in check("big.txt", 2_000_000, 1e6)[1]
    assert "no usable characters" in check("...", 10, 1e6)[1]


def test_findings_rows_select_and_sort_open_and_severe_first():
    from assistant.core import findings

    rows = [
        {"id": "A-1", "vendor": "A", "severity": "low", "status": "open"},
        {"id": "B-1", "vendor": "B", "severity": "critical", "status": "closed"},
        {"id": "B-2", "vendor": "B", "severity": "high", "status": "open"},
    ]
    assert [r["id"] for r in findings.select(rows)] == ["B-2", "A-1", "B-1"]
    assert [r["id"] for r in findings.select(rows, vendor="B")] == ["B-2", "B-1"]
    assert [r["id"] for r in findings.select(rows, status="closed")] == ["B-1"]
    assert render.findings_rows(findings.select(rows, severity="low"))[0][:2] == ["A", "A-1"]


def test_upload_results_and_status_line_escape():
    from assistant.uploads import UploadResult

    out = render.upload_results_html([UploadResult("<b>x.md", "rejected", "bad <i>")])
    assert "<b>x.md" not in out and "&lt;b&gt;x.md" in out and 'data-result="rejected"' in out
    line = render.status_line_html("<u>", "staff", True, {"documents": 3, "chunks": 9, "backend": "extractive"})
    assert "&lt;u&gt;" in line and "3 documents" in line
