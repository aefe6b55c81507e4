"""LangChain's standard conformance suites (langchain-tests) for AssistantRetriever and
AssistantEmbeddings, on the shipped knowledge base in a real embedded Chroma with the real model.

No standard test is overridden or skipped (``test_no_overrides_DO_NOT_OVERRIDE`` checks that)."""

from __future__ import annotations

import numpy as np
import pytest
from langchain_tests.integration_tests import EmbeddingsIntegrationTests, RetrieversIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests

from assistant.integrations.langchain import AssistantEmbeddings, AssistantRetriever

pytestmark = pytest.mark.integration

# The suites hold sync and async tests; pytest-asyncio runs the async ones in strict mode when
# they carry its mark, which a class mark gives every test (and a harmless warning to sync ones).
ASYNC = [
    pytest.mark.asyncio,
    pytest.mark.filterwarnings("ignore:The test <.*> is marked with '@pytest.mark.asyncio':pytest.PytestWarning"),
]


class TestAssistantRetrieverStandard(RetrieversIntegrationTests):
    pytestmark = ASYNC

    @pytest.fixture(autouse=True)
    def _knowledge_base(self, kb) -> None:
        # The suite builds retrievers from retriever_constructor_params alone: hand it the session's assistant.
        self.assistant = kb

    @property
    def retriever_constructor(self) -> type[AssistantRetriever]:
        return AssistantRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"assistant": self.assistant}

    @property
    def retriever_query_example(self) -> str:
        return "How quickly must a vendor notify Kestrel of a security incident?"


class TestAssistantEmbeddingsUnitStandard(EmbeddingsUnitTests):
    pytestmark = ASYNC

    @property
    def embeddings_class(self) -> type[AssistantEmbeddings]:
        return AssistantEmbeddings

    @property
    def init_from_env_params(self) -> tuple[dict, dict, dict]:
        # Unset fields come from the assistant's settings, so ASSISTANT_* variables configure them.
        return ({"ASSISTANT_EMBEDDING_BACKEND": "torch", "ASSISTANT_EMBEDDING_BATCH_SIZE": "8"}, {},
                {"backend": "torch", "batch_size": 8, "model": "all-MiniLM-L6-v2"})


class TestAssistantEmbeddingsIntegrationStandard(EmbeddingsIntegrationTests):
    pytestmark = ASYNC

    @pytest.fixture(autouse=True)
    def _models(self, embedder, torch_embedder) -> None:
        # The session's loaded models (ONNX for queries, PyTorch as ingest uses for documents).
        self.models = {"embedder": embedder, "document_embedder": torch_embedder}

    @property
    def embeddings_class(self) -> type[AssistantEmbeddings]:
        return AssistantEmbeddings

    @property
    def embedding_model_params(self) -> dict:
        return self.models


def test_embed_documents_reproduces_the_stored_vectors(kb):
    """With ingest's input form, embed_documents gives the vectors in Chroma; queries match search's."""
    from ingest.pipeline import embed_input

    emb = AssistantEmbeddings.from_assistant(kb)
    chunks, stored = kb.store.get_with_vectors()
    picked = list(range(0, len(chunks), max(1, len(chunks) // 8)))[:8]
    got = np.array(emb.embed_documents([embed_input(chunks[i]) for i in picked]), dtype=np.float32)
    np.testing.assert_allclose(got, stored[picked], atol=1e-6)
    question = "How quickly must a vendor notify Kestrel of a security incident?"
    np.testing.assert_array_equal(np.array(emb.embed_query(question), np.float32), kb.embedder.embed([question])[0])
    assert abs(np.linalg.norm(got[0]) - 1.0) < 1e-5
