"""Bad input, tried: fuzzed files through the loaders, splitter and pipeline; hostile questions."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from assistant.api import Assistant
from assistant.core.embeddings import FakeEmbedder
from ingest.loaders import LoadError, load
from ingest.split import approx_tokens, split
from tests.conftest import make_settings

EXTS = [".txt", ".md", ".html", ".pdf", ".docx"]
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def check_file(path: Path) -> str:
    """A loader either returns a document whose chunks are exact spans, or a clear LoadError."""
    try:
        doc = load(path, path.name, max_bytes=5_000_000)
    except LoadError as exc:
        assert exc.reason and exc.source == path.name
        return "error"
    for c in split(doc, approx_tokens, 48, 8):
        assert doc.text[c.start : c.end] == c.text
    return "ok"


@pytest.mark.unit
@FUZZ
@given(data=st.binary(min_size=0, max_size=4000), ext=st.sampled_from(EXTS))
def test_random_bytes_never_crash(tmp_path_factory, data, ext):
    p = tmp_path_factory.mktemp("fz") / f"f{ext}"
    p.write_bytes(data)
    check_file(p)


@pytest.mark.unit
@FUZZ
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=3000), ext=st.sampled_from([".txt", ".md", ".html"]))
def test_random_text_splits_exactly(tmp_path_factory, text, ext):
    p = tmp_path_factory.mktemp("fz") / f"t{ext}"
    p.write_text(text, encoding="utf-8")
    check_file(p)


@pytest.mark.unit
@pytest.mark.parametrize(
    "name,content",
    [
        ("huge-line.txt", ("word " * 200_000).encode()),
        ("deep.md", "".join("#" * (i % 6 + 1) + f" Heading {i}\n\ntext {i}.\n\n" for i in range(3000)).encode()),
        ("mixed.txt", "caf\u00e9 ".encode() + "na\u00efve".encode("latin-1") + " \u4e2d\u6587 \u0627\u0644\u0639\u0631\u0628\u064a\u0629".encode()),
        ("nul.md", b"# Title\n\nSome\x00text with NUL\x00 bytes." * 3),
        ("script.html", b"<html><body><script>alert(1)</script><h1>Hi</h1><p onclick='x()'>Body <b>bold</b></p></body></html>"),
        ("latin1.txt", "Gr\u00fc\u00dfe aus M\u00fcnchen, \u00e0 bient\u00f4t.".encode("cp1252")),
    ],
)
def test_edge_case_files(tmp_path, name, content):
    p = tmp_path / name
    p.write_bytes(content)
    assert check_file(p) in ("ok", "error")


@pytest.mark.unit
def test_200_mb_file_rejected_by_size_limit(tmp_path):
    p = tmp_path / "huge.txt"
    with open(p, "wb") as f:
        f.truncate(200 * 1024 * 1024)  # sparse: costs no disk
    with pytest.raises(LoadError, match="over the 50 MB limit"):
        load(p, "huge.txt", max_bytes=50_000_000)


@pytest.mark.unit
def test_pdf_bomb_rejected(tmp_path):
    from pypdf import PdfWriter

    w = PdfWriter()
    for _ in range(2100):
        w.add_blank_page(72, 72)
    p = tmp_path / "bomb.pdf"
    with open(p, "wb") as f:
        w.write(f)
    with pytest.raises(LoadError, match="limit"):
        load(p, "bomb.pdf")


@pytest.mark.integration
def test_pipeline_survives_a_folder_of_bad_files(tmp_path, corpus_dir):
    (corpus_dir / "good.md").write_text("# Good\n\nSubcontractors need prior written approval.\n")
    (corpus_dir / "rand.pdf").write_bytes(os.urandom(3000))
    (corpus_dir / "rand.docx").write_bytes(os.urandom(3000))
    (corpus_dir / "rand.txt").write_bytes(os.urandom(3000))
    (corpus_dir / "nul.md").write_bytes(b"\x00" * 100)
    (corpus_dir / "script.html").write_text("<script>alert(1)</script><p>Audit rights apply yearly.</p>")
    a = Assistant.from_settings(make_settings(tmp_path, corpus_dir), embedder=FakeEmbedder())
    r = a.ingest(show_bar=False)
    assert {"good.md", "script.html"} <= set(r.added)
    assert {"rand.pdf", "rand.docx", "rand.txt", "nul.md"} == {s for s, _ in r.failed}
    assert all(reason for _, reason in r.failed)


@pytest.mark.integration
@pytest.mark.parametrize(
    "question",
    [
        "",
        "   \n\t ",
        "x" * 50_000,
        "What\x00 about\x07 encryption\x1b[31m?",
        "暗号化について契約には何を書くべきですか？",
        "ما الذي يجب أن ينص عليه العقد بشأن التشفير؟",
        "'; DROP TABLE chunks; --",
        "<script>alert('x')</script> what about audits?",
        "**bold** [link](javascript:alert(1)) | table | what about encryption?",
        "{\"$where\": \"1==1\"} vendor filter",
    ],
)
def test_hostile_questions_never_crash(kb, question):
    ans = kb.ask(question, role="staff")
    assert isinstance(ans.text, str) and ans.text
    if len(question) > kb.settings.max_question_chars:
        assert ans.refused and "limit" in ans.text
    if not question.strip():
        assert ans.refused
    # Whatever the question, a staff user is never shown a restricted document.
    assert all(c.metadata.get("audience", "all") == "all" for c in ans.citations)
