"""Replicas of the app on one Chroma server: the ingest generation and the ingest lock live in the
server, so an upload through one app process is answered, with a citation, by another within a
few seconds; the second process maps the snapshot the first wrote instead of rebuilding it."""

from __future__ import annotations

import shutil
import threading
import time
import uuid

import pytest

from conftest_app import KNOWLEDGE, start_app, stop_app
from tests.conftest import free_port, make_settings
from tests.test_store_contract import ChromaServer

pytestmark = pytest.mark.integration
ANSWER_WITHIN_S = 10.0


@pytest.fixture()
def chroma(tmp_path):
    server = ChromaServer(tmp_path / "chroma-data", free_port())
    server.start()
    yield server
    server.stop()


def test_generation_and_ingest_lock_live_in_the_server(tmp_path, corpus_dir, chroma):
    """Two machines (two index folders) on one server: a bump through one is seen by the other, and
    the ingest lock one holds refuses the other until released or expired."""
    from assistant.core.store import SharedState, lock_collection_name
    from ingest.lock import IngestLock, IngestLockedError
    from ingest.manifest import Manifest

    a_settings = make_settings(tmp_path / "a", corpus_dir, chroma_mode="server", chroma_port=chroma.port)
    b_settings = make_settings(tmp_path / "b", corpus_dir, chroma_mode="server", chroma_port=chroma.port)
    from assistant.core.store import ChromaStore

    store = ChromaStore.open(a_settings, "fake", 4)
    a, b = Manifest.for_settings(a_settings, store), Manifest.for_settings(b_settings)
    assert a.generation() == b.generation() == 0
    a.bump()
    assert b.generation() == 0, "a bump takes effect on commit"
    a.commit()
    time.sleep(b.shared.check_s + 0.1)
    assert b.generation() == 1 and a.generation() == 1
    assert store.client.get_collection(store.name).metadata["embedding_model"] == "fake"  # the rest is kept

    with IngestLock(a_settings.index_dir, a_settings.collection):
        with pytest.raises(IngestLockedError, match="held in the Chroma server by"):
            with IngestLock(b_settings.index_dir, b_settings.collection):
                pass
        got: list[float] = []
        waiter = threading.Thread(target=lambda: _take_and_note(b_settings, got))
        waiter.start()
        time.sleep(1.5)
        assert not got, "--wait must wait while the other machine holds the lock"
    waiter.join(15)
    assert got, "--wait takes the lock once it is released"

    # A holder that died: its lock expired without being renewed, so the next ingest takes it.
    shared = SharedState(store.client, a_settings.collection)
    assert shared.try_lock("dead-host:1:x", ttl=-1.0) is None
    with IngestLock(b_settings.index_dir, b_settings.collection):
        assert shared.holder()["owner"] != "dead-host:1:x"
    # A live holder renews its lock, so it does not expire under a long ingest.
    with IngestLock(a_settings.index_dir, a_settings.collection, ttl=1.5):
        time.sleep(2.5)
        with pytest.raises(IngestLockedError):
            with IngestLock(b_settings.index_dir, b_settings.collection):
                pass
    assert lock_collection_name(a_settings.collection) not in [c.name for c in store.client.list_collections()]


def _take_and_note(settings, got: list[float]) -> None:
    from ingest.lock import IngestLock

    with IngestLock(settings.index_dir, settings.collection, wait=True):
        got.append(time.monotonic())


def upload(browser, url: str, path) -> None:
    """Upload ``path`` through the app's Upload tab, as a person would."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        page.goto(url)
        page.wait_for_selector("#status-line")
        page.get_by_role("tab", name="Upload").click()
        page.set_input_files("#upload-files input[type=file]", [str(path)])
        page.locator(f'#upload-files a[download="{path.name}"]').wait_for()
        page.click("#upload-btn")
        row = page.wait_for_selector('#upload-result .upload-row[data-result="ingested"]', timeout=120_000)
        assert path.name in row.inner_text()
    finally:
        context.close()


@pytest.mark.slow
@pytest.mark.browser
def test_an_upload_through_one_replica_is_answered_by_the_other(tmp_path, chroma, browser):
    from gradio_client import Client

    knowledge = tmp_path / "knowledge"  # one knowledge folder and one snapshot folder for both
    shutil.copytree(KNOWLEDGE, knowledge)
    env = {"ASSISTANT_CHROMA_MODE": "server", "ASSISTANT_CHROMA_PORT": str(chroma.port),
           "ASSISTANT_KNOWLEDGE_ROOT": str(knowledge), "ASSISTANT_SNAPSHOT_DIR": str(tmp_path / "snapshots")}
    first = start_app(tmp_path / "first", env)  # an empty collection: it ingests, then writes the snapshot
    second = None
    try:
        second = start_app(tmp_path / "second", env)
        assert "rebuilt from the store" not in second.log_tail(100_000), "the second replica must map the first's snapshot"
        code = f"QX-{uuid.uuid4().int % 9000 + 1000}"
        doc = tmp_path / f"heronsgate-{code.lower()}-policy.md"
        doc.write_text(
            "---\ntitle: Heronsgate courier services records policy\ndoc_type: guidance\naudience: all\n"
            "vendor: Heronsgate\ndate: 2025-05-01\n---\n\n# Heronsgate courier services records policy\n\n"
            f"## Vendor code {code}\n\nHeronsgate Courier Services is registered under vendor code {code}. "
            f"Under the {code} policy, Heronsgate must keep every signed delivery receipt for seven years "
            "and store the receipts in a locked archive room.\n",
            encoding="utf-8",
        )
        question = f"How long must delivery receipts be kept under the {code} policy?"
        asker = Client(first.url, verbose=False)
        before = asker.predict(question, "", api_name="/ask")
        assert not any(doc.name in c["source"] for c in before["citations"])

        upload(browser, second.url, doc)  # through the second replica
        t0 = time.monotonic()
        result, waited = None, 0.0
        while waited < 30:
            result = asker.predict(question, "", api_name="/ask")  # through the first replica
            waited = time.monotonic() - t0
            if any(c["source"].endswith(f"uploads/{doc.name}") for c in result["citations"]):
                break
            time.sleep(0.5)
        assert result is not None and not result["refused"], result
        cited = [c for c in result["citations"] if c["source"].endswith(f"uploads/{doc.name}")]
        assert cited, f"no citation of the uploaded document after {waited:.1f} s: {result['citations']}"
        assert "seven years" in " ".join(c["quote"] for c in cited)
        assert waited <= ANSWER_WITHIN_S, f"the other replica answered from the new document only after {waited:.1f} s"
        print(f"\nthe other replica cited the upload {waited:.1f} s after it was ingested")
    finally:
        if second is not None:
            stop_app(second)
        stop_app(first)
