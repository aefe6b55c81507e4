"""Uploads: check a file a user sends, copy it into the upload folder and ingest it.

A rejected file leaves the upload folder and the index as they were. Beside each stored file a
record says who uploaded it, with which role and when (``ingest.policy``); at ingest the upload
policy bounds what the file may claim (no audit type, no findings, no future date, no audience
above the uploader's, no other document's title) and each correction comes back as a note.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

from assistant.core.access import can_upload
from ingest.loaders import SUPPORTED, is_skipped_name
from ingest.lock import IngestLockedError
from ingest.policy import UploadRecord, read_record, record_path, write_record

UPLOAD_TYPES: tuple[str, ...] = tuple(e for e in (".pdf", ".docx", ".md", ".txt", ".html") if e in SUPPORTED)
MAX_NAME = 120
MAX_SUFFIX = 10  # longer "extensions" are not extensions: they are cut with the name
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UploadResult:
    name: str  # the name the file is shown (and stored) under
    result: str  # ingested | updated | unchanged | rejected
    details: str
    notes: tuple[str, ...] = ()  # what the upload policy corrected (also in ``details``)

    @property
    def ok(self) -> bool:
        return self.result != "rejected"


def safe_filename(name: str) -> str:
    """Strip any path, keep [A-Za-z0-9._ -], no leading dots or spaces; '' when nothing is left.

    A name over ``MAX_NAME`` characters is shortened in its stem, so the extension survives.
    """
    base = re.split(r"[\\/]", name or "")[-1]
    base = _UNSAFE.sub("_", base).strip().lstrip(". ").strip()
    if len(base) <= MAX_NAME:
        return base
    suffix = Path(base).suffix
    if not suffix or len(suffix) > MAX_SUFFIX:
        return base[:MAX_NAME].rstrip(" .")
    return base[: MAX_NAME - len(suffix)].rstrip(" .") + suffix


def check(original: str, size: int, max_bytes: float) -> tuple[str, str | None]:
    """(safe name, reason for rejection or None) for an upload called ``original`` of ``size`` bytes."""
    name = safe_filename(original)
    suffix = Path(name).suffix.lower()
    if not name or not Path(name).stem.strip("._ -"):
        return original, "the file name has no usable characters"
    if suffix not in UPLOAD_TYPES:
        return original, f"type {suffix or '(none)'} is not accepted; use {' '.join(UPLOAD_TYPES)}"
    if is_skipped_name(name):
        return original, "README files and .meta.yaml sidecars are not ingested; rename the file"
    if size == 0:
        return original, "the file is empty"
    if size > max_bytes:
        return original, f"{size / 1e6:.1f} MB is over the {max_bytes / 1e6:g} MB limit"
    return name, None


def ingest_upload(assistant: Any, tmp: Path, role: str, progress: Callable[..., None] | None = None,
                  user: str = "local") -> UploadResult:
    """Check one uploaded file, copy it into the upload folder with its upload record and ingest it.

    ``assistant`` is an ``assistant.api.Assistant``; ``user`` and ``role`` are the uploader's.
    """
    settings = assistant.settings
    if not can_upload(role):
        return UploadResult(tmp.name, "rejected", f"your role ({role}) cannot add documents")
    try:
        size = tmp.stat().st_size
    except OSError as exc:
        return UploadResult(tmp.name, "rejected", f"cannot read the upload ({exc.strerror or exc})")
    name, problem = check(tmp.name, size, settings.max_file_mb * 1e6)
    if problem:
        return UploadResult(name, "rejected", problem)
    folder = settings.upload_dir
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / name
    data = tmp.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    backups = {p: (p.read_bytes() if p.exists() else None) for p in (dest, record_path(dest))}

    def restore() -> None:
        for p, old in backups.items():
            if old is None:
                p.unlink(missing_ok=True)
            else:
                p.write_bytes(old)

    # The same bytes again keep their first record: the index still holds what that upload claimed.
    if backups[dest] != data or read_record(dest, digest) is None:
        write_record(dest, UploadRecord.now(user, role, digest, tmp.name))
    dest.write_bytes(data)
    try:
        report = assistant.ingest(path=dest, progress=progress, show_bar=False)
    except IngestLockedError as exc:
        restore()
        return UploadResult(name, "rejected", f"{exc}; try again in a minute")
    except Exception:  # a store or model failure: log the details, keep the folder as it was
        restore()
        return UploadResult(name, "rejected", f"ingest failed; the details are in the server log ({_logged(name)})")
    if report.failed:
        restore()
        reasons = [r if not r.startswith("unexpected ") else _logged(name, r) for _, r in report.failed]
        return UploadResult(name, "rejected", "; ".join(reasons))
    root = settings.knowledge_root
    rel = dest.relative_to(root).as_posix() if dest.is_relative_to(root) else name
    notes = tuple(n for s, n in report.notes if s == rel or s.endswith("/" + name))
    corrected = f". Corrected: {'; '.join(notes)}" if notes else ""
    n = report.chunks_written
    if report.added or report.updated:
        return UploadResult(name, "updated" if report.updated else "ingested",
                            f"{n} chunk{'s' if n != 1 else ''} from {rel}{corrected}", notes)
    if report.unchanged:
        return UploadResult(name, "unchanged", f"already in the knowledge base ({rel})")
    restore()
    return UploadResult(name, "rejected", "the file was skipped by the ingest scan")


def _logged(name: str, detail: str | None = None) -> str:
    """Log the current failure with a reference id (the person sees only the reference)."""
    ref = secrets.token_hex(4)
    if detail is None:
        log.exception("upload %s failed (ref %s)", name, ref)
    else:
        log.error("upload %s failed (ref %s): %s", name, ref, detail)
    return f"the file could not be processed (ref {ref})" if detail else f"ref {ref}"


class TempFiles(Protocol):
    """Who uploaded each temporary file (``assistant.web.gate.UploadRegistry``)."""

    def owns(self, user: str, path: str) -> bool: ...

    def discard(self, path: str, user: str) -> bool: ...


def ingest_files(assistant: Any, files: Sequence[str], user: str, role: str, temp: TempFiles,
                 progress: Callable[[float, str], None] | None = None) -> list[UploadResult]:
    """Ingest the temporary uploads ``files`` one after another, then delete them.

    A path ``user`` did not upload (someone else's temporary file) is refused and left alone.
    """
    results: list[UploadResult] = []
    try:
        for i, f in enumerate(files):
            shown = Path(f).name
            if not temp.owns(user, f):
                results.append(UploadResult(shown, "rejected", "this file was not uploaded by you"))
                continue

            def step(files_done: int, files_total: int, chunks_done: int, chunks_total: int, i=i, shown=shown) -> None:
                if progress:
                    progress((i + (files_done / files_total if files_total else 1.0)) / len(files),
                             f"{shown}: {chunks_done} chunks embedded")

            if progress:
                progress(i / len(files), f"{shown}: checking")
            results.append(ingest_upload(assistant, Path(f), role, step, user=user))
    finally:  # the temporary copies are not needed once handled, accepted or not
        for f in files:
            temp.discard(f, user)
    return results
