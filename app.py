"""Gradio front end: chat with cited answers, sources, filters, findings, uploads and feedback.

UI wiring only. Answers, search, findings, ingest and feedback all go through the public API
(``assistant.api.Assistant``, ``assistant.feedback.FeedbackStore``); this module renders them.
Every piece of document or user text that goes into HTML is escaped here.
"""

import os

# Before gradio is imported: no analytics or version checks, no model downloads.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import datetime as dt
import html
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import gradio as gr
import pandas as pd

from assistant.api import Assistant
from assistant.auth import AuthConfigError, UserStore, load_users
from assistant.feedback import FeedbackStore
from assistant.settings import Settings, SettingsError, load_settings
from assistant.types import Answer, Chunk, Citation
from ingest.loaders import SUPPORTED

DOC_TYPES = ["guidance", "contract", "audit"]
SEVERITIES = ["critical", "high", "medium", "low"]
STATUSES = ["open", "closed"]
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
ALL = "All"
UPLOAD_ROLES = ("manager", "admin")
UPLOAD_TYPES = tuple(e for e in (".pdf", ".docx", ".md", ".txt", ".html") if e in SUPPORTED)
EXAMPLES = [
    ("Manager", "What must our contract say about data encryption?"),
    ("New staff", "How do we vet a new BPO provider?"),
    ("Auditor", "What did past audits find at Northwind about access reviews?"),
    ("Auditor", "Which findings are still open?"),
]
FINDING_COLUMNS = ["Vendor", "ID", "Date", "Severity", "Status", "Area", "Due date", "Source"]
REFUSAL_TITLES = {
    "not_in_knowledge_base": "Not in the knowledge base",
    "no_supported_statement": "Not in the knowledge base",
    "out_of_scope": "Not in the knowledge base",
    "injection": "Request declined",
    "empty": "Please ask a question",
    "too_long": "Question too long",
}
SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CONTEXT_CHARS = 280

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


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


# -- rendering ----------------------------------------------------------------------------


def format_filters(filters: dict[str, Any]) -> str:
    """``{"vendor": "Northwind", "status": ["open"]}`` -> ``vendor=Northwind, status=open``."""
    parts = []
    for key, value in filters.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        parts.append(f"{key}={'|'.join(str(v) for v in values)}")
    return ", ".join(parts)


def _where(c: Citation | Chunk) -> str:
    line = getattr(c, "line_start", 0) or getattr(c, "line", 0)
    loc = c.source + (f":{line}" if line else "")
    end = getattr(c, "line_end", 0)
    if line and end and end != line:
        loc += f"-{end}"
    if c.page:
        loc += f" (page {c.page})"
    return loc


def quote_in_context(c: Citation, chunk: Chunk | None, context: int = CONTEXT_CHARS) -> str:
    """The chunk text around the quote, escaped, with the quote in <mark>."""
    if chunk is not None:
        text = chunk.text
        s, e = c.start - chunk.start, c.end - chunk.start
        if not (0 <= s <= e <= len(text)) or text[s:e] != c.quote:
            i = text.find(c.quote)  # offsets disagree with the text: fall back to locating the quote
            s, e = (i, i + len(c.quote)) if i >= 0 else (-1, -1)
        if s >= 0:
            a, b = max(0, s - context), min(len(text), e + context)
            before = ("…" if a > 0 else "") + text[a:s]
            after = text[e:b] + ("…" if b < len(text) else "")
            return f"{esc(before)}<mark>{esc(text[s:e])}</mark>{esc(after)}"
    return f"<mark>{esc(c.quote)}</mark>"


def citation_html(c: Citation, chunk: Chunk | None) -> str:
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
    bits.append(f"<code>{esc(_where(c))}</code>")
    return (
        f'<div class="citation" id="cite-{c.n}" data-n="{c.n}">'
        f'<div class="cite-head"><span class="cite-n">[{c.n}]</span><span class="cite-title">{esc(c.title)}</span></div>'
        f'<div class="cite-meta">{"".join(bits)}</div>'
        f'<div class="cite-text">{quote_in_context(c, chunk)}</div></div>'
    )


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
            out.append(f"<li>{esc(ch.title)}{section} <code>{esc(_where(ch))}</code></li>")
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
        parts.append(f'<div class="sources-title">Sources ({len(answer.citations)})</div>')
        chunks = {ch.id: ch for ch in answer.sources}
        for c in answer.citations:
            parts.append(citation_html(c, chunks.get(c.chunk_id)))
    parts.append("</div>")
    return "".join(parts)


def answer_markdown(answer: Answer) -> str:
    """The chat message for a final answer: escaped text (markdown stays), refusal and filter lines."""
    lines = []
    if answer.notice:
        lines.append(f"⚠ {esc(answer.notice)}\n")
    if answer.refused:
        lines.append(f"⊘ **{esc(REFUSAL_TITLES.get(answer.refusal_reason, 'Not in the knowledge base'))}**\n")
    lines.append(esc(answer.text))
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


# -- input checks -------------------------------------------------------------------------


def collect_filters(doc_type: Any, vendor: Any, date_from: str, date_to: str, severity: Any, status: Any) -> dict[str, Any]:
    """Filter widgets -> the API's filter dict.

    Raises:
        ValueError: a date that is not YYYY-MM-DD, or from after to.
    """
    out: dict[str, Any] = {}
    for key, value in (("doc_type", doc_type), ("vendor", vendor), ("severity", severity), ("status", status)):
        values = [v for v in (value if isinstance(value, (list, tuple)) else [value]) if v and v != ALL]
        if values:
            out[key] = values
    for key, value in (("date_from", date_from), ("date_to", date_to)):
        value = (value or "").strip()
        if not value:
            continue
        try:
            if not DATE.match(value):
                raise ValueError
            dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{key.replace('_', ' ')} must be a date like 2024-05-01, got {value!r}") from None
        out[key] = value
    if out.get("date_from") and out.get("date_to") and out["date_from"] > out["date_to"]:
        raise ValueError("date from is after date to")
    return out


def safe_filename(name: str) -> str:
    """Strip any path, keep [A-Za-z0-9._ -], no leading dots or spaces; '' when nothing is left."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = SAFE_NAME.sub("_", base).strip().lstrip(". ").strip()
    return base[:120]


def ingest_upload(assistant: Assistant, settings: Settings, tmp: Path, progress: Callable[..., None] | None = None) -> tuple[str, str, str]:
    """Check one uploaded file, copy it into the upload folder and ingest it.

    Returns (shown name, result, details) with result one of ingested / updated / unchanged /
    rejected. A rejected file leaves the upload folder and the index as they were.
    """
    from ingest.pipeline import IngestLockedError

    original = tmp.name
    name = safe_filename(original)
    suffix = Path(name).suffix.lower()
    if not name or not Path(name).stem.strip("._ -"):
        return original, "rejected", "the file name has no usable characters"
    if suffix not in UPLOAD_TYPES:
        return original, "rejected", f"type {suffix or '(none)'} is not accepted; use {' '.join(UPLOAD_TYPES)}"
    if name.lower() in ("readme.md", "readme.txt") or name.endswith(".meta.yaml"):
        return original, "rejected", "README files are not ingested; rename the file"
    try:
        size = tmp.stat().st_size
    except OSError as exc:
        return original, "rejected", f"cannot read the upload ({exc.strerror or exc})"
    if size == 0:
        return original, "rejected", "the file is empty"
    if size > settings.max_file_mb * 1e6:
        return original, "rejected", f"{size / 1e6:.1f} MB is over the {settings.max_file_mb:g} MB limit"
    folder = settings.upload_dir
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / name
    backup = dest.read_bytes() if dest.exists() else None

    def restore() -> None:
        if backup is None:
            dest.unlink(missing_ok=True)
        else:
            dest.write_bytes(backup)

    shutil.copyfile(tmp, dest)
    try:
        report = assistant.ingest(path=dest, progress=progress, show_bar=False)
    except IngestLockedError as exc:
        restore()
        return name, "rejected", f"{exc}; try again in a minute"
    except Exception as exc:  # a store or model failure: report it, keep the folder as it was
        restore()
        return name, "rejected", f"ingest failed ({type(exc).__name__}: {exc})"
    if report.failed:
        restore()
        return name, "rejected", "; ".join(reason for _, reason in report.failed)
    rel = dest.relative_to(settings.knowledge_root).as_posix() if dest.is_relative_to(settings.knowledge_root) else name
    if report.added or report.updated:
        return name, "updated" if report.updated else "ingested", f"{report.chunks_written} chunk{'s' if report.chunks_written != 1 else ''} from {rel}"
    if report.unchanged:
        return name, "unchanged", f"already in the knowledge base ({rel})"
    restore()
    return name, "rejected", "the file was skipped by the ingest scan"


def upload_results_html(rows: list[tuple[str, str, str]]) -> str:
    body = "".join(
        f'<tr class="upload-row" data-result="{esc(result)}"><td>{esc(name)}</td>'
        f'<td class="{"upload-bad" if result == "rejected" else "upload-ok"}">{"✘" if result == "rejected" else "✔"} {esc(result)}</td>'
        f"<td>{esc(msg)}</td></tr>"
        for name, result, msg in rows
    )
    return f'<table class="upload-results"><tr><th>File</th><th>Result</th><th>Details</th></tr>{body}</table>'


# -- the app ------------------------------------------------------------------------------


def build_app(assistant: Assistant, settings: Settings, users: UserStore | None = None) -> gr.Blocks:
    """The Blocks app. ``users`` (or ``settings.users_file``) turns on per-user roles; pass
    ``launch_options(settings, users)`` to ``launch`` for sign-in, theme and CSS."""
    if users is None and settings.users_file:
        users = load_users(settings.users_file)
    feedback = FeedbackStore(settings.feedback_db)

    def who(request: gr.Request | None) -> tuple[str, str]:
        name = getattr(request, "username", None) if request is not None else None
        if users is not None:
            role = users.role_of(name)
            if role is None:
                raise gr.Error("Please sign in.")
            return str(name), role
        return name or "local", settings.default_role

    def vendors() -> list[str]:
        return list(assistant.retriever.corpus.vendors)

    def status_line(user: str, role: str) -> str:
        s = assistant.stats()
        who_ = f"Signed in as <b>{esc(user)}</b>" if users is not None else "Local user (no sign-in)"
        return (
            f'<div id="status-line">{who_} · role <b>{esc(role)}</b> · '
            f"{s['documents']} documents · {s['chunks']} chunks · {esc(s['backend'])} answers</div>"
        )

    def settings_html(user: str, role: str) -> str:
        s = assistant.stats()
        rows = [
            ("Answer backend", s["backend"]),
            ("Embedding model", s["embedding_model"]),
            ("Store / index", s["store"]),
            ("Collection", s["collection"]),
            ("Documents", s["documents"]),
            ("Chunks", s["chunks"]),
            ("Knowledge folder", settings.knowledge_root),
            ("Upload folder", settings.upload_dir),
            ("Upload limit", f"{settings.max_file_mb:g} MB ({', '.join(UPLOAD_TYPES)})"),
            ("Sign-in", "on (users file)" if users is not None else "off (single local user)"),
            ("You", f"{user} ({role})"),
        ]
        body = "".join(f"<tr><td><b>{esc(k)}</b></td><td>{esc(v)}</td></tr>" for k, v in rows)
        return f'<table class="settings-table" id="settings-table">{body}</table>'

    def findings_frame(role: str, vendor: str, severity: str, status: str) -> tuple[pd.DataFrame, str]:
        rows = assistant.findings(role)
        shown = [
            r for r in rows
            if (vendor in (None, "", ALL) or r.get("vendor") == vendor)
            and (severity in (None, "", ALL) or r.get("severity") == severity)
            and (status in (None, "", ALL) or r.get("status") == status)
        ]
        # Open first, then by severity (critical first), so the table starts with what needs action.
        shown.sort(key=lambda r: (r.get("status") != "open", SEVERITY_RANK.get(r.get("severity", ""), 9),
                                  r.get("vendor", ""), r.get("id", "")))
        data = [
            [r.get("vendor", ""), r.get("id", ""), r.get("doc_date", ""), r.get("severity", ""), r.get("status", ""),
             r.get("area", ""), str(r.get("due_date", "") or ""), r.get("source", "")]
            for r in shown
        ]
        n_open = sum(1 for r in shown if r.get("status") == "open")
        summary = f"{len(shown)} of {len(rows)} findings shown, {n_open} open. Sort or filter from a column's ⋮ menu."
        return pd.DataFrame(data, columns=FINDING_COLUMNS), summary

    with gr.Blocks(title="Outsourcing guidance assistant") as demo:
        with gr.Row(elem_classes="app-header"):
            gr.Markdown("# Outsourcing guidance assistant\nAnswers from your organisation's knowledge base, with every statement cited.")
        status_box = gr.HTML(elem_id="status-box")
        last_answer = gr.State(None)
        history = gr.State([])

        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(
                            label="Conversation",
                            show_label=False,
                            elem_id="chatbot",
                            height=520,
                            latex_delimiters=[],
                            feedback_options=None,
                            buttons=["copy"],
                            placeholder=(
                                "**Ask about outsourcing ethics, vendor contracts and past audit findings.**\n\n"
                                "Every statement is cited to the knowledge base; questions it cannot answer get "
                                "*not in the knowledge base*. Try one of these:"
                            ),
                            examples=[{"text": q, "display_text": f"{who_}: {q}"} for who_, q in EXAMPLES],
                        )
                        with gr.Row():
                            question = gr.Textbox(
                                show_label=False, placeholder="Ask a question…", elem_id="question",
                                scale=6, lines=1, max_lines=6, autofocus=True,
                            )
                            ask_btn = gr.Button("Ask", variant="primary", elem_id="ask-btn", scale=1, min_width=80)
                        with gr.Row():
                            new_btn = gr.Button("New conversation", elem_id="new-conversation", size="sm")
                        with gr.Accordion("Filters (applied to the next question)", open=False, elem_id="filters"):
                            with gr.Row():
                                f_doc_type = gr.CheckboxGroup(DOC_TYPES, label="Document type", elem_id="filter-doc-type")
                                f_vendor = gr.Dropdown(
                                    choices=vendors(), multiselect=True, label="Vendor", elem_id="filter-vendor",
                                )
                            with gr.Row():
                                f_date_from = gr.Textbox(label="Date from", placeholder="YYYY-MM-DD", elem_id="filter-date-from")
                                f_date_to = gr.Textbox(label="Date to", placeholder="YYYY-MM-DD", elem_id="filter-date-to")
                            with gr.Row():
                                f_severity = gr.CheckboxGroup(SEVERITIES, label="Finding severity", elem_id="filter-severity")
                                f_status = gr.CheckboxGroup(STATUSES, label="Finding status", elem_id="filter-status")
                            clear_filters = gr.Button("Clear filters", size="sm", elem_id="clear-filters")
                        with gr.Group(elem_id="feedback"):
                            gr.Markdown("**Was the last answer useful?**")
                            with gr.Row():
                                up_btn = gr.Button("✔ Helpful", elem_id="thumbs-up", size="sm")
                                down_btn = gr.Button("✘ Not helpful", elem_id="thumbs-down", size="sm")
                            fb_comment = gr.Textbox(label="Comment (optional)", elem_id="feedback-comment", lines=2, max_lines=6)
                            fb_status = gr.Markdown(elem_id="feedback-status")
                    with gr.Column(scale=2):
                        sources = gr.HTML(sources_html(None), label="Sources", elem_id="sources")

            with gr.Tab("Findings", id="findings"):
                gr.Markdown("Audit findings with their current status (the latest audit or follow-up wins).")
                with gr.Row():
                    fd_vendor = gr.Dropdown([ALL, *vendors()], value=ALL, label="Vendor", elem_id="findings-vendor")
                    fd_severity = gr.Dropdown([ALL, *SEVERITIES], value=ALL, label="Severity", elem_id="findings-severity")
                    fd_status = gr.Dropdown([ALL, *STATUSES], value=ALL, label="Status", elem_id="findings-status")
                fd_summary = gr.Markdown(elem_id="findings-summary")
                fd_table = gr.Dataframe(
                    headers=FINDING_COLUMNS, interactive=False, wrap=True, elem_id="findings-table",
                    max_height=560, show_search="search", buttons=["copy"],
                )

            with gr.Tab("Upload", id="upload"):
                gr.Markdown(
                    f"Add documents to the knowledge base ({', '.join(UPLOAD_TYPES)}, at most {settings.max_file_mb:g} MB each). "
                    f"Managers and admins only. Files are stored in `{settings.upload_dir_name}/` and searchable at once."
                )
                up_files = gr.File(label="Documents", file_count="multiple", type="filepath", elem_id="upload-files")
                up_btn_ingest = gr.Button("Add to knowledge base", variant="primary", elem_id="upload-btn")
                up_result = gr.HTML(elem_id="upload-result")

            with gr.Tab("Settings", id="settings"):
                settings_box = gr.HTML(elem_id="settings")

        # -- chat ------------------------------------------------------------------------
        filter_inputs = [f_doc_type, f_vendor, f_date_from, f_date_to, f_severity, f_status]

        def respond(q, chat, hist, doc_type, vendor, date_from, date_to, severity, status, request: gr.Request) -> Iterator[tuple]:
            q = (q or "").strip()
            chat = list(chat or [])
            if not q:
                yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
                return
            user, role = who(request)
            chat.append({"role": "user", "content": esc(q)})
            try:
                filters = collect_filters(doc_type, vendor, date_from, date_to, severity, status)
            except ValueError as exc:
                chat.append({"role": "assistant", "content": f"⚠ Filter problem: {esc(exc)}. Fix it in Filters and ask again."})
                yield chat, q, hist, gr.skip(), gr.skip(), ""
                return
            chat.append({"role": "assistant", "content": "…"})
            yield chat, "", hist, gr.skip(), gr.skip(), ""
            text, answer = "", None
            try:
                for item in assistant.ask_stream(q, history=hist, filters=filters, role=role):
                    if isinstance(item, Answer):
                        answer = item
                        break
                    text += item
                    chat[-1] = {"role": "assistant", "content": esc(text)}
                    yield chat, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            except Exception as exc:  # show the failure in the conversation instead of a broken turn
                chat[-1] = {"role": "assistant", "content": f"⚠ Something went wrong: {esc(exc)}"}
                yield chat, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
                return
            if answer is None:
                return
            chat[-1] = {"role": "assistant", "content": answer_markdown(answer)}
            hist = [*hist, {"role": "user", "content": q}, {"role": "assistant", "content": answer.text}]
            yield chat, gr.skip(), hist, sources_html(answer), answer_payload(answer), ""

        chat_outputs = [chatbot, question, history, sources, last_answer, fb_status]
        chat_inputs = [question, chatbot, history, *filter_inputs]
        ask_btn.click(respond, chat_inputs, chat_outputs, api_visibility="private", concurrency_limit=4)
        question.submit(respond, chat_inputs, chat_outputs, api_visibility="private", concurrency_limit=4)

        def pick_example(evt: gr.SelectData) -> str:
            value = evt.value if isinstance(evt.value, dict) else {}
            return value.get("text", "")

        chatbot.example_select(pick_example, None, question, api_visibility="private").then(
            respond, chat_inputs, chat_outputs, api_visibility="private", concurrency_limit=4
        )

        def new_conversation():
            return [], [], sources_html(None), None, "", "", ""

        reset_outputs = [chatbot, history, sources, last_answer, question, fb_comment, fb_status]
        new_btn.click(new_conversation, None, reset_outputs, api_visibility="private")
        chatbot.clear(new_conversation, None, reset_outputs, api_visibility="private")
        clear_filters.click(lambda: ([], [], "", "", [], []), None, filter_inputs, api_visibility="private")

        # -- feedback --------------------------------------------------------------------
        def give_feedback(rating: int, comment: str, last: dict | None, request: gr.Request):
            if not last:
                return "Ask a question first, then rate the answer.", gr.skip()
            user, _ = who(request)
            fid = feedback.add(
                rating, last["question"], last["answer"], last["citations"], comment=(comment or "").strip(),
                user=user, backend=last["backend"],
            )
            return f"Thanks, your feedback was saved (#{fid}).", ""

        def thumbs_up(comment: str, last: dict | None, request: gr.Request):
            return give_feedback(1, comment, last, request)

        def thumbs_down(comment: str, last: dict | None, request: gr.Request):
            return give_feedback(-1, comment, last, request)

        up_btn.click(thumbs_up, [fb_comment, last_answer], [fb_status, fb_comment], api_visibility="private")
        down_btn.click(thumbs_down, [fb_comment, last_answer], [fb_status, fb_comment], api_visibility="private")

        # -- findings --------------------------------------------------------------------
        def show_findings(vendor: str, severity: str, status: str, request: gr.Request):
            _, role = who(request)
            return findings_frame(role, vendor, severity, status)

        for ctl in (fd_vendor, fd_severity, fd_status):
            ctl.change(show_findings, [fd_vendor, fd_severity, fd_status], [fd_table, fd_summary], api_visibility="private")

        # -- upload ----------------------------------------------------------------------
        def upload(files: list[str] | None, request: gr.Request, progress=gr.Progress()):
            user, role = who(request)
            vendor_update = gr.update(choices=vendors())
            findings_vendor_update = gr.update(choices=[ALL, *vendors()])
            if role not in UPLOAD_ROLES:
                msg = (f'<div class="role-denied">Your role ({esc(role)}) cannot add documents. '
                       "Ask a manager or an admin to upload them.</div>")
                return msg, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            if not files:
                return '<div class="role-denied">Choose one or more files first.</div>', gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            results = []
            total = len(files)
            for i, f in enumerate(files):
                shown = Path(f).name

                def cb(files_done: int, files_total: int, chunks_done: int, chunks_total: int, i=i, shown=shown) -> None:
                    frac = (i + (files_done / files_total if files_total else 1.0)) / total
                    progress(frac, desc=f"{shown}: {chunks_done} chunks embedded")

                progress(i / total, desc=f"{shown}: checking")
                results.append(ingest_upload(assistant, settings, Path(f), cb))
            progress(1.0, desc="done")
            return (
                upload_results_html(results), vendor_update, findings_vendor_update,
                status_line(user, role), settings_html(user, role), None,
            )

        up_btn_ingest.click(
            upload, [up_files], [up_result, f_vendor, fd_vendor, status_box, settings_box, up_files],
            api_visibility="private", concurrency_limit=1, concurrency_id="ingest",
        ).then(show_findings, [fd_vendor, fd_severity, fd_status], [fd_table, fd_summary], api_visibility="private")

        # -- page load -------------------------------------------------------------------
        def on_load(request: gr.Request):
            user, role = who(request)
            table, summary = findings_frame(role, ALL, ALL, ALL)
            return status_line(user, role), settings_html(user, role), table, summary

        demo.load(on_load, None, [status_box, settings_box, fd_table, fd_summary], api_visibility="private")

        # -- API -------------------------------------------------------------------------
        def ask(question: str, filters_json: str = "", request: gr.Request = None) -> dict:
            """Answer a question from the knowledge base with verified citations.

            Args:
                question: the question.
                filters_json: JSON object of filters, e.g. {"vendor": "Northwind", "status": "open"};
                    keys: doc_type, vendor, severity, status, date_from, date_to, tags, source.
            """
            _, role = who(request)
            try:
                filters = json.loads(filters_json) if (filters_json or "").strip() else {}
            except json.JSONDecodeError as exc:
                raise gr.Error(f"filters_json is not valid JSON: {exc}") from None
            if not isinstance(filters, dict):
                raise gr.Error("filters_json must be a JSON object such as {\"vendor\": \"Northwind\"}")
            try:
                answer = assistant.ask(question, filters=filters, role=role)
            except ValueError as exc:  # FilterError: unknown key or bad date
                raise gr.Error(str(exc)) from None
            return {**answer_payload(answer), "role": role}

        gr.api(ask, api_name="ask", concurrency_limit=4)

    return demo


def launch_options(settings: Settings, users: UserStore | None = None) -> dict[str, Any]:
    """Keyword arguments for ``Blocks.launch``: address, sign-in, theme, CSS, upload cap."""
    opts: dict[str, Any] = {
        "server_name": settings.host,
        "server_port": settings.port,
        "theme": gr.themes.Default(
            primary_hue="blue", font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]
        ),
        "css": CSS,
        "ssr_mode": False,
        "share": False,
        "show_error": True,
        # A generous cap at the door; the exact per-file limit is checked (with a clear message) on ingest.
        "max_file_size": f"{int(settings.max_file_mb * 2) + 1}mb",
    }
    if users is not None:
        opts["auth"] = lambda username, password: users.verify(username, password) is not None
        opts["auth_message"] = "Sign in to the outsourcing guidance assistant."
    return opts


def main() -> int:
    try:
        settings = load_settings()
        users = load_users(settings.users_file) if settings.users_file else None
    except (SettingsError, AuthConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    assistant = Assistant.from_settings(settings)
    if assistant.stats()["chunks"] == 0:
        print(f"The index is empty: ingesting {settings.knowledge_root} …", flush=True)
        report = assistant.ingest(show_bar=False, wait=True)
        print(report.summary(), flush=True)
    demo = build_app(assistant, settings, users)
    demo.queue(default_concurrency_limit=2)
    demo.launch(**launch_options(settings, users))
    return 0


if __name__ == "__main__":
    sys.exit(main())
