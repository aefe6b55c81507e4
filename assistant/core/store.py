"""The Chroma store: one collection of chunks, embedded or through a Chroma server."""

from __future__ import annotations

import json
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from assistant.core.settings import Settings
from assistant.core.text import date_int
from assistant.core.types import Chunk

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

    def __init__(self, client: Any, name: str, model_name: str, dimension: int, create: bool = True):
        self.client = client
        self.name = name
        self.model_name = model_name
        self.dimension = dimension
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
        return cls(make_client(settings), settings.collection, model_name, dimension)

    def _call(self, what: str, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ModelMismatchError, ValueError, TypeError):
            raise
        except Exception as exc:
            raise StoreError(f"vector store unavailable while trying to {what}: {exc}") from exc

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
