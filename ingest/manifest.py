"""The ingest manifest: which file versions the collection holds (SQLite, one row a file)."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path

from assistant.core.settings import Settings


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Manifest:
    """Which file versions a collection holds, and a generation counter bumped on every change."""

    def __init__(self, path: Path, collection: str):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.collection = collection
        self.db = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS files (collection TEXT, source TEXT, hash TEXT, chunks INTEGER,"
            " ingested_at REAL, PRIMARY KEY (collection, source))"
        )
        self.db.execute("CREATE TABLE IF NOT EXISTS generation (collection TEXT PRIMARY KEY, n INTEGER)")
        self.db.commit()

    @classmethod
    def for_settings(cls, settings: Settings) -> "Manifest":
        return cls(settings.index_dir / "manifest.sqlite3", settings.collection)

    def entries(self) -> dict[str, tuple[str, int]]:
        rows = self.db.execute("SELECT source, hash, chunks FROM files WHERE collection=?", (self.collection,))
        return {s: (h, n) for s, h, n in rows}

    def put(self, source: str, digest: str, chunks: int) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)", (self.collection, source, digest, chunks, time.time())
        )

    def remove(self, source: str) -> None:
        self.db.execute("DELETE FROM files WHERE collection=? AND source=?", (self.collection, source))

    def clear(self) -> None:
        self.db.execute("DELETE FROM files WHERE collection=?", (self.collection,))

    def bump(self) -> None:
        """Mark a change so long-running readers (the app) refresh their lexical index."""
        self.db.execute(
            "INSERT INTO generation VALUES (?, 1) ON CONFLICT(collection) DO UPDATE SET n = n + 1", (self.collection,)
        )

    def generation(self) -> int:
        row = self.db.execute("SELECT n FROM generation WHERE collection=?", (self.collection,)).fetchone()
        return int(row[0]) if row else 0

    def commit(self) -> None:
        self.db.commit()

    def close(self) -> None:
        self.db.close()
