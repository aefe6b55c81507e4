"""Thumbs up/down with comments, stored with the question, answer and citations (SQLite).

The CSV export is opened in spreadsheets, so text that a spreadsheet would run as a formula
(a cell starting with = + - @, a tab or a carriage return) is written with a leading quote.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import time
from pathlib import Path
from typing import Any, TextIO

COLUMNS = ("id", "created_at", "user", "rating", "comment", "question", "answer", "citations", "backend")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """``value`` safe for a spreadsheet: text that would start a formula gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class FeedbackStore:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        with self._db() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at REAL, user TEXT,"
                " rating INTEGER, comment TEXT, question TEXT, answer TEXT, citations TEXT, backend TEXT)"
            )

    def _db(self) -> sqlite3.Connection:
        return sqlite3.connect(str(self.path), timeout=10)

    def add(self, rating: int, question: str, answer: str, citations: list[dict[str, Any]], comment: str = "",
            user: str = "local", backend: str = "") -> int:
        if rating not in (1, -1):
            raise ValueError("rating must be 1 (up) or -1 (down)")
        with self._db() as db:
            cur = db.execute(
                "INSERT INTO feedback (created_at, user, rating, comment, question, answer, citations, backend)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (time.time(), user, rating, comment[:2000], question, answer, json.dumps(citations, default=str), backend),
            )
            return int(cur.lastrowid)

    def rows(self) -> list[dict[str, Any]]:
        with self._db() as db:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute("SELECT * FROM feedback ORDER BY id")]

    def export_csv(self, path: Path | None, fallback: TextIO) -> int:
        rows = self.rows()
        handle = open(path, "w", newline="", encoding="utf-8") if path else fallback
        try:
            w = csv.DictWriter(handle, fieldnames=COLUMNS)
            w.writeheader()
            for r in rows:
                w.writerow({k: csv_cell(r.get(k)) for k in COLUMNS})
        finally:
            if path:
                handle.close()
        return len(rows)
