"""Audit findings: the one owner of finding records and their *current* status.

Audit documents list their findings in front matter (id, area, severity, status, owner,
due_date), each status as of the document's date. A finding's current record is the one from
the latest-dated *curated* audit document that lists it (uploads never set a finding's status;
see ``ingest/policy.py``). Ingest tags the chunks that discuss a finding
with its id (found by the ids the front matter declares, whatever their format); retrieval
filters on the current status; the app and the CLI show the rows built here.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Sequence

from assistant.core.types import Chunk

SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low")  # most severe first
STATUSES: tuple[str, ...] = ("open", "closed")
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
FIELDS: tuple[str, ...] = ("id", "area", "severity", "status", "owner", "due_date")
UPLOADED_BY = "uploaded_by"  # metadata key the upload policy sets on every uploaded document


# A status asked of findings the question has already picked ("what did the 2023 audit turn up, and are either of
# them still open?", "..., and is it closed?"): each finding's status is the answer, not a condition that selects.
_ASKED_OF_THEM = re.compile(r"\b(?:is|are|was|were|has|have|had)\s+(?:it|they|either|both|those|these|that|this|"
                            r"(?:any|all|none|each|one|either|both)\s+of\s+(?:them|those|these))\b[^?.;]{0,40}$", re.I)


def asked_of_picked(question: str, start: int) -> bool:
    """Whether the status phrase at ``start`` asks the status of findings the question has already picked."""
    return bool(_ASKED_OF_THEM.search(question[:start]))


def status_selects(pattern: re.Pattern[str], question: str) -> bool:
    """Whether a status phrase (``pattern``) in the question selects findings, rather than asking the status of
    findings it has already picked."""
    return any(not asked_of_picked(question, m.start()) for m in pattern.finditer(question))


def is_curated(metadata: dict[str, Any]) -> bool:
    """Whether a document's metadata comes from the curated knowledge base rather than an upload."""
    return UPLOADED_BY not in metadata


def _id_pattern(ids: Iterable[str]) -> re.Pattern[str] | None:
    ids = sorted({str(i) for i in ids if str(i)}, key=len, reverse=True)
    if not ids:
        return None
    return re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(i) for i in ids) + r")(?![\w-])")


def tag_chunks(findings: Sequence[dict[str, Any]], chunks: Sequence[Chunk]) -> None:
    """Give each chunk that discusses one of ``findings`` that finding's id, severity and status.

    A chunk discusses the finding named last in its section heading, or else in its opening
    200 characters. Ids are the ones the document's front matter declares.
    """
    by_id = {str(f["id"]): f for f in findings}
    pattern = _id_pattern(by_id)
    if pattern is None:
        return
    for c in chunks:
        ids = pattern.findall(c.section) or pattern.findall(c.text[:200])
        if ids:
            f = by_id[ids[-1]]
            c.metadata = {**c.metadata, "finding_id": f["id"], "severity": f["severity"], "status": f["status"]}


def current_findings(documents: Iterable[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """The latest record of every finding, from ``(source, front matter)`` of audit documents.

    Documents are applied in date order (then path), so the latest-dated one wins; each row
    also keeps where the finding was first reported.
    """
    current: dict[str, dict[str, Any]] = {}
    for source, meta in sorted(documents, key=lambda d: (str(d[1].get("date", "")), d[0])):
        for f in meta.get("findings") or []:
            prev = current.get(f["id"], {})
            # the date of the first note that records it closed ("which findings were closed in 2025?")
            closed = ""
            if f.get("status") == "closed":
                closed = prev.get("closed_date", "") if prev.get("status") == "closed" else str(meta.get("date", ""))
            current[f["id"]] = {
                **prev,
                **f,
                "vendor": meta.get("vendor", ""),
                "source": source,
                "title": meta.get("title", ""),
                "doc_date": str(meta.get("date", "")),
                "first_source": prev.get("first_source", source),
                "first_date": prev.get("first_date", str(meta.get("date", ""))),
                "audience": meta.get("audience", "all"),
                "closed_date": closed,
            }
    return current


def audit_documents(chunks: Iterable[Chunk]) -> list[tuple[str, dict[str, Any]]]:
    """``(source, front matter)`` of every curated audit document among ``chunks`` (once per document).

    Uploads are skipped even when they claim to be audits (defence in depth: the upload policy
    already drops their findings), so only the curated record decides a finding's status.
    """
    seen: dict[str, dict[str, Any]] = {}
    for c in chunks:
        if c.doc_type == "audit" and c.source not in seen and is_curated(c.metadata):
            seen[c.source] = c.metadata
    return list(seen.items())


def matching_ids(current: dict[str, dict[str, Any]], status: Sequence[str] = (), severity: Sequence[str] = ()) -> set[str] | None:
    """Ids of findings whose current status and severity match; None when neither is asked for."""
    if not status and not severity:
        return None
    return {
        fid for fid, rec in current.items()
        if (not status or rec["status"] in status) and (not severity or rec["severity"] in severity)
    }


def select(rows: Iterable[dict[str, Any]], vendor: str | None = None, severity: str | None = None,
           status: str | None = None) -> list[dict[str, Any]]:
    """Rows matching the given values (None or "" matches all), open first, then most severe."""
    shown = [
        r for r in rows
        if (not vendor or r.get("vendor") == vendor)
        and (not severity or r.get("severity") == severity)
        and (not status or r.get("status") == status)
    ]
    shown.sort(key=lambda r: (r.get("status") != "open", SEVERITY_RANK.get(r.get("severity", ""), 9),
                              r.get("vendor", ""), r.get("id", "")))
    return shown
