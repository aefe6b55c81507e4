"""Crash-safe ingest: SIGKILL the ingest process at random points, then check the index."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time

import pytest

from assistant.api import Assistant
from tests.conftest import cuad_corpus, make_settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]
N_DOCS = 30
KILLS = 10
MAX_ATTEMPTS = 30


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
    for _ in range(MAX_ATTEMPTS):
        if landed >= KILLS:
            break
        proc = subprocess.Popen([sys.executable, "-m", "ingest", "--quiet"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(4.0, 12.0))
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
