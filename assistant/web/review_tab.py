"""The "Review a contract" tab: pick an indexed agreement or upload one, see every playbook
requirement with its status and both quotes side by side, filter, and download Markdown or CSV.

The only library module besides app.py that imports Gradio (tests/test_architecture.py exempts
it). What it shows is rendered by ``assistant.review.report`` (escaped); who may see which
contract, requirement and quote is decided by ``assistant.review`` from the signed-in role.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.review import report
from assistant.review.contract import ReviewError
from assistant.review.playbook import PlaybookError, SEVERITIES
from assistant.review.review import Review, contract_documents, review

log = logging.getLogger(__name__)
STATUSES = list(report.STATUS_LABEL)
FILE_TYPES = [".pdf", ".docx", ".md", ".txt", ".html"]
_EXPORTS = Path(tempfile.mkdtemp(prefix="assistant-review-"))


def _export(r: Review, rows: list, kind: str, user: str, ctx: Any, cache_dir: str | None) -> str:
    """Write the shown rows as ``kind`` (md or csv) into Gradio's cache and register the file as
    ``user``'s, so the security gate lets that user, and only that user, download it."""
    folder = _EXPORTS / secrets.token_hex(8)
    folder.mkdir(parents=True, exist_ok=True)
    stem = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in Path(r.source).stem)[:80] or "contract"
    path = folder / f"review-{stem}.{kind}"
    path.write_text(report.to_markdown(r, rows) if kind == "md" else report.to_csv(r, rows), encoding="utf-8")
    if cache_dir is None:
        return str(path)
    from gradio.processing_utils import save_file_to_cache

    cached = save_file_to_cache(path, cache_dir)  # where Gradio serves it from (it keeps a file already there)
    path.unlink(missing_ok=True)
    folder.rmdir()
    ctx.uploads.claim(user, [cached])
    return cached


def render(r: Review | None, statuses: list[str] | None, severities: list[str] | None) -> tuple[str, str]:
    """(summary HTML, table HTML) of a review, filtered by status and severity."""
    if r is None:
        return "", ""
    return report.summary_html(r), report.table_html(r, report.select(r.rows, statuses, severities))


def review_tab(ctx: Any) -> dict[str, Any]:
    """Build the tab inside the current ``gr.Tab``; ``ctx`` is app.py's ``Ctx`` (assistant, who, uploads)."""
    gr.Markdown("Check a contract against our standard terms (the playbook): every requirement is marked "
                "**meets**, **weaker**, **unclear** or **missing**, with the contract's wording beside our standard's. "
                "An uploaded file is read in memory only; it is not added to the knowledge base.")
    state = gr.State(None)
    with gr.Row():
        choice = gr.Dropdown([], value=None, label="Indexed contract", elem_id="review-contract", scale=3,
                             allow_custom_value=False)
        upload = gr.File(label="…or upload a contract", file_types=FILE_TYPES, type="filepath", elem_id="review-upload",
                         scale=2)
    button = gr.Button("Review", variant="primary", elem_id="review-btn")
    with gr.Row():
        statuses = gr.CheckboxGroup([(report.STATUS_LABEL[s], s) for s in STATUSES], value=STATUSES, label="Status",
                                    elem_id="review-status")
        severities = gr.CheckboxGroup(list(reversed(SEVERITIES)), value=list(reversed(SEVERITIES)), label="Severity",
                                      elem_id="review-severity")
    summary = gr.HTML(elem_id="review-summary")
    table = gr.HTML(elem_id="review-table")
    with gr.Row():
        md_button = gr.DownloadButton("Download Markdown", visible=False, elem_id="review-md")
        csv_button = gr.DownloadButton("Download CSV", visible=False, elem_id="review-csv")

    root = _root_blocks()
    cache = getattr(root, "GRADIO_CACHE", None)

    def contracts(request: gr.Request):
        _, role = ctx.who(request)
        return gr.update(choices=[(title, source) for title, source in contract_documents(ctx.assistant, role)])

    def run(source: str | None, file: str | None, sts: list[str], sevs: list[str], request: gr.Request,
            progress=gr.Progress()):
        user, role = ctx.who(request)
        if not source and not file:
            return (None, report_message("Choose an indexed contract or upload one first."), "", *_hidden())
        target: Any = source
        if source and not file and source not in {s for _, s in contract_documents(ctx.assistant, role)}:
            # Only a contract from the picker: a typed value is never read as a path on the server.
            return (None, report_message("Choose a contract from the list."), "", *_hidden())
        if file:
            if not ctx.uploads.owns(user, file):
                return (None, report_message("This file was not uploaded by you."), "", *_hidden())
            target = Path(file)
        try:
            r = review(ctx.assistant, target, role=role, progress=lambda f, d: progress(f, desc=d))
        except (ReviewError, PlaybookError) as exc:
            return (None, report_message(str(exc)), "", *_hidden())
        except Exception:
            ref = secrets.token_hex(4)
            log.exception("contract review failed (ref %s)", ref)
            raise gr.Error(f"The review failed (ref {ref}). Please try again; if it persists, give this reference "
                           "to an admin.") from None
        finally:
            if file:
                ctx.uploads.discard(file, user)
        rows = report.select(r.rows, sts, sevs)
        head, body = render(r, sts, sevs)
        return (r, head, body, gr.update(value=_export(r, rows, "md", user, ctx, cache), visible=True),
                gr.update(value=_export(r, rows, "csv", user, ctx, cache), visible=True))

    def refilter(r: Review | None, sts: list[str], sevs: list[str], request: gr.Request):
        head, body = render(r, sts, sevs)
        if r is None:
            return head, body, *_hidden()
        user, _ = ctx.who(request)
        rows = report.select(r.rows, sts, sevs)
        return (head, body, gr.update(value=_export(r, rows, "md", user, ctx, cache)),
                gr.update(value=_export(r, rows, "csv", user, ctx, cache)))

    outputs = [state, summary, table, md_button, csv_button]
    button.click(run, [choice, upload, statuses, severities], outputs, api_visibility="private",
                 concurrency_limit=2, concurrency_id="review")
    for ctl in (statuses, severities):
        ctl.change(refilter, [state, statuses, severities], [summary, table, md_button, csv_button],
                   api_visibility="private")
    choice.focus(contracts, None, [choice], api_visibility="private")
    if root is not None:  # fill the picker for the signed-in role when the page loads
        root.load(contracts, None, [choice], api_visibility="private")
    return {"choice": choice, "upload": upload, "button": button, "table": table, "summary": summary,
            "contracts": contracts}


def report_message(text: str) -> str:
    return f'<div class="role-denied" id="review-message">{report.esc(text)}</div>'


def _hidden() -> tuple[Any, Any]:
    return gr.update(visible=False, value=None), gr.update(visible=False, value=None)


def _root_blocks() -> Any:
    try:
        from gradio.context import Context

        return Context.root_block
    except ImportError:  # a Gradio without it: the picker fills when focused
        return None
