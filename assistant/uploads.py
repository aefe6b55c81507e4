"""Uploads: check a file a user sends, copy it into the upload folder and ingest it.

A rejected file leaves the upload folder and the index as they were.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from assistant.core.access import can_upload
from ingest.loaders import SUPPORTED, is_skipped_name
from ingest.lock import IngestLockedError

UPLOAD_TYPES: tuple[str, ...] = tuple(e for e in (".pdf", ".docx", ".md", ".txt", ".html") if e in SUPPORTED)
MAX_NAME = 120
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]")


@dataclass(frozen=True)
class UploadResult:
    name: str  # the name the file is shown (and stored) under
    result: str  # ingested | updated | unchanged | rejected
    details: str

    @property
    def ok(self) -> bool:
        return self.result != "rejected"


def safe_filename(name: str) -> str:
    """Strip any path, keep [A-Za-z0-9._ -], no leading dots or spaces; '' when nothing is left."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = _UNSAFE.sub("_", base).strip().lstrip(". ").strip()
    return base[:MAX_NAME]


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


def ingest_upload(assistant: Any, tmp: Path, role: str, progress: Callable[..., None] | None = None) -> UploadResult:
    """Check one uploaded file, copy it into the upload folder and ingest it.

    ``assistant`` is an ``assistant.api.Assistant``; ``role`` is the uploader's role.
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
        return UploadResult(name, "rejected", f"{exc}; try again in a minute")
    except Exception as exc:  # a store or model failure: report it, keep the folder as it was
        restore()
        return UploadResult(name, "rejected", f"ingest failed ({type(exc).__name__}: {exc})")
    if report.failed:
        restore()
        return UploadResult(name, "rejected", "; ".join(reason for _, reason in report.failed))
    root = settings.knowledge_root
    rel = dest.relative_to(root).as_posix() if dest.is_relative_to(root) else name
    n = report.chunks_written
    if report.added or report.updated:
        return UploadResult(name, "updated" if report.updated else "ingested", f"{n} chunk{'s' if n != 1 else ''} from {rel}")
    if report.unchanged:
        return UploadResult(name, "unchanged", f"already in the knowledge base ({rel})")
    restore()
    return UploadResult(name, "rejected", "the file was skipped by the ingest scan")
