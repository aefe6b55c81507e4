"""Every loader: normalised text, exact chunk offsets, and clear errors on bad input."""

from __future__ import annotations

import zipfile

import pytest

from ingest.loaders import LoadError, load
from ingest.split import approx_tokens, split
from tests.helpers import MD_DOC, write_docx, write_pdf

pytestmark = pytest.mark.unit


def assert_offsets(doc, chunks):
    assert chunks, "no chunks"
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text
        assert c.source == doc.source and c.id


def test_markdown_front_matter_and_offsets(tmp_path):
    p = tmp_path / "g.md"
    p.write_text(MD_DOC)
    doc = load(p, "g.md")
    assert doc.title == "Test encryption guidance"
    assert doc.metadata["tags"] == ["encryption", "test"]
    assert doc.metadata["date"] == "2025-01-02"
    assert not doc.text.startswith("---")
    chunks = split(doc, approx_tokens, 64, 8)
    assert_offsets(doc, chunks)
    assert any("Encryption at rest" in c.section for c in chunks)
    # Line numbers point into the original file (front matter included).
    lines = p.read_text().splitlines()
    for c in chunks:
        assert lines[c.line - 1].strip() in c.text


def test_plain_text_offsets_and_crlf(tmp_path):
    p = tmp_path / "t.txt"
    p.write_bytes(b"1. TERM\r\nThe term is two years.\r\n\r\n2. FEES\r\nFees are due in 30 days.\r\n")
    doc = load(p, "t.txt")
    assert "\r" not in doc.text
    chunks = split(doc, approx_tokens, 16, 2)
    assert_offsets(doc, chunks)


def test_pdf_pages_kept(tmp_path):
    p = tmp_path / "c.pdf"
    write_pdf(p, [["Clause 1. The supplier keeps records."], ["Clause 2. Audits happen every year."]])
    doc = load(p, "c.pdf")
    assert "Audits happen every year." in doc.text
    chunks = split(doc, approx_tokens, 12, 0)
    assert_offsets(doc, chunks)
    pages = {c.page for c in chunks}
    assert pages == {1, 2}
    second = next(c for c in chunks if "Audits" in c.text)
    assert second.page == 2


def test_docx_headings_become_sections(tmp_path):
    p = tmp_path / "d.docx"
    write_docx(p, "Vendor policy", [("Access control", ["MFA is required for admins."]), ("Retention", ["Keep logs 1 year."])])
    doc = load(p, "d.docx")
    chunks = split(doc, approx_tokens, 12, 0)
    assert_offsets(doc, chunks)
    assert any(c.section.endswith("Retention") for c in chunks)


def test_html_drops_scripts_and_keeps_headings(tmp_path):
    p = tmp_path / "h.html"
    p.write_text(
        "<html><head><title>Policy page</title><script>alert('x')</script></head>"
        "<body><h1>Policy</h1><h2>Breaches</h2><p>Notify within <b>24 hours</b>.</p>"
        "<ul><li>Email the DPO</li><li>Call security</li></ul></body></html>"
    )
    doc = load(p, "h.html")
    assert doc.title == "Policy page"
    assert "alert" not in doc.text
    assert "Notify within 24 hours." in doc.text
    chunks = split(doc, approx_tokens, 24, 0)
    assert_offsets(doc, chunks)
    assert any("Breaches" in c.section and "24 hours" in c.text for c in chunks)


def test_sidecar_metadata(tmp_path):
    p = tmp_path / "n.txt"
    p.write_text("Some contract text about audits.")
    (tmp_path / "n.txt.meta.yaml").write_text("title: Sidecar title\ndoc_type: contract\nvendor: Acme\n")
    doc = load(p, "n.txt")
    assert doc.title == "Sidecar title" and doc.doc_type == "contract" and doc.metadata["vendor"] == "Acme"


@pytest.mark.parametrize(
    "name,content,reason",
    [
        ("empty.txt", b"", "empty"),
        ("blank.md", b"   \n\n  ", "empty"),
        ("binary.txt", bytes(range(256)) * 10, "binary"),
        ("fake.pdf", b"%PDF-1.4 this is not really a pdf", "PDF"),
        ("fake.docx", b"PK\x03\x04 not a zip", "DOCX"),
        ("bad-front.md", b"---\ntitle: [unclosed\n---\nbody", "front matter"),
        ("bad-type.md", b"---\ndoc_type: memo\n---\n# T\nbody text", "doc_type"),
        ("x.exe", b"MZ", "unsupported"),
    ],
)
def test_bad_input_gives_clear_reason(tmp_path, name, content, reason):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(LoadError) as err:
        load(p, name)
    assert reason.lower() in err.value.reason.lower()
    assert err.value.source == name


def test_size_limit(tmp_path):
    p = tmp_path / "big.txt"
    p.write_text("word " * 50_000)
    with pytest.raises(LoadError, match="limit"):
        load(p, "big.txt", max_bytes=100_000)


def test_zip_bomb_docx_rejected(tmp_path):
    p = tmp_path / "bomb.docx"
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", b"\x00" * (250 * 1024 * 1024))
    with pytest.raises(LoadError, match="zip bomb"):
        load(p, "bomb.docx")
