"""Corpus snapshots: a mapped snapshot serves exactly what a view read from the store serves; a
new process maps it instead of reading the store; damaged, foreign or half-written snapshots are
never served; ingest and import write the snapshot of their generation."""

from __future__ import annotations

import dataclasses
import fcntl
import itertools
import json
import mmap
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.core.embeddings import FakeEmbedder
from assistant.retrieval import snapshot as snap_mod
from assistant.retrieval.corpus import Corpus
from assistant.retrieval.filters import Filters
from assistant.retrieval.search import Retriever
from assistant.retrieval.snapshot import ChunkTable, Snapshots, key_for
from tests.fakes import MemoryStore, chunks_of
from tests.helpers import MD_DOC
from tests.unit_corpus import documents

EMB = FakeEmbedder(dimension=128)
SPECS = [{}, {"doc_type": "contract"}, {"vendor": ["Northwind", "Bluepeak"]}, {"date_from": "2024-06-01"},
         {"tags": ["audit"]}, {"status": "open"}, {"severity": "critical"}, {"source": "contracts/clauses.md"}]
QUERIES = ["notify security incident hours", "AES-256 encryption at rest", "which findings are still open",
           "subcontract approval", "overtime hours per week Bluepeak"]


class Store(MemoryStore):
    """The in-memory store with what a snapshot key needs, counting full reads."""

    name, model_name = "unit", "fake-hash"

    def __init__(self, chunks=None, collection_id: str = "col-1"):
        super().__init__(chunks if chunks is not None else chunks_of(documents()), EMB)
        self.dimension = EMB.dimension
        self.col = type("Col", (), {"id": collection_id})()
        self.reads = 0

    def get_with_vectors(self):
        self.reads += 1
        return super().get_with_vectors()

    def count(self) -> int:
        return len(self.rows)


def mapped_file(a: object) -> bool:
    """Whether an array's memory is a file mapping (somewhere down its chain of bases)."""
    while a is not None:
        if isinstance(a, (np.memmap, mmap.mmap)):
            return True
        a = getattr(a, "base", None)
    return False


def mapped(tmp_path: Path, store: Store | None = None, gen: int = 7) -> tuple[Retriever, Store]:
    store = store or Store()
    return Retriever(store, EMB, lambda: gen, Snapshots(tmp_path, "unit")), store


@pytest.mark.unit
def test_a_mapped_snapshot_serves_what_the_store_serves(tmp_path):
    writer, store = mapped(tmp_path)
    writer.refresh()  # no snapshot yet: reads the store once and writes it
    reader, _ = mapped(tmp_path, store)
    plain = Retriever(store, EMB)
    a, b = plain.corpus, reader.corpus
    assert isinstance(b.chunks, ChunkTable) and isinstance(a.chunks, list)
    assert list(b.chunks) == list(a.chunks) and b.by_id == a.by_id and b.neighbours == a.neighbours
    assert b.values == a.values and all(np.array_equal(a.codes[k], b.codes[k]) for k in a.codes)
    assert b.bm25.vocab == a.bm25.vocab and (a.bm25.matrix != b.bm25.matrix).nnz == 0
    np.testing.assert_array_equal(np.asarray(b.vectors), a.vectors)
    for aud in (None, ("all",), ("all", "managers"), ("all", "managers", "auditors")):
        assert b.findings_for(aud) == a.findings_for(aud) and b.vendors_for(aud) == a.vendors_for(aud)
        (sa, ia, na), (sb, ib, nb) = a.catalog(aud), b.catalog(aud)
        assert sb == sa and nb == na and np.allclose(ib.scores("Northwind master services"), ia.scores("Northwind master services"))
    for q, spec, role in itertools.product(QUERIES, SPECS, ("staff", "auditor")):
        got = reader.search(q, k=6, filters=Filters.from_dict(spec, role=role))
        want = plain.search(q, k=6, filters=Filters.from_dict(spec, role=role))
        assert [(c.id, c.score, c.signals) for c in got] == [(c.id, c.score, c.signals) for c in want], (q, spec, role)
        assert [c.text for c in got] == [c.text for c in want]
    # Span search reads the snapshot's unit table (no text splitting) and finds exactly the same spans.
    assert b.unit_table is not None and a.unit_table is None and mapped_file(b.unit_table["terms"])
    found = 0
    for q, spec in itertools.product(QUERIES, SPECS[:4]):
        f = Filters.from_dict(spec, role="auditor")
        got = [(x.source, x.start, x.end, x.text, round(x.score, 6)) for x in reader.search_spans(q, budget_chars=1500, filters=f)]
        want = [(x.source, x.start, x.end, x.text, round(x.score, 6)) for x in plain.search_spans(q, budget_chars=1500, filters=f)]
        assert got == want, (q, spec)
        found += len(got)
    assert found > 10


@pytest.mark.unit
def test_a_second_process_maps_the_snapshot_instead_of_reading_the_store(tmp_path):
    first, store = mapped(tmp_path)
    first.refresh()
    assert store.reads == 1
    second, _ = mapped(tmp_path, store)
    corpus = second.corpus
    assert store.reads == 1, "the second reader must not read the store"
    assert mapped_file(corpus.vectors), "vectors must be mapped, not copied into the process"
    assert mapped_file(corpus.bm25.matrix.data) and mapped_file(corpus.bm25.matrix.indices)
    assert second.search("AES-256 encryption at rest", k=1)[0].text.count("AES-256")


@pytest.mark.unit
def test_a_new_generation_gets_a_new_snapshot_and_old_ones_are_pruned(tmp_path):
    store = Store()
    gen = [1]
    r = Retriever(store, EMB, lambda: gen[0], Snapshots(tmp_path, "unit"))
    for g in (1, 2, 3, 4):
        gen[0] = g
        r.refresh()
    names = sorted(p.name for p in (tmp_path / "unit").glob("v*"))
    assert store.reads == 4 and len(names) == snap_mod.KEEP
    assert names[-1].endswith("-g4") and names[0].endswith("-g3")
    other_collection = Retriever(Store(collection_id="col-2"), EMB, lambda: 4, Snapshots(tmp_path, "unit"))
    assert other_collection.refresh() is not None and other_collection.store.reads == 1  # never another collection's


def _damage_vectors(folder: Path) -> None:
    with open(folder / "vectors.npy", "r+b") as f:
        f.truncate(200)


def _damage_meta(folder: Path) -> None:
    (folder / "meta.json").write_text("{not json")


def _other_model(folder: Path) -> None:
    meta = json.loads((folder / "meta.json").read_text())
    (folder / "meta.json").write_text(json.dumps({**meta, "model": "another-model", "dimension": 384}))


def _other_format(folder: Path) -> None:
    meta = json.loads((folder / "meta.json").read_text())
    (folder / "meta.json").write_text(json.dumps({**meta, "format": snap_mod.FORMAT + 1}))


def _damage_tables(folder: Path) -> None:
    tables = json.loads((folder / "tables.json").read_text())
    tables["ids"] = tables["ids"][:-1]
    text = json.dumps(tables)
    size = (folder / "tables.json").stat().st_size
    (folder / "tables.json").write_text(text.ljust(size))  # same size: only the content check can tell


@pytest.mark.unit
@pytest.mark.parametrize("damage", [_damage_vectors, _damage_meta, _other_model, _other_format, _damage_tables])
def test_a_damaged_or_foreign_snapshot_is_ignored_and_rebuilt(tmp_path, damage, caplog):
    first, store = mapped(tmp_path)
    first.refresh()
    folder = Snapshots(tmp_path, "unit").path(key_for(store, 7))
    damage(folder)
    again, _ = mapped(tmp_path, store)
    with caplog.at_level("WARNING"):
        corpus = again.corpus
    assert store.reads == 2, "a bad snapshot must be rebuilt from the store"
    assert "ignoring corpus snapshot" in caplog.text
    assert len(corpus.chunks) == len(store.rows) and again.search("AES-256 encryption at rest", k=1)[0].text.count("AES-256")
    third, _ = mapped(tmp_path, store)
    assert isinstance(third.corpus.chunks, ChunkTable) and store.reads == 2  # the rebuilt one is good


@pytest.mark.unit
def test_a_write_that_fails_half_way_leaves_no_snapshot(tmp_path, monkeypatch):
    store = Store()
    real = snap_mod.write

    def half(corpus, key, folder):
        (folder / "texts.bin").write_bytes(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(snap_mod, "write", half)
    r = Retriever(store, EMB, lambda: 7, Snapshots(tmp_path, "unit"))
    assert len(r.corpus.chunks) == len(store.rows)  # still serves, from the store
    assert not list((tmp_path / "unit").glob("v*")) and not list((tmp_path / "unit").glob(".tmp-*"))
    monkeypatch.setattr(snap_mod, "write", real)
    again = Retriever(store, EMB, lambda: 7, Snapshots(tmp_path, "unit"))
    assert isinstance(again.corpus.chunks, ChunkTable)


@pytest.mark.unit
def test_one_process_builds_while_the_others_keep_serving_or_wait(tmp_path):
    store = Store()
    gen = [1]
    r = Retriever(store, EMB, lambda: gen[0], Snapshots(tmp_path, "unit"))
    old = r.corpus
    lock = tmp_path / "unit" / ".build.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another process is building generation 2
    try:
        gen[0] = 2
        assert r.corpus is old, "a reader with a view keeps serving it while another process builds"
        fresh = Retriever(store, EMB, lambda: 2, Snapshots(tmp_path, "unit"))
        got: list[Corpus] = []
        t = threading.Thread(target=lambda: got.append(fresh.corpus))
        t.start()
        time.sleep(0.3)
        assert not got, "a reader without a view waits for the builder"
    finally:
        os.close(fd)
    t.join(10)
    assert got and len(got[0].chunks) == len(store.rows)
    assert r.corpus is not old  # asked again: the new generation is there now


@pytest.mark.integration
def test_ingest_writes_the_snapshot_and_a_restart_maps_it(tmp_path, corpus_dir, monkeypatch):
    from assistant.api import Assistant
    from tests.conftest import make_settings

    settings = make_settings(tmp_path, corpus_dir)
    (corpus_dir / "a.md").write_text(MD_DOC)
    a = Assistant.from_settings(settings, embedder=EMB)
    assert a.ingest(show_bar=False).ok
    gen = a.manifest.generation()
    assert gen > 1, "the first generation of a manifest is random, so a new manifest never reuses old snapshot names"
    folder = settings.snapshot_dir / settings.collection
    assert [p.name.endswith(f"-g{gen}") for p in folder.glob("v*")] == [True]
    assert isinstance(a.retriever.corpus.chunks, ChunkTable)  # the ingesting process serves the mapped view too

    b = Assistant.from_settings(settings, embedder=EMB)  # a restart
    monkeypatch.setattr(b.store, "get_with_vectors", lambda *a, **k: pytest.fail("read the store despite a snapshot"))
    assert "AES-256" in b.search("cipher for data at rest", k=1)[0].text
    monkeypatch.undo()

    (corpus_dir / "b.md").write_text(MD_DOC.replace("Test encryption guidance", "Retention guidance")
                                     .replace("AES-256", "ChaCha20"))
    assert a.ingest(show_bar=False).ok
    assert {p.name.rsplit("-g", 1)[1] for p in folder.glob("v*")} == {str(gen), str(a.manifest.generation())}
    assert any("ChaCha20" in c.text for c in b.search("ChaCha20 cipher", k=3)), "a reader follows the new generation"
    again = a.ingest(show_bar=False)  # nothing changed: no rebuild, same snapshot
    assert not again.chunks_written and a.manifest.generation() == gen + 1


@pytest.mark.integration
def test_import_writes_the_snapshot_through_its_hook(tmp_path, corpus_dir):
    from assistant.api import Assistant
    from assistant.backup import export_index, import_index
    from tests.conftest import make_settings

    (corpus_dir / "a.md").write_text(MD_DOC)
    src = Assistant.from_settings(make_settings(tmp_path / "src", corpus_dir), embedder=EMB)
    src.ingest(show_bar=False)
    archive = tmp_path / "backup.jsonl.gz"
    export_index(src.store, src.manifest, archive)
    dst_settings = make_settings(tmp_path / "dst", corpus_dir)
    dst = Assistant.from_settings(dst_settings, embedder=EMB)
    import_index(dst.store, dst.manifest, archive, after=lambda: dst.retriever.refresh(force=True))
    gen = dst.manifest.generation()
    assert list((dst_settings.snapshot_dir / dst_settings.collection).glob(f"v*-g{gen}"))
    restarted = Assistant.from_settings(dst_settings, embedder=EMB)
    assert isinstance(restarted.retriever.corpus.chunks, ChunkTable)
    assert "AES-256" in restarted.search("cipher for data at rest", k=1)[0].text


@pytest.mark.integration
def test_the_ingest_command_writes_the_snapshot(tmp_path, corpus_dir):
    """``assistant ingest`` leaves the new generation's snapshot for the serving processes to map."""
    import subprocess
    import sys

    from tests.conftest import make_settings

    settings = make_settings(tmp_path, corpus_dir)
    (corpus_dir / "a.md").write_text(MD_DOC)
    env = {"ASSISTANT_KNOWLEDGE_ROOT": str(corpus_dir), "ASSISTANT_INDEX_DIR": str(settings.index_dir),
           "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    cli = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", "--quiet"], env=env, capture_output=True,
                         text=True, timeout=300)
    assert cli.returncode == 0 and "added 1" in cli.stdout, cli.stdout + cli.stderr
    folder = settings.index_dir / "snapshot" / "knowledge"
    snaps = list(folder.glob("v*"))
    assert len(snaps) == 1 and (snaps[0] / "meta.json").exists() and (snaps[0] / "units-terms.npy").exists()


@pytest.mark.unit
def test_acronym_definitions_are_found_alike_in_a_snapshot_and_in_memory(tmp_path):
    docs = documents()
    first = docs[0]
    defining = dataclasses.replace(first, source="extra/defs.md", text=f"{first.text}\n\nEach service sets a recovery "
                                   "point objective (RPO) and a key management service (KMS) holds the keys.\n")
    store = Store(chunks_of(docs + [defining]))
    writer, _ = mapped(tmp_path, store)
    writer.refresh()
    reader, _ = mapped(tmp_path, store)
    a, b = Retriever(store, EMB).corpus, reader.corpus
    assert isinstance(b.chunks, ChunkTable)
    for corpus in (a, b):
        assert corpus.expansion("RPO") == "recovery point objective" and corpus.expansion("KMS") == "key management service"
        assert corpus.expansion("XYZ") is None
        assert corpus.expanded("What RPO applies?") == "What RPO applies? recovery point objective"
