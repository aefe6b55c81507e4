"""The Chroma store: one collection of chunks, embedded or through a Chroma server."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from assistant.core.settings import Settings
from assistant.core.text import date_int
from assistant.core.types import Chunk

log = logging.getLogger(__name__)

# Metadata keys kept flat in Chroma so filters run inside the search.
_FLAT = ("audience", "vendor", "date")


class StoreError(RuntimeError):
    """The vector store cannot be reached or used; the message says what to do."""


class ModelMismatchError(StoreError):
    pass


def chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    fm = {k: v for k, v in chunk.metadata.items() if not k.startswith("_")}
    meta: dict[str, Any] = {
        "source": chunk.source,
        "title": chunk.title,
        "doc_type": chunk.doc_type,
        "section": chunk.section,
        "start": chunk.start,
        "end": chunk.end,
        "fm": json.dumps(fm, default=str, sort_keys=True),
    }
    if chunk.page is not None:
        meta["page"] = chunk.page
    if chunk.line:
        meta["line"] = chunk.line
    for key in _FLAT:
        if chunk.metadata.get(key):
            meta[key] = str(chunk.metadata[key])
    meta.setdefault("audience", "all")
    d = date_int(chunk.metadata.get("date"))
    if d:
        meta["date_int"] = d
    tags = chunk.metadata.get("tags")
    if tags:
        meta["tags"] = [str(t) for t in tags]
    for key in ("finding_id", "severity", "status"):
        if chunk.metadata.get(key):
            meta[key] = str(chunk.metadata[key])
    if "_line_offset" in chunk.metadata:
        meta["line_offset"] = int(chunk.metadata["_line_offset"])
    return meta


def chunk_from(cid: str, text: str, meta: dict[str, Any], score: float = 0.0) -> Chunk:
    fm = json.loads(meta.get("fm") or "{}")
    for key in ("finding_id", "severity", "status", "line_offset"):
        if key in meta:
            fm[f"_{key}" if key == "line_offset" else key] = meta[key]
    return Chunk(
        id=cid,
        text=text,
        source=meta["source"],
        title=meta.get("title", ""),
        doc_type=meta.get("doc_type", ""),
        section=meta.get("section", ""),
        start=int(meta["start"]),
        end=int(meta["end"]),
        page=meta.get("page"),
        metadata=fm,
        score=score,
        line=int(meta.get("line", 0)),
    )


def make_client(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if settings.chroma_mode == "server":
            return chromadb.HttpClient(
                host=settings.chroma_host, port=settings.chroma_port, ssl=settings.chroma_ssl, settings=chroma_settings
            )
        settings.chroma_path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)
    except Exception as exc:
        where = (
            f"Chroma server at {settings.chroma_host}:{settings.chroma_port}"
            if settings.chroma_mode == "server"
            else f"Chroma store in {settings.chroma_path}"
        )
        raise StoreError(f"cannot open the {where}: {exc}") from exc


class ChromaStore:
    """Chunks with their vectors; records which embedding model filled it."""

    def __init__(self, client: Any, name: str, model_name: str, dimension: int, create: bool = True,
                 settings: Settings | None = None):
        self.client = client
        self.name = name
        self.model_name = model_name
        self.dimension = dimension
        self._settings = settings  # set by open(): lets an embedded store reopen itself (see _reopen)
        self._open_collection(create)

    def _open_collection(self, create: bool) -> None:
        client, name, model_name, dimension = self.client, self.name, self.model_name, self.dimension
        try:
            if create:
                self.col = client.get_or_create_collection(
                    name,
                    metadata={"embedding_model": model_name, "embedding_dim": dimension},
                    configuration={"hnsw": {"space": "cosine", "ef_search": 100}},
                    embedding_function=None,
                )
            else:
                self.col = client.get_collection(name, embedding_function=None)
        except Exception as exc:
            raise StoreError(f"cannot open collection {name!r}: {exc}") from exc
        meta = self.col.metadata or {}
        have_model, have_dim = meta.get("embedding_model"), meta.get("embedding_dim")
        if have_model and (have_model != model_name or int(have_dim or dimension) != dimension):
            raise ModelMismatchError(
                f"collection {name!r} was filled with embedding model {have_model!r} ({have_dim} dimensions) "
                f"but the configured model is {model_name!r} ({dimension} dimensions). "
                "Use the same model, choose another collection, or re-ingest with --rebuild."
            )

    @classmethod
    def open(cls, settings: Settings, model_name: str, dimension: int) -> "ChromaStore":
        return cls(make_client(settings), settings.collection, model_name, dimension, settings=settings)

    def _call(self, what: str, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ModelMismatchError, ValueError, TypeError):
            raise
        except Exception as exc:
            error = exc
            if getattr(fn, "__self__", None) is self.col and self._reopen():
                try:  # once more, on the reopened collection
                    return getattr(self.col, fn.__name__)(*args, **kwargs)
                except Exception as again:
                    error = again
            raise StoreError(f"vector store unavailable while trying to {what}: {error}") from error

    def _reopen(self) -> bool:
        """Drop this process's cached Chroma system for an embedded store and open it afresh.

        Embedded Chroma keeps per-process state (segment readers, id maps) that goes stale when
        another process (``python -m ingest``, a killed ingest) writes the same folder; reads then
        fail with errors such as "Error creating hnsw segment reader: Nothing found on disk" until
        the process restarts. A fresh system reads what is on disk. False when not applicable.
        """
        if self._settings is None or self._settings.chroma_mode != "embedded":
            return False
        from chromadb.api.shared_system_client import SharedSystemClient

        log.warning("Chroma store in %s changed under this process: reopening it", self._settings.chroma_path)
        SharedSystemClient._identifier_to_system.pop(str(self._settings.chroma_path), None)
        SharedSystemClient._identifier_to_refcount.pop(str(self._settings.chroma_path), None)
        try:
            self.client = make_client(self._settings)
            self._open_collection(create=True)
        except Exception:
            return False
        return True

    def count(self) -> int:
        return int(self._call("count chunks", self.col.count))

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray, batch: int = 2000) -> None:
        for i in range(0, len(chunks), batch):
            part = chunks[i : i + batch]
            self._call(
                "write chunks",
                self.col.upsert,
                ids=[c.id for c in part],
                embeddings=vectors[i : i + batch],
                documents=[c.text for c in part],
                metadatas=[chunk_metadata(c) for c in part],
            )

    def delete_sources(self, sources: Iterable[str]) -> None:
        sources = list(sources)
        for i in range(0, len(sources), 200):
            part = sources[i : i + 200]
            self._call("delete chunks", self.col.delete, where={"source": {"$in": part}})

    def query(self, vector: np.ndarray, n: int, where: dict[str, Any] | None = None) -> list[Chunk]:
        res = self._call(
            "search",
            self.col.query,
            query_embeddings=[vector],
            n_results=n,
            where=where or None,
            include=["documents", "metadatas", "distances"],
        )
        out = []
        for cid, doc, meta, dist in zip(res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0]):
            out.append(chunk_from(cid, doc, meta, score=1.0 - float(dist)))
        return out

    def _pages(self, include: list[str], where: dict[str, Any] | None = None, ids: list[str] | None = None,
               page: int = 5000) -> Iterator[dict[str, Any]]:
        """``col.get`` results page by page, so large collections stay cheap."""
        offset = 0
        while True:
            res = self._call(
                "read chunks", self.col.get, where=where or None, ids=ids, include=include, limit=page, offset=offset
            )
            yield res
            if len(res["ids"]) < page or ids is not None:
                return
            offset += page

    def get(self, where: dict[str, Any] | None = None, ids: list[str] | None = None, page: int = 5000) -> list[Chunk]:
        """All chunks matching ``where`` (or the ids)."""
        return [
            chunk_from(cid, doc, meta)
            for res in self._pages(["documents", "metadatas"], where, ids, page)
            for cid, doc, meta in zip(res["ids"], res["documents"], res["metadatas"])
        ]

    def get_with_vectors(self, page: int = 5000) -> tuple[list[Chunk], np.ndarray]:
        """Every chunk and its stored vector (rows in the same order), for exact in-memory search."""
        out: list[Chunk] = []
        parts: list[np.ndarray] = []
        for res in self._pages(["documents", "metadatas", "embeddings"], page=page):
            out += [chunk_from(cid, doc, meta) for cid, doc, meta in zip(res["ids"], res["documents"], res["metadatas"])]
            if len(res["ids"]):
                parts.append(np.asarray(res["embeddings"], dtype=np.float32))
        vectors = np.concatenate(parts) if parts else np.zeros((0, self.dimension), dtype=np.float32)
        return out, vectors

    def drop(self) -> None:
        self._call("delete the collection", self.client.delete_collection, self.name)


# -- state every replica shares (chroma_mode=server) ---------------------------------------------
GENERATION_KEY = "generation"
GENERATION_CHECK_S = 1.0  # how stale a replica's view of the generation may be
LOCK_TTL_S = 120.0  # a lock not renewed for this long is treated as abandoned (its holder died)


def lock_collection_name(collection: str) -> str:
    """The name of the small collection whose existence is the ingest lock of ``collection``."""
    name = f"{collection}.ingest-lock"
    if len(name) <= 63:
        return name
    return f"{collection[:40]}-{hashlib.sha1(collection.encode()).hexdigest()[:10]}.ingest-lock"


class SharedState:
    """The ingest generation and the ingest lock of one collection, kept in the Chroma server.

    The generation is a counter in the collection's metadata, bumped after each committed ingest
    batch, so every replica sees a change within ``check_s``. The lock is a second, empty
    collection: creating a collection is atomic on the server (a name exists once), so it is the
    one compare-and-set Chroma offers. Its metadata names the holder and when the lock expires.
    """

    def __init__(self, client: Any, collection: str, check_s: float = GENERATION_CHECK_S):
        self.client, self.collection, self.check_s = client, collection, check_s
        self.lock_name = lock_collection_name(collection)
        self._gen, self._read_at = 0, float("-inf")

    def _col(self):
        return self.client.get_collection(self.collection, embedding_function=None)

    def generation(self) -> int:
        """The collection's generation, read from the server at most every ``check_s`` seconds."""
        now = time.monotonic()
        if now - self._read_at >= self.check_s:
            try:
                meta = self._col().metadata or {}
            except Exception as exc:
                if "does not exist" in str(exc):
                    meta = {}  # not created yet: nothing ingested
                else:
                    raise StoreError(f"vector store unavailable while reading the ingest generation: {exc}") from exc
            self._gen, self._read_at = int(meta.get(GENERATION_KEY, 0)), now
        return self._gen

    def bump(self) -> int:
        """Add one to the generation (the caller holds the ingest lock, so no bump is lost)."""
        try:
            col = self._col()
            meta = dict(col.metadata or {})
            n = int(meta.get(GENERATION_KEY, 0)) + 1
            col.modify(metadata={**meta, GENERATION_KEY: n})  # modify replaces the metadata: keep the rest
        except Exception as exc:
            raise StoreError(f"vector store unavailable while bumping the ingest generation: {exc}") from exc
        self._gen, self._read_at = n, time.monotonic()
        return n

    def holder(self) -> dict[str, Any] | None:
        """The lock's metadata (owner, expires), or None when nobody holds it."""
        try:
            return dict(self.client.get_collection(self.lock_name, embedding_function=None).metadata or {})
        except Exception as exc:
            if "does not exist" in str(exc):
                return None
            raise StoreError(f"vector store unavailable while reading the ingest lock: {exc}") from exc

    def try_lock(self, owner: str, ttl: float = LOCK_TTL_S) -> dict[str, Any] | None:
        """Take the lock for ``owner``; None on success, else the current holder's metadata.
        An expired lock is removed first (its holder stopped renewing it)."""
        for _ in range(3):
            try:
                self.client.create_collection(self.lock_name, metadata={"owner": owner, "expires": time.time() + ttl},
                                              embedding_function=None)
                return None
            except Exception as exc:
                if "already exists" not in str(exc):
                    raise StoreError(f"vector store unavailable while taking the ingest lock: {exc}") from exc
            held = self.holder()
            if held is None:
                continue  # released in between: try again
            if float(held.get("expires", 0)) >= time.time():
                return held
            self._delete_lock()
        return self.holder() or {"owner": "unknown"}

    def renew(self, owner: str, ttl: float = LOCK_TTL_S) -> bool:
        """Push the lock's expiry on; False when ``owner`` no longer holds it."""
        try:
            col = self.client.get_collection(self.lock_name, embedding_function=None)
            if (col.metadata or {}).get("owner") != owner:
                return False
            col.modify(metadata={"owner": owner, "expires": time.time() + ttl})
            return True
        except Exception:
            return False

    def unlock(self, owner: str) -> None:
        held = self.holder()
        if held is not None and held.get("owner") == owner:
            self._delete_lock()

    def _delete_lock(self) -> None:
        try:
            self.client.delete_collection(self.lock_name)
        except Exception as exc:
            if "does not exist" not in str(exc):
                raise StoreError(f"vector store unavailable while releasing the ingest lock: {exc}") from exc
