"""The shipped knowledge base: valid front matter, consistent facts, a README that lists it all."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.frontmatter import split_front_matter, validate
from tests.conftest import KNOWLEDGE

pytestmark = pytest.mark.unit
DOCS = sorted(p for p in KNOWLEDGE.rglob("*.md") if p.name != "README.md")


def meta(p: Path) -> dict:
    fm, _, _ = split_front_matter(p.read_text(encoding="utf-8"))
    return validate(fm, strict=True)


def test_counts_per_folder():
    folders = {p.parent.name for p in DOCS}
    assert folders == {"guidance", "contracts", "audits"}
    counts = {f: sum(1 for p in DOCS if p.parent.name == f) for f in folders}
    assert counts["guidance"] >= 12 and counts["contracts"] >= 12 and counts["audits"] >= 10


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.relative_to(KNOWLEDGE).as_posix())
def test_front_matter_is_valid(path):
    m = meta(path)  # raises on missing fields, bad values or non-ISO dates
    folder_type = {"guidance": "guidance", "contracts": "contract", "audits": "audit"}[path.parent.name]
    assert m["doc_type"] == folder_type
    if m["doc_type"] == "audit":
        assert m["vendor"] and m["findings"] is not None
        for f in m["findings"]:
            assert re.fullmatch(r"[A-Z]{2}-\d{4}-\d{2}", f["id"]), f["id"]


def test_titles_are_unique():
    titles = [meta(p)["title"] for p in DOCS]
    assert len(titles) == len(set(titles))


def test_audit_vendors_have_contracts():
    contract_vendors = {meta(p).get("vendor") for p in DOCS if p.parent.name == "contracts"} - {None}
    audit_vendors = {meta(p)["vendor"] for p in DOCS if p.parent.name == "audits"}
    assert audit_vendors and audit_vendors <= contract_vendors


def test_every_finding_has_a_section_in_its_document():
    for p in DOCS:
        m = meta(p)
        text = p.read_text(encoding="utf-8")
        for f in m.get("findings") or []:
            assert f["id"] in text, f"{p.name}: {f['id']} not discussed"


def test_notification_deadline_agrees_across_documents():
    texts = {p.relative_to(KNOWLEDGE).as_posix(): p.read_text(encoding="utf-8") for p in DOCS}
    for doc in ("contracts/model-clauses-data-protection.md", "contracts/data-processing-agreement-template.md",
                "guidance/data-privacy-and-security.md"):
        deadlines = re.findall(r"(?:Supplier|Processor|vendor) (?:shall|must) notify Kestrel[^.]*?within (\d+) hours", texts[doc])
        assert deadlines and set(deadlines) == {"24"}, (doc, deadlines)
    assert "48 hours" in texts["contracts/northwind-payroll-agreement.md"]


def test_readme_lists_every_document():
    readme = (KNOWLEDGE / "README.md").read_text(encoding="utf-8")
    for p in DOCS:
        assert f"({p.relative_to(KNOWLEDGE).as_posix()})" in readme, p.name
    assert "Adding a document" in readme


def test_thesaurus_maps_to_wording_the_documents_use():
    """Every phrase the thesaurus offers for an everyday word is one the knowledge base really uses
    (after stemming), so an expansion can only ever point at text that exists."""
    from assistant.core.text import tokens
    from assistant.retrieval import thesaurus

    t = thesaurus.load(KNOWLEDGE / thesaurus.FILE_NAME)  # raises on a broken file
    assert len(t) >= 300
    text = " ".join(" ".join(tokens(p.read_text(encoding="utf-8"))) for p in DOCS)
    absent = [(k, p) for k, phrases in t.entries.items() for p in phrases if f" {' '.join(tokens(p))} " not in f" {text} "]
    assert not absent, absent[:10]
