"""Incremental ingest: scan, diff against the manifest, load, split, embed in batches, write.

Crash safety comes from ordering: a file's old chunks are deleted and its new chunks written
before its manifest row changes, and chunk ids are content-derived, so a re-run after a kill
replaces whatever half-written state a file was left in and never duplicates a chunk.
"""

from __future__ import annotations

import fcntl
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from assistant.embeddings import Embedder
from assistant.store import ChromaStore
from assistant.types import Chunk, Document
from ingest.loaders import SUPPORTED, LoadError, load
from ingest.manifest import Manifest, file_hash
from ingest.split import split

ProgressFn = Callable[[int, int, int, int], None]  # files done, files total, chunks done, chunks total
_FINDING_ID = re.compile(r"\b[A-Z]{2}-\d{4}-\d{2}\b")


class IngestLockedError(RuntimeError):
    pass


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
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
        return "\n".join(lines)


class IngestLock:
    """An exclusive lock per collection so two ingest runs never interleave writes."""

    def __init__(self, index_dir: Path, collection: str, wait: bool = False):
        index_dir.mkdir(parents=True, exist_ok=True)
        self.path = index_dir / f"ingest-{collection}.lock"
        self.wait = wait
        self.fd: int | None = None

    def __enter__(self) -> "IngestLock":
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | (0 if self.wait else fcntl.LOCK_NB))
        except BlockingIOError:
            holder = os.pread(self.fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(self.fd)
            self.fd = None
            raise IngestLockedError(
                f"another ingest is already running on this index (pid {holder}); "
                "wait for it to finish or re-run with --wait"
            ) from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, str(os.getpid()).encode(), 0)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)


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
        if p.name.lower() in ("readme.md", "readme.txt") or p.name.endswith(".meta.yaml"):
            continue
        try:
            source = p.relative_to(root).as_posix()
        except ValueError:
            source = p.relative_to(base.parent if base.is_file() else base).as_posix()
        yield source, p


def tag_findings(doc: Document, chunks: list[Chunk]) -> None:
    """Give audit chunks that discuss one finding that finding's id, severity and status."""
    findings = {f["id"]: f for f in doc.metadata.get("findings") or []}
    if not findings:
        return
    for c in chunks:
        ids = [i for i in _FINDING_ID.findall(c.section) if i in findings]
        if not ids:
            ids = [i for i in _FINDING_ID.findall(c.text[:200]) if i in findings]
        if ids:
            f = findings[ids[-1]]
            c.metadata = {**c.metadata, "finding_id": f["id"], "severity": f["severity"], "status": f["status"]}


def embed_input(chunk: Chunk) -> str:
    """What the model sees: the chunk with its title and section as context."""
    head = chunk.title if not chunk.section else f"{chunk.title} > {chunk.section}"
    return f"{head}\n{chunk.text}"


class Ingester:
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
    ):
        self.store, self.embedder, self.manifest, self.root = store, embedder, manifest, root
        self.chunk_size, self.chunk_overlap = chunk_size, chunk_overlap
        self.max_bytes, self.batch_size = max_bytes, batch_size

    def run(
        self,
        path: Path | None = None,
        rebuild: bool = False,
        progress: ProgressFn | None = None,
        show_bar: bool | None = None,
    ) -> IngestReport:
        t0 = time.perf_counter()
        report = IngestReport()
        if rebuild:
            self.store.delete_sources(list(self.manifest.entries()))
            self.manifest.clear()
            self.manifest.commit()
        known = self.manifest.entries()
        found = list(scan(self.root, path))
        seen = {s for s, _ in found}
        scope_prefix = None
        if path is not None and path.resolve() != self.root.resolve():
            try:
                rel = path.resolve().relative_to(self.root.resolve()).as_posix()
                scope_prefix = rel if path.is_file() else rel + "/"
            except ValueError:
                scope_prefix = None
        # Deleted files: in the manifest (within the scanned scope) but gone from disk.
        if path is None or scope_prefix is not None:
            gone = [s for s in known if s not in seen and (scope_prefix is None or s.startswith(scope_prefix) or s == scope_prefix)]
            if gone:
                self.store.delete_sources(gone)
                for s in gone:
                    report.chunks_removed += known[s][1]
                    self.manifest.remove(s)
                    report.removed.append(s)
                self.manifest.commit()

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

        bar = _Bar(len(todo), show_bar) if todo else None
        pending: list[tuple[str, str, bool, list[Chunk]]] = []
        pending_chunks = 0
        flush_at = max(self.batch_size * 8, 256)
        done_files = 0

        def flush() -> None:
            nonlocal pending, pending_chunks
            if not pending:
                return
            chunks = [c for _, _, _, cs in pending for c in cs]
            te = time.perf_counter()
            vectors = self.embedder.embed([embed_input(c) for c in chunks], batch_size=self.batch_size)
            report.embed_seconds += time.perf_counter() - te
            report.embedded += len(chunks)
            self.store.delete_sources([s for s, _, _, _ in pending])
            self.store.upsert(chunks, vectors)
            for source, digest, is_new, cs in pending:
                self.manifest.put(source, digest, len(cs))
                (report.added if is_new else report.updated).append(source)
                report.chunks_written += len(cs)
            self.manifest.bump()
            self.manifest.commit()
            pending, pending_chunks = [], 0

        try:
            for source, p, digest in todo:
                try:
                    doc = load(p, source, self.max_bytes)
                    chunks = split(doc, self.embedder.count_tokens, self.chunk_size, self.chunk_overlap)
                    tag_findings(doc, chunks)
                except LoadError as exc:
                    report.failed.append((source, exc.reason))
                    chunks = None
                except Exception as exc:  # a loader bug must not sink the run; report it per file
                    report.failed.append((source, f"unexpected {type(exc).__name__}: {exc}"))
                    chunks = None
                done_files += 1
                if chunks is not None:
                    pending.append((source, digest, source not in known, chunks))
                    pending_chunks += len(chunks)
                    if pending_chunks >= flush_at:
                        flush()
                if bar:
                    bar.update(done_files, report.chunks_written + pending_chunks)
                if progress:
                    progress(done_files, len(todo), report.chunks_written, report.chunks_written + pending_chunks)
            flush()
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

