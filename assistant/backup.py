"""Export and import of a collection (chunks, vectors, metadata) and its ingest manifest.

The archive is a gzip'd JSON-lines file: a header line (model, dimension, collection,
manifest rows), then one line per chunk. Import refuses an archive made with another model.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from assistant.core.store import ChromaStore, ModelMismatchError
from ingest.manifest import Manifest

FORMAT = "outsourcing-assistant-export/1"


def export_index(store: ChromaStore, manifest: Manifest, path: Path, page: int = 2000) -> int:
    """Write every chunk with its vector; returns the number of chunks written."""
    n = 0
    with gzip.open(path, "wt", encoding="utf-8") as f:
        header = {
            "format": FORMAT,
            "collection": store.name,
            "embedding_model": store.model_name,
            "embedding_dim": store.dimension,
            "manifest": [[s, h, c] for s, (h, c) in sorted(manifest.entries().items())],
        }
        f.write(json.dumps(header) + "\n")
        offset = 0
        while True:
            res = store.col.get(include=["documents", "metadatas", "embeddings"], limit=page, offset=offset)
            for cid, doc, meta, emb in zip(res["ids"], res["documents"], res["metadatas"], res["embeddings"]):
                f.write(json.dumps({"id": cid, "text": doc, "meta": meta, "vec": [round(float(x), 7) for x in emb]}) + "\n")
                n += 1
            if len(res["ids"]) < page:
                break
            offset += page
    return n


def import_index(store: ChromaStore, manifest: Manifest, path: Path, batch: int = 1000) -> int:
    """Replace the collection's content with the archive's; returns the number of chunks read."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        header: dict[str, Any] = json.loads(f.readline())
        if header.get("format") != FORMAT:
            raise ValueError(f"{path} is not an export of this assistant (format {header.get('format')!r})")
        if header["embedding_model"] != store.model_name or int(header["embedding_dim"]) != store.dimension:
            raise ModelMismatchError(
                f"{path} holds vectors of {header['embedding_model']!r} ({header['embedding_dim']} dimensions); "
                f"this collection uses {store.model_name!r} ({store.dimension})"
            )
        existing = list(manifest.entries())
        if existing:
            store.delete_sources(existing)
        manifest.clear()
        n = 0
        ids, docs, metas, vecs = [], [], [], []

        def flush() -> None:
            if ids:
                store._call("write chunks", store.col.upsert, ids=list(ids), documents=list(docs), metadatas=list(metas), embeddings=list(vecs))
                ids.clear(), docs.clear(), metas.clear(), vecs.clear()

        for line in f:
            row = json.loads(line)
            ids.append(row["id"])
            docs.append(row["text"])
            metas.append(row["meta"])
            vecs.append(row["vec"])
            n += 1
            if len(ids) >= batch:
                flush()
        flush()
        for source, digest, chunks in header["manifest"]:
            manifest.put(source, digest, chunks)
        manifest.bump()
        manifest.commit()
    return n
