"""Build the PDF and DOCX versions of the Corrowmere review test contract from its Markdown.

Run from the repository root:  python evals/review_contracts/make_formats.py

The front matter is dropped (the metadata lives in the ``.pdf.meta.yaml`` and ``.docx.meta.yaml``
sidecars). ``#`` becomes the title, ``##``/``###`` headings become headings, ``- `` lines become
bullets and every other line (each numbered clause) becomes one paragraph, wrapped to the page so
that no text is cut off and each clause line still starts with its number when the text is
extracted. The output is deterministic (fixed creation dates, no random ids), so re-running the
script on an unchanged Markdown file gives the same files.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "corrowmere-pdf-docx-agreement.md"
FIXED_DATE = dt.datetime(2025, 9, 1, 9, 0, 0)


def blocks(markdown: str) -> list[tuple[str, str]]:
    """(kind, text) for each non-empty line of the body: title, h2, h3, bullet or para."""
    body = re.sub(r"\A---[ \t]*\n.*?\n---[ \t]*\n", "", markdown, count=1, flags=re.S)
    out: list[tuple[str, str]] = []
    for raw in body.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("### "):
            out.append(("h3", line[4:].strip()))
        elif line.startswith("## "):
            out.append(("h2", line[3:].strip()))
        elif line.startswith("# "):
            out.append(("title", line[2:].strip()))
        elif line.startswith("- "):
            out.append(("bullet", line[2:].strip()))
        else:
            out.append(("para", line))
    return out


def title_of(items: list[tuple[str, str]]) -> str:
    return next((t for k, t in items if k == "title"), SOURCE.stem)


def write_pdf(items: list[tuple[str, str]], path: Path) -> None:
    from reportlab.lib.enums import TA_LEFT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    ss = getSampleStyleSheet()
    styles = {
        "title": ParagraphStyle("T", parent=ss["Title"], fontSize=15, leading=19, alignment=TA_LEFT, spaceAfter=8),
        "h2": ParagraphStyle("H2", parent=ss["Heading2"], fontSize=13, leading=16, spaceBefore=10, spaceAfter=4),
        "h3": ParagraphStyle("H3", parent=ss["Heading3"], fontSize=11, leading=14, spaceBefore=6, spaceAfter=3),
        "para": ParagraphStyle("P", parent=ss["BodyText"], fontSize=10, leading=13, spaceAfter=5),
        "bullet": ParagraphStyle("B", parent=ss["BodyText"], fontSize=10, leading=13, leftIndent=12,
                                 bulletIndent=2, spaceAfter=2),
    }
    title = title_of(items)
    doc = SimpleDocTemplate(
        str(path), pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm, bottomMargin=18 * mm,
        title=title, author="Kestrel Group", subject="Vendor contract (review test)", creator="make_formats.py",
        invariant=1,
    )
    flow = []
    for kind, text in items:
        if kind == "bullet":
            flow.append(Paragraph(escape(text), styles["bullet"], bulletText="-"))
        else:
            flow.append(Paragraph(escape(text), styles[kind]))
        if kind == "title":
            flow.append(Spacer(1, 4))
    doc.build(flow)


def write_docx(items: list[tuple[str, str]], path: Path) -> None:
    import docx

    d = docx.Document()
    d.core_properties.title = title_of(items)
    d.core_properties.author = "Kestrel Group"
    d.core_properties.created = FIXED_DATE
    d.core_properties.modified = FIXED_DATE
    d.core_properties.last_modified_by = "make_formats.py"
    d.core_properties.revision = 1
    for kind, text in items:
        if kind == "title":
            d.add_heading(text, level=0)
        elif kind == "h2":
            d.add_heading(text, level=1)
        elif kind == "h3":
            d.add_heading(text, level=2)
        elif kind == "bullet":
            d.add_paragraph(text, style="List Bullet")
        else:
            d.add_paragraph(text)
    d.save(str(path))


def main() -> int:
    items = blocks(SOURCE.read_text(encoding="utf-8"))
    pdf = SOURCE.with_suffix(".pdf")
    docx_path = SOURCE.with_suffix(".docx")
    write_pdf(items, pdf)
    write_docx(items, docx_path)
    print(f"wrote {pdf.relative_to(HERE.parent.parent)} and {docx_path.relative_to(HERE.parent.parent)}"
          f" ({sum(1 for k, _ in items if k == 'para')} clause paragraphs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
