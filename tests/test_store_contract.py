"""One store test suite, run against the embedded Chroma and a real Chroma server on loopback."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from assistant.answering.answerability import Answerability
from assistant.api import Assistant
from assistant.core.embeddings import FakeEmbedder
from assistant.retrieval.filters import Filters, where
from assistant.core.store import GENERATION_CHECK_S, ChromaStore, ModelMismatchError, StoreError
from assistant.core.types import Chunk
from tests.conftest import free_port, make_settings
from tests.helpers import MD_DOC

pytestmark = pytest.mark.integration
CHROMA = Path(sys.executable).with_name("chroma")


class ChromaServer:
    def __init__(self, path: Path, port: int):
        self.path, self.port, self.proc = path, port, None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [str(CHROMA), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v2/heartbeat", timeout=1)
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("chroma server did not start")

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(20)
            self.proc = None


@pytest.fixture(params=["embedded", "server"])
def settings(request, tmp_path, corpus_dir):
    extra = {}
    server = None
    if request.param == "server":
        server = ChromaServer(tmp_path / "server-data", free_port())
        server.start()
        extra = {"chroma_mode": "server", "chroma_port": server.port}
    s = make_settings(tmp_path, corpus_dir, **extra)
    s._server = server  # type: ignore[attr-defined]
    yield s
    if server:
        server.stop()


def chunk(i: int, source: str, **meta) -> Chunk:
    text = f"chunk {i} of {source}"
    return Chunk(id=f"id-{source}-{i}", text=text, source=source, title=source, doc_type=meta.pop("doc_type", "contract"),
                 section="", start=i * 10, end=i * 10 + len(text), metadata=meta)


def test_write_read_query_delete(settings):
    store = ChromaStore.open(settings, "fake", 4)
    chunks = [chunk(i, "a.md", vendor="Northwind", audience="all") for i in range(3)] + [
        chunk(i, "b.md", vendor="Bluepeak", audience="auditors") for i in range(2)
    ]
    vecs = np.eye(5, 4, dtype=np.float32) + 0.01
    store.upsert(chunks, vecs)
    store.upsert(chunks, vecs)  # idempotent
    assert store.count() == 5
    got = store.get(where={"vendor": "Bluepeak"})
    assert {c.source for c in got} == {"b.md"} and got[0].metadata["vendor"] == "Bluepeak"
    hits = store.query(vecs[0], 2, where(Filters.from_dict({}, role="staff").clauses()))
    assert hits and all(h.source == "a.md" for h in hits)
    store.delete_sources(["a.md"])
    assert store.count() == 2


def test_model_mismatch_refused(settings):
    ChromaStore.open(settings, "model-a", 4)
    with pytest.raises(ModelMismatchError, match="model-a"):
        ChromaStore.open(settings, "model-b", 4)


def test_ingest_and_ask_through_the_store(settings, embedder):
    (settings.knowledge_root / "a.md").write_text(MD_DOC)
    a = Assistant.from_settings(settings, embedder=embedder)
    a.answerability = Answerability(threshold=0.0)  # a one-document store: this suite tests the store, not refusals
    assert a.ingest(show_bar=False).ok
    ans = a.ask("Which cipher must data at rest use?")
    assert not ans.refused and "AES-256" in " ".join(c.quote for c in ans.citations)


@pytest.fixture()
def server_settings(tmp_path, corpus_dir):
    server = ChromaServer(tmp_path / "server-data", free_port())
    server.start()
    s = make_settings(tmp_path, corpus_dir, chroma_mode="server", chroma_port=server.port)
    s._server = server  # type: ignore[attr-defined]
    yield s
    server.stop()


def test_server_down_gives_clear_error_then_recovers(server_settings, embedder):
    settings = server_settings
    server = settings._server  # type: ignore[attr-defined]
    (settings.knowledge_root / "a.md").write_text(MD_DOC)
    a = Assistant.from_settings(settings, embedder=embedder)
    a.answerability = Answerability(threshold=0.0)  # a one-document store: this suite tests the store, not refusals
    a.ingest(show_bar=False)
    server.stop()
    # The generation is read from the server at most every GENERATION_CHECK_S; past that, a
    # question needs the server (is the in-memory view still current?) and gets a clear error.
    time.sleep(GENERATION_CHECK_S + 0.5)
    with pytest.raises(StoreError, match="vector store unavailable"):
        a.ask("Which cipher must data at rest use?")
    # The CLI reports it in one line, no traceback.
    env_file = settings.index_dir.parent / "s.yaml"
    env_file.write_text(f"knowledge_root: {settings.knowledge_root}\nindex_dir: {settings.index_dir}\n"
                        f"chroma_mode: server\nchroma_port: {settings.chroma_port}\n")
    r = subprocess.run([sys.executable, "-m", "assistant", "--settings", str(env_file), "ask", "Which cipher?"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.startswith("error:") and "Traceback" not in r.stderr
    server.start()
    ans = a.ask("Which cipher must data at rest use?")
    assert not ans.refused


def test_fake_embedder_is_deterministic():
    e = FakeEmbedder()
    assert np.array_equal(e.embed(["a b c"]), e.embed(["a b c"]))
