"""Gradio front end: chat with cited answers, sources, filters, findings, uploads and feedback.

UI wiring only: one builder per tab. Answers, search, findings, uploads and feedback go through
the library (``assistant.api.Assistant``, ``assistant.uploads``, ``assistant.feedback``); what is
shown is rendered by ``assistant.web.render`` (which escapes every piece of document or user text).
"""

import os

# Before gradio is imported: no analytics or version checks, no model downloads.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import functools
import json
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import gradio as gr
import pandas as pd
from starlette.middleware import Middleware

from assistant.api import Assistant
from assistant.auth import AuthConfigError, UserStore, load_users
from assistant.core import findings
from assistant.core.access import can_upload
from assistant.core.settings import Settings, SettingsError, load_settings
from assistant.core.types import Answer
from assistant.feedback import FeedbackStore
from assistant.ratelimit import SignInLimiter
from assistant.uploads import UPLOAD_TYPES, ingest_files
from assistant.web import render, views
from assistant.web.forms import ALL, DOC_TYPES, EXAMPLES, choice, collect_filters
from assistant.web.review_tab import review_tab
from assistant.web.gate import LOCAL, Gate, UploadRegistry, start_sweeper, sweep_interval

SIGN_IN_LIMITER = SignInLimiter()  # 5 failures a user or 20 an address in 5 minutes lock it for 5
UPLOADS = UploadRegistry()  # who uploaded each temporary file: shared by the gate and the upload handler


def guarded(fn: Callable) -> Callable:
    """A handler whose unexpected exceptions are logged with a reference id and shown as that id only."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except Exception:
            raise gr.Error(views.failure(fn.__name__)) from None

    return wrapper


@dataclass
class Ctx:
    """What every tab's handlers need: the library objects and who is asking."""

    assistant: Assistant
    settings: Settings
    users: UserStore | None
    feedback: FeedbackStore
    uploads: UploadRegistry = field(default_factory=UploadRegistry)  # who uploaded each temporary file (the gate's)

    def who(self, request: gr.Request | None) -> tuple[str, str]:
        """(user name, role) of the request; sign-in required when there is a users file."""
        name = getattr(request, "username", None) if request is not None else None
        if self.users is not None:
            role = self.users.role_of(name)
            if role is None:
                raise gr.Error("Please sign in.")
            return str(name), role
        return LOCAL, self.settings.default_role

    def stats(self, role: str) -> dict[str, Any]:
        return views.role_stats(self.assistant.stats(), self.assistant.retriever.corpus, role)

    def status_line(self, user: str, role: str) -> str:
        return render.status_line_html(user, role, self.users is not None, self.stats(role))

    def settings_table(self, user: str, role: str) -> str:
        rows = views.settings_rows(self.stats(role), self.settings, user, role, self.users is not None, UPLOAD_TYPES)
        return render.table_html(rows, "settings-table")

    def findings_frame(self, role: str, vendor: str, severity: str, status: str) -> tuple[pd.DataFrame, str]:
        shown, summary = views.findings_view(self.assistant.findings(role), choice(vendor), choice(severity), choice(status))
        return pd.DataFrame(render.findings_rows(shown), columns=render.FINDING_COLUMNS), summary


# -- chat ---------------------------------------------------------------------------------


def chat_tab(ctx: Ctx) -> dict[str, Any]:
    """The conversation, filters, feedback and sources panel; returns the components others update."""
    last_answer = gr.State(None)
    history = gr.State([])
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(
                label="Conversation", show_label=False, elem_id="chatbot", height=520, latex_delimiters=[],
                feedback_options=None, buttons=["copy"],
                placeholder=(
                    "**Ask about outsourcing ethics, vendor contracts and past audit findings.**\n\n"
                    "Every statement is cited to the knowledge base; questions it cannot answer get "
                    "*not in the knowledge base*. Try one of these:"
                ),
                examples=[{"text": q, "display_text": f"{who}: {q}"} for who, q in EXAMPLES],
            )
            with gr.Row():
                question = gr.Textbox(show_label=False, placeholder="Ask a question…", elem_id="question",
                                      scale=6, lines=1, max_lines=6, autofocus=True)
                ask_btn = gr.Button("Ask", variant="primary", elem_id="ask-btn", scale=1, min_width=80)
            with gr.Row():
                new_btn = gr.Button("New conversation", elem_id="new-conversation", size="sm")
            with gr.Accordion("Filters (applied to the next question)", open=False, elem_id="filters"):
                with gr.Row():
                    f_doc_type = gr.CheckboxGroup(DOC_TYPES, label="Document type", elem_id="filter-doc-type")
                    f_vendor = gr.Dropdown(choices=[], multiselect=True, label="Vendor",  # per role, on load
                                           elem_id="filter-vendor")
                with gr.Row():
                    f_date_from = gr.Textbox(label="Date from", placeholder="YYYY-MM-DD", elem_id="filter-date-from")
                    f_date_to = gr.Textbox(label="Date to", placeholder="YYYY-MM-DD", elem_id="filter-date-to")
                with gr.Row():
                    f_severity = gr.CheckboxGroup(list(findings.SEVERITIES), label="Finding severity", elem_id="filter-severity")
                    f_status = gr.CheckboxGroup(list(findings.STATUSES), label="Finding status", elem_id="filter-status")
                clear_filters = gr.Button("Clear filters", size="sm", elem_id="clear-filters")
            with gr.Group(elem_id="feedback"):
                gr.Markdown("**Was the last answer useful?**")
                with gr.Row():
                    up_btn = gr.Button("✔ Helpful", elem_id="thumbs-up", size="sm")
                    down_btn = gr.Button("✘ Not helpful", elem_id="thumbs-down", size="sm")
                fb_comment = gr.Textbox(label="Comment (optional)", elem_id="feedback-comment", lines=2, max_lines=6)
                fb_status = gr.Markdown(elem_id="feedback-status")
        with gr.Column(scale=2):
            sources = gr.HTML(render.sources_html(None), label="Sources", elem_id="sources")

    filter_inputs = [f_doc_type, f_vendor, f_date_from, f_date_to, f_severity, f_status]

    def respond(q, chat, hist, doc_type, vendor, date_from, date_to, severity, status, request: gr.Request) -> Iterator[tuple]:
        q = (q or "").strip()
        chat = list(chat or [])
        if not q:
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        _, role = ctx.who(request)
        chat.append({"role": "user", "content": render.safe_markdown(q)})
        try:
            filters = collect_filters(doc_type, vendor, date_from, date_to, severity, status)
        except ValueError as exc:
            chat.append({"role": "assistant", "content": f"⚠ Filter problem: {render.esc(exc)}. Fix it in Filters and ask again."})
            yield chat, q, hist, gr.skip(), gr.skip(), ""
            return
        chat.append({"role": "assistant", "content": "…"})
        yield chat, "", hist, gr.skip(), gr.skip(), ""
        text, answer = "", None
        try:
            for item in ctx.assistant.ask_stream(q, history=hist, filters=filters, role=role):
                if isinstance(item, Answer):
                    answer = item
                    break
                text += item
                chat[-1] = {"role": "assistant", "content": render.safe_markdown(text)}
                yield chat, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        except Exception:  # show the failure in the conversation instead of a broken turn
            chat[-1] = {"role": "assistant", "content": f"⚠ {render.esc(views.failure('answer'))}"}
            yield chat, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        if answer is None:
            return
        chat[-1] = {"role": "assistant", "content": render.answer_markdown(answer)}
        hist = [*hist, {"role": "user", "content": q}, {"role": "assistant", "content": answer.text}]
        yield chat, gr.skip(), hist, render.sources_html(answer), render.answer_payload(answer), ""

    chat_outputs = [chatbot, question, history, sources, last_answer, fb_status]
    chat_inputs = [question, chatbot, history, *filter_inputs]
    for trigger in (ask_btn.click, question.submit):
        trigger(respond, chat_inputs, chat_outputs, api_visibility="private", concurrency_limit=4)

    def pick_example(evt: gr.SelectData) -> str:
        return evt.value.get("text", "") if isinstance(evt.value, dict) else ""

    chatbot.example_select(pick_example, None, question, api_visibility="private").then(
        respond, chat_inputs, chat_outputs, api_visibility="private", concurrency_limit=4
    )

    def new_conversation():
        return [], [], render.sources_html(None), None, "", "", ""

    reset_outputs = [chatbot, history, sources, last_answer, question, fb_comment, fb_status]
    new_btn.click(new_conversation, None, reset_outputs, api_visibility="private")
    chatbot.clear(new_conversation, None, reset_outputs, api_visibility="private")
    clear_filters.click(lambda: ([], [], "", "", [], []), None, filter_inputs, api_visibility="private")

    @guarded
    def give_feedback(rating: int, comment: str, last: dict | None, request: gr.Request):
        if not last:
            return "Ask a question first, then rate the answer.", gr.skip()
        user, _ = ctx.who(request)
        fid = ctx.feedback.add(rating, last["question"], last["answer"], last["citations"],
                               comment=(comment or "").strip(), user=user, backend=last["backend"])
        return f"Thanks, your feedback was saved (#{fid}).", ""

    def thumbs_up(comment: str, last: dict | None, request: gr.Request):
        return give_feedback(1, comment, last, request)

    def thumbs_down(comment: str, last: dict | None, request: gr.Request):
        return give_feedback(-1, comment, last, request)

    up_btn.click(thumbs_up, [fb_comment, last_answer], [fb_status, fb_comment], api_visibility="private")
    down_btn.click(thumbs_down, [fb_comment, last_answer], [fb_status, fb_comment], api_visibility="private")
    return {"vendor": f_vendor}


# -- findings -----------------------------------------------------------------------------


def findings_tab(ctx: Ctx) -> dict[str, Any]:
    gr.Markdown("Audit findings with their current status (the latest audit or follow-up wins).")
    with gr.Row():
        vendor = gr.Dropdown([ALL], value=ALL, label="Vendor", elem_id="findings-vendor")  # per role, on load
        severity = gr.Dropdown([ALL, *findings.SEVERITIES], value=ALL, label="Severity", elem_id="findings-severity")
        status = gr.Dropdown([ALL, *findings.STATUSES], value=ALL, label="Status", elem_id="findings-status")
    summary = gr.Markdown(elem_id="findings-summary")
    table = gr.Dataframe(headers=render.FINDING_COLUMNS, interactive=False, wrap=True, elem_id="findings-table",
                         max_height=560, show_search="search", buttons=["copy"])

    @guarded
    def show(vendor_: str, severity_: str, status_: str, request: gr.Request):
        _, role = ctx.who(request)
        return ctx.findings_frame(role, vendor_, severity_, status_)

    for ctl in (vendor, severity, status):
        ctl.change(show, [vendor, severity, status], [table, summary], api_visibility="private")
    return {"vendor": vendor, "severity": severity, "status": status, "table": table, "summary": summary, "show": show}


# -- upload -------------------------------------------------------------------------------


def upload_tab(ctx: Ctx, chat: dict[str, Any], found: dict[str, Any], status_box: gr.HTML,
               settings_box: gr.HTML) -> dict[str, Any]:
    gr.Markdown(
        f"Add documents to the knowledge base ({', '.join(UPLOAD_TYPES)}, at most {ctx.settings.max_file_mb:g} MB each). "
        f"Managers and admins only. Files are stored in `{ctx.settings.upload_dir_name}/` and searchable at once. "
        "Uploads cannot be audit notes, carry findings, claim a future date, another document's title or an "
        "audience you cannot see; such claims are corrected and listed in the result."
    )
    # Hidden until the page load shows them to a role that may upload (the upload route refuses the others).
    files_in = gr.File(label="Documents", file_count="multiple", type="filepath", elem_id="upload-files", visible=False)
    button = gr.Button("Add to knowledge base", variant="primary", elem_id="upload-btn", visible=False)
    result = gr.HTML(elem_id="upload-result")

    def denied(role: str) -> str:
        return render.message_html(f"Your role ({role}) cannot add documents. Ask a manager or an admin to upload them.")

    @guarded
    def upload(files: list[str] | None, request: gr.Request, progress=gr.Progress()):
        user, role = ctx.who(request)
        skip = (gr.skip(),) * 5
        if not can_upload(role):
            return (denied(role), *skip)
        if not files:
            return (render.message_html("Choose one or more files first."), *skip)
        results = ingest_files(ctx.assistant, files, user, role, ctx.uploads,
                               lambda frac, desc: progress(frac, desc=desc))
        progress(1.0, desc="done")
        vendors = ctx.assistant.vendors(role)
        return (render.upload_results_html(results), gr.update(choices=vendors), gr.update(choices=[ALL, *vendors]),
                ctx.status_line(user, role), ctx.settings_table(user, role), None)

    button.click(
        upload, [files_in], [result, chat["vendor"], found["vendor"], status_box, settings_box, files_in],
        api_visibility="private", concurrency_limit=1, concurrency_id="ingest",
    ).then(found["show"], [found["vendor"], found["severity"], found["status"]], [found["table"], found["summary"]],
           api_visibility="private")

    def on_load(role: str) -> tuple:
        """The upload controls for a role that may upload; the reason for one that may not."""
        ok = can_upload(role)
        return gr.update(visible=ok), gr.update(visible=ok), ("" if ok else denied(role))

    return {"outputs": [files_in, button, result], "on_load": on_load}


# -- API ----------------------------------------------------------------------------------


def register_api(ctx: Ctx) -> None:
    @guarded
    def ask(question: str, filters_json: str = "", request: gr.Request = None) -> dict:
        """Answer a question from the knowledge base with verified citations.

        Args:
            question: the question.
            filters_json: JSON object of filters, e.g. {"vendor": "Northwind", "status": "open"};
                keys: doc_type, vendor, severity, status, date_from, date_to, tags, source.
        """
        _, role = ctx.who(request)
        if not isinstance(question, str) or not isinstance(filters_json, (str, type(None))):
            raise gr.Error("question and filters_json must be text")
        try:
            filters = json.loads(filters_json) if (filters_json or "").strip() else {}
        except json.JSONDecodeError as exc:
            raise gr.Error(f"filters_json is not valid JSON: {exc}") from None
        if not isinstance(filters, dict):
            raise gr.Error("filters_json must be a JSON object such as {\"vendor\": \"Northwind\"}")
        try:
            answer = ctx.assistant.ask(question, filters=filters, role=role)
        except ValueError as exc:  # FilterError: unknown key or bad date
            raise gr.Error(str(exc)) from None
        return {**render.answer_payload(answer), "role": role}

    gr.api(ask, api_name="ask", concurrency_limit=4)


# -- the app ------------------------------------------------------------------------------


def build_app(assistant: Assistant, settings: Settings, users: UserStore | None = None,
              uploads: UploadRegistry = UPLOADS) -> gr.Blocks:
    """The Blocks app. ``users`` (or ``settings.users_file``) turns on per-user roles; pass
    ``launch_options(settings, users)`` to ``launch`` for sign-in, the security gate, theme and CSS."""
    if users is None and settings.users_file:
        users = load_users(settings.users_file)
    ctx = Ctx(assistant, settings, users, FeedbackStore(settings.feedback_db), uploads)
    # Temporary uploads no handler received are deleted once older than upload_temp_max_age_s (Gradio's
    # delete_cache for the files it tracks, gate.sweep for the app's own temporary folder).
    age = settings.upload_temp_max_age_s
    with gr.Blocks(title="Outsourcing guidance assistant", delete_cache=(sweep_interval(age), age)) as demo:
        with gr.Row(elem_classes="app-header"):
            gr.Markdown("# Outsourcing guidance assistant\nAnswers from your organisation's knowledge base, with every statement cited.")
        status_box = gr.HTML(elem_id="status-box")
        settings_box = gr.HTML(elem_id="settings", render=False)  # shown in the Settings tab, updated by uploads
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                chat = chat_tab(ctx)
            with gr.Tab("Findings", id="findings"):
                found = findings_tab(ctx)
            with gr.Tab("Upload", id="upload"):
                up = upload_tab(ctx, chat, found, status_box, settings_box)
            with gr.Tab("Review a contract", id="review"):
                review_tab(ctx)
            with gr.Tab("Settings", id="settings"):
                settings_box.render()

        @guarded
        def on_load(request: gr.Request):
            """Everything that depends on who is asking: counts, settings, vendors, findings, upload controls."""
            user, role = ctx.who(request)
            table, summary = ctx.findings_frame(role, ALL, ALL, ALL)
            vendors = ctx.assistant.vendors(role)
            return (ctx.status_line(user, role), ctx.settings_table(user, role), table, summary,
                    gr.update(choices=vendors), gr.update(choices=[ALL, *vendors], value=ALL), *up["on_load"](role))

        demo.load(on_load, None, [status_box, settings_box, found["table"], found["summary"], chat["vendor"],
                                  found["vendor"], *up["outputs"]], api_visibility="private")
        register_api(ctx)
    return demo


def launch_options(settings: Settings, users: UserStore | None = None, uploads: UploadRegistry = UPLOADS) -> dict[str, Any]:
    """Keyword arguments for ``Blocks.launch``: address, sign-in, the gate, theme, CSS, upload cap."""
    gate = Middleware(Gate, role_of=lambda name: users.role_of(name) if users else settings.default_role,
                      registry=uploads, limiter=SIGN_IN_LIMITER, sign_in=users is not None)
    opts: dict[str, Any] = {
        "server_name": settings.host,
        "server_port": settings.port,
        "theme": gr.themes.Default(primary_hue="blue", font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]),
        "css": render.CSS,
        "ssr_mode": False,
        "share": False,
        "show_error": False,  # handlers raise gr.Error with a message (and a reference) meant for people
        # A generous cap at the door; the exact per-file limit is checked (with a clear message) on ingest.
        "max_file_size": f"{int(settings.max_file_mb * 2) + 1}mb",
        "app_kwargs": {"middleware": [gate]},
    }
    if users is not None:
        opts["auth"] = lambda username, password: users.verify(username, password) is not None
        opts["auth_message"] = (
            "Sign in to the outsourcing guidance assistant. After 5 failed attempts in 5 minutes, "
            "sign-in is paused for 5 minutes."
        )
    return opts


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
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
    temp = Path(os.environ.setdefault("GRADIO_TEMP_DIR", str((settings.index_dir / "upload-tmp").resolve())))
    start_sweeper(temp, sweep_interval(settings.upload_temp_max_age_s), settings.upload_temp_max_age_s)
    demo = build_app(assistant, settings, users)
    demo.queue(default_concurrency_limit=2)
    demo.launch(**launch_options(settings, users))
    return 0


if __name__ == "__main__":
    sys.exit(main())
