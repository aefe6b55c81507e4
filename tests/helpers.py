"""Builders for test documents in every supported format."""

from __future__ import annotations

from pathlib import Path


def write_pdf(path: Path, pages: list[list[str]]) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    for lines in pages:
        y = 800
        for line in lines:
            c.drawString(72, y, line)
            y -= 16
        c.showPage()
    c.save()


def write_docx(path: Path, title: str, sections: list[tuple[str, list[str]]]) -> None:
    import docx

    d = docx.Document()
    d.add_heading(title, level=0)
    for heading, paras in sections:
        d.add_heading(heading, level=1)
        for p in paras:
            d.add_paragraph(p)
    d.save(str(path))


MD_DOC = """---
title: Test encryption guidance
doc_type: guidance
audience: all
date: 2025-01-02
tags: [encryption, test]
summary: A small guidance document for tests.
---
# Test encryption guidance

## Encryption at rest

Data at rest must be encrypted with AES-256. Keys are rotated every 12 months.

## Encryption in transit

1. Use TLS 1.2 or higher for every connection.
2. Never allow SSL or TLS 1.0.
"""
