"""Export and import of a collection (chunks, vectors, metadata) and its ingest manifest.

The archive is a gzip'd JSON-lines file: a header line (model, dimension, collection,
manifest rows), then one line per chunk. Import refuses an archive made with another model.

An archive is input like any upload: import reads it twice, first only to check every line
against size and shape limits (so a bad or hostile archive is refused before the collection is
touched, and never grows memory past one capped line), then to write it.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from pathlib import Path
from typing import IO, Any, Callable, Iterator

from assistant.core.store import ChromaStore, ModelMismatchError
from ingest.frontmatter import MAX_ITEMS, MAX_STRING, FrontMatterError, check_limits
from ingest.manifest import Manifest

FORMAT = "outsourcing-assistant-export/1"
MAX_HEADER_CHARS = 32_000_000  # the manifest: ~150 characters a file
MAX_ROW_CHARS = 1_000_000  # one chunk: text, metadata and vector
MAX_TEXT_CHARS = 200_000
MAX_META_CHARS = 40_000  # serialised chunk metadata (front matter is capped at 16,000 on ingest)
MAX_SOURCE_CHARS = 1_000
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


class BackupError(ValueError):
    """An archive that cannot be imported; the message names the line and the problem."""


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


def _line(f: IO[str], limit: int, lineno: int) -> str:
    line = f.readline(limit + 1)
    if len(line) > limit:
        raise BackupError(f"line {lineno} is longer than {limit:,} characters")
    return line


def _json(line: str, lineno: int) -> Any:
    try:
        return json.loads(line)
    except (ValueError, RecursionError):
        raise BackupError(f"line {lineno} is not valid JSON") from None


def _header(f: IO[str], path: Path, store: ChromaStore) -> dict[str, Any]:
    header = _json(_line(f, MAX_HEADER_CHARS, 1), 1)
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        fmt = header.get("format") if isinstance(header, dict) else None
        raise BackupError(f"{path} is not an export of this assistant (format {fmt!r})")
    model, dim = header.get("embedding_model"), header.get("embedding_dim")
    if model != store.model_name or not isinstance(dim, int) or dim != store.dimension:
        raise ModelMismatchError(
            f"{path} holds vectors of {model!r} ({dim} dimensions); "
            f"this collection uses {store.model_name!r} ({store.dimension})"
        )
    rows = header.get("manifest")
    if not isinstance(rows, list):
        raise BackupError("the header's manifest must be a list")
    for i, r in enumerate(rows):
        ok = (isinstance(r, list) and len(r) == 3 and isinstance(r[0], str) and 0 < len(r[0]) <= MAX_SOURCE_CHARS
              and isinstance(r[1], str) and _DIGEST.match(r[1]) and isinstance(r[2], int) and 0 <= r[2] <= 10_000_000)
        if not ok:
            raise BackupError(f"manifest row {i + 1} must be [source, sha256, chunk count]")
    return header


def _check_meta(meta: Any, lineno: int) -> None:
    if not isinstance(meta, dict) or len(meta) > MAX_ITEMS:
        raise BackupError(f"line {lineno}: meta must be a mapping of at most {MAX_ITEMS} keys")
    if len(json.dumps(meta)) > MAX_META_CHARS:
        raise BackupError(f"line {lineno}: meta is longer than {MAX_META_CHARS:,} characters")
    for key, value in meta.items():
        scalar = isinstance(value, (str, int, float, bool)) and (not isinstance(value, str) or len(value) <= MAX_META_CHARS)
        strings = isinstance(value, list) and len(value) <= MAX_ITEMS and all(isinstance(v, str) and len(v) <= MAX_STRING for v in value)
        if not (scalar or strings):
            raise BackupError(f"line {lineno}: meta '{key}' must be text, a number or a short list of text")
    if not (isinstance(meta.get("source"), str) and 0 < len(meta["source"]) <= MAX_SOURCE_CHARS
            and isinstance(meta.get("start"), int) and isinstance(meta.get("end"), int)):
        raise BackupError(f"line {lineno}: meta needs source, start and end")
    try:  # the front matter is read back on every load: hold it to the ingest limits
        fm = json.loads(meta.get("fm") or "{}")
        if not isinstance(fm, dict):
            raise BackupError(f"line {lineno}: meta 'fm' must be a JSON object")
        check_limits(fm, "front matter", max_total=MAX_META_CHARS)
    except (ValueError, RecursionError, FrontMatterError) as exc:
        raise BackupError(f"line {lineno}: meta 'fm' is unusable ({exc})") from None


def _rows(f: IO[str], dim: int) -> Iterator[dict[str, Any]]:
    """The archive's chunk rows, each checked; raises BackupError at the first bad line."""
    lineno = 1
    while line := _line(f, MAX_ROW_CHARS, lineno + 1):
        lineno += 1
        row = _json(line, lineno)
        if not isinstance(row, dict):
            raise BackupError(f"line {lineno} must be a JSON object")
        if not (isinstance(row.get("id"), str) and 0 < len(row["id"]) <= 128):
            raise BackupError(f"line {lineno}: id must be text of at most 128 characters")
        if not (isinstance(row.get("text"), str) and len(row["text"]) <= MAX_TEXT_CHARS):
            raise BackupError(f"line {lineno}: text must be at most {MAX_TEXT_CHARS:,} characters")
        _check_meta(row.get("meta"), lineno)
        vec = row.get("vec")
        if not (isinstance(vec, list) and len(vec) == dim
                and all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in vec)):
            raise BackupError(f"line {lineno}: vec must be {dim} finite numbers")
        yield row


def import_index(store: ChromaStore, manifest: Manifest, path: Path, batch: int = 1000,
                 after: Callable[[], Any] | None = None) -> int:
    """Replace the collection's content with the archive's; returns the number of chunks read.

    ``after`` runs once the import is committed, e.g. ``lambda: assistant.retriever.refresh(force=True)``
    to write the corpus snapshot that serving processes map (otherwise the first one rebuilds it).

    Raises:
        BackupError: a line over a size limit or of the wrong shape (nothing is changed).
        ModelMismatchError: the archive was made with another embedding model.
    """
    with gzip.open(path, "rt", encoding="utf-8") as f:  # pass 1: check everything, change nothing
        header = _header(f, path, store)
        for _ in _rows(f, store.dimension):
            pass
    with gzip.open(path, "rt", encoding="utf-8") as f:
        _line(f, MAX_HEADER_CHARS, 1)
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

        for row in _rows(f, store.dimension):
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
    if after is not None:
        after()
    return n
