"""The public Python API: ``Assistant.ask`` and ``Assistant.search``.

A question goes: guard → follow-up rewrite → role filters → routing (narrows only) → hybrid
search → the units that would answer it → answerability (does that evidence answer the
question? every question, routed or not, before any backend) → an extractive or LLM answer.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from assistant.answering import guard, verify
from assistant.answering.answerability import Answerability, Evidence, features
from assistant.answering.asks import asks_our_rules, final_ask, question_parts, with_apostrophes
from assistant.answering.compose import composed_answer
from assistant.answering.conversation import rewrite, user_turns
from assistant.answering.extractive import (Candidate, ask_matrix, choose, extractive_answer, picks_of, rank, refusal,
                                            with_each_ask)
from assistant.answering.question import without_names
from assistant.answering.recency import after_records, asks_by_date
from assistant.answering.register import (
    FindingQuery,
    absent_audits,
    empty_selection,
    finding_query,
    matching,
    quiet_audits,
    register_answer,
)
from assistant.core.access import audiences_for
from assistant.core.embeddings import Embedder, vocabulary
from assistant.core.settings import Settings
from assistant.core.store import ChromaStore
from assistant.core.text import named_in
from assistant.core.threads import limit_blas_threads
from assistant.core.types import Answer, Chunk
from assistant.retrieval import thesaurus
from assistant.retrieval.corpus import CorpusLookup
from assistant.retrieval.filters import Filters
from assistant.retrieval.routing import Routing
from assistant.retrieval.search import Retriever


class Assistant:
    """Answers questions from one collection. Build it with ``from_settings`` or pass parts in.
    ``answerability``: the fitted refusal model (default: ``assistant/answerability.json``)."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        store: ChromaStore,
        manifest: Any | None = None,
        chat_model: Any | None = None,
        answerability: Answerability | None = None,
    ):
        limit_blas_threads(settings.blas_threads)  # numpy's BLAS threads otherwise starve the embedding model's (core/threads.py)
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.manifest = manifest
        self.chat_model = chat_model
        self.answerability = answerability or Answerability.load()
        self.retriever = Retriever(store, embedder, manifest.generation if manifest is not None else None)
        self.retriever.thesaurus_file = thesaurus.ThesaurusFile(settings.knowledge_root / thesaurus.FILE_NAME)
        self._everyday = vocabulary(settings.embedding_model)
        self._ingest_embedder: Embedder | None = None  # made on the first ingest (see ingest)

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Embedder | None = None, chat_model: Any | None = None) -> "Assistant":
        from assistant.core.embeddings import make_embedder
        from assistant.retrieval.snapshot import Snapshots
        from ingest.manifest import Manifest

        embedder = embedder or make_embedder(settings.embedding_model, settings.embedding_backend)
        store = ChromaStore.open(settings, embedder.name, embedder.dimension)
        # With a Chroma server the generation (and the ingest lock) are the server's: every replica
        # sees an ingest made through any of them.
        manifest = Manifest.for_settings(settings, store)
        if chat_model is None and settings.answer_backend != "extractive":
            from assistant.answering.llm import make_chat_model

            chat_model = make_chat_model(settings)
        assistant = cls(settings, embedder, store, manifest, chat_model)
        assert settings.snapshot_dir is not None  # filled in by the settings validator
        assistant.retriever.snapshots = Snapshots(settings.snapshot_dir, settings.collection)
        return assistant

    # -- ingest ------------------------------------------------------------------------------
    def ingest(self, path: Path | None = None, rebuild: bool = False, progress: Any = None, show_bar: bool | None = None,
               wait: bool = False):
        """Ingest ``path`` (default: the knowledge root) incrementally; returns the ``IngestReport``."""
        from ingest.pipeline import run_ingest

        report = run_ingest(self.settings, self.store, self.ingest_embedder, self.manifest, path, rebuild=rebuild,
                            progress=progress, show_bar=show_bar, wait=wait)
        self.retriever.invalidate()
        if path is None:
            from assistant.review.playbook import playbook_problem

            problem = playbook_problem(self.settings.knowledge_root)
            if problem:
                report.failed.append(("playbook.yaml", problem))
            # a broken thesaurus is reported like a bad file (serving keeps the one in use: ``ThesaurusFile``)
            try:
                thesaurus.load(self.settings.knowledge_root / thesaurus.FILE_NAME)
            except thesaurus.ThesaurusError as exc:
                report.failed.append((thesaurus.FILE_NAME, str(exc)))
        if self.retriever.snapshots is not None and (report.chunks_written or report.removed or rebuild):
            # Write this generation's snapshot now, so every other process (replicas, restarts)
            # maps it instead of reading the whole collection; this process then serves it too.
            self.retriever.refresh(force=True)
        return report

    @property
    def ingest_embedder(self) -> Embedder:
        """The instance bulk ingest uses (its own tokenizer; PyTorch under the ONNX backend)."""
        if self._ingest_embedder is None:
            clone = getattr(self.embedder, "clone", None)
            self._ingest_embedder = clone() if clone else self.embedder
        return self._ingest_embedder

    # -- search ------------------------------------------------------------------------------
    def search(
        self, query: str, k: int = 8, filters: dict[str, Any] | None = None, role: str | None = None, document: str | None = None
    ) -> list[Chunk]:
        """The k best chunks the role may see, best first; a question that names one vendor gets k // 3 more after
        them, from the documents of no vendor (standards, templates, guidance)."""
        f = Filters.from_dict(filters, role or self.settings.default_role)
        return self.retriever.search(query, k, f, document=document)

    def search_spans(
        self, query: str, k: int | None = None, budget_chars: int | None = None, filters: dict[str, Any] | None = None,
        role: str | None = None, document: str | None = None,
    ) -> list[Any]:
        """Evidence spans (``retrieval.spans.Span``) sized to the question, within ``budget_chars``."""
        f = Filters.from_dict(filters, role or self.settings.default_role)
        return self.retriever.search_spans(query, k, budget_chars, f, document=document)

    def findings(self, role: str | None = None) -> list[dict[str, Any]]:
        """The current record of every audit finding, from the audit documents the role may see."""
        rows = self.retriever.corpus.findings_for(audiences_for(role or self.settings.default_role))
        return sorted((dict(r) for r in rows.values()), key=lambda r: (r.get("vendor", ""), r["id"]))

    def vendors(self, role: str | None = None) -> list[str]:
        """Vendors named by the documents the role may see."""
        return self.retriever.corpus.vendors_for(audiences_for(role or self.settings.default_role))

    def review(self, contract: str | Path, role: str | None = None, progress: Any = None):
        """Check a contract (an indexed source, vendor or title, or a file to review without indexing
        it) against knowledge/playbook.yaml: one row per requirement the role may see.

        Raises:
            ReviewError: when the contract cannot be found, read or reviewed (a ``ValueError``).
        """
        from assistant.review import review

        return review(self, contract, role=role or self.settings.default_role, progress=progress)

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
        blocked = self._blocked(question)
        if blocked is not None:
            yield blocked
            return
        reviewed = self._review_answer(typed := with_apostrophes(question), role)
        if reviewed is not None:  # "does our Northwind contract meet our encryption standard?"
            yield from reviewed.text.splitlines(keepends=True)
            reviewed.timings = {"total_ms": (time.perf_counter() - t0) * 1000}
            yield reviewed
            return
        standalone, earlier_filters = self._standalone(typed, history)
        f = Filters.from_dict({**earlier_filters, **(filters or {})}, role or self.settings.default_role)
        routing = self.retriever.route(standalone, f)
        # (the query without the things it names, for the gate's ``denamed_sim``, is embedded in one batch with it)
        denamed = self.retriever.embed_query(routing, without_names(routing.query, self.retriever.corpus.vendors,
                                                                    self.settings.organisation, self._everyday.__contains__))
        chunks = self.retriever.search_routed(routing, self.settings.top_k)
        t_ret = time.perf_counter()
        lookup = CorpusLookup(self.retriever.corpus, routing.filters.audiences)
        fq, listed = self._register(routing, lookup)
        after = self._after_records(routing, lookup, chunks)
        a_set = bool(listed) and not fq.one
        chosen, signals = self._evidence(routing, chunks, a_set, denamed, one=[f["id"] for f in listed] if fq and fq.one else [])
        # Findings the register selects by every selector and subject word of the question are the evidence
        # itself (their record lines are what the answer quotes): no sentence score overrules them, and no more
        # does it overrule what the register records of one finding (its owner, severity, status, dates); a
        # question about live or future information is still refused. Anything else asked of one finding (why
        # it is still open) is decided by the gate like any other question.
        by_register = a_set or bool(listed and fq.attribute)
        from_register = by_register and not (signals.get("live") or signals.get("future"))
        # a year's audits the knowledge base does not hold ("what did the 2026 Harborview audit find?") are refused
        # as such, whatever other years' notes say
        # (only a question that asks for a year's findings looks at the list of audits)
        asks_year = fq is not None and bool(fq.raised) and not listed
        audits = self.retriever.corpus.audits_for(routing.filters.audiences) if asks_year else []
        absent = absent_audits(fq, audits) if asks_year else None
        # ... and a year whose audits raised no finding is answered as such, with what its notes say
        quiet = quiet_audits(fq, audits) if asks_year and not absent else None
        # ... and so is a selection by severity, status or year closed that holds no finding ("are any critical
        # findings still open?"): the register records those of every finding, so an empty set is the answer
        empty = (empty_selection(question, fq, self.retriever.corpus.findings_for(routing.filters.audiences), lookup, chunks)
                 if fq and not (listed or after or absent or quiet or signals.get("live") or signals.get("future")) else None)
        if after or absent:
            ans = refusal(question, chunks, "not_in_knowledge_base", text=after or absent, backend=self.settings.answer_backend)
        elif quiet or empty:
            ans = empty or (composed_answer(routing.query, chunks, picks_of(chosen, chunks), lookup, lead=quiet) if chosen else
                            Answer(question=question, text=quiet, citations=[], sources=list(chunks), refused=False,
                                   backend="extractive"))
            for line in ans.text.splitlines(keepends=True):
                yield line
        elif not (chosen or listed) or not (from_register or self.answerability.answerable(signals)):
            ans = refusal(question, chunks, "not_in_knowledge_base", backend=self.settings.answer_backend)
        elif self.chat_model is not None and not from_register:  # the register's answer needs no LLM
            ans = yield from self._llm_answer(routing.query, chunks, self._llm_sources(routing, f, chunks))
        else:
            narrative = picks_of(chosen, chunks) if fq and fq.topic else []
            ans = (listed and register_answer(routing.query, listed, lookup, chunks, narrative, fq.one)) or extractive_answer(
                routing.query, chunks, self._idf, self.embedder, routing.vector, lookup, chosen)
            for line in ans.text.splitlines(keepends=True):
                yield line
        ans.question = question
        ans.standalone_question = standalone
        ans.filters = routing.filters.to_dict()
        ans.signals = signals
        ans.timings = {"retrieve_ms": (t_ret - t0) * 1000, "total_ms": (time.perf_counter() - t0) * 1000}
        yield ans

    def _blocked(self, question: str) -> Answer | None:
        """A refusal for questions that are empty, too long or an injection attempt; None otherwise."""
        if not question:
            return self._refuse(question, "empty", "Please type a question.")
        limit = self.settings.max_question_chars
        if len(question) > limit:
            return self._refuse(question[:200], "too_long",
                                f"Your question is {len(question):,} characters long; the limit is {limit:,}. Please shorten it.")
        blocked = guard.check(question)
        return self._refuse(question, *blocked) if blocked else None

    def _review_answer(self, question: str, role: str | None) -> Answer | None:
        """The answer from the contract review when the question asks whether a contract meets our standards."""
        from assistant.review.chat import review_answer

        return review_answer(self, question, role or self.settings.default_role)

    def _register(self, routing: Routing, lookup: CorpusLookup) -> tuple[FindingQuery | None, list[dict[str, Any]]]:
        """The selection a question makes from the finding register and the findings it asks for as a set
        ("which findings are rated critical?"), from the register the asker may see; (None, []) when it
        does not ask for a set of findings."""
        register = self.retriever.corpus.findings_for(routing.filters.audiences)
        fq = finding_query(routing.query, routing.filters, list(register), self.settings.organisation, routing.reference)
        return fq, (matching(register, fq, lookup, self._idf) if fq else [])

    def _after_records(self, routing: Routing, lookup: CorpusLookup, chunks: list[Chunk]) -> str | None:
        """Why the knowledge base cannot say whether something happened by the date a question pins, when that date
        is later than every record of the vendor it asks about (``recency.after_records``); None otherwise."""
        if not asks_by_date(routing.query):  # (most questions: no lookups)
            return None
        ids = named_in(routing.query, lookup.finding_ids())
        vendors = list(routing.filters.vendor) or sorted({str(f.get("vendor")) for i in ids if (f := lookup.finding(i)) and f.get("vendor")})
        documents = self.retriever.corpus.dated_for(routing.filters.audiences)
        own = [d["source"] for d in documents if d["vendor"] in vendors]
        texts = [c.text for src in own for c in lookup.document_chunks(src)] + [c.text for c in chunks]
        return after_records(routing.query, vendors, documents, texts)

    def _evidence(self, routing: Routing, chunks: list[Chunk], listed: bool = False,
                  denamed: Any = None, one: Sequence[str] = ()) -> tuple[list[Candidate], dict[str, float]]:
        """The units that would answer, and the answerability signals (with the model's probability). ``listed``: the
        register holds the set of findings asked for (``one``: the one finding named by vendor and subject). The signals
        judge a named vendor's passages only (a guidance passage on SA8000 does not say whether the vendor is certified;
        the rules' passages may complete the answer), unless the question asks what our rules allow of its plan."""
        if not chunks:
            return [], {}
        corpus = self.retriever.corpus
        query = corpus.expanded(routing.query)
        ask = final_ask(routing.query)
        by_vendor = routing.vendor_named and not asks_our_rules(routing.query, routing.filters.vendor)
        own = [c for c in chunks if c.metadata.get("vendor") in routing.filters.vendor] if by_vendor else chunks
        judged = own or chunks
        ids = list(corpus.findings_for(routing.filters.audiences))
        ranked = rank(query, judged, self._idf, self.embedder, routing.vector, ask=ask, finding_ids=ids, asked=one)
        chosen = choose(ranked, judged)
        parts = question_parts(routing.query)
        embedded = [x for x in ranked if x.vec is not None]
        vecs = [x.vec for x in embedded]
        asks = self.embedder.embed(parts) if len(parts) > 1 else None  # (a question of several asks)
        by_ask = ask_matrix(asks, embedded)
        part_sims = np.max(by_ask, axis=1).tolist() if by_ask is not None else []
        chosen = with_each_ask(chosen, embedded, by_ask)
        if judged is not chunks:  # the answer may also quote the rules' passages
            ranked = rank(query, chunks, self._idf, self.embedder, routing.vector, ask=ask, finding_ids=ids, asked=one)
            embedded = [x for x in ranked if x.vec is not None]
            answer = with_each_ask(choose(ranked, chunks), embedded, ask_matrix(asks, embedded))
        else:
            answer = chosen
        # how close the best unit stays to what the question asks once the things it names are gone
        denamed_sim = float(np.max(np.stack(vecs) @ denamed)) if vecs and denamed is not None else 0.0
        ev = Evidence(
            question=routing.query,
            chunk_texts=[f"{c.title} {c.section} {c.text}" for c in judged],
            sentences=[f"{judged[x.ci].section} {judged[x.ci].text[x.start:x.end]}" for x in chosen],
            bare=[judged[x.ci].text[x.start:x.end] for x in chosen],
            sentence_sims=[x.sim for x in chosen if x.sim is not None],
            dense_max=chunks[0].signals.get("dense_max", 0.0),
            routed=bool(routing.notes),
            reference=routing.reference,
            part_sims=part_sims,
            denamed_sim=denamed_sim,
            findings_matched=listed or bool((routing.filters.status or routing.filters.severity)
                                            and self.retriever.finding_ids(routing.filters)),
            one_finding=bool(one),
        )
        signals = features(ev, corpus.bm25.idf_of, lambda t: t in corpus.bm25.vocab, self._everyday.__contains__,
                           self.settings.organisation, corpus.vendors, corpus.expansions(routing.query),
                           corpus.thesaurus.matches(routing.query))
        signals["p_answerable"] = round(self.answerability.probability(signals), 4)
        return answer, signals

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
            from assistant.answering.llm import LLMError, rewrite_question

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

    def _llm_sources(self, routing: Routing, f: Filters, chunks: list[Chunk]) -> list[Chunk]:
        """What the LLM reads and cites: evidence spans sized to the question within
        ``llm_context_chars`` (exact offsets), or the top chunks when spans are off or find nothing."""
        budget = self.settings.llm_context_chars
        if not budget:
            return chunks
        corpus = self.retriever.corpus
        spans = self.retriever.spans_routed(routing, f, budget_chars=budget)
        out = [s.as_chunk(holder) for s in spans if (holder := corpus.chunk(s.chunk_id)) is not None]
        return out or chunks

    def _llm_answer(self, question: str, chunks: list[Chunk], sources: list[Chunk] | None = None):
        """The LLM's answer from ``sources`` (default: ``chunks``), citations verified against them;
        the extractive answer from ``chunks`` when the model is down or cites nothing usable."""
        from assistant.answering.llm import LLMError, stream_answer

        sources = sources or chunks
        parts: list[str] = []
        try:
            for delta in stream_answer(self.chat_model, question, sources, self.settings.organisation):
                parts.append(delta)
                yield delta
        except LLMError as exc:
            ans = extractive_answer(question, chunks, self._idf, self.embedder)
            ans.notice = f"The language model is unavailable ({exc}); showing an extractive answer instead."
            return ans
        ans = verify.verify_answer(question, "".join(parts).strip(), sources, self.embedder, self.settings.answer_backend)
        if ans is None:
            ans = extractive_answer(question, chunks, self._idf, self.embedder)
            ans.notice = "The language model returned an answer without usable citations; showing an extractive answer instead."
        return ans
