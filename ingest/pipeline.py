"""Incremental ingest: scan, diff against the manifest, load, split, embed in batches, write.

Crash safety comes from ordering: a file's old chunks are deleted and its new chunks written
before its manifest row changes, and chunk ids are content-derived, so a re-run after a kill
replaces whatever half-written state a file was left in and never duplicates a chunk.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from assistant.core.embeddings import Embedder
from assistant.core.findings import tag_chunks
from assistant.core.settings import Settings
from assistant.core.store import ChromaStore
from assistant.core.types import Chunk, Document
from ingest import policy
from ingest.loaders import SUPPORTED, LoadError, is_skipped_name, load
from ingest.lock import IngestLock
from ingest.manifest import Manifest, file_hash
from ingest.split import split

ProgressFn = Callable[[int, int, int, int], None]  # files done, files total, chunks done, chunks total


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (source, what the upload policy corrected)
    chunks_written: int = 0
    chunks_removed: int = 0
    embedded: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        lines = [
            f"added {len(self.added)}, updated {len(self.updated)}, removed {len(self.removed)}, "
            f"unchanged {len(self.unchanged)}, failed {len(self.failed)}; "
            f"{self.chunks_written} chunks written, {self.embedded} embedded, in {self.seconds:.1f} s"
        ]
        for source, reason in self.failed:
            lines.append(f"FAILED {source}: {reason}")
        for source, note in self.notes:
            lines.append(f"NOTE {source}: {note}")
        return "\n".join(lines)


def scan(root: Path, path: Path | None = None) -> Iterator[tuple[str, Path]]:
    """Yield (source, file) for every ingestible file under ``path`` (default: the root)."""
    base = (path or root).resolve()
    root = root.resolve()
    files = [base] if base.is_file() else sorted(
        p for p in base.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED
    )
    for p in files:
        rel_parts = p.relative_to(base if not base.is_file() else base.parent).parts
        if any(part.startswith(".") for part in rel_parts):
            continue
        if is_skipped_name(p.name):
            continue
        try:
            source = p.relative_to(root).as_posix()
        except ValueError:
            source = p.relative_to(base.parent if base.is_file() else base).as_posix()
        yield source, p


def _in_scope(source: str, scope: str | None, is_file: bool) -> bool:
    """Whether ``source`` lies in the scanned scope: the whole root, one folder, or exactly one file."""
    if scope is None:
        return True
    return source == scope if is_file else source.startswith(scope)


def embed_input(chunk: Chunk) -> str:
    """What the model sees: the chunk with its title and section as context."""
    head = chunk.title if not chunk.section else f"{chunk.title} > {chunk.section}"
    return f"{head}\n{chunk.text}"


class Ingester:
    """Scan, diff against the manifest, load, split, embed in batches and write one collection."""

    def __init__(
        self,
        store: ChromaStore,
        embedder: Embedder,
        manifest: Manifest,
        root: Path,
        chunk_size: int = 256,
        chunk_overlap: int = 32,
        max_bytes: int | None = 50_000_000,
        batch_size: int = 64,
        upload_dir_name: str | None = "uploads",
    ):
        self.store, self.embedder, self.manifest, self.root = store, embedder, manifest, root
        self.chunk_size, self.chunk_overlap = chunk_size, chunk_overlap
        self.max_bytes, self.batch_size = max_bytes, batch_size
        # Files under this folder of the root are uploads: their metadata is bounded by ingest.policy.
        self.upload_root = (root / upload_dir_name).resolve() if upload_dir_name else None
        self._titles: dict[str, str] | None = None  # title key -> source, read lazily for uploads

    def run(
        self,
        path: Path | None = None,
        rebuild: bool = False,
        progress: ProgressFn | None = None,
        show_bar: bool | None = None,
    ) -> IngestReport:
        """Bring the collection in line with ``path`` (default: the whole root); never raises for a bad file."""
        t0 = time.perf_counter()
        report = IngestReport()
        if rebuild:
            self.store.delete_sources(list(self.manifest.entries()))
            self.manifest.clear()
            self.manifest.commit()
        known = self.manifest.entries()
        found = list(scan(self.root, path))
        self._remove_deleted(path, known, {s for s, _ in found}, report)
        todo = self._changed(found, known, report)
        bar = _Bar(len(todo), show_bar) if todo else None
        batch = _Batch(self, report, flush_at=max(self.batch_size * 8, 256))
        try:
            for done, (source, p, digest) in enumerate(todo, start=1):
                chunks = self._chunks(source, p, report)
                if chunks is not None:
                    batch.add(source, digest, source not in known, chunks)
                if bar:
                    bar.update(done, report.chunks_written + batch.size)
                if progress:
                    progress(done, len(todo), report.chunks_written, report.chunks_written + batch.size)
            batch.flush()
            if report.removed:
                self.manifest.bump()
                self.manifest.commit()
        finally:
            if bar:
                bar.close()
        report.seconds = time.perf_counter() - t0
        if progress:
            progress(len(todo), len(todo), report.chunks_written, report.chunks_written)
        return report

    def _remove_deleted(self, path: Path | None, known: dict[str, tuple[str, int]], seen: set[str],
                        report: IngestReport) -> None:
        """Files in the manifest (within the scanned scope) but gone from disk lose their chunks."""
        scope = None
        if path is not None and path.resolve() != self.root.resolve():
            try:
                rel = path.resolve().relative_to(self.root.resolve()).as_posix()
            except ValueError:
                return  # a path outside the root: nothing of the manifest is in scope
            scope = rel if path.is_file() else rel + "/"
        gone = [s for s in known if s not in seen and _in_scope(s, scope, bool(path and path.is_file()))]
        if gone:
            self.store.delete_sources(gone)
            for s in gone:
                report.chunks_removed += known[s][1]
                self.manifest.remove(s)
                report.removed.append(s)
            self.manifest.commit()

    def _changed(self, found: list[tuple[str, Path]], known: dict[str, tuple[str, int]],
                 report: IngestReport) -> list[tuple[str, Path, str]]:
        """(source, file, content hash) of new or changed files; unchanged ones go on the report."""
        todo: list[tuple[str, Path, str]] = []
        for source, p in found:
            try:
                digest = file_hash(p)
            except OSError as exc:
                report.failed.append((source, f"cannot read file: {exc.strerror or exc}"))
                continue
            if source in known and known[source][0] == digest:
                report.unchanged.append(source)
            else:
                todo.append((source, p, digest))
        return todo

    def _chunks(self, source: str, p: Path, report: IngestReport) -> list[Chunk] | None:
        """The file's chunks, or None (with the reason on the report) when it cannot be ingested."""
        try:
            doc = load(p, source, self.max_bytes)
            if self.upload_root is not None and p.resolve().is_relative_to(self.upload_root):
                doc = self._bound_upload(doc, p, report)
            chunks = split(doc, self.embedder.count_tokens, self.chunk_size, self.chunk_overlap)
            tag_chunks(doc.metadata.get("findings") or [], chunks)
            return chunks
        except LoadError as exc:
            report.failed.append((source, exc.reason))
        except Exception as exc:  # a loader bug must not sink the run; report it per file
            report.failed.append((source, f"unexpected {type(exc).__name__}: {exc}"))
        return None

    def _bound_upload(self, doc: Document, p: Path, report: IngestReport) -> Document:
        """Apply the upload policy (``ingest/policy.py``) and put its corrections on the report."""
        record = policy.read_record(p, file_hash(p))
        if self._titles is None:  # every title in the collection, once per run that meets an upload
            self._titles = {}
            for res in self.store._pages(["metadatas"]):  # metadata only: no texts, no vectors
                for m in res["metadatas"]:
                    self._titles.setdefault(policy.title_key(str(m.get("title", ""))), str(m.get("source", "")))

        def taken(title: str) -> bool:
            return self._titles.get(policy.title_key(title), doc.source) != doc.source

        doc, notes = policy.apply(doc, record, taken)
        self._titles.setdefault(policy.title_key(doc.title), doc.source)
        report.notes += [(doc.source, n) for n in notes]
        return doc


class _Batch:
    """Files waiting to be embedded together. A flush writes each file's new chunks (after removing
    its old ones) before its manifest row changes, so a crash never leaves the manifest ahead."""

    def __init__(self, ing: Ingester, report: IngestReport, flush_at: int):
        self.ing, self.report, self.flush_at = ing, report, flush_at
        self.files: list[tuple[str, str, bool, list[Chunk]]] = []
        self.size = 0

    def add(self, source: str, digest: str, is_new: bool, chunks: list[Chunk]) -> None:
        self.files.append((source, digest, is_new, chunks))
        self.size += len(chunks)
        if self.size >= self.flush_at:
            self.flush()

    def flush(self) -> None:
        if not self.files:
            return
        ing, report = self.ing, self.report
        chunks = [c for _, _, _, cs in self.files for c in cs]
        te = time.perf_counter()
        vectors = ing.embedder.embed([embed_input(c) for c in chunks], batch_size=ing.batch_size)
        report.embed_seconds += time.perf_counter() - te
        report.embedded += len(chunks)
        ing.store.delete_sources([s for s, _, _, _ in self.files])
        ing.store.upsert(chunks, vectors)
        for source, digest, is_new, cs in self.files:
            ing.manifest.put(source, digest, len(cs))
            (report.added if is_new else report.updated).append(source)
            report.chunks_written += len(cs)
        ing.manifest.bump()
        ing.manifest.commit()
        self.files, self.size = [], 0


def run_ingest(
    settings: Settings,
    store: ChromaStore,
    embedder: Embedder,
    manifest: Manifest,
    path: Path | None = None,
    rebuild: bool = False,
    progress: ProgressFn | None = None,
    show_bar: bool | None = None,
    wait: bool = False,
) -> IngestReport:
    """One locked ingest run of ``path`` (default: the knowledge root) with the configured sizes."""
    with IngestLock(settings.index_dir, settings.collection, wait=wait):
        ing = Ingester(
            store, embedder, manifest, settings.knowledge_root, settings.chunk_size, settings.chunk_overlap,
            int(settings.max_file_mb * 1e6), settings.embedding_batch_size, settings.upload_dir_name,
        )
        return ing.run(path, rebuild=rebuild, progress=progress, show_bar=show_bar)


class _Bar:
    """Two-line terminal progress (files, chunks) with rate and ETA; silent off a terminal."""

    def __init__(self, total_files: int, show: bool | None):
        self.enabled = sys.stderr.isatty() if show is None else show
        if not self.enabled:
            return
        from tqdm import tqdm

        self.files = tqdm(total=total_files, unit="file", desc="files ", position=0, file=sys.stderr)
        self.chunks = tqdm(unit="chunk", desc="chunks", position=1, file=sys.stderr)

    def update(self, files: int, chunks: int) -> None:
        if self.enabled:
            self.files.update(files - self.files.n)
            self.chunks.update(chunks - self.chunks.n)

    def close(self) -> None:
        if self.enabled:
            self.files.close()
            self.chunks.close()

