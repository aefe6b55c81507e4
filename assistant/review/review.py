"""``review(assistant, contract, role)``: a contract checked against the playbook, one row per
requirement the role may see, each with the contract's quote and the standard's quote as citations.

The contract is an indexed document (a source path or a title the role can see) or a file that is
loaded and split in memory (pdf, docx, md, txt, html) and never added to the knowledge base.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from assistant.core.access import audiences_for, can_see
from assistant.core.types import Citation
from assistant.review.contract import ContractView, ReviewError, ViewCache
from assistant.review.judge import STATUSES, Judge, Judgment
from assistant.review.playbook import SEVERITIES, Playbook, Requirement, clause_pattern, load_playbook, playbook_for
from assistant.review.score import ReviewParams, score

NON_CONTRACT_TYPES = ("guidance", "audit")
_VIEWS = ViewCache()
_STANDARDS: dict[tuple[str, str], ContractView | None] = {}
_PLAYBOOKS: dict[tuple[str, float], Playbook] = {}


@dataclass
class ReviewRow:
    requirement: str  # id
    topic: str
    group: str
    severity: str
    status: str  # meets | weaker | unclear | missing | not_applicable
    reason: str
    contract_quote: Citation | None = None
    standard_quote: Citation | None = None
    value: float | None = None  # in ``unit``
    unit: str = ""
    value_text: str = ""
    score: float = 0.0
    via: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["contract_quote"] = self.contract_quote.to_dict() if self.contract_quote else None
        d["standard_quote"] = self.standard_quote.to_dict() if self.standard_quote else None
        return d


@dataclass
class Review:
    source: str
    title: str
    role: str
    indexed: bool
    rows: list[ReviewRow]
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, Any]:
        """Counts by status, and by severity for each status (not_applicable counted apart)."""
        by_status = {s: sum(r.status == s for r in self.rows) for s in STATUSES}
        by_severity = {sev: {s: sum(r.status == s and r.severity == sev for r in self.rows) for s in STATUSES[:4]}
                       for sev in reversed(SEVERITIES)}
        return {"by_status": by_status, "by_severity": by_severity,
                "assessed": len(self.rows) - by_status["not_applicable"]}

    def row(self, requirement: str) -> ReviewRow | None:
        return next((r for r in self.rows if r.requirement == requirement), None)

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "title": self.title, "role": self.role, "indexed": self.indexed,
                "seconds": round(self.seconds, 3), "notes": self.notes, "summary": self.summary,
                "rows": [r.to_dict() for r in self.rows]}


def playbook_of(assistant: Any) -> Playbook:
    """The playbook beside the assistant's knowledge root (else the shipped one), reloaded when edited."""
    path = playbook_for(getattr(assistant.settings, "knowledge_root", None))
    key = (str(path), path.stat().st_mtime)
    if key not in _PLAYBOOKS:
        _PLAYBOOKS[key] = load_playbook(path)
    return _PLAYBOOKS[key]


def contract_documents(assistant: Any, role: str) -> list[tuple[str, str]]:
    """(title, source) of every indexed contract the role may see, for pickers."""
    corpus = assistant.retriever.corpus
    out = []
    for source, row in corpus.documents_for(audiences_for(role)):
        first = corpus.chunks[row]
        if first.doc_type == "contract":
            out.append((first.title, source))
    return sorted(out)


def open_contract(assistant: Any, contract: str | Path, role: str) -> ContractView:
    """The contract a reference names: an indexed source or title the role may see, else a file on disk."""
    corpus = assistant.retriever.corpus
    audiences_for(role)  # an unknown role is refused here
    settings = assistant.settings
    path = Path(contract)
    source = None
    if isinstance(contract, str) and contract in corpus.neighbours:
        source = contract
    elif path.is_file():
        root = Path(settings.knowledge_root).resolve()
        full = path.resolve()
        rel = full.relative_to(root).as_posix() if full.is_relative_to(root) else None
        if rel is not None and rel in corpus.neighbours:
            source = rel
        else:
            return _from_file(assistant, full)
    if source is None:
        source = _resolve(assistant, str(contract), role)
    if source is None:
        raise ReviewError(f"no contract found for {str(contract)!r}: give an indexed contract's file name or "
                          "title, or the path of a file to review")
    idx = corpus.neighbours[source]
    first = corpus.chunks[idx[0]]
    if not can_see(role, first.metadata.get("audience")):  # the same words as "not found": existence is not revealed
        raise ReviewError(f"no contract found for {str(contract)!r}: give an indexed contract's file name or "
                          "title, or the path of a file to review")
    if first.doc_type in NON_CONTRACT_TYPES:
        raise ReviewError(f"{source} is a {first.doc_type} document, not a contract")
    key = (source, "|".join(corpus.chunks[i].id for i in idx[:3]) + str(len(idx)))
    view = _VIEWS.get(key)
    if view is None:
        vectors = corpus.vectors[idx] if corpus.vectors is not None else None
        view = ContractView.from_chunks([corpus.chunks[i] for i in idx], vectors)
        _VIEWS.put(key, view)
    return view


def _resolve(assistant: Any, ref: str, role: str) -> str | None:
    """A contract the role may see named by file stem, vendor ("Northwind") or title words."""
    low = ref.strip().lower()
    docs = contract_documents(assistant, role)
    for _, source in docs:
        stem = source.rsplit("/", 1)[-1].rsplit(".", 1)[0].lower()
        if low in (source.lower(), stem) or (len(low) > 5 and stem.startswith(low)):
            return source
    corpus = assistant.retriever.corpus
    vendors = [s for _, s in docs if (v := corpus.chunks[corpus.neighbours[s][0]].metadata.get("vendor"))
               and re.search(rf"\b{re.escape(str(v).lower())}\b", low)]
    if len(vendors) == 1:
        return vendors[0]
    return assistant.retriever.resolve_document(ref, audiences_for(role), explicit=True)


def _from_file(assistant: Any, path: Path) -> ContractView:
    settings = assistant.settings
    embedder = assistant.embedder
    view = ContractView.from_file(path, path.name, embedder.count_tokens, settings.chunk_size, settings.chunk_overlap,
                                  int(settings.max_file_mb * 1e6))
    cached = _VIEWS.get((path.name, view.digest))
    if cached is not None:
        return cached
    if not looks_like_contract(view):
        raise ReviewError(f"{path.name} does not look like a contract (no obligations such as 'shall' or 'must' "
                          "between parties were found)")
    _VIEWS.put((path.name, view.digest), view)
    return view


def looks_like_contract(view: ContractView) -> bool:
    """A contract binds parties: obligation words and a word naming the agreement or its parties."""
    toks = [t for c in view.tokens for t in c]
    obligations = sum(t in ("shall", "must", "agre") for t in toks)
    parties = {"agreement", "contract", "parti", "parti", "supplier", "vendor", "custom", "licens", "licensor",
               "license", "compani", "provid"} & set(toks)
    return obligations >= 3 and bool(parties)


def can_see_quote(role: str, c: Citation | None) -> bool:
    return c is not None and can_see(role, c.metadata.get("audience"))


def standard_quote(assistant: Any, book: Playbook, req: Requirement, role: str | None) -> Citation | None:
    """The standard's clause quoted from its document (indexed chunks when indexed, else the file);
    None when ``role`` (if given) may not see that document."""
    key = (str(book.root), req.source)
    if key not in _STANDARDS:
        corpus = assistant.retriever.corpus
        idx = corpus.neighbours.get(req.source)
        view = None
        try:
            if idx:
                view = ContractView.from_chunks([corpus.chunks[i] for i in idx])
            elif book.root is not None and (book.root / req.source).is_file():
                view = ContractView.from_file(book.root / req.source, req.source, _approx, 256, 32)
        except ReviewError:
            view = None
        _STANDARDS[key] = view
    view = _STANDARDS[key]
    if view is None or (role is not None and not can_see(role, view.metadata.get("audience"))):
        return None
    m = clause_pattern(req.clause).search(view.text)
    if m is None:
        return None
    at = m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))
    row = next((i for i, c in enumerate(view.clauses) if c.start <= at < c.end), None)
    return view.citation(0, row) if row is not None else None


def standard_quotes(assistant: Any, book: Playbook, reqs: list[Requirement]) -> dict[str, Citation | None]:
    """Every requirement's standard clause (whoever may see it: filter before showing)."""
    return {r.id: standard_quote(assistant, book, r, role=None) for r in reqs}


def decide(view: ContractView, book: Playbook, params: ReviewParams, reqs: list[Requirement],
           scored: list) -> dict[str, Judgment]:
    """The judgment of every requirement from its scored clauses (values attributed among all of them)."""
    judge = Judge(book, params)
    judge.scores(reqs, scored)
    judgments = {r.id: judge.judge(view, r, s) for r, s in zip(reqs, scored)}
    judge.cover(judgments)
    return judgments


def _approx(texts):
    from ingest.split import approx_tokens

    return approx_tokens(texts)


def review(assistant: Any, contract: str | Path, role: str | None = None, playbook: Playbook | None = None,
           params: ReviewParams | None = None, progress: Callable[[float, str], None] | None = None) -> Review:
    """Review ``contract`` against the playbook as ``role`` sees it.

    Raises:
        ReviewError: the contract cannot be found, read, seen by the role, or is not a contract.
        PlaybookError: the playbook is invalid.
    """
    t0 = time.perf_counter()
    role = role or assistant.settings.default_role
    audiences = audiences_for(role)  # an unknown role is refused here
    say = progress or (lambda frac, desc: None)
    say(0.05, "reading the contract")
    book = playbook or playbook_of(assistant)
    params = params or ReviewParams.load()
    view = open_contract(assistant, contract, role)
    shown = [r for r in book.requirements if r.audience in audiences]
    # Every requirement is scored (values are attributed among all terms alike, whoever asks);
    # only those the role may see are shown.
    every = book.requirements
    standards = standard_quotes(assistant, book, every)
    say(0.3, f"matching {len(view.clauses)} clauses against {len(shown)} requirements")
    scored = score(view, every, assistant.embedder, params,
                   {rid: c.quote for rid, c in standards.items() if c is not None})
    say(0.8, "comparing values with the standards")
    judgments = decide(view, book, params, every, scored)
    rows = []
    for n, req in enumerate(shown, 1):
        j = judgments[req.id]
        quote = view.citation(n, j.row) if j.row is not None else None
        std = standards[req.id] if can_see_quote(role, standards[req.id]) else None
        if std is not None:
            std = replace(std, n=n)
        rows.append(ReviewRow(req.id, req.topic, req.group, req.severity, j.status, j.reason, quote, std, j.value,
                              req.measure.unit if req.measure else "", j.value_text, round(j.score, 4), j.via))
    notes = []
    if rows and all(r.status in ("missing", "not_applicable") for r in rows):
        notes.append("No requirement of the playbook was found in this document: is it the contract you meant?")
    say(1.0, "done")
    return Review(view.source, view.title, role, view.indexed, rows, time.perf_counter() - t0, notes)
