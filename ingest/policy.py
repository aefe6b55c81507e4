"""Upload policy: what an uploaded file may claim about itself.

Documents under the knowledge root are curated; files under the upload folder are not. Their
metadata is bounded here, at ingest time, so a file dropped into the upload folder by any means
is bounded too. Violations are corrected (never silently: each correction is a note that the
upload result shows), because the text of an upload is still worth searching:

* ``doc_type: audit`` is reserved for curated audit notes: stored as ``document``;
* ``findings`` (and chunk-level ``finding_id`` / ``severity`` / ``status``) are dropped: a
  finding's status comes only from curated audit notes;
* a date in the future becomes the upload date;
* an audience the uploader may not see becomes the most restricted audience they do see;
* a title already used by another document gets ``(upload <file name>)`` appended.

Who uploaded a file, with which role and when, is kept in a small JSON record beside it
(``<file>.upload.json``, written by ``assistant.uploads``) and read back into the document's
metadata as ``uploaded_by``, ``upload_role`` and ``uploaded_at``. A file without a valid record
(or whose content no longer matches it) is treated as uploaded by an unknown user with the
least upload rights.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from assistant.core.access import AUDIENCES, UPLOAD_ROLES, audiences_for
from assistant.core.findings import UPLOADED_BY
from assistant.core.types import Document

RECORD_SUFFIX = ".upload.json"
MAX_RECORD_BYTES = 4096
UNKNOWN = "unknown"
# Chunk-level finding keys: ``tag_chunks`` sets them on curated audit notes only.
FINDING_KEYS = ("findings", "finding_id", "severity", "status")
# What an upload without a valid record may reach: what every upload role may see.
_UNKNOWN_AUDIENCES = tuple(a for a in AUDIENCES if all(a in audiences_for(r) for r in UPLOAD_ROLES))


@dataclass(frozen=True)
class UploadRecord:
    uploaded_by: str
    role: str
    uploaded_at: str  # ISO 8601, UTC, seconds
    sha256: str  # of the file's bytes when it was uploaded
    original_name: str = ""

    @staticmethod
    def now(user: str, role: str, sha256: str, original_name: str = "") -> "UploadRecord":
        stamp = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
        return UploadRecord(user[:200], role, stamp, sha256, original_name[:300])


def record_path(path: Path) -> Path:
    return path.with_name(path.name + RECORD_SUFFIX)


def write_record(path: Path, record: UploadRecord) -> None:
    """Write the record beside ``path`` atomically (a crash leaves the old record or the new one)."""
    target = record_path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".record-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(dataclasses.asdict(record), f)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_record(path: Path, sha256: str | None = None) -> UploadRecord | None:
    """The record beside ``path``; None when missing, oversized, malformed, or made for other content."""
    target = record_path(path)
    try:
        if target.stat().st_size > MAX_RECORD_BYTES:
            return None
        data = json.loads(target.read_text(encoding="utf-8"))
        rec = UploadRecord(**{f.name: str(data[f.name]) for f in dataclasses.fields(UploadRecord) if f.name in data})
    except (OSError, ValueError, TypeError, RecursionError):
        return None
    if sha256 is not None and rec.sha256 != sha256:
        return None  # the file was replaced by other means: its record no longer speaks for it
    return rec


def title_key(title: str) -> str:
    """Titles compare without case and with runs of white space as one space."""
    return re.sub(r"\s+", " ", title).strip().casefold()


def _upload_date(record: UploadRecord | None, today: dt.date) -> dt.date:
    try:
        return dt.datetime.fromisoformat(record.uploaded_at).date() if record else today
    except ValueError:
        return today


def apply(doc: Document, record: UploadRecord | None, title_taken: Callable[[str], bool],
          today: dt.date | None = None) -> tuple[Document, list[str]]:
    """``doc`` with its metadata bounded by the upload policy, and one note per correction."""
    today = today or dt.date.today()
    meta: dict[str, Any] = dict(doc.metadata)
    notes: list[str] = []
    role = record.role if record and record.role in UPLOAD_ROLES else None
    who = f"{record.uploaded_by} ({role})" if record and role else "an uploader without an upload record"
    allowed = audiences_for(role) if role else _UNKNOWN_AUDIENCES

    doc_type = doc.doc_type
    if doc_type == "audit":
        doc_type = "document"
        notes.append("doc_type audit is reserved for curated audit notes; stored as document")
    meta["doc_type"] = doc_type
    claimed = [k for k in FINDING_KEYS if k in meta]
    if claimed:
        for k in claimed:
            meta.pop(k)
        notes.append("findings are ignored in uploads (a finding's status comes only from curated audit notes)")
    if meta.get("date"):
        try:
            date = dt.date.fromisoformat(str(meta["date"]))
        except ValueError:
            date = None
        if date is None or date > today:
            meta["date"] = _upload_date(record, today).isoformat()
            notes.append(f"date {doc.metadata['date']} is in the future; stored with the upload date {meta['date']}")
    audience = meta.get("audience") or "all"
    if audience not in allowed:
        meta["audience"] = allowed[-1]  # the most restricted audience the uploader still sees
        notes.append(f"audience {audience} is beyond what {who} may see; stored for {allowed[-1]}")
    title = doc.title
    if title_taken(title):
        name = doc.source.rsplit("/", 1)[-1]
        title = f"{doc.title} (upload {name})"
        notes.append(f"the title {doc.title!r} is already used by another document; stored as {title!r}")
    meta["title"] = title
    meta[UPLOADED_BY] = record.uploaded_by if record else UNKNOWN
    meta["upload_role"] = role or UNKNOWN
    meta["uploaded_at"] = record.uploaded_at if record else ""
    return dataclasses.replace(doc, title=title, doc_type=doc_type, metadata=meta), notes
