"""HTML and Markdown for the web app: answers, source cards, refusals, findings rows, uploads.

Every piece of document or user text that goes into HTML is escaped here.
"""

from __future__ import annotations

import html
import re
from typing import Any, Sequence

from assistant.core.types import Answer, Chunk, Citation, format_location

REFUSAL_TITLES = {
    "not_in_knowledge_base": "Not in the knowledge base",
    "no_supported_statement": "Not in the knowledge base",
    "injection": "Request declined",
    "personal_data": "Personal data declined",
    "empty": "Please ask a question",
    "too_long": "Question too long",
}
FINDING_COLUMNS = ["Vendor", "ID", "Date", "Severity", "Status", "Area", "Due date", "Source"]
CONTEXT_CHARS = 280

def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def format_filters(filters: dict[str, Any]) -> str:
    """``{"vendor": "Northwind", "status": ["open"]}`` -> ``vendor=Northwind, status=open``."""
    parts = []
    for key, value in filters.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        parts.append(f"{key}={'|'.join(str(v) for v in values)}")
    return ", ".join(parts)


def _span(c: Citation, chunk: Chunk) -> tuple[int, int] | None:
    """Where the quote sits in the chunk text (offsets first; the text itself if they disagree)."""
    text = chunk.text
    s, e = c.start - chunk.start, c.end - chunk.start
    if 0 <= s <= e <= len(text) and text[s:e] == c.quote:
        return s, e
    i = text.find(c.quote)
    return (i, i + len(c.quote)) if i >= 0 else None


def passage_html(cites: list[Citation], chunk: Chunk | None, context: int = CONTEXT_CHARS) -> str:
    """The passage around its quotes, escaped, each quote in its own ``<mark id="cite-n">``."""
    spans = sorted((sp, c) for c in cites if chunk is not None and (sp := _span(c, chunk)) is not None)
    if chunk is None or not spans:
        return " … ".join(f'<mark id="cite-{c.n}" data-n="{c.n}">{esc(c.quote)}</mark>' for c in cites)
    text = chunk.text
    a, b = max(0, spans[0][0][0] - context), min(len(text), max(e for (_, e), _ in spans) + context)
    out, pos = ["…" if a > 0 else ""], a
    for (s, e), c in spans:
        if s < pos:  # overlapping quotes: mark the rest of this one
            s = pos
        out.append(esc(text[pos:s]))
        out.append(f'<mark id="cite-{c.n}" data-n="{c.n}">{esc(text[s:e])}</mark>')
        pos = max(pos, e)
    out.append(esc(text[pos:b]) + ("…" if b < len(text) else ""))
    return "".join(out)


def passage_card(k: int, cites: list[Citation], chunk: Chunk | None) -> str:
    """One source card per passage: its document, where it is, and every quote taken from it."""
    c = cites[0]
    meta = c.metadata or {}
    bits = [f'<span class="badge">{esc(c.doc_type or "document")}</span>']
    if meta.get("vendor"):
        bits.append(f"<span>vendor: {esc(meta['vendor'])}</span>")
    if c.section:
        bits.append(f"<span>§ {esc(c.section)}</span>")
    if meta.get("date"):
        bits.append(f"<span>{esc(meta['date'])}</span>")
    if meta.get("finding_id"):
        bits.append(f"<span>finding {esc(meta['finding_id'])} ({esc(meta.get('severity', ''))}, {esc(meta.get('status', ''))})</span>")
    first, last = min(x.line_start or 0 for x in cites), max(x.line_end or 0 for x in cites)
    where = c.location if len(cites) == 1 else format_location(c.source, first, last, c.page)
    bits.append(f"<code>{esc(where)}</code>")
    ns = " ".join(str(x.n) for x in cites)
    marks = "".join(f'<span class="cite-n">[{x.n}]</span>' for x in cites)
    return (
        f'<div class="citation" id="passage-{k}" data-n="{ns}">'
        f'<div class="cite-head">{marks}<span class="cite-title">{esc(c.title)}</span></div>'
        f'<div class="cite-meta">{"".join(bits)}</div>'
        f'<div class="cite-text">{passage_html(cites, chunk)}</div></div>'
    )


def passages(answer: Answer) -> list[tuple[list[Citation], Chunk | None]]:
    """The answer's citations grouped by the passage (chunk) they quote, in order of first citation."""
    chunks = {ch.id: ch for ch in answer.sources}
    groups: dict[str, list[Citation]] = {}
    for c in answer.citations:
        groups.setdefault(c.chunk_id, []).append(c)
    return [(cites, chunks.get(cid)) for cid, cites in groups.items()]


def refusal_html(answer: Answer) -> str:
    title = REFUSAL_TITLES.get(answer.refusal_reason, "Not in the knowledge base")
    message = answer.text.split("\n\n", 1)[0]
    out = [f'<div class="refusal" role="status"><div class="refusal-title">⊘ {esc(title)}</div><div>{esc(message)}</div>']
    if answer.sources:
        out.append("<div><b>Nearest sources</b> (they do not answer the question):<ul>")
        seen: set[str] = set()
        for ch in answer.sources:
            if ch.source in seen:
                continue
            seen.add(ch.source)
            section = f" § {esc(ch.section)}" if ch.section else ""
            out.append(f"<li>{esc(ch.title)}{section} <code>{esc(ch.location)}</code></li>")
        out.append("</ul></div>")
    out.append("</div>")
    return "".join(out)


def sources_html(answer: Answer | None) -> str:
    """The Sources panel for an answer (or its empty state)."""
    if answer is None:
        return (
            '<div class="sources-panel"><div class="sources-empty">Sources appear here: every [n] in the answer '
            "with its document, type, vendor, section, date, file and line, and the quoted passage highlighted."
            "</div></div>"
        )
    parts = [f'<div class="sources-panel" data-question="{esc(answer.question)}">']
    if answer.notice:
        parts.append(f'<div class="notice" role="alert">⚠ {esc(answer.notice)}</div>')
    if answer.filters:
        parts.append(f'<div class="filters-line">Filters: {esc(format_filters(answer.filters))}</div>')
    if answer.refused:
        parts.append(refusal_html(answer))
    else:
        unsupported = [s for s in answer.statements if not s.supported]
        if unsupported:
            parts.append('<div class="unsupported"><b>⚠ Statements no source supports</b><ul>')
            for s in unsupported:
                parts.append(f'<li><span class="badge warn">unsupported</span> {esc(s.text)}</li>')
            parts.append("</ul></div>")
        cards = passages(answer)
        parts.append(f'<div class="sources-title">Sources ({len(cards)} passages, {len(answer.citations)} quotes)</div>')
        for k, (cites, chunk) in enumerate(cards, start=1):
            parts.append(passage_card(k, cites, chunk))
    parts.append("</div>")
    return "".join(parts)


_LINK_OPEN = re.compile(r"\[(?!\d{1,3}\])")


def safe_markdown(text: str) -> str:
    """Escaped text whose Markdown can never load anything: no images, no links ("![x](url)" and
    "[x](url)" are shown as written); the answer's own [n] markers stay."""
    return _LINK_OPEN.sub(r"\\[", esc(text))


def answer_markdown(answer: Answer) -> str:
    """The chat message for a final answer: escaped text (markdown stays), refusal and filter lines."""
    lines = []
    if answer.notice:
        lines.append(f"⚠ {esc(answer.notice)}\n")
    if answer.refused:
        lines.append(f"⊘ **{esc(REFUSAL_TITLES.get(answer.refusal_reason, 'Not in the knowledge base'))}**\n")
    lines.append(safe_markdown(answer.text))
    unsupported = sum(1 for s in answer.statements if not s.supported)
    if unsupported and not answer.refused:
        lines.append(f"\n⚠ {unsupported} statement(s) are not backed by any source (marked in the Sources panel).")
    if answer.filters:
        lines.append(f"\n**Filters:** {esc(format_filters(answer.filters))}")
    return "\n".join(lines)


def answer_payload(answer: Answer) -> dict[str, Any]:
    """What the API returns and feedback stores: JSON-able, without the full source chunks."""
    return {
        "question": answer.question,
        "answer": answer.text,
        "refused": answer.refused,
        "refusal_reason": answer.refusal_reason,
        "citations": [c.to_dict() for c in answer.citations],
        "filters": answer.filters,
        "notice": answer.notice,
        "backend": answer.backend,
    }


def upload_results_html(rows: Sequence[Any]) -> str:
    """The results table of an upload: one row per ``UploadResult``."""
    body = "".join(
        f'<tr class="upload-row" data-result="{esc(r.result)}"><td>{esc(r.name)}</td>'
        f'<td class="{"upload-bad" if not r.ok else "upload-ok"}">{"✔" if r.ok else "✘"} {esc(r.result)}</td>'
        f"<td>{esc(r.details)}</td></tr>"
        for r in rows
    )
    return f'<table class="upload-results"><tr><th>File</th><th>Result</th><th>Details</th></tr>{body}</table>'


def message_html(text: str, kind: str = "role-denied") -> str:
    return f'<div class="{esc(kind)}">{esc(text)}</div>'


def table_html(rows: Sequence[tuple[str, Any]], elem_id: str) -> str:
    """A two-column table of label / value pairs (the Settings tab)."""
    body = "".join(f"<tr><td><b>{esc(k)}</b></td><td>{esc(v)}</td></tr>" for k, v in rows)
    return f'<table class="settings-table" id="{esc(elem_id)}">{body}</table>'


def status_line_html(user: str, role: str, signed_in: bool, stats: dict[str, Any]) -> str:
    who = f"Signed in as <b>{esc(user)}</b>" if signed_in else "Local user (no sign-in)"
    return (
        f'<div id="status-line">{who} · role <b>{esc(role)}</b> · '
        f"{stats['documents']} documents · {stats['chunks']} chunks · {esc(stats['backend'])} answers</div>"
    )


def findings_rows(rows: Sequence[dict[str, Any]]) -> list[list[str]]:
    """Finding records as table rows in ``FINDING_COLUMNS`` order."""
    return [
        [r.get("vendor", ""), r.get("id", ""), r.get("doc_date", ""), r.get("severity", ""), r.get("status", ""),
         r.get("area", ""), str(r.get("due_date", "") or ""), r.get("source", "")]
        for r in rows
    ]


CSS = """
.app-header h1 { margin-bottom: 0; }
#status-line { font-size: 0.9em; opacity: 0.85; }
.sources-panel { display: flex; flex-direction: column; gap: 10px; }
.sources-empty { opacity: 0.75; font-style: italic; padding: 8px; }
.sources-title { font-weight: 600; font-size: 1.05em; }
.citation { border: 1px solid var(--border-color-primary); border-left: 4px solid #2563eb;
            border-radius: 6px; padding: 8px 10px; background: var(--background-fill-secondary); }
.cite-head { font-weight: 600; }
.cite-n { color: #2563eb; margin-right: 4px; }
.cite-meta { font-size: 0.85em; opacity: 0.85; margin: 2px 0 6px; display: flex; flex-wrap: wrap; gap: 4px 10px; }
.cite-meta code { font-size: 0.95em; }
.badge { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 0.8em; font-weight: 600;
         background: #e0e7ff; color: #1e3a8a; }
.badge.warn { background: #fef3c7; color: #92400e; }
.cite-text { font-size: 0.9em; white-space: pre-wrap; line-height: 1.45; max-height: 16em; overflow-y: auto; }
.cite-text mark { background: #fde047; color: #111; padding: 0 1px; border-radius: 2px; }
.refusal { border: 2px solid #dc2626; background: #fef2f2; color: #7f1d1d; border-radius: 8px; padding: 10px 12px; }
.refusal-title { font-weight: 700; font-size: 1.1em; margin-bottom: 4px; }
.refusal ul { margin: 6px 0 0 18px; }
.notice { border: 1px solid #d97706; background: #fffbeb; color: #78350f; border-radius: 6px; padding: 6px 10px; }
.filters-line { font-size: 0.9em; padding: 4px 8px; border-radius: 6px; background: var(--background-fill-secondary); }
.unsupported { border: 1px solid #d97706; border-radius: 6px; padding: 6px 10px; background: #fffbeb; color: #78350f; }
.unsupported ul { margin: 4px 0 0 18px; }
.upload-results td, .upload-results th, .settings-table td { padding: 3px 8px; text-align: left; vertical-align: top; }
.upload-ok { color: #166534; font-weight: 600; }
.upload-bad { color: #b91c1c; font-weight: 600; }
.role-denied { border: 2px solid #d97706; background: #fffbeb; color: #78350f; border-radius: 8px; padding: 8px 12px; }
"""


