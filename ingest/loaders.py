"""Loaders: one function per format, each returning a normalised ``Document``.

Every loader fails with ``LoadError`` (a reason a person can act on) rather than letting a
library exception escape, so the pipeline can report the file and carry on.
"""

from __future__ import annotations

import html
import html.parser
import re
import zipfile
from pathlib import Path
from typing import Any, Callable

from assistant.core.types import Document
from ingest.frontmatter import MAX_YAML_CHARS, FrontMatterError, parse_yaml, split_front_matter, validate
from ingest.normalize import normalize

SUPPORTED = (".md", ".markdown", ".txt", ".pdf", ".docx", ".html", ".htm")
MAX_PDF_PAGES = 2000
MAX_EXTRACTED_CHARS = 20_000_000
MAX_DOCX_UNCOMPRESSED = 200 * 1024 * 1024
MAX_ZIP_RATIO = 200
MAX_DERIVED_TITLE = 300


def is_skipped_name(name: str) -> bool:
    """README files and metadata sidecars describe documents; they are never ingested themselves."""
    return name.lower() in ("readme.md", "readme.txt") or name.endswith(".meta.yaml")


class LoadError(Exception):
    """A file that cannot be ingested, with the reason."""

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


def _title_from(text: str, fallback: str) -> str:
    m = re.search(r"^#\s+(.+)$", text, re.M)
    return m.group(1).strip() if m else fallback


def _stem_title(path: Path) -> str:
    return re.sub(r"[_-]+", " ", path.stem).strip() or path.name


def _sidecar(path: Path, source: str) -> dict[str, Any]:
    """The ``<file>.meta.yaml`` beside ``path`` ({} when none), parsed with the same bounds as front matter."""
    side = path.with_name(path.name + ".meta.yaml")
    if not side.exists():
        return {}
    try:
        if side.stat().st_size > MAX_YAML_CHARS * 4:  # checked before reading: a sidecar is never big
            raise LoadError(source, f"sidecar {side.name} is larger than {MAX_YAML_CHARS * 4:,} bytes")
        data = parse_yaml(side.read_text(encoding="utf-8"), f"sidecar {side.name}") or {}
    except FrontMatterError as exc:
        raise LoadError(source, str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadError(source, f"sidecar {side.name} is unreadable: {exc}") from None
    if not isinstance(data, dict):
        raise LoadError(source, f"sidecar {side.name} must be a mapping")
    return data


def _decode(raw: bytes, source: str) -> str:
    if not raw.strip():
        raise LoadError(source, "file is empty")
    head = raw[:8192]
    if b"\x00" in head:
        raise LoadError(source, "file looks binary (NUL bytes), not text")
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    if controls > len(head) * 0.05:
        raise LoadError(source, "file looks binary (control bytes), not text")
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def load_text(path: Path, source: str) -> Document:
    text = normalize(_decode(path.read_bytes(), source))
    meta = _sidecar(path, source)
    return _finish(source, text, meta, _stem_title(path))


def load_markdown(path: Path, source: str, strict: bool = False) -> Document:
    raw = normalize(_decode(path.read_bytes(), source))
    try:
        meta, body, fm_lines = split_front_matter(raw)
    except FrontMatterError as exc:
        raise LoadError(source, str(exc)) from None
    meta = {**_sidecar(path, source), **meta}
    meta["_line_offset"] = fm_lines
    return _finish(source, body, meta, _title_from(body, _stem_title(path)), strict=strict)


def load_pdf(path: Path, source: str) -> Document:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path), strict=False)
        if reader.is_encrypted:
            raise LoadError(source, "PDF is encrypted")
        n = len(reader.pages)
        if n > MAX_PDF_PAGES:
            raise LoadError(source, f"PDF has {n} pages, more than the limit of {MAX_PDF_PAGES}")
        parts: list[str] = []
        pages: list[tuple[int, int, int]] = []
        pos = 0
        for i, page in enumerate(reader.pages, start=1):
            t = normalize(page.extract_text() or "").strip()
            if pos + len(t) > MAX_EXTRACTED_CHARS:
                raise LoadError(source, "PDF expands to more text than the limit (possible PDF bomb)")
            if parts:
                parts.append("\n\n")
                pos += 2
            parts.append(t)
            pages.append((pos, pos + len(t), i))
            pos += len(t)
        meta_title = (reader.metadata or {}).get("/Title") if reader.metadata else None
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError, AttributeError) as exc:
        raise LoadError(source, f"corrupt or unreadable PDF ({type(exc).__name__}: {exc})") from None
    text = "".join(parts)
    meta = _sidecar(path, source)
    doc = _finish(source, text, meta, str(meta_title) if meta_title else _stem_title(path))
    return Document(doc.source, doc.text, doc.title, doc.doc_type, doc.metadata, tuple(pages))


def _check_zip(path: Path, source: str) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            total = 0
            for info in zf.infolist():
                total += info.file_size
                if info.compress_size and info.file_size / info.compress_size > MAX_ZIP_RATIO and info.file_size > 10_000_000:
                    raise LoadError(source, f"DOCX member {info.filename} has a suspicious compression ratio (zip bomb?)")
            if total > MAX_DOCX_UNCOMPRESSED:
                raise LoadError(source, f"DOCX expands to {total} bytes, more than the limit (zip bomb?)")
    except zipfile.BadZipFile:
        raise LoadError(source, "not a valid DOCX (not a zip archive)") from None


def load_docx(path: Path, source: str) -> Document:
    _check_zip(path, source)
    try:
        import docx  # python-docx

        d = docx.Document(str(path))
    except Exception as exc:  # python-docx raises many unrelated types on corrupt files
        raise LoadError(source, f"corrupt or unreadable DOCX ({type(exc).__name__}: {exc})") from None
    lines: list[str] = []
    for p in d.paragraphs:
        t = p.text.strip()
        if not t:
            continue
        style = (p.style.name if p.style is not None else "") or ""
        m = re.match(r"Heading (\d)", style)
        if style == "Title":
            lines.append(f"# {t}")
        elif m:
            lines.append("#" * min(6, int(m.group(1)) + 1) + " " + t)
        elif "List" in style:
            lines.append(f"- {t}")
        else:
            lines.append(t)
    for table in d.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells]
            if any(cells):
                lines.append(" | ".join(cells))
    text = normalize("\n\n".join(lines))
    meta = _sidecar(path, source)
    title = (d.core_properties.title or "").strip() or _title_from(text, _stem_title(path))
    return _finish(source, text, meta, title)


class _HTMLText(html.parser.HTMLParser):
    BLOCK = {"p", "div", "section", "article", "br", "tr", "table", "ul", "ol", "blockquote", "pre", "hr"}
    SKIP = {"script", "style", "noscript", "template", "iframe", "object", "svg", "head"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "title":
            self._in_title = True
        if tag in self.SKIP:
            self.skip += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self.out.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag in self.BLOCK:
            self.out.append("\n\n")
        elif tag == "td":
            self.out.append(" | ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in self.SKIP and self.skip:
            self.skip -= 1
        elif re.fullmatch(r"h[1-6]", tag) or tag in self.BLOCK:
            self.out.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
            return
        if not self.skip:
            self.out.append(re.sub(r"[ \t\r\n]+", " ", data))


def load_html(path: Path, source: str) -> Document:
    raw = _decode(path.read_bytes(), source)
    parser = _HTMLText()
    try:
        parser.feed(raw)
        parser.close()
    except Exception as exc:  # html.parser is lenient; this guards pathological input
        raise LoadError(source, f"unparseable HTML ({exc})") from None
    text = "".join(parser.out)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n[ \t]+", "\n", text)
    text = normalize(re.sub(r"\n{3,}", "\n\n", text).strip())
    meta = _sidecar(path, source)
    title = html.unescape(parser.title.strip()) or _title_from(text, _stem_title(path))
    return _finish(source, text, meta, title)


def _finish(source: str, text: str, meta: dict[str, Any], title: str, strict: bool = False) -> Document:
    if not text.strip():
        raise LoadError(source, "no text could be extracted (empty document)")
    try:
        meta = validate(meta, strict=strict)
    except FrontMatterError as exc:
        raise LoadError(source, f"invalid metadata: {exc}") from None
    # A title found in the file (heading, PDF or DOCX properties) is capped like any metadata value.
    title = str(meta.get("title") or title.strip()[:MAX_DERIVED_TITLE])
    doc_type = str(meta.get("doc_type") or "document")
    meta.setdefault("audience", "all")
    return Document(source=source, text=text, title=title, doc_type=doc_type, metadata=meta)


LOADERS: dict[str, Callable[[Path, str], Document]] = {
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_text,
    ".pdf": load_pdf,
    ".docx": load_docx,
    ".html": load_html,
    ".htm": load_html,
}


def load(path: Path, source: str, max_bytes: int | None = None) -> Document:
    """Load any supported file; raise LoadError with a reason otherwise."""
    ext = path.suffix.lower()
    if ext not in LOADERS:
        raise LoadError(source, f"unsupported file type '{ext}' (supported: {', '.join(SUPPORTED)})")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LoadError(source, f"cannot read file: {exc.strerror or exc}") from None
    if max_bytes is not None and size > max_bytes:
        raise LoadError(source, f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit")
    if size == 0:
        raise LoadError(source, "file is empty")
    try:
        return LOADERS[ext](path, source)
    except LoadError:
        raise
    except PermissionError:
        raise LoadError(source, "permission denied") from None
    except OSError as exc:
        raise LoadError(source, f"cannot read file: {exc.strerror or exc}") from None
    except RecursionError:
        raise LoadError(source, "document structure too deeply nested") from None
