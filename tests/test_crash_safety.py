"""Crash-safe ingest: SIGKILL the ingest process at random points, then check the index."""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from assistant.api import Assistant
from tests.conftest import cuad_corpus, make_settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]
N_DOCS = 40
KILLS = 10
MAX_ATTEMPTS = 30


def manifest_files(index_dir) -> int:
    """Files the ingest manifest records (read-only; 0 before it exists)."""
    path = index_dir / "manifest.sqlite3"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
            return int(db.execute("SELECT count(*) FROM files").fetchone()[0])
    except sqlite3.Error:
        return 0


def consistent(a: Assistant) -> tuple[int, set[str]]:
    chunks = a.store.get()
    spans = {(c.source, c.start, c.end) for c in chunks}
    assert len(spans) == len(chunks), "duplicate chunks"
    manifest = a.manifest.entries()
    by_source: dict[str, int] = {}
    for c in chunks:
        by_source[c.source] = by_source.get(c.source, 0) + 1
    for source, (_, n) in manifest.items():
        assert by_source.get(source) == n, f"manifest says {n} chunks for {source}, store has {by_source.get(source)}"
    return len(chunks), set(by_source)


def test_sigkill_during_ingest_loses_nothing(tmp_path, embedder):
    corpus = tmp_path / "knowledge"
    corpus.mkdir()
    for f in sorted(cuad_corpus().glob("*.txt"))[:N_DOCS]:
        shutil.copy2(f, corpus / f.name)

    clean_settings = make_settings(tmp_path / "clean", corpus)
    clean = Assistant.from_settings(clean_settings, embedder=embedder)
    clean.ingest(show_bar=False)
    clean_count = clean.store.count()

    settings = make_settings(tmp_path / "killed", corpus)
    lock = settings.index_dir / f"ingest-{settings.collection}.lock"
    env = {**os.environ, "ASSISTANT_KNOWLEDGE_ROOT": str(corpus), "ASSISTANT_INDEX_DIR": str(settings.index_dir)}
    rng = random.Random(20261122)
    landed = 0  # kills that hit a running ingest (it held the lock and had not finished)
    files_at_kill: list[int] = []
    for attempt in range(MAX_ATTEMPTS):
        if landed >= KILLS:
            break
        before = manifest_files(settings.index_dir)
        proc = subprocess.Popen([sys.executable, "-m", "ingest", "--quiet"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if attempt % 2 == 0:  # early: start-up, hashing, splitting, the first embedding batch
            time.sleep(rng.uniform(3.0, 10.0))
        else:  # just after a batch was written, while the next one is being embedded or written
            deadline = time.monotonic() + 300
            while proc.poll() is None and manifest_files(settings.index_dir) == before and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(rng.uniform(0.0, 3.0))
        holds_lock = lock.exists() and lock.read_text().strip() == str(proc.pid)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        a = Assistant.from_settings(settings, embedder=embedder)
        n, _ = consistent(a)  # the manifest never claims chunks the store lacks
        if n:
            assert a.search("termination for convenience", k=3)  # the index answers queries
        done = len(a.manifest.entries())
        if proc.returncode == -signal.SIGKILL and holds_lock and done < N_DOCS:
            landed += 1
            files_at_kill.append(done)
    assert landed >= KILLS, f"only {landed} kills landed mid-ingest in {MAX_ATTEMPTS} attempts"
    assert any(0 < d < N_DOCS for d in files_at_kill), f"no kill landed after the first files were written: {files_at_kill}"
    final = subprocess.run([sys.executable, "-m", "ingest", "--quiet"], env=env, capture_output=True, text=True, timeout=900)
    assert final.returncode == 0, final.stdout + final.stderr
    a = Assistant.from_settings(settings, embedder=embedder)
    n, sources = consistent(a)
    assert n == clean_count and len(sources) == N_DOCS
    assert set(a.manifest.entries()) == sources


def test_a_store_whose_process_state_went_stale_reopens_once(tmp_path, caplog):
    """Embedded Chroma keeps per-process state that another process's writes can leave stale; the
    store drops it and retries once (the kills above exercise the real case) — and only once."""
    import numpy as np

    from assistant.core.store import ChromaStore, StoreError

    settings = make_settings(tmp_path, tmp_path / "knowledge")
    store = ChromaStore.open(settings, "m", 4)
    store.col.upsert(ids=["a"], embeddings=np.ones((1, 4), np.float32), documents=["x"], metadatas=[{"source": "s"}])
    real = store.col

    class Stale:
        def __getattr__(self, name):
            return getattr(real, name)

        def count(self):
            raise RuntimeError("Error creating hnsw segment reader: Nothing found on disk")

    store.col = Stale()
    with caplog.at_level("WARNING"):
        assert store.count() == 1  # answered by the reopened collection
    assert "reopening" in caplog.text and not isinstance(store.col, Stale)
    server_like = ChromaStore(store.client, settings.collection, "m", 4)  # no settings: nothing to reopen
    server_like.col = Stale()
    with pytest.raises(StoreError, match="Nothing found on disk"):
        server_like.count()
