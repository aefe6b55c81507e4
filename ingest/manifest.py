"""The ingest manifest: which file versions the collection holds (SQLite, one row a file).

The content hashes always stay in this local file. The generation (what readers compare to know
the collection changed) lives here for an embedded store, and in the Chroma server for
``chroma_mode: server``, so every replica sees a change made through any of them.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from pathlib import Path

from assistant.core.settings import Settings
from assistant.core.store import ChromaStore, SharedState, make_client
from ingest.lock import register_shared


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Manifest:
    """Which file versions a collection holds, and a generation counter bumped on every change."""

    def __init__(self, path: Path, collection: str, shared: SharedState | None = None):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.collection = collection
        self.shared = shared  # the generation in the Chroma server, when there is one
        self._bumped = False
        self.db = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS files (collection TEXT, source TEXT, hash TEXT, chunks INTEGER,"
            " ingested_at REAL, PRIMARY KEY (collection, source))"
        )
        self.db.execute("CREATE TABLE IF NOT EXISTS generation (collection TEXT PRIMARY KEY, n INTEGER)")
        self.db.commit()

    @classmethod
    def for_settings(cls, settings: Settings, store: ChromaStore | None = None) -> "Manifest":
        """The manifest in ``index_dir``; with a Chroma server, the generation and the ingest lock
        are the server's (through ``store``'s client, or a client of its own)."""
        shared = None
        if settings.chroma_mode == "server":
            shared = SharedState(store.client if store is not None else make_client(settings), settings.collection)
            register_shared(settings.index_dir, settings.collection, shared)
        return cls(settings.index_dir / "manifest.sqlite3", settings.collection, shared)

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
        """Mark a change so long-running readers (the app) reload their view; it takes effect on commit."""
        # The first generation is random, not 1: snapshots are named by generation, and a manifest
        # made anew (deleted, restored elsewhere) must never repeat the numbers of an older one.
        self.db.execute(
            "INSERT INTO generation VALUES (?, ?) ON CONFLICT(collection) DO UPDATE SET n = n + 1",
            (self.collection, secrets.randbelow(2**40) + 1),
        )
        self._bumped = True

    def generation(self) -> int:
        if self.shared is not None:
            return self.shared.generation()
        row = self.db.execute("SELECT n FROM generation WHERE collection=?", (self.collection,)).fetchone()
        return int(row[0]) if row else 0

    def commit(self) -> None:
        self.db.commit()
        if self._bumped and self.shared is not None:
            # After the local commit and after the chunks are in the server: a replica that sees
            # the new generation reads a store that already holds what it announces.
            self.shared.bump()
        self._bumped = False

    def close(self) -> None:
        self.db.close()
