"""Form input from the web app, checked and turned into the library's arguments."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

ALL = "All"  # the "no filter" choice of a dropdown
DOC_TYPES = ["guidance", "contract", "audit"]
EXAMPLES = [  # (who asks, question) shown on the empty chat
    ("Manager", "What must our contract say about data encryption?"),
    ("New staff", "How do we vet a new BPO provider?"),
    ("Auditor", "What did past audits find at Northwind about access reviews?"),
    ("Auditor", "Which findings are still open?"),
    ("Manager", "Does our Northwind contract meet our encryption standard?"),
]
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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
            if not _DATE.match(value):
                raise ValueError
            dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{key.replace('_', ' ')} must be a date like 2024-05-01, got {value!r}") from None
        out[key] = value
    if out.get("date_from") and out.get("date_to") and out["date_from"] > out["date_to"]:
        raise ValueError("date from is after date to")
    return out


def choice(value: Any) -> str | None:
    """A dropdown value, or None for the "All" choice (no filter)."""
    return None if value in (None, "", ALL) else str(value)
