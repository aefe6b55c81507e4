"""The app's named API endpoint through gradio_client, plus the app's pure helpers and sign-in."""

from __future__ import annotations

import json

import pytest



@pytest.fixture(scope="module")
def client(app_server):  # noqa: F811
    from gradio_client import Client

    return Client(app_server.url, verbose=False)


@pytest.mark.integration
def test_api_ask_returns_a_cited_answer(client):
    result = client.predict("What must our contract say about data encryption?", "", api_name="/ask")
    assert isinstance(result, dict)
    assert result["refused"] is False
    assert "[1]" in result["answer"]
    assert result["citations"], "expected citations"
    c = result["citations"][0]
    assert c["n"] == 1 and c["quote"] and c["source"].endswith(".md")
    assert c["quote"] in json.dumps(result)  # a plain JSON-able payload
    assert result["role"] == "admin"  # the single local user's default role


@pytest.mark.integration
def test_api_applies_filters(client):
    result = client.predict(
        question="Which findings are still open?", filters_json=json.dumps({"vendor": "Northwind"}), api_name="/ask"
    )
    assert result["filters"].get("vendor") in ("Northwind", ["Northwind"])
    assert result["citations"]
    assert all(c["metadata"].get("vendor") == "Northwind" for c in result["citations"])


@pytest.mark.integration
def test_api_refuses_out_of_scope_and_rejects_bad_filters(client):
    from gradio_client.exceptions import AppError

    result = client.predict("What is the best lasagne recipe?", "", api_name="/ask")
    assert result["refused"] is True and result["citations"] == []
    with pytest.raises(AppError, match="unknown filter"):
        client.predict("Which findings are still open?", '{"colour": "red"}', api_name="/ask")
    with pytest.raises(AppError, match="not valid JSON"):
        client.predict("Which findings are still open?", "{vendor:", api_name="/ask")


# -- helpers (no server) ---------------------------------------------------------------------


@pytest.mark.unit
def test_sources_html_escapes_document_and_question_text():
    import app
    from assistant.types import Answer, Chunk, Citation

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
    out = app.sources_html(ans)
    assert "<script>" not in out and "<b>" not in out and "<i>" not in out and "<img" not in out
    assert "&lt;script&gt;" in out
    assert "<mark>the &lt;b&gt;quoted&lt;/b&gt; clause</mark>" in out
    assert "contracts/&lt;x&gt;.md:7" in out
    assert "Filters: vendor=&lt;v&gt;" in out
    md = app.answer_markdown(ans)
    assert "&lt;v&gt;" in md and "<v>" not in md


@pytest.mark.unit
def test_refusal_and_unsupported_statements_are_marked():
    import app
    from assistant.types import Answer, Statement

    refused = Answer(question="q", text="I can't answer that.\n\nNearest sources:\n- x", citations=[], sources=[],
                     refused=True, backend="extractive", refusal_reason="not_in_knowledge_base")
    assert 'class="refusal"' in app.sources_html(refused)
    assert "Not in the knowledge base" in app.answer_markdown(refused)
    partly = Answer(question="q", text="A [1]\nB (unsupported)", citations=[], sources=[], refused=False,
                    backend="openai", notice="LLM <down>",
                    statements=[Statement("A", [1], 0.9, True), Statement("B <x>", [], 0.1, False)])
    out = app.sources_html(partly)
    assert 'class="unsupported"' in out and "B &lt;x&gt;" in out
    assert 'class="notice"' in out and "LLM &lt;down&gt;" in out


@pytest.mark.unit
def test_collect_filters_and_safe_filename():
    import app

    f = app.collect_filters(["audit"], ["Northwind"], " 2024-01-01 ", "", [], ["open"])
    assert f == {"doc_type": ["audit"], "vendor": ["Northwind"], "date_from": "2024-01-01", "status": ["open"]}
    assert app.collect_filters([], [], "", "", [], []) == {}
    with pytest.raises(ValueError, match="date from"):
        app.collect_filters([], [], "01/02/2024", "", [], [])
    with pytest.raises(ValueError, match="after"):
        app.collect_filters([], [], "2025-01-01", "2024-01-01", [], [])
    assert app.safe_filename("../../etc/passwd.md") == "passwd.md"
    assert app.safe_filename("C:\\Users\\me\\Vendor plan (v2).md") == "Vendor plan _v2_.md"
    assert app.safe_filename(".hidden.md") == "hidden.md"
    assert app.safe_filename("résumé<script>.txt") == "r_sum__script_.txt"
    assert app.format_filters({"vendor": ["A", "B"], "status": "open"}) == "vendor=A|B, status=open"


@pytest.mark.unit
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
