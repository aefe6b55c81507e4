"""Incremental ingest on the real Chroma and the real bundled model."""

from __future__ import annotations

import multiprocessing
import os

import pytest

from assistant.api import Assistant
from assistant.core.store import ChromaStore, ModelMismatchError
from ingest.lock import IngestLock, IngestLockedError
from tests.conftest import make_settings
from tests.helpers import MD_DOC

pytestmark = pytest.mark.integration

DOC_B = MD_DOC.replace("Test encryption guidance", "Test breach guidance").replace(
    "AES-256", "a strong cipher"
)


class CountingEmbedder:
    """The real embedder, counting how many texts it was asked to embed."""

    def __init__(self, inner):
        self.inner = inner
        self.name, self.dimension = inner.name, inner.dimension
        self.calls = 0

    def embed(self, texts, batch_size=64):
        self.calls += len(texts)
        return self.inner.embed(texts, batch_size)

    def count_tokens(self, texts):
        return self.inner.count_tokens(texts)


@pytest.fixture()
def setup(tmp_path, corpus_dir, embedder):
    (corpus_dir / "a.md").write_text(MD_DOC)
    (corpus_dir / "b.md").write_text(DOC_B)
    (corpus_dir / "c.txt").write_text("1. SCOPE\nThe vendor processes payroll.\n\n2. AUDIT\nAudits happen yearly.\n")
    counting = CountingEmbedder(embedder)
    a = Assistant.from_settings(make_settings(tmp_path, corpus_dir), embedder=counting)
    return a, corpus_dir, counting


def chunks_by_source(a):
    out = {}
    for c in a.store.get():
        out.setdefault(c.source, []).append(c)
    return out


def test_add_change_delete_unchanged(setup):
    a, root, counting = setup
    r1 = a.ingest(show_bar=False)
    assert sorted(r1.added) == ["a.md", "b.md", "c.txt"] and r1.ok
    first = a.store.count()
    assert first == r1.chunks_written > 0

    counting.calls = 0
    r2 = a.ingest(show_bar=False)
    assert sorted(r2.unchanged) == ["a.md", "b.md", "c.txt"]
    assert counting.calls == 0 and r2.embedded == 0
    assert a.store.count() == first

    (root / "a.md").write_text(MD_DOC.replace("12 months", "6 months"))
    r3 = a.ingest(show_bar=False)
    assert r3.updated == ["a.md"] and r3.unchanged == ["b.md", "c.txt"]
    by = chunks_by_source(a)
    assert a.store.count() == first  # replaced, never duplicated
    assert any("6 months" in c.text for c in by["a.md"])
    assert not any("12 months" in c.text for c in by["a.md"])

    (root / "b.md").unlink()
    r4 = a.ingest(show_bar=False)
    assert r4.removed == ["b.md"]
    assert "b.md" not in chunks_by_source(a)
    assert set(a.manifest.entries()) == {"a.md", "c.txt"}

    r5 = a.ingest(rebuild=True, show_bar=False)
    assert sorted(r5.added) == ["a.md", "c.txt"]
    assert a.store.count() == sum(len(v) for v in chunks_by_source(a).values())


def test_bad_file_is_reported_and_loses_nothing(setup):
    a, root, _ = setup
    a.ingest(show_bar=False)
    before = a.store.count()
    # A good file turned corrupt keeps its old chunks; new bad files are reported and skipped.
    (root / "c.txt").write_bytes(b"\x00\x01\x02" * 100)
    (root / "broken.pdf").write_bytes(b"%PDF-1.7 garbage")
    (root / "empty.md").write_text("")
    (root / "new.md").write_text("# New doc\n\nSubcontractors need prior written approval.\n")
    r = a.ingest(show_bar=False)
    assert not r.ok
    failed = dict(r.failed)
    assert set(failed) == {"c.txt", "broken.pdf", "empty.md"}
    assert "binary" in failed["c.txt"] and "PDF" in failed["broken.pdf"] and "empty" in failed["empty.md"]
    assert r.added == ["new.md"]
    by = chunks_by_source(a)
    assert "c.txt" in by and "new.md" in by
    assert a.store.count() > before


def test_model_mismatch_is_refused(setup, tmp_path):
    a, _, _ = setup
    a.ingest(show_bar=False)
    with pytest.raises(ModelMismatchError, match="all-MiniLM-L6-v2"):
        ChromaStore(a.store.client, a.settings.collection, "other-model", 384)
    with pytest.raises(ModelMismatchError, match="dimensions"):
        ChromaStore(a.store.client, a.settings.collection, "all-MiniLM-L6-v2", 768)


def _hold_lock(index_dir, ready, release):
    with IngestLock(index_dir, "knowledge"):
        ready.set()
        release.wait(20)


def test_second_ingest_refuses_while_first_runs(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    p = ctx.Process(target=_hold_lock, args=(tmp_path, ready, release))
    p.start()
    try:
        assert ready.wait(30)
        with pytest.raises(IngestLockedError, match=f"pid {p.pid}"):
            with IngestLock(tmp_path, "knowledge"):
                pass
    finally:
        release.set()
        p.join(10)
    with IngestLock(tmp_path, "knowledge"):
        pass  # free again once the first run ends


def test_cli_exit_status_and_summary(tmp_path, corpus_dir):
    import subprocess
    import sys

    (corpus_dir / "ok.md").write_text(MD_DOC)
    (corpus_dir / "bad.pdf").write_bytes(b"%PDF nope")
    env = {**os.environ, "ASSISTANT_KNOWLEDGE_ROOT": str(corpus_dir), "ASSISTANT_INDEX_DIR": str(tmp_path / "idx")}
    r = subprocess.run([sys.executable, "-m", "ingest", "--quiet"], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stderr
    assert "added 1" in r.stdout and "failed 1" in r.stdout and "FAILED bad.pdf" in r.stdout
    (corpus_dir / "bad.pdf").unlink()
    r = subprocess.run([sys.executable, "-m", "ingest", "--quiet"], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "unchanged 1" in r.stdout


def test_export_import_round_trip(setup, tmp_path):
    import subprocess
    import sys

    from assistant.backup import export_index, import_index

    a, root, _ = setup
    a.ingest(show_bar=False)
    before = sorted((c.id, c.text) for c in a.store.get())
    archive = tmp_path / "backup.jsonl.gz"
    assert export_index(a.store, a.manifest, archive) == len(before)
    a.store.delete_sources(list(a.manifest.entries()))
    a.manifest.clear()
    assert a.store.count() == 0
    assert import_index(a.store, a.manifest, archive) == len(before)
    assert sorted((c.id, c.text) for c in a.store.get()) == before
    a.retriever.refresh(force=True)
    assert a.ask("Which cipher must data at rest use?").citations
    # After a restore, an unchanged re-ingest embeds nothing: the manifest came back too.
    assert a.ingest(show_bar=False).embedded == 0
    settings_file = tmp_path / "s.yaml"
    settings_file.write_text(f"knowledge_root: {root}\nindex_dir: {tmp_path / 'other-index'}\n")
    r = subprocess.run([sys.executable, "-m", "assistant", "--settings", str(settings_file), "import", str(archive)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and f"imported {len(before)} chunks" in r.stdout
