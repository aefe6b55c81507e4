"""The public Python API: ``Assistant.ask`` and ``Assistant.search``."""

from __future__ import annotations

import json
import re
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from assistant import guard
from assistant.answer import extractive_answer, make_citation, refusal
from assistant.conversation import rewrite, user_turns
from assistant.embeddings import Embedder
from assistant.filters import Filters
from assistant.retrieve import Retriever
from assistant.settings import Settings
from assistant.store import ChromaStore
from assistant.types import Answer, Chunk, Statement
from assistant import verify

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
DEFAULT_THRESHOLD = 0.3


def load_calibration(path: Path = CALIBRATION_FILE) -> tuple[float, float]:
    """(dense similarity threshold, query-coverage floor) for the refusal decision."""
    try:
        cal = json.loads(path.read_text())
        return float(cal["dense_threshold"]), float(cal.get("coverage_floor", 0.0))
    except (OSError, ValueError, KeyError):
        return DEFAULT_THRESHOLD, 0.0


class Assistant:
    """Answers questions from one collection. Build it with ``from_settings`` or pass parts in."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        store: ChromaStore,
        manifest: Any | None = None,
        chat_model: Any | None = None,
        threshold: float | None = None,
        coverage_floor: float | None = None,
    ):
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.manifest = manifest
        self.chat_model = chat_model
        cal_threshold, cal_floor = load_calibration()
        self.threshold = cal_threshold if threshold is None else threshold
        self.coverage_floor = cal_floor if coverage_floor is None else coverage_floor
        self.retriever = Retriever(store, embedder, manifest.generation if manifest is not None else None)
        self._ingest_embedder: Embedder | None = None  # made on the first ingest (see ingest)

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Embedder | None = None, chat_model: Any | None = None) -> "Assistant":
        from assistant.embeddings import make_embedder
        from ingest.manifest import Manifest

        embedder = embedder or make_embedder(settings.embedding_model, settings.embedding_backend)
        store = ChromaStore.open(settings, embedder.name, embedder.dimension)
        manifest = Manifest(settings.index_dir / "manifest.sqlite3", settings.collection)
        if chat_model is None and settings.answer_backend != "extractive":
            from assistant.llm import make_chat_model

            chat_model = make_chat_model(settings)
        return cls(settings, embedder, store, manifest, chat_model)

    # -- ingest ------------------------------------------------------------------------------
    def ingest(self, path: Path | None = None, rebuild: bool = False, progress: Any = None, show_bar: bool | None = None, wait: bool = False):
        from ingest.pipeline import Ingester, IngestLock

        s = self.settings
        if self._ingest_embedder is None:
            clone = getattr(self.embedder, "clone", None)
            self._ingest_embedder = clone() if clone else self.embedder
        with IngestLock(s.index_dir, s.collection, wait=wait):
            ing = Ingester(
                self.store, self._ingest_embedder, self.manifest, s.knowledge_root, s.chunk_size, s.chunk_overlap,
                int(s.max_file_mb * 1e6), s.embedding_batch_size,
            )
            report = ing.run(path, rebuild=rebuild, progress=progress, show_bar=show_bar)
        self.retriever.invalidate()
        return report

    # -- search ------------------------------------------------------------------------------
    def search(
        self, query: str, k: int = 8, filters: dict[str, Any] | None = None, role: str | None = None, document: str | None = None
    ) -> list[Chunk]:
        f = Filters.from_dict(filters, role or self.settings.default_role)
        return self.retriever.search(query, k, f, document=document)

    def findings(self, role: str | None = None) -> list[dict[str, Any]]:
        """Current record of every audit finding the role may see (latest document wins)."""
        allowed = Filters.from_dict({}, role or self.settings.default_role).audiences or ()
        rows = [dict(r) for r in self.retriever.corpus.findings.values() if r.get("audience", "all") in allowed]
        return sorted(rows, key=lambda r: (r.get("vendor", ""), r["id"]))

    def stats(self) -> dict[str, Any]:
        corpus = self.retriever.corpus
        return {
            "documents": len(corpus.neighbours),
            "chunks": len(corpus.chunks),
            "backend": self.settings.answer_backend,
            "embedding_model": f"{self.embedder.name} ({self.settings.embedding_backend})",
            "collection": self.settings.collection,
            "store": (
                f"Chroma server {self.settings.chroma_host}:{self.settings.chroma_port}"
                if self.settings.chroma_mode == "server"
                else f"embedded Chroma in {self.settings.chroma_path}"
            ),
        }

    # -- answers -----------------------------------------------------------------------------
    def ask(
        self,
        question: str,
        history: Sequence[Any] | None = None,
        filters: dict[str, Any] | None = None,
        role: str | None = None,
    ) -> Answer:
        answer = None
        for item in self.ask_stream(question, history=history, filters=filters, role=role):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None
        return answer

    def ask_stream(
        self,
        question: str,
        history: Sequence[Any] | None = None,
        filters: dict[str, Any] | None = None,
        role: str | None = None,
    ) -> Iterator[str | Answer]:
        """Yield text deltas while the answer is produced, then the final verified ``Answer``."""
        t0 = time.perf_counter()
        question = (question or "").strip()
        if not question:
            yield self._refuse(question, "empty", "Please type a question.")
            return
        if len(question) > self.settings.max_question_chars:
            yield self._refuse(
                question[:200], "too_long",
                f"Your question is {len(question):,} characters long; the limit is {self.settings.max_question_chars:,}. "
                "Please shorten it.",
            )
            return
        blocked = guard.check(question)
        if blocked:
            yield self._refuse(question, *blocked)
            return
        standalone, earlier_filters = self._standalone(question, history)
        f = Filters.from_dict({**earlier_filters, **(filters or {})}, role or self.settings.default_role)
        routing = self.retriever.route(standalone, f)
        chunks = self.retriever.search_routed(routing, self.settings.top_k)
        t_ret = time.perf_counter()
        relevance = chunks[0].signals.get("dense_max", 0.0) if chunks else 0.0
        coverage = self.retriever.coverage(routing.query, chunks)
        # A question routed to a named vendor, document or finding status is in scope by
        # construction; the open-ended ones must be close to a chunk (dense similarity) and
        # share enough of their rarer words with the retrieved chunks (coverage).
        routed = bool(routing.notes)
        if not chunks or (not routed and (relevance < self.threshold or coverage < self.coverage_floor)):
            ans = refusal(question, chunks, "not_in_knowledge_base", backend=self.settings.answer_backend)
        elif self.chat_model is not None:
            ans = yield from self._llm_answer(routing.query, chunks)
        else:
            ans = extractive_answer(routing.query, chunks, self._idf, self.embedder, routing.vector)
        if not ans.refused and ans.backend == "extractive" and self.chat_model is None:
            for line in ans.text.splitlines(keepends=True):
                yield line
        ans.question = question
        ans.standalone_question = standalone
        ans.filters = routing.filters.to_dict()
        ans.timings = {"retrieve_ms": (t_ret - t0) * 1000, "total_ms": (time.perf_counter() - t0) * 1000, "relevance": relevance,
                       "coverage": coverage, "routed": float(routed)}
        yield ans

    def _idf(self, term: str) -> float:
        return self.retriever.corpus.bm25.idf_of(term)

    def _refuse(self, question: str, reason: str, text: str) -> Answer:
        return Answer(question=question, text=text, citations=[], sources=[], refused=True,
                      backend=self.settings.answer_backend, refusal_reason=reason)

    def _standalone(self, question: str, history: Sequence[Any] | None) -> tuple[str, dict[str, Any]]:
        turns = user_turns(history)
        if not turns:
            return question, {}
        standalone = rewrite(question, history, self.retriever.corpus.vendors)
        if standalone != question and self.chat_model is not None:
            from assistant.llm import LLMError, rewrite_question

            try:
                standalone = rewrite_question(self.chat_model, question, turns)
            except LLMError:
                pass
        carried: dict[str, Any] = {}
        if standalone != question and not self.retriever.route(question, Filters()).filters.vendor:
            prev = self.retriever.route(turns[-1], Filters())
            for key in ("vendor", "source", "doc_type"):
                vals = getattr(prev.filters, key)
                if vals:
                    carried[key] = vals
        return standalone, carried

    def _llm_answer(self, question: str, chunks: list[Chunk]):
        from assistant.llm import LLMError, stream_answer

        parts: list[str] = []
        try:
            for delta in stream_answer(self.chat_model, question, chunks):
                parts.append(delta)
                yield delta
        except LLMError as exc:
            ans = extractive_answer(question, chunks, self._idf, self.embedder)
            ans.notice = f"The language model is unavailable ({exc}); showing an extractive answer instead."
            return ans
        raw = "".join(parts).strip()
        return self.verify_llm_text(question, raw, chunks)

    def verify_llm_text(self, question: str, raw: str, chunks: list[Chunk]) -> Answer:
        """Keep only citations whose chunk supports the sentence; refuse if nothing is supported."""
        backend = self.settings.answer_backend
        if "NOT_IN_SOURCES" in raw:
            return refusal(question, chunks, "not_in_knowledge_base", backend=backend)
        statements_raw = verify.split_statements(raw)
        if not any(verify.markers(s) for s in statements_raw):
            ans = extractive_answer(question, chunks, self._idf, self.embedder)
            ans.notice = "The language model returned an answer without usable citations; showing an extractive answer instead."
            return ans
        citations = []
        statements: list[Statement] = []
        lines: list[str] = []
        for st in statements_raw:
            refs = verify.valid_refs(verify.markers(st), len(chunks))
            clean = verify.MARKER.sub("", st).strip()
            if not clean or re.fullmatch(r"[\W_]+", clean):
                continue
            kept: list[int] = []
            best = 0.0
            for r in dict.fromkeys(refs):
                sup = verify.support(clean, chunks[r - 1], self.embedder)
                best = max(best, sup.score)
                if verify.is_supported(sup, with_embeddings=True):
                    n = len(citations) + 1
                    s, e = sup.quote_span
                    citations.append(make_citation(n, chunks[r - 1], s, e))
                    kept.append(n)
            supported = bool(kept)
            statements.append(Statement(text=clean, citations=kept, support=round(best, 3), supported=supported))
            if supported:
                lines.append(f"{clean} " + "".join(f"[{n}]" for n in kept))
            else:
                lines.append(f"{clean} (unsupported: no cited source backs this)")
        if not any(s.supported for s in statements):
            ans = refusal(question, chunks, "no_supported_statement", backend=backend)
            ans.statements = statements
            return ans
        return Answer(question=question, text="\n".join(lines), citations=citations, sources=chunks,
                      refused=False, backend=backend, statements=statements)
