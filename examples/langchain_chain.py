"""The assistant inside LangChain (LCEL) chains, offline: extractive answers, the bundled model.

Ingests the shipped ``knowledge/`` folder into an index folder (a new temporary one by default),
then composes the assistant's retriever and cited-answer pipeline with ordinary LCEL steps.

    python examples/langchain_chain.py [--index-dir DIR] [--question "..."] [--role manager]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is downloaded: the model ships as a package
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from langchain_core.documents import Document  # noqa: E402
from langchain_core.runnables import RunnableLambda, RunnablePassthrough  # noqa: E402

from assistant import Assistant, Settings  # noqa: E402
from assistant.integrations.langchain import AssistantRetriever, answer_chain  # noqa: E402

KNOWLEDGE = Path(__file__).resolve().parents[1] / "knowledge"
QUESTION = "How quickly must a vendor notify Kestrel of a security incident?"


def format_docs(docs: list[Document]) -> str:
    """Retrieved chunks as numbered, located snippets (what a prompt's context would hold)."""
    return "\n".join(f"[{i}] {d.metadata['location']} ({d.metadata['section']}), fused score "
                     f"{d.metadata['fused_score']:.4f}: {' '.join(d.page_content.split())[:120]}"
                     for i, d in enumerate(docs, 1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, help="index folder (default: a new temporary folder)")
    parser.add_argument("--question", default=QUESTION)
    parser.add_argument("--role", default="manager", help="whose documents may be used (staff, manager, auditor, admin)")
    args = parser.parse_args(argv)

    index_dir = args.index_dir or Path(tempfile.mkdtemp(prefix="assistant-langchain-"))
    settings = Settings(knowledge_root=KNOWLEDGE, index_dir=index_dir, feedback_db=index_dir / "feedback.sqlite3",
                        answer_backend="extractive")
    assistant = Assistant.from_settings(settings)
    report = assistant.ingest(show_bar=False)  # incremental: a second run with the same folder is quick
    if not report.ok:
        print(report.summary(), file=sys.stderr)
        return 1

    # A retriever is a Runnable: pipe its Documents into any step.
    sources = AssistantRetriever(assistant=assistant, k=3, role=args.role) | RunnableLambda(format_docs)
    print(f"Question: {args.question}\n\nSources:\n{sources.invoke(args.question)}\n")

    # The cited-answer pipeline takes {"question", "history"?, "filters"?, "role"?} and returns the verified Answer.
    chain = {"question": RunnablePassthrough(), "role": RunnableLambda(lambda _: args.role)} | answer_chain(assistant)
    answer = chain.invoke(args.question)
    print(f"Answer:\n{answer.text}\n")
    if answer.refused:
        return 2
    print("Citations:")
    for c in answer.citations:
        print(f"[{c.n}] {c.location}: {json.dumps(c.quote, ensure_ascii=False)}")  # the exact quote, one line
    return 0


if __name__ == "__main__":
    sys.exit(main())
