"""The embedding backends on the real bundled model: ONNX (default) against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.core.embeddings import OnnxEmbedder, make_embedder

TEXTS = [
    "The Supplier shall encrypt personal data at rest (AES-256) and in transit (TLS 1.2 or higher).",
    "Overtime above 60 hours a week was found in two of the three sites visited.",
    "short",
    "A much longer passage " * 60,  # past the 256-token window: truncated the same way by both
]


@pytest.mark.integration
def test_onnx_gives_the_torch_vectors(embedder, torch_embedder):
    assert isinstance(embedder, OnnxEmbedder) and not embedder.quantized
    assert embedder.name == torch_embedder.name  # one index serves both
    a, b = embedder.embed(TEXTS), torch_embedder.embed(TEXTS)
    assert a.shape == b.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(a, b, atol=1e-4)
    assert embedder.count_tokens(TEXTS) == torch_embedder.count_tokens(TEXTS)


@pytest.mark.integration
def test_int8_is_close_but_keeps_its_own_index(torch_embedder, tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_ONNX_CACHE", str(tmp_path))  # a fresh export and quantisation
    q = make_embedder(backend="onnx-int8")
    assert q.name.endswith("-int8") and q.name != torch_embedder.name
    cos = np.sum(q.embed(TEXTS) * torch_embedder.embed(TEXTS), axis=1)
    assert cos.min() > 0.85, cos
    assert (tmp_path / q.path.name / "model_int8.onnx").is_file()


@pytest.mark.integration
def test_index_built_with_torch_answers_through_onnx(kb, torch_embedder):
    """Switching the backend between torch and onnx needs no re-ingest."""
    from assistant.api import Assistant
    from assistant.core.store import ChromaStore

    store = ChromaStore(kb.store.client, kb.store.name, torch_embedder.name, torch_embedder.dimension, create=False)
    via_torch = Assistant(kb.settings, torch_embedder, store, kb.manifest)
    q = "How quickly must a vendor tell us about a data breach?"
    assert [c.id for c in via_torch.search(q, k=8)] == [c.id for c in kb.search(q, k=8)]


@pytest.mark.integration
def test_onnx_ingests_with_torch_and_int8_with_itself(embedder):
    from assistant.core.embeddings import SentenceTransformerEmbedder

    bulk = embedder.clone()
    assert isinstance(bulk, SentenceTransformerEmbedder) and bulk.name == embedder.name
    assert isinstance(OnnxEmbedder(quantized=True).clone(), OnnxEmbedder)
