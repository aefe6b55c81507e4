"""A review as Markdown, CSV, JSON or an HTML table (both quotes side by side, coloured by status).

Pure functions of a ``Review``: the CLI, the app tab and the chat answer all render through here,
and every piece of document text that goes into HTML is escaped.
"""

from __future__ import annotations

import csv
import html
import io
import json
from typing import Iterable, Sequence

from assistant.core.types import Citation
from assistant.review.review import Review, ReviewRow

STATUS_LABEL = {"meets": "Meets", "weaker": "Weaker", "unclear": "Unclear", "missing": "Missing",
                "not_applicable": "Not applicable"}
STATUS_COLOUR = {"meets": "#e6f4ea", "weaker": "#fdecea", "unclear": "#fff4e5", "missing": "#f1f1f1",
                 "not_applicable": "#f8f9fa"}
CSV_COLUMNS = ["requirement", "topic", "group", "severity", "status", "reason", "value", "unit", "contract_quote",
               "contract_location", "contract_start", "contract_end", "standard_quote", "standard_location"]


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def select(rows: Iterable[ReviewRow], statuses: Sequence[str] | None = None,
           severities: Sequence[str] | None = None) -> list[ReviewRow]:
    """The rows whose status and severity are among those chosen (all when a choice is empty)."""
    return [r for r in rows if (not statuses or r.status in statuses) and (not severities or r.severity in severities)]


def summary_line(review: Review) -> str:
    s = review.summary["by_status"]
    parts = [f"{s[k]} {STATUS_LABEL[k].lower()}" for k in ("meets", "weaker", "unclear", "missing") if s[k]]
    na = f"; {s['not_applicable']} not applicable" if s["not_applicable"] else ""
    return f"{review.summary['assessed']} requirements: {', '.join(parts) or 'none'}{na}"


def _cell(text: str) -> str:
    """Table-cell text: one line, pipes escaped (a pipe would start a new column)."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _quote_md(c: Citation | None) -> str:
    if c is None:
        return "—"
    quote = _cell(c.quote)
    return f"\"{quote}\" ({c.location})"


def to_markdown(review: Review, rows: Sequence[ReviewRow] | None = None) -> str:
    """The review as a Markdown report: summary, a severity × status table, then one row per requirement."""
    rows = review.rows if rows is None else rows
    where = "indexed" if review.indexed else "uploaded file, not added to the knowledge base"
    out = [f"# Contract review: {_cell(review.title)}", "", f"Contract: `{review.source}` ({where}) · role: {review.role}",
           "", f"**{summary_line(review)}.**", ""]
    out += ["| severity | meets | weaker | unclear | missing |", "|---|---|---|---|---|"]
    for sev, counts in review.summary["by_severity"].items():
        out.append(f"| {sev} | " + " | ".join(str(counts[s]) for s in ("meets", "weaker", "unclear", "missing")) + " |")
    out += ["", "| # | requirement | severity | status | reason | contract says | standard says |",
            "|---|---|---|---|---|---|---|"]
    for i, r in enumerate(rows, 1):
        reason, topic = _cell(r.reason), _cell(r.topic)
        out.append(f"| {i} | {topic} | {r.severity} | {STATUS_LABEL[r.status]} | {reason} | "
                   f"{_quote_md(r.contract_quote)} | {_quote_md(r.standard_quote)} |")
    out += [f"- {n}" for n in review.notes]
    return "\n".join(out) + "\n"


def to_csv(review: Review, rows: Sequence[ReviewRow] | None = None) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CSV_COLUMNS)
    for r in review.rows if rows is None else rows:
        c, s = r.contract_quote, r.standard_quote
        w.writerow([r.requirement, r.topic, r.group, r.severity, r.status, r.reason,
                    "" if r.value is None else f"{r.value:g}", r.unit, c.quote if c else "", c.location if c else "",
                    c.start if c else "", c.end if c else "", s.quote if s else "", s.location if s else ""])
    return buf.getvalue()


def to_json(review: Review) -> str:
    return json.dumps(review.to_dict(), indent=2, default=str)


def _quote_html(c: Citation | None, kind: str) -> str:
    if c is None:
        return '<span class="rv-none">—</span>'
    return (f'<blockquote class="rv-quote rv-{kind}" data-start="{c.start}" data-end="{c.end}">{esc(c.quote)}'
            f'<footer>{esc(c.location)}</footer></blockquote>')


def summary_html(review: Review) -> str:
    s = review.summary["by_status"]
    chips = "".join(f'<span class="rv-chip rv-{k}" style="background:{STATUS_COLOUR[k]}">{STATUS_LABEL[k]}: {s[k]}</span>'
                    for k in STATUS_LABEL)
    where = "indexed contract" if review.indexed else "uploaded file (not added to the knowledge base)"
    notes = "".join(f'<p class="rv-note">{esc(n)}</p>' for n in review.notes)
    return (f'<div class="rv-summary"><strong>{esc(review.title)}</strong> <small>{esc(review.source)} · {where} · '
            f'{review.seconds:.1f} s</small><div>{chips}</div>{notes}</div>')


def table_html(review: Review, rows: Sequence[ReviewRow] | None = None) -> str:
    """The rows as an HTML table, one colour per status, the contract's and the standard's quotes side by side."""
    rows = review.rows if rows is None else rows
    if not rows:
        return '<p class="rv-empty">No requirement matches these filters.</p>'
    body = []
    for r in rows:
        body.append(
            f'<tr class="rv-row rv-{r.status}" data-status="{r.status}" data-severity="{r.severity}" '
            f'style="background:{STATUS_COLOUR[r.status]}">'
            f'<td><strong>{esc(r.topic)}</strong><br><small>{esc(r.requirement)} · {esc(r.severity)}</small></td>'
            f'<td class="rv-status">{STATUS_LABEL[r.status]}</td><td>{esc(r.reason)}</td>'
            f'<td>{_quote_html(r.contract_quote, "contract")}</td><td>{_quote_html(r.standard_quote, "standard")}</td></tr>')
    head = ("<tr><th>Requirement</th><th>Status</th><th>Why</th><th>The contract says</th>"
            "<th>Our standard says</th></tr>")
    return f'<table class="rv-table"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table>'
