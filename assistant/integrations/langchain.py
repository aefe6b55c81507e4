"""The assistant as LangChain components: a retriever, embeddings and the cited-answer pipeline.

    from assistant.integrations.langchain import AssistantEmbeddings, AssistantRetriever, answer_chain

    retriever = AssistantRetriever(assistant=a, k=4)           # BaseRetriever: Documents with scores
    chain = {"question": RunnablePassthrough()} | answer_chain(a)  # Runnable: the verified Answer

Importing this module loads langchain-core only; the model, torch and Chroma load on first use.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any, Literal, NotRequired

from langchain_core.callbacks import (
    AsyncCallbackManagerForChainRun,
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForChainRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.messages import BaseMessage
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.config import patch_config, run_in_executor
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator
from typing_extensions import TypedDict  # pydantic needs this TypedDict before Python 3.12

from assistant.core.types import Answer, Chunk, Citation

__all__ = ["AnswerChain", "AnswerRequest", "AssistantEmbeddings", "AssistantRetriever", "answer_chain", "chunk_document"]


def chunk_document(chunk: Chunk) -> Document:
    """A retrieved chunk as a LangChain ``Document``: its text, where it sits in its file, its scores."""
    meta: dict[str, Any] = {
        "chunk_id": chunk.id,
        "source": chunk.source,
        "title": chunk.title,
        "section": chunk.section,
        "doc_type": chunk.doc_type,
        "start": chunk.start,
        "end": chunk.end,
        "line": chunk.line,
        "page": chunk.page,
        "location": chunk.location,
        "vendor": chunk.metadata.get("vendor"),
    }
    for key in Citation.SHOWN_METADATA:
        if key not in meta and chunk.metadata.get(key) is not None:
            meta[key] = chunk.metadata[key]
    # None where a signal did not rank the chunk (a BM25-only hit has no dense score).
    for signal in ("dense", "lexical", "fused"):
        meta[f"{signal}_score"] = chunk.signals.get(signal)
    return Document(page_content=chunk.text, metadata=meta, id=chunk.id)


# -- retriever ---------------------------------------------------------------------------------

class AssistantRetriever(BaseRetriever):
    """The assistant's hybrid search (routing, role and metadata filters, dense + BM25 fused).

    ``invoke(query, k=..., filters=..., role=..., document=...)`` overrides the fields for one call.
    """

    assistant: Any = Field(description="The assistant.api.Assistant to search.")
    k: int = Field(4, ge=1, description="Number of chunks returned.")
    filters: dict[str, Any] | None = Field(None, description="Filters as Assistant.search takes them (vendor, doc_type, ...).")
    role: str | None = Field(None, description="Role whose audiences may be searched; None: the settings' default_role.")
    document: str | None = Field(None, description="Restrict the search to one document (source path or title).")

    @field_validator("assistant")
    @classmethod
    def _is_assistant(cls, value: Any) -> Any:
        if not callable(getattr(value, "search", None)):
            raise ValueError("assistant must be an assistant.api.Assistant (an object with .search)")
        return value

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
        filters: dict[str, Any] | None = None,
        role: str | None = None,
        document: str | None = None,
    ) -> list[Document]:
        k = self.k if k is None else k
        if k < 1:
            raise ValueError(f"k must be at least 1; got {k}")
        chunks = self.assistant.search(
            query, k=k, filters=self.filters if filters is None else filters, role=role or self.role,
            document=document or self.document,
        )
        return [chunk_document(c) for c in chunks]

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        # Search is synchronous numpy work: off the event loop, in the default executor.
        return await run_in_executor(None, self._get_relevant_documents, query, run_manager=run_manager.get_sync(), **kwargs)


# -- embeddings --------------------------------------------------------------------------------

class AssistantEmbeddings(BaseModel, Embeddings):
    """The assistant's embedding model as LangChain ``Embeddings`` (normalised vectors).

    ``embed_documents`` embeds the texts exactly as given, with the embedder ingest uses (the
    ``clone()`` of the query embedder). Ingest itself embeds ``"{title} > {section}\\n{text}"``
    per chunk (``ingest.pipeline.embed_input``): pass that form to reproduce the stored vectors.
    ``embed_query`` uses the query embedder, as search does. ``model``, ``backend`` and
    ``batch_size`` left unset come from the assistant's settings (settings file, ``ASSISTANT_*``).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model: str | None = Field(None, description="'all-MiniLM-L6-v2' (bundled) or a local sentence-transformers folder.")
    backend: Literal["torch", "onnx", "onnx-int8"] | None = Field(None, description="Inference runtime.")
    batch_size: int | None = Field(None, ge=1, description="Encode batch size of embed_documents (ingest's).")
    embedder: Any = Field(None, description="A ready query embedder (e.g. Assistant.embedder); built when None.")
    document_embedder: Any = Field(None, description="A ready ingest embedder; embedder.clone() when None.")
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @model_validator(mode="after")
    def _settings_defaults(self) -> AssistantEmbeddings:
        if self.embedder is not None and self.model is None:
            self.model = getattr(self.embedder, "name", None)
        if self.model is None or self.backend is None or self.batch_size is None:
            from assistant.core.settings import load_settings

            s = load_settings()
            self.model = self.model or s.embedding_model
            self.backend = self.backend or s.embedding_backend
            self.batch_size = self.batch_size or s.embedding_batch_size
        return self

    @classmethod
    def from_assistant(cls, assistant: Any) -> AssistantEmbeddings:
        """The embeddings of a running ``Assistant`` (its loaded query model is shared)."""
        s = assistant.settings
        return cls(embedder=assistant.embedder, model=s.embedding_model, backend=s.embedding_backend,
                   batch_size=s.embedding_batch_size)

    def _query_embedder(self) -> Any:
        with self._lock:
            if self.embedder is None:
                from assistant.core.embeddings import make_embedder

                self.embedder = make_embedder(self.model, self.backend)
            return self.embedder

    def _documents_embedder(self) -> Any:
        query = self._query_embedder()
        with self._lock:
            if self.document_embedder is None:
                # What Assistant.ingest embeds with: for the fp32 ONNX backend that is PyTorch
                # (the same vectors to ~1e-6, faster in large batches).
                clone = getattr(query, "clone", None)
                self.document_embedder = clone() if clone else query
            return self.document_embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed texts as given (no title/section prefix)."""
        return self._documents_embedder().embed(list(texts), batch_size=self.batch_size).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._query_embedder().embed([text])[0].tolist()


# -- the cited-answer pipeline ----------------------------------------------------------------

class AnswerRequest(TypedDict):
    """The dict input of ``answer_chain`` (a plain str is taken as the question)."""

    question: str
    history: NotRequired[list[Any]]  # [(user, assistant), ...], [{"role", "content"}, ...] or messages
    filters: NotRequired[dict[str, Any]]
    role: NotRequired[str]


AnswerInput = str | AnswerRequest


def _history(history: Any) -> list[Any] | None:
    """The conversation as the assistant reads it: LangChain messages become role/content dicts."""
    if not history:
        return None
    out: list[Any] = []
    for item in history:
        if isinstance(item, BaseMessage):
            out.append({"role": {"human": "user", "ai": "assistant"}.get(item.type, item.type), "content": str(item.text)})
        else:
            out.append(item)
    return out


def _request(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        return {"question": value}
    if not isinstance(value, Mapping) or not isinstance(value.get("question"), str):
        raise TypeError("answer_chain takes a question (str) or a mapping with a 'question' str and optional "
                        f"'history', 'filters', 'role'; got {type(value).__name__}")
    return {"question": value["question"], "history": _history(value.get("history")),
            "filters": value.get("filters"), "role": value.get("role")}


class _Trace:
    """The child runs of one answer: "retrieve" (a retriever run), then "answer" (a chain run)."""

    def __init__(self, run_manager: CallbackManagerForChainRun) -> None:
        self.run = run_manager
        self.answer_run: CallbackManagerForChainRun | None = None

    def config(self, config: RunnableConfig | None) -> RunnableConfig:
        """A chat model call's config: a child of "answer" once retrieval is done, else of the chain."""
        return patch_config(config, callbacks=(self.answer_run or self.run).get_child())

    def retrieve(self, search: Callable[[], list[Chunk]], query: str) -> list[Chunk]:
        run = self.run.get_child().on_retriever_start(None, query, name="retrieve")
        try:
            chunks = search()
        except BaseException as exc:
            run.on_retriever_error(exc)
            raise
        run.on_retriever_end([chunk_document(c) for c in chunks])
        if self.answer_run is None:
            self.answer_run = self.run.get_child().on_chain_start(
                None, {"question": query, "sources": [c.id for c in chunks]}, name="answer")
        return chunks

    def answered(self, answer: Answer) -> None:
        if self.answer_run is not None:
            self.answer_run.on_chain_end(answer)
            self.answer_run = None

    def failed(self, exc: BaseException) -> None:
        if self.answer_run is not None:
            self.answer_run.on_chain_error(exc)
            self.answer_run = None


class _TracedRetriever:
    """``Assistant.retriever`` for one call: each ``search_routed`` is a "retrieve" run."""

    def __init__(self, inner: Any, trace: _Trace) -> None:
        self._inner, self._trace = inner, trace

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def search_routed(self, routing: Any, k: int, candidates: int | None = None) -> list[Chunk]:
        return self._trace.retrieve(lambda: self._inner.search_routed(routing, k, candidates), routing.query)


class _TracedChatModel:
    """``Assistant.chat_model`` for one call: its runs become children of this call's runs."""

    def __init__(self, inner: Any, trace: _Trace) -> None:
        self._inner, self._trace = inner, trace

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def stream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[Any]:
        return self._inner.stream(input, self._trace.config(config), **kwargs)

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return self._inner.invoke(input, self._trace.config(config), **kwargs)


class AnswerChain(Runnable[AnswerInput, Answer]):
    """``Assistant.ask`` as a Runnable. ``invoke`` returns the verified ``Answer``; ``stream`` yields
    text deltas (str), then that ``Answer`` as the last item. Async methods run the same path in the
    config's executor. Retrieval ("retrieve") and answering ("answer") are child runs of the call."""

    def __init__(self, assistant: Any, name: str | None = None) -> None:
        self.assistant = assistant
        self.name = name or "assistant_answer"

    @property
    def InputType(self) -> Any:
        return AnswerInput

    @property
    def OutputType(self) -> Any:
        return Answer

    def _items(self, request: Any, run_manager: CallbackManagerForChainRun) -> Iterator[str | Answer]:
        args = _request(request)
        trace = _Trace(run_manager)
        # A shallow copy per call carries this call's tracing proxies; everything they wrap (the
        # retriever and its in-memory corpus, the store, the models) stays shared.
        traced = copy.copy(self.assistant)
        traced.retriever = _TracedRetriever(self.assistant.retriever, trace)
        if self.assistant.chat_model is not None:
            traced.chat_model = _TracedChatModel(self.assistant.chat_model, trace)
        try:
            for item in traced.ask_stream(**args):
                if isinstance(item, Answer):
                    trace.answered(item)
                yield item
        except BaseException as exc:  # GeneratorExit included: a stream abandoned half way
            trace.failed(exc)
            raise

    def _answer(self, request: Any, run_manager: CallbackManagerForChainRun) -> Answer:
        *_, answer = self._items(request, run_manager)  # ask_stream always ends with the Answer
        return answer

    def invoke(self, input: AnswerInput, config: RunnableConfig | None = None, **kwargs: Any) -> Answer:
        return self._call_with_config(self._answer, input, config)

    def stream(self, input: AnswerInput, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[Any]:
        yield from self._transform_stream_with_config(iter([input]), self._transform, config)

    def _transform(self, inputs: Iterator[Any], run_manager: CallbackManagerForChainRun) -> Iterator[str | Answer]:
        for request in inputs:
            yield from self._items(request, run_manager)

    async def ainvoke(self, input: AnswerInput, config: RunnableConfig | None = None, **kwargs: Any) -> Answer:
        return await self._acall_with_config(self._aanswer, input, config)

    async def _aanswer(self, request: Any, run_manager: AsyncCallbackManagerForChainRun, config: RunnableConfig) -> Answer:
        # Retrieval and answering are synchronous and CPU-bound: they run in the config's executor.
        return await run_in_executor(config, self._answer, request, run_manager.get_sync())

    async def astream(self, input: AnswerInput, config: RunnableConfig | None = None, **kwargs: Any) -> AsyncIterator[Any]:
        async def one() -> AsyncIterator[Any]:
            yield input

        async for item in self._atransform_stream_with_config(one(), self._atransform, config):
            yield item

    async def _atransform(self, inputs: AsyncIterator[Any], run_manager: AsyncCallbackManagerForChainRun,
                          config: RunnableConfig) -> AsyncIterator[str | Answer]:
        done = object()
        async for request in inputs:
            items = self._items(request, run_manager.get_sync())
            try:
                # One step of the synchronous generator per executor call, so deltas arrive as made.
                while (item := await run_in_executor(config, next, items, done)) is not done:
                    yield item
            finally:
                items.close()


def answer_chain(assistant: Any, chat_model: Any | None = None) -> AnswerChain:
    """The cited-answer pipeline of ``assistant`` as a Runnable (input: a question or an ``AnswerRequest``).

    ``chat_model`` (any LangChain ``BaseChatModel``) answers through the assistant's LLM path: its
    text is verified against the retrieved chunks (unsupported statements marked, nothing
    supported: a refusal). Without it the assistant answers as configured (extractive by default).
    """
    if chat_model is not None:
        assistant = _with_chat_model(assistant, chat_model)
    return AnswerChain(assistant)


def _with_chat_model(assistant: Any, chat_model: Any) -> Any:
    from assistant.api import Assistant

    settings = assistant.settings
    if settings.answer_backend == "extractive":
        # Answers carry the backend label; "openai" is the settings' name for an LLM answer
        # (any OpenAI-compatible model), and the only label that keeps the settings valid.
        settings = settings.model_copy(update={"answer_backend": "openai"})
    llm = Assistant(settings, assistant.embedder, assistant.store, assistant.manifest, chat_model,
                    answerability=assistant.answerability)
    # One in-memory corpus for both assistants (the retriever reloads it when the index changes).
    llm.retriever = assistant.retriever
    return llm
