"""The app's named API endpoint through gradio_client (a real app process on 127.0.0.1)."""

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
