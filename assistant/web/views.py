"""What a role may be shown about the installation: counts of what it can see, settings rows.

Low roles see neither server paths nor how much restricted material exists: the status line
counts only the documents and chunks the role's audiences include, and the Settings tab shows
folders and the store's location to admins only.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any, Sequence

from assistant.core import findings
from assistant.core.access import audiences_for

ADMIN_ONLY_NOTE = "shown to admins"
log = logging.getLogger("assistant.app")


def visible_counts(corpus: Any, role: str) -> tuple[int, int]:
    """(documents, chunks) of ``corpus`` (a ``retrieval.corpus.Corpus``) that ``role`` may see."""
    rows = corpus.visible(audiences_for(role))
    return len({corpus.chunks[i].source for i in rows}), len(rows)


def role_stats(stats: dict[str, Any], corpus: Any, role: str) -> dict[str, Any]:
    """``Assistant.stats()`` with the document and chunk counts limited to what ``role`` sees."""
    documents, chunks = visible_counts(corpus, role)
    return {**stats, "documents": documents, "chunks": chunks}


def settings_rows(stats: dict[str, Any], settings: Any, user: str, role: str, signed_in: bool,
                  upload_types: Sequence[str]) -> list[tuple[str, Any]]:
    """The Settings tab's label / value rows; paths and the store's address for admins only."""
    admin = role == "admin"
    store = stats["store"] if admin else ("Chroma server" if settings.chroma_mode == "server" else "embedded Chroma")
    return [
        ("Answer backend", stats["backend"]), ("Embedding model", stats["embedding_model"]), ("Store / index", store),
        ("Collection", stats["collection"]), ("Documents", stats["documents"]), ("Chunks", stats["chunks"]),
        ("Knowledge folder", settings.knowledge_root if admin else ADMIN_ONLY_NOTE),
        ("Upload folder", settings.upload_dir if admin else f"{settings.upload_dir_name}/"),
        ("Upload limit", f"{settings.max_file_mb:g} MB ({', '.join(upload_types)})"),
        ("Sign-in", "on (users file)" if signed_in else "off (single local user)"),
        ("You", f"{user} ({role})"),
    ]


def findings_view(rows: list[dict[str, Any]], vendor: str | None, severity: str | None,
                  status: str | None) -> tuple[list[dict[str, Any]], str]:
    """The finding rows to show and the summary line above them."""
    shown = findings.select(rows, vendor, severity, status)
    n_open = sum(1 for r in shown if r.get("status") == "open")
    return shown, f"{len(shown)} of {len(rows)} findings shown, {n_open} open. Sort or filter from a column's ⋮ menu."


def failure(where: str) -> str:
    """Log the exception being handled, with a reference id; return what the person is shown.

    Exception text can name files, settings or code; it goes to the server log only.
    """
    ref = secrets.token_hex(4)
    log.exception("%s failed (ref %s)", where, ref)
    return f"Something went wrong (ref {ref}). Please try again; if it persists, give this reference to an admin."
