"""Corpus snapshots: one collection's in-memory view, written once per ingest generation and
memory-mapped by every process that serves it, so a process starts without reading the store.

Under ``<snapshot_dir>/<collection>/`` each snapshot is a folder named by what it was built from
(``v<format>-<collection id>-g<generation>``), written in a temporary folder and moved
into place with ``os.replace``: a reader sees a whole snapshot or none. A snapshot whose name does
not match the store is simply not found; one that is corrupt or was made with another format,
collection or model is removed and rebuilt. Inside:

* ``meta.json``: format, collection and its id, model, dimension, generation, chunks, file sizes;
* ``vectors.npy``: the stored vectors (float32, chunks x dimension), memory-mapped;
* ``texts.bin``: the chunk texts (UTF-8, back to back), memory-mapped, decoded when a chunk is read;
* ``columns.npz``: per-chunk integers (text offsets, start/end/line/page, string and metadata codes,
  the filter codes and dates of ``Corpus``, document order);
* ``tables.json``: chunk ids, the interned strings (titles, sections, metadata as JSON), the filter
  code tables, the BM25 vocabulary, the documents in order;
* ``bm25-*.npy``: the BM25 matrix (CSC: data, indices, indptr) and idf, memory-mapped, so a query
  pages in only its terms' columns. (Not ``scipy.sparse.save_npz``: a zip cannot be mapped.)
* ``units-*.npy``: span search's unit table (``spans.unit_table``): every chunk's statement units,
  their offsets and term ids, memory-mapped, so span search splits and tokenises no text per query;
* ``catalog-<n>.json`` / ``.npz``: the routing catalog of each role's audiences (read on first use),
  so the first routed question does not tokenise every document's opening again.
"""

from __future__ import annotations

import fcntl
import functools
import json
import logging
import mmap
import os
import shutil
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable, Iterator, NamedTuple

import numpy as np
from scipy import sparse

from assistant.core.access import ROLE_AUDIENCES
from assistant.core.store import ChromaStore
from assistant.core.types import Chunk
from assistant.retrieval.corpus import Audiences, Catalog, Corpus
from assistant.retrieval.lexical import BM25Index
from assistant.retrieval.spans import UNIT_ARRAYS, unit_table

log = logging.getLogger(__name__)

FORMAT = 4  # 2: the span search's unit table; 3: currency names tokenise as their ISO codes; 4: "won't" as "will not"
KEEP = 2  # snapshots kept per collection: the newest, and the one before for readers still mapping it
_BM25 = ("data", "indices", "indptr", "idf")


class Key(NamedTuple):
    """What a snapshot was built from; a process uses one only when every field matches its store."""

    collection: str
    collection_id: str
    model: str
    dimension: int
    generation: int

    @property
    def name(self) -> str:
        return f"v{FORMAT}-{self.collection_id}-g{self.generation}"


def key_for(store: ChromaStore, generation: int) -> Key:
    # No count() here: in embedded Chroma the first read of a collection loads its segments
    # (~200 MB at 100k chunks), which a process answering from a snapshot never needs.
    return Key(store.name, str(store.col.id), store.model_name, store.dimension, generation)


class ChunkTable(Sequence[Chunk]):
    """A snapshot's chunks: integer columns, interned strings and memory-mapped texts. A ``Chunk``
    is made when one is read (the last few thousand are kept), so 100k chunks cost little memory."""

    def __init__(self, ids: list[str], texts: mmap.mmap | bytes, cols: dict[str, np.ndarray], tables: dict[str, Any],
                 sources: list[Any], doc_types: list[Any]):
        self.ids, self._texts, self._sources, self._doc_types = ids, texts, sources, doc_types
        self._off = cols["text_offsets"]
        self._cols = {k: cols[k] for k in ("start", "end", "line", "page", "title", "section", "meta", "source", "doc_type")}
        self._titles, self._sections, self._metas = tables["titles"], tables["sections"], tables["metas"]
        self._get = functools.lru_cache(maxsize=4096)(self._make)
        self._parsed = functools.lru_cache(maxsize=None)(lambda code: json.loads(self._metas[code]))

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self._get(j) for j in range(*i.indices(len(self)))]
        i = int(i)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._get(i)

    def __iter__(self) -> Iterator[Chunk]:
        return (self._get(i) for i in range(len(self)))

    def text(self, i: int) -> str:
        return self._texts[int(self._off[i]):int(self._off[i + 1])].decode("utf-8", "surrogatepass")

    def rows_containing(self, needle: str) -> Iterator[int]:
        """Rows whose text may contain ``needle``, in order: a byte search of the mapped texts (a match across
        two rows' boundary is offered too; the caller reads the row's text)."""
        b, texts, off = needle.encode("utf-8"), self._texts, self._off
        pos = texts.find(b)
        while pos >= 0:
            row = int(np.searchsorted(off, pos, side="right")) - 1
            yield row
            pos = texts.find(b, int(off[row + 1]))

    def metadata(self, i: int) -> dict[str, Any]:
        """Chunk ``i``'s metadata without making the chunk (shared: read, never change it)."""
        return self._parsed(int(self._cols["meta"][i]))

    def _make(self, i: int) -> Chunk:
        c = self._cols
        page = int(c["page"][i])
        return Chunk(
            id=self.ids[i], text=self.text(i), source=self._sources[c["source"][i]], title=self._titles[c["title"][i]],
            doc_type=self._doc_types[c["doc_type"][i]], section=self._sections[c["section"][i]],
            start=int(c["start"][i]), end=int(c["end"][i]), page=None if page < 0 else page,
            metadata=json.loads(self._metas[c["meta"][i]]), line=int(c["line"][i]),
        )


def _intern(values: list[str]) -> tuple[list[str], np.ndarray]:
    table: dict[str, int] = {}
    codes = np.fromiter((table.setdefault(v, len(table)) for v in values), dtype=np.int32, count=len(values))
    return list(table), codes


def write(corpus: Corpus, key: Key, folder: Path) -> None:
    """Write ``corpus`` into the (new, empty) ``folder``."""
    chunks = corpus.chunks
    n = len(chunks)
    blobs = [c.text.encode("utf-8", "surrogatepass") for c in chunks]
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum([len(b) for b in blobs], out=offsets[1:])
    (folder / "texts.bin").write_bytes(b"".join(blobs))
    del blobs
    titles, title_codes = _intern([c.title for c in chunks])
    sections, section_codes = _intern([c.section for c in chunks])
    metas, meta_codes = _intern([json.dumps(c.metadata, default=str) for c in chunks])
    order = [i for rows in corpus.neighbours.values() for i in rows]
    cols = {
        "text_offsets": offsets,
        "start": np.array([c.start for c in chunks], dtype=np.int64),
        "end": np.array([c.end for c in chunks], dtype=np.int64),
        "line": np.array([c.line for c in chunks], dtype=np.int64),
        "page": np.array([-1 if c.page is None else c.page for c in chunks], dtype=np.int64),
        "title": title_codes, "section": section_codes, "meta": meta_codes, "dates": corpus.dates,
        "order": np.array(order, dtype=np.int64),
        "doc_lengths": np.array([len(rows) for rows in corpus.neighbours.values()], dtype=np.int64),
        **{f"code_{k}": v for k, v in corpus.codes.items()},
    }
    np.savez(folder / "columns.npz", **cols)
    vectors = corpus.vectors if corpus.vectors is not None else np.zeros((0, key.dimension), dtype=np.float32)
    np.save(folder / "vectors.npy", np.ascontiguousarray(vectors, dtype=np.float32))
    for name, arr in _bm25_arrays(corpus.bm25).items():
        np.save(folder / f"bm25-{name}.npy", arr)
    for name, arr in unit_table(corpus).items():
        np.save(folder / f"units-{name}.npy", arr)
    audience_sets = list(dict.fromkeys([None, *ROLE_AUDIENCES.values()]))
    for j, audiences in enumerate(audience_sets):
        sources, index, names = corpus.catalog(audiences)
        np.savez(folder / f"catalog-{j}.npz", **_bm25_arrays(index))
        (folder / f"catalog-{j}.json").write_text(json.dumps({
            "audiences": audiences, "sources": sources, "names": [sorted(n) for n in names],
            "vocab": sorted(index.vocab, key=index.vocab.__getitem__), "shape": list(index.matrix.shape),
        }), encoding="utf-8")
    tables = {
        "ids": [c.id for c in chunks], "titles": titles, "sections": sections, "metas": metas,
        "values": {k: list(v) for k, v in corpus.values.items()},
        "vocab": sorted(corpus.bm25.vocab, key=corpus.bm25.vocab.__getitem__),
        "bm25_shape": list(corpus.bm25.matrix.shape), "documents": list(corpus.neighbours),
        "catalogs": [list(a) if a is not None else None for a in audience_sets],
    }
    (folder / "tables.json").write_text(json.dumps(tables, default=str), encoding="utf-8")
    meta = {"format": FORMAT, **key._asdict(), "chunks": n, "vectors": vectors.shape[0] == n, "created": time.time(),
            "files": {p.name: p.stat().st_size for p in folder.iterdir()}}
    (folder / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")


def read(folder: Path, key: Key) -> Corpus:
    """The corpus in ``folder``, its arrays memory-mapped. Raises ``ValueError`` (or an I/O or
    format error) when the snapshot is not the one ``key`` names or is damaged."""
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    want = {"format": FORMAT, **key._asdict()}
    if any(meta.get(k) != v for k, v in want.items()):
        raise ValueError(f"made for {({k: meta.get(k) for k in want})}, not {want}")
    for name, size in meta["files"].items():
        if (folder / name).stat().st_size != size:
            raise ValueError(f"{name} is {(folder / name).stat().st_size} bytes, not {size}")
    tables = json.loads((folder / "tables.json").read_text(encoding="utf-8"))
    with np.load(folder / "columns.npz") as z:
        cols = {k: z[k] for k in z.files}
    n = len(tables["ids"])
    if n != meta["chunks"] or len(cols["text_offsets"]) != n + 1:
        raise ValueError(f"holds {n} chunks, not {meta['chunks']}")
    values = {k: {v: i for i, v in enumerate(vs)} for k, vs in tables["values"].items()}
    codes = {k[5:]: cols[k] for k in cols if k.startswith("code_")}
    if sorted(codes) != sorted(values):
        raise ValueError("the filter codes and their tables disagree")
    texts: mmap.mmap | bytes = b""
    if cols["text_offsets"][-1] > 0:
        with open(folder / "texts.bin", "rb") as f:
            texts = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    vectors = np.load(folder / "vectors.npy", mmap_mode="r") if meta["vectors"] else None
    if vectors is not None and vectors.shape != (n, key.dimension):
        raise ValueError(f"vectors of shape {vectors.shape}")
    bm = {name: np.load(folder / f"bm25-{name}.npy", mmap_mode="r") for name in _BM25}
    bm25 = _bm25(bm, tables["vocab"], tuple(tables["bm25_shape"]))
    if bm25.n != n:
        raise ValueError(f"a BM25 matrix of {bm25.n} rows for {n} chunks")
    sources = list(values["source"])
    doc_types = list(values["doc_type"])
    chunks = ChunkTable(tables["ids"], texts, {**cols, "source": codes["source"], "doc_type": codes["doc_type"]},
                        tables, sources, doc_types)
    order, bounds = cols["order"], np.concatenate([[0], np.cumsum(cols["doc_lengths"])])
    neighbours = {s: order[bounds[j]:bounds[j + 1]].tolist() for j, s in enumerate(tables["documents"])}
    catalogs = {tuple(a) if a is not None else None: j for j, a in enumerate(tables["catalogs"])}

    def catalog(audiences: Audiences) -> Catalog | None:
        j = catalogs.get(audiences)
        if j is None:
            return None
        try:
            spec = json.loads((folder / f"catalog-{j}.json").read_text(encoding="utf-8"))
            with np.load(folder / f"catalog-{j}.npz") as z:
                index = _bm25({k: z[k] for k in z.files}, spec["vocab"], tuple(spec["shape"]))
            return spec["sources"], index, [set(words) for words in spec["names"]]
        except (OSError, ValueError, KeyError) as exc:  # removed or damaged since: build it instead
            log.warning("cannot read routing catalog %d of %s (%s); building it", j, folder, exc)
            return None

    corpus = Corpus.from_arrays(chunks, vectors, bm25, codes, values, cols["dates"], neighbours,
                                {cid: i for i, cid in enumerate(tables["ids"])}, catalog)
    units = {name: np.load(folder / f"units-{name}.npy", mmap_mode="r") for name in UNIT_ARRAYS}
    if len(units["chunk_ptr"]) != n + 1 or int(units["chunk_ptr"][-1]) != len(units["start"]):
        raise ValueError("a unit table that does not match the chunks")
    corpus.unit_table = units
    return corpus


def _bm25_arrays(index: BM25Index) -> dict[str, np.ndarray]:
    m = index.matrix.tocsc()
    idx = np.int32 if m.nnz < 2**31 and max(m.shape) < 2**31 else np.int64
    return {"data": m.data.astype(np.float32), "indices": m.indices.astype(idx), "indptr": m.indptr.astype(np.int64),
            "idf": index.idf.astype(np.float32)}


def _bm25(parts: dict[str, np.ndarray], vocab: list[str], shape: tuple[int, ...]) -> BM25Index:
    """A ``BM25Index`` from saved parts (its constructor tokenises every text: set the parts instead)."""
    index = BM25Index.__new__(BM25Index)
    index.vocab = {w: i for i, w in enumerate(vocab)}
    index.idf, index.n = np.asarray(parts["idf"]), int(shape[0])
    index.matrix = sparse.csc_matrix((parts["data"], parts["indices"], parts["indptr"]), shape=shape, copy=False)
    if len(index.vocab) != shape[1] or len(index.idf) != shape[1]:
        raise ValueError(f"a BM25 matrix of shape {shape} with {len(index.vocab)} terms")
    return index


class Snapshots:
    """The snapshots of one collection in ``root`` (``snapshot_dir``, shared by replicas)."""

    def __init__(self, root: Path, collection: str):
        self.dir = Path(root) / collection

    def path(self, key: Key) -> Path:
        return self.dir / key.name

    def load(self, key: Key) -> Corpus | None:
        """The snapshot ``key`` names, or None when there is none; a bad one is removed."""
        folder = self.path(key)
        if not (folder / "meta.json").exists():
            return None
        try:
            return read(folder, key)
        except Exception as exc:  # damaged, truncated or foreign: never serve it, rebuild instead
            log.warning("ignoring corpus snapshot %s (%s: %s); it will be rebuilt", folder, type(exc).__name__, exc)
            self._discard(folder)
            return None

    def save(self, corpus: Corpus, key: Key) -> Path | None:
        """Write ``corpus`` as the snapshot of ``key`` (atomically); None when the folder cannot be written."""
        target = self.path(key)
        tmp = self.dir / f".tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            tmp.mkdir(parents=True)
            write(corpus, key, tmp)
            os.replace(tmp, target)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if target.exists():  # another process wrote the same snapshot first: theirs is as good
                return target
            log.warning("cannot write the corpus snapshot %s: %s", target, exc)
            return None
        self._prune(keep=target)
        return target

    def corpus(self, store: ChromaStore, generation: int, rebuild: bool = False,
               current: Callable[[], int] | None = None, stale: Corpus | None = None) -> Corpus | None:
        """The corpus of ``store`` at ``generation``: mapped from its snapshot, or read from the store
        (once for all processes sharing the folder) and written as the snapshot. ``rebuild``: read
        the store even when a snapshot exists (after an ingest). With a ``stale`` corpus in hand and
        another process building this snapshot now, None: keep serving ``stale`` and ask again later."""
        key = key_for(store, generation)
        if not rebuild and (found := self.load(key)) is not None:
            return found
        with self._build_lock(wait=stale is None or rebuild) as held:
            if not held:
                return None
            if not rebuild and (found := self.load(key)) is not None:
                return found  # built by another process while this one waited
            t0 = time.perf_counter()
            built = Corpus(*store.get_with_vectors())
            took = time.perf_counter() - t0
            if current is not None and current() != generation:
                log.warning("the collection changed while it was read: not saved as the snapshot of generation %d", generation)
                return built
            where = self.save(built, key)
            if rebuild:  # after an ingest: the expected path, written for every other process
                log.info("corpus snapshot for generation %d of %r built from the store in %.1f s (%d chunks): %s",
                         generation, store.name, took, len(built.chunks), where)
            else:
                log.warning("corpus snapshot for generation %d of %r was missing: rebuilt from the store in %.1f s "
                            "(%d chunks) and written to %s", generation, store.name, took, len(built.chunks), where)
        if where is None:
            return built
        return self.load(key) or built  # serve the mapped form: every process then holds the same, small view

    def _build_lock(self, wait: bool) -> Any:
        """An exclusive ``flock`` per collection folder, so one process builds each snapshot."""
        snap = self

        class _Lock:
            def __enter__(self) -> bool:
                snap.dir.mkdir(parents=True, exist_ok=True)
                self.fd = os.open(snap.dir / ".build.lock", os.O_RDWR | os.O_CREAT, 0o644)
                try:
                    fcntl.flock(self.fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
                    return True
                except BlockingIOError:
                    return False

            def __exit__(self, *exc: object) -> None:
                os.close(self.fd)  # closing releases the lock

        return _Lock()

    def _discard(self, folder: Path) -> None:
        aside = self.dir / f".bad-{uuid.uuid4().hex[:8]}"
        try:
            os.replace(folder, aside)
        except OSError:
            return
        shutil.rmtree(aside, ignore_errors=True)

    def _prune(self, keep: Path) -> None:
        """Remove all but the newest snapshots (unlinking a mapped file is safe: readers keep their pages),
        and temporary folders left by writers that died."""
        def age(p: Path) -> float:
            try:
                return time.time() - p.stat().st_mtime
            except OSError:  # removed by another process meanwhile
                return float("inf")

        for p in sorted((p for p in self.dir.glob("v*") if p != keep), key=age)[KEEP - 1:]:
            shutil.rmtree(p, ignore_errors=True)
        for p in self.dir.glob(".tmp-*"):
            if age(p) > 3600:
                shutil.rmtree(p, ignore_errors=True)
